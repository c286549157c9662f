"""``torch.utils.checkpoint``: trade compute for memory. The function runs without recording;
its intermediate values are not kept. Backward runs it again with recording (the random
generator restored, so dropout draws the same masks) and differentiates that.

Example::

    from chainrule.utils.checkpoint import checkpoint
    h = checkpoint(block, x, use_reentrant=False)   # block's activations are not stored
    h.sum().backward()                              # block runs again here
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ..autograd import engine
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def _parameters_of(function: Any) -> list[Tensor]:
    """The parameters the function surely uses: a Module's, or those of a bound method's Module
    (a closure's captured modules cannot be seen: pass an input that requires grad then)."""
    owner = function if hasattr(function, "parameters") else getattr(function, "__self__", None)
    return (
        [p for p in owner.parameters() if p.requires_grad] if hasattr(owner, "parameters") else []
    )


def checkpoint(
    function: Callable[..., Any],
    *args: Any,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    **kwargs: Any,
) -> Any:
    """``function(*args, **kwargs)``, its activations recomputed during backward instead of
    stored. Gradients reach the tensor arguments and the parameters ``function`` uses (for a
    closure over modules, as with torch's reentrant variant, only when some argument requires
    grad). One tensor output; second derivatives are not supported.

    Example:
        >>> from chainrule.utils.checkpoint import checkpoint
        >>> layer = cr.nn.Linear(3, 2)
        >>> x = cr.ones(4, 3, requires_grad=True)
        >>> checkpoint(layer, x, use_reentrant=False).sum().backward()
        >>> layer.weight.grad.shape, x.grad.shape
        ((2, 3), (4, 3))
    """
    tensors = [a for a in args if isinstance(a, Tensor)]
    params = _parameters_of(function)
    wanted = is_grad_enabled() and any(t.requires_grad for t in [*tensors, *params])
    state = get_rng_state() if preserve_rng_state else None
    with no_grad():
        out = function(*args, **kwargs)
    if not isinstance(out, Tensor):
        raise NotImplementedError(
            f"checkpoint: the function must return one Tensor here, got {type(out).__name__}"
        )
    if not wanted:
        if is_grad_enabled() and use_reentrant is not False:  # (as torch warns)
            warnings.warn(
                "checkpoint: no input requires grad, so the output does not either",
                UserWarning,
                stacklevel=2,
            )
        return out

    def vjp(node: Any, grad: Any) -> tuple[Any, ...]:
        if node.create_graph:
            raise NotImplementedError("checkpoint: second derivatives are not supported")
        replay = [
            a.detach().requires_grad_(a.requires_grad) if isinstance(a, Tensor) else a for a in args
        ]
        saved = get_rng_state() if state is not None else None
        try:
            if state is not None:
                set_rng_state(state)
            with enable_grad():
                again = function(*replay, **kwargs)
        finally:
            if saved is not None:
                set_rng_state(saved)
        if again.requires_grad:
            # accumulates into the parameters' .grad, and into the replayed inputs' (read below)
            engine.backward([again], [grad], False, False)
        return tuple(
            None if r.grad is None else r.grad._data
            for r, a in zip(replay, args, strict=True)
            if isinstance(a, Tensor)
        )

    return (
        engine.record(out._data, tuple(tensors), vjp, "Checkpoint", save_inputs=False)
        if any(t.requires_grad for t in tensors)
        else _recorded_without_inputs(out, vjp)
    )


def _recorded_without_inputs(out: Tensor, vjp: Callable[..., Any]) -> Tensor:
    """No argument requires grad but the parameters do: the node hangs on a constant input."""
    anchor = Tensor._wrap(out._data[:0].reshape(-1)).requires_grad_(True)

    def through(node: Any, grad: Any) -> tuple[Any, ...]:
        vjp(node, grad)
        return (None,)

    return engine.record(out._data, (anchor,), through, "Checkpoint", save_inputs=False)


def checkpoint_sequential(
    functions: Any, segments: int, input: Tensor, use_reentrant: bool | None = None, **kwargs: Any
) -> Tensor:
    """A ``Sequential`` (or list of modules) run in ``segments`` checkpointed chunks.

    Example:
        >>> from chainrule.utils.checkpoint import checkpoint_sequential
        >>> net = cr.nn.Sequential(cr.nn.Linear(3, 3), cr.nn.ReLU(), cr.nn.Linear(3, 1))
        >>> checkpoint_sequential(net, 2, cr.ones(2, 3, requires_grad=True)).shape
        (2, 1)
    """
    from ..nn import Sequential

    layers = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if segments < 1:
        raise ValueError(f"checkpoint_sequential: segments must be positive, got {segments}")
    size = -(-len(layers) // segments)
    for start in range(0, len(layers), size):
        input = checkpoint(
            Sequential(*layers[start : start + size]), input, use_reentrant=use_reentrant
        )
    return input
