"""Indexing along one dim: ``gather``, ``scatter``, ``scatter_add``, ``index_select``, and
``masked_fill``.

``gather`` and ``scatter_add`` are each other's vjp, so one pair of array functions serves the
plain backward (arrays) and the recorded one (Tensors, through :mod:`.dispatch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import backend
from .._typing import Grad, Grads, TensorLike
from ..autograd.engine import record
from ..backend import xp as np
from ..tensor import Tensor
from . import dispatch as d
from ._util import as_tensor
from .shape import getitem

if TYPE_CHECKING:
    from ..autograd.engine import Node


def _dim(dim: int, ndim: int, op: str) -> int:
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims")
    return dim % max(ndim, 1)


def _index_array(index: TensorLike, op: str) -> np.ndarray:
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {index.dtype}")
    return index


def _positions(index: Any, dim: int) -> Any:
    """NumPy index tuple addressing, for every entry of ``index``, the element it names along
    ``dim`` (and its own position along every other dim)."""
    grids = np.ogrid[tuple(slice(n) for n in index.shape)]
    return tuple(index if d == dim else g for d, g in enumerate(grids))


def _check_index(
    x_shape: Sequence[int], index: Any, dim: int, op: str, src_shape: Sequence[int] | None = None
) -> None:
    if index.ndim != len(x_shape) and not (index.ndim <= 1 and len(x_shape) <= 1):
        raise ValueError(f"{op}: index has {index.ndim} dims but the tensor has {len(x_shape)}")
    for k, n in enumerate(index.shape):
        if k != dim and n > x_shape[k]:
            raise ValueError(
                f"{op}: index shape {index.shape} is larger than the tensor's "
                f"{tuple(x_shape)} at dim {k}"
            )
        if src_shape is not None and n > src_shape[k]:
            raise ValueError(
                f"{op}: index shape {index.shape} is larger than src's "
                f"{tuple(src_shape)} at dim {k}"
            )
    if index.size and (index.min() < -x_shape[dim] or index.max() >= x_shape[dim]):
        raise IndexError(f"{op}: index out of range for dim {dim} of size {x_shape[dim]}")


def gather_array(x: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
    """``gather`` on arrays: ``x`` picked along ``dim`` at ``index``; the result has its shape."""
    return x[_positions(index, dim)]


def scatter_add_array(x: np.ndarray, dim: int, index: np.ndarray, src: np.ndarray) -> np.ndarray:
    """``scatter_add`` on arrays: a copy of ``x`` with ``src`` added at ``index`` along ``dim``."""
    out = x.copy()
    backend.scatter_add(out, _positions(index, dim), src[tuple(slice(n) for n in index.shape)])
    return out


def _gather_vjp(ctx: Node, g: Grad) -> Grads:
    dim, index = ctx.saved
    return (d.scatter_add(d.zeros(ctx._inputs[0].shape, g), dim, index, g),)


def gather(x: TensorLike, dim: int, index: Any) -> Tensor:
    """``out[i][j][k] = x[index[i][j][k]][j][k]`` (for ``dim=0``): values picked along ``dim``.

    Shapes: ``index`` has x's number of dims and is no larger than x outside ``dim``; the result
    has ``index``'s shape.

    Example:
        >>> x = cr.tensor([[1, 2], [3, 4]])
        >>> cr.gather(x, 1, cr.tensor([[0, 0], [1, 0]]))
        tensor([[1, 1],
                [4, 3]])
    """
    x = as_tensor(x)
    index = _index_array(index, "gather")
    dim = _dim(dim, x.ndim, "gather")
    _check_index(x.shape, index, dim, "gather")
    return record(
        gather_array(x._data, dim, index),
        (x,),
        _gather_vjp,
        "Gather",
        saved=(dim, index),
        save_inputs=False,
        save_output=False,
    )


def _scatter_add_vjp(ctx: Node, g: Grad) -> Grads:
    dim, index = ctx.saved
    return g if ctx.needs[0] else None, d.gather(g, dim, index) if ctx.needs[1] else None


def scatter_add(x: TensorLike, dim: int, index: Any, src: TensorLike) -> Tensor:
    """A copy of ``x`` with ``src[i][j][k]`` added at ``[index[i][j][k]][j][k]`` (``dim=0``);
    repeated indices add up. ``src`` may be larger than ``index`` (its first entries are used).

    Example:
        >>> cr.scatter_add(cr.zeros(3), 0, cr.tensor([0, 2, 0]), cr.tensor([1.0, 2.0, 3.0]))
        tensor([4., 0., 2.])
    """
    x, src = as_tensor(x), as_tensor(src)
    index = _index_array(index, "scatter_add")
    dim = _dim(dim, x.ndim, "scatter_add")
    _check_index(x.shape, index, dim, "scatter_add", src.shape)
    if src.shape != index.shape:
        src = getitem(src, tuple(slice(n) for n in index.shape))
    out = scatter_add_array(x._data, dim, index, src._data.astype(x.dtype, copy=False))
    return record(
        out,
        (x, src),
        _scatter_add_vjp,
        "ScatterAdd",
        saved=(dim, index),
        save_inputs=False,
        save_output=False,
    )


def _scatter_vjp(ctx: Node, g: Grad) -> Grads:
    dim, index, kept = ctx.saved
    gx = g * kept if ctx.needs[0] else None
    gsrc = d.gather(g, dim, index) if len(ctx.needs) > 1 and ctx.needs[1] else None
    return (gx, gsrc) if len(ctx.needs) > 1 else (gx,)


def scatter(
    x: TensorLike,
    dim: int,
    index: Any,
    src: TensorLike | None = None,
    value: Any = None,
    reduce: str | None = None,
) -> Tensor:
    """A copy of ``x`` with ``x[index[i][j][k]][j][k] = src[i][j][k]`` (``dim=0``); ``src`` may
    be a number (or pass ``value=``).

    Example:
        >>> cr.scatter(cr.zeros(2, 3), 1, cr.tensor([[2], [0]]), cr.tensor([[5.0], [7.0]]))
        tensor([[0., 0., 5.],
                [7., 0., 0.]])
    """
    if reduce is not None:
        raise NotImplementedError("scatter: reduce= is not supported; use scatter_add")
    x = as_tensor(x)
    src = value if src is None else src
    if src is None:
        raise TypeError("scatter: needs src (a tensor or a number) or value=")
    index = _index_array(index, "scatter")
    dim = _dim(dim, x.ndim, "scatter")
    where = _positions(index, dim)
    kept = np.ones(x.shape, x.dtype)
    kept[where] = 0  # the overwritten entries get no gradient
    out = x._data.copy()
    if isinstance(src, Tensor) and src.ndim:
        _check_index(x.shape, index, dim, "scatter", src.shape)
        if src.shape != index.shape:
            src = getitem(src, tuple(slice(n) for n in index.shape))
        out[where] = src._data
        return record(
            out,
            (x, src),
            _scatter_vjp,
            "Scatter",
            saved=(dim, index, kept),
            save_inputs=False,
            save_output=False,
        )
    _check_index(x.shape, index, dim, "scatter")
    out[where] = src._data if isinstance(src, Tensor) else src
    return record(
        out,
        (x,),
        _scatter_vjp,
        "Scatter",
        saved=(dim, index, kept),
        save_inputs=False,
        save_output=False,
    )


def index_select(x: TensorLike, dim: int, index: Any) -> Tensor:
    """The entries ``index`` (1-d integers) of ``x`` along ``dim``; repeats allowed.

    Example:
        >>> cr.index_select(cr.tensor([[1, 2], [3, 4], [5, 6]]), 0, cr.tensor([2, 0, 2]))
        tensor([[5, 6],
                [1, 2],
                [5, 6]])
    """
    x = as_tensor(x)
    index = _index_array(index, "index_select")
    if index.ndim > 1:
        raise ValueError(f"index_select: index must be 1-d, got shape {index.shape}")
    dim = _dim(dim, x.ndim, "index_select")
    if x.ndim == 0:
        return getitem(x.reshape(1), index.reshape(-1)).reshape(())
    return getitem(x, (slice(None),) * dim + (index.reshape(-1),))


def _masked_fill_vjp(ctx: Node, g: Grad) -> Grads:
    mask = ctx.saved
    gx = g * ~mask if ctx.needs[0] else None
    if len(ctx.needs) == 1:
        return (gx,)
    masked = g * mask
    return gx, masked.sum() if ctx.needs[1] else None


def masked_fill(x: TensorLike, mask: TensorLike, value: Any) -> Tensor:
    """A copy of ``x`` with ``value`` where ``mask`` (bool, broadcast to x's shape) is True.

    ``value`` is a number or a 0-d tensor (whose gradient is the sum over the filled places); the
    result keeps x's dtype, as in PyTorch.

    Example:
        >>> x = cr.tensor([1.0, 2.0, 3.0])
        >>> cr.masked_fill(x, x > 1.5, 0.0)
        tensor([1., 0., 0.])
    """
    x = as_tensor(x)
    mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a bool tensor, got {mask.dtype}")
    try:
        mask = np.broadcast_to(mask, x.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {mask.shape} does not broadcast to the tensor's {x.shape}"
        ) from None
    if isinstance(value, Tensor) and value.ndim:
        raise ValueError(
            f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}"
        )
    fill = value._data if isinstance(value, Tensor) else value
    out = np.where(mask, np.asarray(fill).astype(x.dtype), x._data)
    inputs = (x, value) if isinstance(value, Tensor) and value.requires_grad else (x,)
    return record(
        out,
        inputs,
        _masked_fill_vjp,
        "MaskedFill",
        saved=mask,
        save_inputs=False,
        save_output=False,
    )


__all__ = ["gather", "scatter", "scatter_add", "index_select", "masked_fill"]
