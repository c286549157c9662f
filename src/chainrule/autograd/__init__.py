"""Reverse-mode automatic differentiation: the engine, grad modes, custom functions, checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._typing import TensorLike
from . import engine
from .engine import AnomalyError
from .function import Function, FunctionCtx
from .grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

if TYPE_CHECKING:
    from ..tensor import Tensor


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[TensorLike | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (no ``.grad`` is touched).

    Example:
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> (dx,) = cr.grad((x ** 3).sum(), [x], create_graph=True)
        >>> dx
        tensor([ 3., 12.], grad_fn=<MulBackward>)
        >>> cr.grad(dx.sum(), [x])
        (tensor([ 6., 12.]),)
    """
    from ..backend import xp as np
    from ..tensor import Tensor, to_array

    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    grads = []
    for o, g in zip(outputs, grad_outputs, strict=True):
        if not o.requires_grad:
            raise RuntimeError("grad: an output does not require grad and has no grad_fn")
        if g is None:
            if o._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs "
                    f"(got shape {o.shape}); pass grad_outputs"
                )
            g = np.ones_like(o._data)
        g = g if isinstance(g, Tensor) else Tensor._wrap(to_array(g))
        grads.append(g if create_graph else g._data)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: an input (shape {t.shape}) does not require grad")
    retain = create_graph if retain_graph is None else retain_graph
    return engine.backward(
        outputs, grads, retain, create_graph, inputs=inputs, allow_unused=allow_unused
    )


def Variable(data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """The legacy wrapper (torch < 0.4): ``data`` itself, requiring grad when asked.

    Example:
        >>> cr.autograd.Variable(cr.ones(2), requires_grad=True).requires_grad
        True
    """
    return data.requires_grad_(True) if requires_grad else data


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Sequence[TensorLike | None] | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """``cr.autograd.backward([a, b], [ga, gb])``: several roots in one pass."""
    from ..tensor import Tensor

    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    grad_tensors = grad_tensors or [None] * len(tensors)
    from ..backend import xp as np

    grads = [
        np.ones_like(t._data)
        if g is None
        else (g._data if isinstance(g, Tensor) else np.asarray(g))
        for t, g in zip(tensors, grad_tensors, strict=True)
    ]
    if create_graph:
        grads = [Tensor._wrap(g) for g in grads]
    engine.backward(tensors, grads, retain_graph or create_graph, create_graph)


__all__ = [
    "AnomalyError",
    "Variable",
    "Function",
    "FunctionCtx",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "GradcheckError",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
]

from . import functional  # noqa: E402  (it builds on grad above)
