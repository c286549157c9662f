"""Running sums and products along a dim: ``cumsum`` and ``cumprod``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._typing import DTypeLike, Grad, Grads, TensorLike
from ..autograd.engine import record
from ..backend import xp as np
from ..tensor import Tensor
from . import dispatch as d
from ._util import as_tensor
from .indexing import _dim

if TYPE_CHECKING:
    from ..autograd.engine import Node


def _accumulator_input(x: TensorLike, dtype: DTypeLike | None) -> Tensor:
    """Integers and bools accumulate in int64 (as PyTorch); ``dtype=`` casts first."""
    x = as_tensor(x)
    if dtype is not None:
        return x.to(dtype)
    if x.dtype.kind in "biu":
        return Tensor._wrap(x._data.astype(np.int64))
    return x


def _cumsum_vjp(ctx: Node, g: Grad) -> Grads:
    return (d.reverse_cumsum(g, ctx.saved),)


def cumsum(x: TensorLike, dim: int, dtype: DTypeLike | None = None) -> Tensor:
    """Running sum along ``dim``: ``out[i] = x[0] + ... + x[i]``; same shape as ``x``.

    Example:
        >>> cr.cumsum(cr.tensor([1, 2, 3]), 0)
        tensor([1, 3, 6])
    """
    x = _accumulator_input(x, dtype)
    if x.ndim == 0:
        return x.clone()
    dim = _dim(dim, x.ndim, "cumsum")
    return record(
        np.cumsum(x._data, dim),
        (x,),
        _cumsum_vjp,
        "Cumsum",
        saved=dim,
        save_inputs=False,
        save_output=False,
    )


def _cumprod_grad_with_zeros(x: Grad, g: Grad, dim: int) -> Grad:
    """Exact gradient when ``x`` has zeros: d out[j] / d x[i] = prod_{k <= j, k != i} x[k]."""
    xm, gm = np.moveaxis(x, dim, -1), np.moveaxis(g, dim, -1)
    out = np.empty_like(xm)
    for i in range(xm.shape[-1]):
        others = xm.copy()
        others[..., i] = 1
        out[..., i] = (np.cumprod(others, -1)[..., i:] * gm[..., i:]).sum(-1)
    return np.moveaxis(out, -1, dim)


def _cumprod_vjp(ctx: Node, g: Grad) -> Grads:
    dim = ctx.saved
    x_data = ctx._inputs[0]._data
    if not np.all(x_data):
        if d.is_recorded(g):
            raise NotImplementedError(
                "cumprod: second derivatives through zeros of the input are not supported"
            )
        return (_cumprod_grad_with_zeros(x_data, g, dim),)
    # No zeros: sum_{j >= i} g[j] * out[j] / x[i].
    return (d.reverse_cumsum(g * ctx.output(), dim) / ctx.input(0),)


def cumprod(x: TensorLike, dim: int, dtype: DTypeLike | None = None) -> Tensor:
    """Running product along ``dim``: ``out[i] = x[0] * ... * x[i]``; zeros in x are handled
    exactly in the gradient.

    Example:
        >>> cr.cumprod(cr.tensor([1.0, 2.0, 3.0]), 0)
        tensor([1., 2., 6.])
    """
    x = _accumulator_input(x, dtype)
    if x.ndim == 0:
        return x.clone()
    dim = _dim(dim, x.ndim, "cumprod")
    return record(np.cumprod(x._data, dim), (x,), _cumprod_vjp, "Cumprod", saved=dim)


__all__ = ["cumsum", "cumprod"]
