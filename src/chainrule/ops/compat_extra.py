"""More PyTorch tensor functions, built from the ops above where they are differentiable (their
gradients are those ops'): ``masked_select``, ``median``, ``nan_to_num``, ``diff``, ``cummax`` /
``cummin``, ``dist``, ``baddbmm``; and the non-differentiable ``searchsorted`` and
``heaviside``."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from .._typing import TensorLike
from ..autograd.engine import record
from ..backend import xp as np
from ..tensor import Tensor
from ._util import as_tensor, scaled_sum
from .indexing import _dim, gather
from .reduction import _extreme_vjp

MedianResult = namedtuple("median", ["values", "indices"])  # type: ignore[name-match]  # torch's
CummaxResult = namedtuple("cummax", ["values", "indices"])  # type: ignore[name-match]
CumminResult = namedtuple("cummin", ["values", "indices"])  # type: ignore[name-match]


def masked_select(input: TensorLike, mask: TensorLike) -> Tensor:
    """The entries of ``input`` where the bool ``mask`` is True, as a 1-d tensor (row-major).

    Shapes: input and mask broadcast together -> (number of True entries,).

    Example:
        >>> x = cr.tensor([[1.0, -2.0], [3.0, -4.0]])
        >>> cr.masked_select(x, x > 0)
        tensor([1., 3.])
    """
    x = as_tensor(input)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected a bool mask, got {m.dtype}")
    shape = np.broadcast_shapes(tuple(x.shape), m.shape)
    if tuple(x.shape) != shape:
        x = x.broadcast_to(shape)
    return x[np.broadcast_to(m, shape)]


def _lower_median_order(a: np.ndarray, dim: int) -> np.ndarray:
    """Along ``dim``: the index of the lower median (stable sort), or of the first NaN."""
    n = a.shape[dim]
    order = np.argsort(a, axis=dim, kind="stable")  # NaN last
    idx = np.take(order, [(n - 1) // 2], axis=dim)
    if a.dtype.kind == "f":
        nan = np.isnan(a)
        has_nan = nan.any(axis=dim, keepdims=True)
        if has_nan.any():  # PyTorch: the median of a row with NaN is NaN (its first one)
            idx = np.where(has_nan, np.argmax(nan, axis=dim, keepdims=True), idx)
    return idx


def median(input: TensorLike, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median (of two middle values, the smaller), as ``torch.median``; NaN if there is
    a NaN.

    Without ``dim``: of all values, a 0-d tensor (ties share the gradient, as in PyTorch). With
    ``dim``: a ``(values, indices)`` pair, the input's shape without ``dim`` (kept as 1 with
    ``keepdim``); the gradient goes to the index.

    Example:
        >>> cr.median(cr.tensor([4.0, 1.0, 3.0, 2.0]))
        tensor(2.)
        >>> cr.median(cr.tensor([[1.0, 5.0, 3.0], [6.0, 4.0, 2.0]]), dim=1)
        median(values=tensor([3., 4.]), indices=tensor([2, 1]))
    """
    x = as_tensor(input)
    if dim is None:
        if x._data.size == 0:
            raise RuntimeError("median: cannot take the median of an empty tensor")
        flat = x._data.reshape(-1)
        value = flat[_lower_median_order(flat, 0)[0]]
        dims = tuple(range(x.ndim))
        return record(
            np.asarray(value),
            (x,),
            _extreme_vjp,
            "Median",
            saved=(x.shape, (1,) * x.ndim, dims),
        )
    if x.ndim == 0:
        return MedianResult(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    d = _dim(dim, x.ndim, "median")
    if x.shape[d] == 0:
        raise IndexError(f"median: cannot take the median over dim {d} of size 0")
    idx = _lower_median_order(x._data, d)
    values = gather(x, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return MedianResult(values, Tensor._wrap(idx.astype(np.int64)))


def nan_to_num(
    input: TensorLike,
    nan: float = 0.0,
    posinf: float | None = None,
    neginf: float | None = None,
) -> Tensor:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and the
    dtype's largest and lowest finite values). The gradient is 0 at the replaced entries.
    Shape: same as the input.

    Example:
        >>> cr.nan_to_num(cr.tensor([float("nan"), float("inf"), -1.0]), posinf=9.0)
        tensor([ 0.,  9., -1.])
    """
    from .pointwise import where

    x = as_tensor(input)
    if x.dtype.kind != "f":
        return x.clone()
    a = x._data
    info = np.finfo(a.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    fill = np.where(np.isnan(a), nan, np.where(a > 0, hi, lo)).astype(a.dtype)
    return where(np.isfinite(a), x, Tensor._wrap(fill))


def diff(
    input: TensorLike,
    n: int = 1,
    dim: int = -1,
    prepend: TensorLike | None = None,
    append: TensorLike | None = None,
) -> Tensor:
    """The ``n``-th forward difference along ``dim``: ``out[i] = x[i + 1] - x[i]``, repeated
    ``n`` times, after ``prepend`` / ``append`` are joined to the input along ``dim``.

    Shapes: the input with ``dim`` shortened by ``n``; bool inputs give ``x[i + 1] != x[i]``.

    Example:
        >>> cr.diff(cr.tensor([1, 4, 9, 16]))
        tensor([3, 5, 7])
        >>> cr.diff(cr.tensor([[1.0, 2.0], [4.0, 8.0]]), dim=0, prepend=cr.zeros(1, 2))
        tensor([[1., 2.],
                [3., 6.]])
    """
    from .shape import cat

    x = as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = _dim(dim, x.ndim, "diff")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    parts = [as_tensor(t) for t in (prepend, x, append) if t is not None]
    if len(parts) > 1:
        x = cat(parts, d)
    for _ in range(min(n, x.shape[d])):
        length = x.shape[d] - 1
        later, earlier = x.narrow(d, 1, length), x.narrow(d, 0, length)
        x = later != earlier if x.dtype == np.bool_ else later - earlier
    if n > x.shape[d]:  # more differences than entries: empty, as torch
        x = x.narrow(d, 0, 0)
    return x


def _cumulative_extreme(x: Tensor, dim: int, largest: bool, name: str) -> tuple[Tensor, Tensor]:
    d = _dim(dim, x.ndim, name)
    a = x._data
    if a.ndim == 0:
        return x.clone(), Tensor._wrap(np.zeros((), np.int64))
    running = (np.maximum if largest else np.minimum).accumulate(a, axis=d)
    # PyTorch's rule: the index moves to every entry that equals the running extreme (the last of
    # ties) and to every NaN (which then stays the extreme)
    hit = a == running
    if a.dtype.kind == "f":
        hit |= np.isnan(a)
    shape = [1] * a.ndim
    shape[d] = -1
    positions = np.arange(a.shape[d]).reshape(shape)
    idx = np.maximum.accumulate(np.where(hit, positions, -1), axis=d)
    if a.size and idx.min() < 0:  # unreachable: entry 0 always hits
        raise AssertionError(f"{name}: internal error")
    return gather(x, d, idx), Tensor._wrap(idx.astype(np.int64))


def cummax(input: TensorLike, dim: int) -> CummaxResult:
    """Running maximum along ``dim`` and where it was found: ``(values, indices)``, each of the
    input's shape. Ties take the latest index, and NaN propagates, as in PyTorch; the gradient
    goes to the index.

    Example:
        >>> cr.cummax(cr.tensor([1.0, 3.0, 2.0, 3.0]), 0)
        cummax(values=tensor([1., 3., 3., 3.]), indices=tensor([0, 1, 1, 3]))
    """
    return CummaxResult(*_cumulative_extreme(as_tensor(input), dim, True, "cummax"))


def cummin(input: TensorLike, dim: int) -> CumminResult:
    """Running minimum along ``dim`` and where it was found (see :func:`cummax`).

    Example:
        >>> cr.cummin(cr.tensor([3, 1, 2, 1]), 0)
        cummin(values=tensor([3, 1, 1, 1]), indices=tensor([0, 1, 1, 3]))
    """
    return CumminResult(*_cumulative_extreme(as_tensor(input), dim, False, "cummin"))


def searchsorted(
    sorted_sequence: TensorLike,
    input: TensorLike,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: TensorLike | None = None,
) -> Tensor:
    """Where each value of ``input`` would be inserted into ``sorted_sequence`` (sorted along its
    last dim) to keep it sorted: the first such place, or the last with ``right=True`` /
    ``side='right'``. Not differentiable.

    Shapes: sorted_sequence (M,) with any input, or (*, M) with input (*, K) -> input's shape
    (int64; int32 with ``out_int32``); a number input gives a 0-d tensor. ``sorter`` (like
    ``sorted_sequence``) holds the indices that sort an unsorted sequence.

    Example:
        >>> cr.searchsorted(cr.tensor([1, 3, 5, 7]), cr.tensor([3, 6, 9]))
        tensor([1, 3, 4])
        >>> cr.searchsorted(cr.tensor([1, 3, 5, 7]), 3, right=True)
        tensor(2)
    """
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"searchsorted: side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError("searchsorted: side='left' and right=True contradict each other")
        right = side == "right"
    seq = as_tensor(sorted_sequence)._data
    values = input._data if isinstance(input, Tensor) else np.asarray(input)
    if sorter is not None:
        order = as_tensor(sorter)._data
        if order.shape != seq.shape:
            raise RuntimeError(
                f"searchsorted: sorter shape {order.shape} must equal the sorted_sequence "
                f"shape {seq.shape}"
            )
        seq = np.take_along_axis(seq, order.astype(np.intp), axis=-1)
    how: Any = "right" if right else "left"
    if seq.ndim == 0:
        raise RuntimeError("searchsorted: sorted_sequence must have at least one dimension")
    if seq.ndim == 1:
        out = np.searchsorted(seq, values, side=how)
    else:
        if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(
                f"searchsorted: the leading dims of sorted_sequence {seq.shape} and input "
                f"{values.shape} must match (or sorted_sequence must be 1-d)"
            )
        rows_seq = seq.reshape(-1, seq.shape[-1])
        rows_val = values.reshape(-1, values.shape[-1])
        out = np.stack(
            [np.searchsorted(s, v, side=how) for s, v in zip(rows_seq, rows_val, strict=True)]
        ).reshape(values.shape)
    return Tensor._wrap(np.asarray(out, dtype=np.int32 if out_int32 else np.int64))


def heaviside(input: TensorLike, values: TensorLike) -> Tensor:
    """The Heaviside step: 0 where ``input < 0``, ``values`` where it is 0, 1 where it is > 0
    (and 0 at NaN, as PyTorch). Not differentiable. Shapes: input and values broadcast.

    Example:
        >>> cr.heaviside(cr.tensor([-1.5, 0.0, 2.0]), cr.tensor(0.5))
        tensor([0. , 0.5, 1. ])
    """
    x, v = as_tensor(input), as_tensor(values)
    if x.dtype != v.dtype:
        raise RuntimeError(
            f"heaviside is not yet implemented for tensors with different dtypes "
            f"({x.dtype} and {v.dtype})"
        )
    a = x._data
    out = np.where(a == 0, v._data, (a > 0).astype(a.dtype))
    return Tensor._wrap(np.asarray(out, dtype=a.dtype))


def dist(input: TensorLike, other: TensorLike, p: float = 2) -> Tensor:
    """The p-norm of ``input - other`` (broadcast) over all entries, a 0-d tensor; ``p`` may be
    0 (count of differing entries), inf or -inf.

    Example:
        >>> cr.dist(cr.tensor([1.0, 2.0]), cr.tensor([4.0, 6.0]))
        tensor(5.)
        >>> cr.dist(cr.tensor([1.0, 2.0]), cr.tensor([4.0, 6.0]), p=1)
        tensor(7.)
    """
    diff_ = as_tensor(input) - as_tensor(other)
    if p == 0:  # not differentiable: a zero gradient, as PyTorch
        count = np.asarray((diff_._data != 0).sum(), dtype=diff_.dtype)
        return (diff_ * 0).sum() + Tensor._wrap(count)
    return diff_.norm(p)


def baddbmm(
    input: TensorLike,
    batch1: TensorLike,
    batch2: TensorLike,
    *,
    beta: float = 1,
    alpha: float = 1,
) -> Tensor:
    """``beta * input + alpha * batch1 @ batch2``, batched; with ``beta=0`` the input is ignored
    (NaN in it does not spread), as in PyTorch.

    Shapes: input broadcast to (B, n, m); batch1 (B, n, k); batch2 (B, k, m) -> (B, n, m).

    Example:
        >>> cr.baddbmm(cr.ones(1, 2), cr.ones(3, 2, 4), cr.ones(3, 4, 2), alpha=0.5).shape
        (3, 2, 2)
        >>> cr.baddbmm(cr.ones(2), cr.ones(1, 1, 3), cr.ones(1, 3, 2), beta=2)
        tensor([[[5., 5.]]])
    """
    from .linalg import bmm

    return scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


__all__ = [
    "baddbmm",
    "cummax",
    "cummin",
    "diff",
    "dist",
    "heaviside",
    "masked_select",
    "median",
    "nan_to_num",
    "searchsorted",
]
