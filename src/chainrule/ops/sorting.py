"""Sorting: ``sort``, ``argsort`` and ``topk``.

The values are gathered from the input with the sorting indices, so their gradient flows back to
the places they came from (through ``gather``).
"""

from __future__ import annotations

from collections import namedtuple

from .._typing import TensorLike
from ..backend import xp as np
from ..tensor import Tensor
from ._util import as_tensor
from .indexing import _dim, gather

SortResult = namedtuple("sort", ["values", "indices"])  # type: ignore[name-match]  # torch's
TopkResult = namedtuple("topk", ["values", "indices"])  # type: ignore[name-match]


def _order(a: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Indices sorting ``a`` along ``dim``; ties keep their order (stable), in both directions."""
    if not descending:
        return np.argsort(a, axis=dim, kind="stable")
    if a.dtype.kind == "b":
        a = a.astype(np.int8)
    elif a.dtype.kind == "u":
        a = a.astype(np.int64)
    # Negated values sorted ascending: descending, stable; NaN (largest in PyTorch) comes first.
    key = -a if a.dtype.kind != "f" else np.where(np.isnan(a), -np.inf, -a)
    order = np.argsort(key, axis=dim, kind="stable")
    if a.dtype.kind == "f" and np.isnan(a).any():
        # -inf ties between NaN and a real +inf: NaN goes first.
        nan_first = np.argsort(
            ~np.isnan(np.take_along_axis(a, order, dim)), axis=dim, kind="stable"
        )
        order = np.take_along_axis(order, nan_first, dim)
    return order


def sort(
    x: TensorLike, dim: int = -1, descending: bool = False, stable: bool = False
) -> SortResult:
    """``(values, indices)`` of ``x`` sorted along ``dim``; ``x[indices] == values`` along dim.

    Ties keep their original order. NaN sorts as the largest value, as in PyTorch. Gradients flow
    to ``values``' original places.

    Example:
        >>> values, indices = cr.sort(cr.tensor([3.0, 1.0, 2.0]))
        >>> values, indices
        (tensor([1., 2., 3.]), tensor([1, 2, 0]))
    """
    x = as_tensor(x)
    if x.ndim == 0:
        return SortResult(
            gather(x.reshape(1), 0, np.zeros(1, np.int64)).reshape(()),
            Tensor._wrap(np.zeros((), np.int64)),
        )
    dim = _dim(dim, x.ndim, "sort")
    order = _order(x._data, dim, descending)
    return SortResult(gather(x, dim, order), Tensor._wrap(order))


def argsort(x: TensorLike, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort ``x`` along ``dim`` (the ``indices`` of :func:`sort`).

    Example:
        >>> cr.argsort(cr.tensor([3.0, 1.0, 2.0]))
        tensor([1, 2, 0])
        >>> cr.argsort(cr.tensor([3.0, 1.0, 2.0]), descending=True)
        tensor([0, 2, 1])
    """
    return sort(x, dim, descending, stable).indices


def topk(
    x: TensorLike, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> TopkResult:
    """The ``k`` largest (or smallest) entries along ``dim``: ``(values, indices)``, in order.

    Example:
        >>> cr.topk(cr.tensor([1.0, 5.0, 3.0, 4.0]), 2)
        topk(values=tensor([5., 4.]), indices=tensor([1, 3]))
    """
    x = as_tensor(x)
    if x.ndim == 0:
        if k not in (0, 1):
            raise ValueError(f"topk: k={k} is out of range for a 0-d tensor")
        return (
            TopkResult(*sort(x))
            if k
            else TopkResult(x.reshape(0), Tensor._wrap(np.zeros(0, np.int64)))
        )
    dim = _dim(dim, x.ndim, "topk")
    if not 0 <= k <= x.shape[dim]:
        raise ValueError(f"topk: k={k} is out of range for dim {dim} of size {x.shape[dim]}")
    order = _order(x._data, dim, largest)
    order = order[(slice(None),) * dim + (slice(0, k),)]
    return TopkResult(gather(x, dim, order), Tensor._wrap(np.ascontiguousarray(order)))


__all__ = ["sort", "argsort", "topk"]
