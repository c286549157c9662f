"""``cr.compile`` and ``cr.compiler``: PyTorch's compiler entry points, accepted so that scripts
run. chainrule has no compiler: ``compile`` returns its argument unchanged (a module stays that
module, so its ``state_dict`` keys have no ``_orig_mod.`` prefix as torch's wrapper's do) and
the model runs eagerly, exactly as without the call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["compile", "disable", "is_compiling", "reset"]


def compile(
    model: Any = None,
    *,
    fullgraph: bool = False,
    dynamic: bool | None = None,
    backend: str | Callable[..., Any] = "inductor",
    mode: str | None = None,
    options: dict[str, Any] | None = None,
    disable: bool = False,
) -> Any:
    """``torch.compile``: returns ``model`` (a module or function) unchanged, since chainrule
    has no compiler; with no model, a decorator that does the same
    (``@cr.compile(mode="max-autotune")``). torch's keyword arguments are accepted and ignored.

    Shapes: whatever ``model`` takes and returns.

    Example:
        >>> net = cr.nn.Linear(2, 1)
        >>> cr.compile(net, mode="reduce-overhead") is net
        True
        >>> @cr.compile(fullgraph=True)
        ... def double(x):
        ...     return x * 2
        >>> double(cr.ones(2))
        tensor([2., 2.])
    """
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise TypeError(f"compile: expected a module or a function, got {type(model).__name__}")
    return model


def disable(fn: Any = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """``torch.compiler.disable``: ``fn`` unchanged (nothing is compiled), or a decorator.

    Example:
        >>> f = cr.compiler.disable(abs)
        >>> f(-1)
        1
    """
    return (lambda f: f) if fn is None else fn


def is_compiling() -> bool:
    """False: chainrule never compiles (``torch.compiler.is_compiling``).

    Example:
        >>> cr.compiler.is_compiling()
        False
    """
    return False


def reset() -> None:
    """No-op: there are no compiled artifacts to clear (``torch.compiler.reset``).

    Example:
        >>> cr.compiler.reset()
    """
