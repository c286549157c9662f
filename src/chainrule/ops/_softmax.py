"""Softmax and log-softmax: numerically stable primitives (the max is subtracted first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._typing import Grad, Grads, TensorLike
from ..autograd.engine import record
from ..backend import xp as np
from . import dispatch as d
from ._util import as_tensor

if TYPE_CHECKING:
    from ..autograd.engine import Node
    from ..tensor import Tensor


def _softmax_array(x: np.ndarray, dim: int) -> np.ndarray:
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    e /= e.sum(axis=dim, keepdims=True)
    return e


def _softmax_vjp(ctx: Node, g: Grad) -> Grads:
    y = ctx.output()
    return (y * (g - (g * y).sum(axis=ctx.saved, keepdims=True)),)


def softmax(x: TensorLike, dim: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``; same shape as ``x``.

    Example:
        >>> cr.softmax(cr.tensor([0.0, 0.0, 0.6931472]), dim=0)
        tensor([0.25, 0.25, 0.5 ])
        >>> cr.softmax(cr.zeros(2, 4), dim=1).sum(1)
        tensor([1., 1.])
    """
    x = as_tensor(x)
    if x.ndim == 0:
        return record(np.ones_like(x._data), (x,), lambda ctx, g: (g * 0,), "Softmax")
    return record(
        _softmax_array(x._data, dim), (x,), _softmax_vjp, "Softmax", saved=dim, save_inputs=False
    )


def _log_softmax_array(x: np.ndarray, dim: int) -> np.ndarray:
    shifted = x - x.max(axis=dim, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


def _log_softmax_vjp(ctx: Node, g: Grad) -> Grads:
    p = d.exp(ctx.output())
    return (g - p * g.sum(axis=ctx.saved, keepdims=True),)


def log_softmax(x: TensorLike, dim: int = -1) -> Tensor:
    """log(softmax(x)) without forming softmax (no log of 0); same shape as ``x``.

    Example:
        >>> cr.log_softmax(cr.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
        >>> cr.log_softmax(cr.tensor([0.0, 1000.0]), dim=0)
        tensor([-1000.,     0.])
    """
    x = as_tensor(x)
    if x.ndim == 0:
        return record(np.zeros_like(x._data), (x,), lambda ctx, g: (g * 0,), "LogSoftmax")
    return record(
        _log_softmax_array(x._data, dim),
        (x,),
        _log_softmax_vjp,
        "LogSoftmax",
        saved=dim,
        save_inputs=False,
    )
