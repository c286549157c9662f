"""PyTorch tensor functions composed from the primitives: joins and splits, reorderings,
elementwise and reduction variants, products. Each is written with differentiable ops, so its
gradient (and second derivative) is theirs; the few that have no gradient say so.

Grouped as torch's docs group them; the Tensor methods of the same names are bound at the end.
"""

from __future__ import annotations

import builtins
import itertools
import math
import warnings
from collections import namedtuple
from collections.abc import Sequence
from typing import Any

from .._typing import DTypeLike, TensorLike
from ..autograd.grad_mode import is_grad_enabled
from ..backend import xp as np
from ..tensor import PRINT_OPTIONS, Tensor, to_array
from . import inplace, pointwise, special
from ._util import as_tensor, float_operand, normalize_dims, scaled_sum
from .comparison import isnan, logical_not, ne
from .indexing import _dim, gather, index_select, scatter, scatter_add
from .linalg import matmul, outer
from .pointwise import (
    abs,
    exp,
    log,
    log1p,
    maximum,
    sin,
    sqrt,
    trunc,
    where,
)
from .reduction import amax, amin, sum
from .shape import cat, flip, getitem, pad, permute, reshape, split, stack
from .sorting import sort

AminmaxResult = namedtuple("aminmax", ["min", "max"])  # type: ignore[name-match]  # torch's
KthvalueResult = namedtuple("kthvalue", ["values", "indices"])  # type: ignore[name-match]
ModeResult = namedtuple("mode", ["values", "indices"])  # type: ignore[name-match]
NanmedianResult = namedtuple("nanmedian", ["values", "indices"])  # type: ignore[name-match]


def _tensors(tensors: Any, op: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a sequence of tensors, got {type(tensors).__name__}")
    return [as_tensor(t) for t in tensors]


# ---- joins and splits ----


def concat(tensors: Sequence[TensorLike], dim: int = 0) -> Tensor:
    """Alias of :func:`cat`.

    Example:
        >>> cr.concat([cr.ones(1), cr.zeros(2)])
        tensor([1., 0., 0.])
    """
    return cat(_tensors(tensors, "concat"), dim)


def _at_least(ndim: int, tensors: tuple[Any, ...]) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_at_least(ndim, (t,)) for t in tensors[0])
    if len(tensors) != 1:
        return tuple(_at_least(ndim, (t,)) for t in tensors)
    x = as_tensor(tensors[0])
    if x.ndim >= ndim:
        return x
    shape = {0: (1, 1, 1), 1: (1, *x.shape, 1), 2: (*x.shape, 1)}[x.ndim]
    return reshape(x, shape[:ndim] if x.ndim < 2 or ndim == 3 else shape)


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dim (a scalar becomes shape (1,)); one tensor in, one out.

    Example:
        >>> cr.atleast_1d(cr.tensor(3.0))
        tensor([3.])
    """
    return _at_least(1, tensors)


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dims: () -> (1, 1), (n,) -> (1, n).

    Example:
        >>> cr.atleast_2d(cr.ones(3)).shape
        (1, 3)
    """
    return _at_least(2, tensors)


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dims: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1).

    Example:
        >>> cr.atleast_3d(cr.ones(2, 3)).shape
        (2, 3, 1)
    """
    return _at_least(3, tensors)


def hstack(tensors: Sequence[TensorLike]) -> Tensor:
    """Joined column-wise: along dim 1, or dim 0 for 1-d tensors.

    Example:
        >>> cr.hstack([cr.ones(2), cr.zeros(1)])
        tensor([1., 1., 0.])
    """
    ts = atleast_1d(_tensors(tensors, "hstack"))
    return cat(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[TensorLike]) -> Tensor:
    """Joined row-wise (along dim 0), 1-d tensors as rows (``row_stack`` is the same).

    Example:
        >>> cr.vstack([cr.ones(2), cr.zeros(2)]).shape
        (2, 2)
    """
    return cat(atleast_2d(_tensors(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors: Sequence[TensorLike]) -> Tensor:
    """Joined depth-wise (along dim 2), after :func:`atleast_3d`.

    Example:
        >>> cr.dstack([cr.ones(2, 3), cr.zeros(2, 3)]).shape
        (2, 3, 2)
    """
    return cat(atleast_3d(_tensors(tensors, "dstack")), 2)


def column_stack(tensors: Sequence[TensorLike]) -> Tensor:
    """Joined as columns: scalars and 1-d tensors of n values become (n, 1) columns.

    Example:
        >>> cr.column_stack([cr.ones(2), cr.zeros(2, 2)]).shape
        (2, 3)
    """
    ts = [
        t if t.ndim >= 2 else reshape(t, (t.numel(), 1)) for t in _tensors(tensors, "column_stack")
    ]
    return cat(ts, 1)


def tensor_split(input: TensorLike, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of ``input`` split along ``dim``: into n parts of sizes as equal as possible (the
    first ``size % n`` one larger), or at the given indices.

    Example:
        >>> [t.tolist() for t in cr.tensor_split(cr.arange(5), 3)]
        [[0, 1], [2, 3], [4]]
        >>> [t.tolist() for t in cr.tensor_split(cr.arange(5), [1, 4])]
        [[0], [1, 2, 3], [4]]
    """
    x = as_tensor(input)
    d = _dim(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        arg = arg.item() if arg.ndim == 0 else arg.tolist()
    if isinstance(arg, (int, np.integer)):
        if arg <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be positive, got {arg}")
        q, r = divmod(n, int(arg))
        bounds = list(itertools.accumulate([q + 1] * r + [q] * (int(arg) - r), initial=0))
    else:
        cuts = [min(max(int(i) + n if int(i) < 0 else int(i), 0), n) for i in arg]
        bounds = [0, *cuts, n]
    index: list[Any] = [slice(None)] * x.ndim
    parts = []
    for start, stop in itertools.pairwise(bounds):
        index[d] = slice(start, max(start, stop))
        parts.append(getitem(x, tuple(index)))
    return tuple(parts)


def _split_by(x: Tensor, arg: Any, dim: int, op: str) -> tuple[Tensor, ...]:
    if isinstance(arg, (int, np.integer)) and (arg == 0 or x.shape[dim] % arg):
        raise RuntimeError(
            f"{op}: dim {dim} of size {x.shape[dim]} is not divisible by {arg} sections"
        )
    return tensor_split(x, arg, dim)


def hsplit(input: TensorLike, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """:func:`tensor_split` along dim 1 (dim 0 for 1-d); sections must divide the size.

    Example:
        >>> [t.shape for t in cr.hsplit(cr.ones(2, 4), 2)]
        [(2, 2), (2, 2)]
    """
    x = as_tensor(input)
    return _split_by(x, indices_or_sections, 1 if x.ndim > 1 else 0, "hsplit")


def vsplit(input: TensorLike, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """:func:`tensor_split` along dim 0 of a tensor with at least 2 dims.

    Example:
        >>> [t.shape for t in cr.vsplit(cr.ones(4, 2), [1])]
        [(1, 2), (3, 2)]
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"vsplit: expected at least 2 dims, got a tensor of shape {x.shape}")
    return _split_by(x, indices_or_sections, 0, "vsplit")


def dsplit(input: TensorLike, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """:func:`tensor_split` along dim 2 of a tensor with at least 3 dims.

    Example:
        >>> [t.shape for t in cr.dsplit(cr.ones(1, 1, 4), 2)]
        [(1, 1, 2), (1, 1, 2)]
    """
    x = as_tensor(input)
    if x.ndim < 3:
        raise RuntimeError(f"dsplit: expected at least 3 dims, got a tensor of shape {x.shape}")
    return _split_by(x, indices_or_sections, 2, "dsplit")


def split_with_sizes(input: TensorLike, split_sizes: Sequence[int], dim: int = 0) -> Any:
    """:func:`split` into parts of the given sizes (which must add up to the dim's size).

    Example:
        >>> [t.tolist() for t in cr.arange(3).split_with_sizes([1, 2])]
        [[0], [1, 2]]
    """
    return split(input, list(split_sizes), dim)


# ---- reorderings and selections ----


def unflatten(input: TensorLike, dim: int, sizes: Sequence[int]) -> Tensor:
    """``dim`` expanded into dims of ``sizes`` (one may be -1).

    Example:
        >>> cr.ones(2, 6).unflatten(1, (3, -1)).shape
        (2, 3, 2)
    """
    x = as_tensor(input)
    d = _dim(dim, x.ndim, "unflatten")
    return reshape(x, (*x.shape[:d], *sizes, *x.shape[d + 1 :]))


def movedim(
    input: TensorLike, source: int | Sequence[int], destination: int | Sequence[int]
) -> Tensor:
    """The dims ``source`` moved to positions ``destination``, the others keeping their order
    (``moveaxis`` is the same).

    Example:
        >>> cr.ones(2, 3, 4).movedim(0, -1).shape
        (3, 4, 2)
    """
    x = as_tensor(input)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: source {source} and destination {destination} differ in length"
        )
    src = [_dim(d, x.ndim, "movedim") for d in src]
    dst = [_dim(d, x.ndim, "movedim") for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {source} or destination {destination}")
    order = [d for d in range(x.ndim) if d not in src]
    for to, frm in sorted(zip(dst, src, strict=True)):
        order.insert(to, frm)
    return permute(x, order) if order != list(range(x.ndim)) else x


moveaxis = movedim


def swapdims(input: TensorLike, dim0: int, dim1: int) -> Tensor:
    """Alias of :func:`transpose`.

    Example:
        >>> cr.ones(2, 3).swapdims(0, 1).shape
        (3, 2)
    """
    return as_tensor(input).transpose(dim0, dim1)


def select(input: TensorLike, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, which is removed (``x.select(1, i)`` is ``x[:, i]``).

    Example:
        >>> cr.tensor([[1, 2], [3, 4]]).select(1, 0)
        tensor([1, 3])
    """
    x = as_tensor(input)
    d = _dim(dim, x.ndim, "select")
    return getitem(x, (slice(None),) * d + (int(index),))


def ravel(input: TensorLike) -> Tensor:
    """The elements as a 1-d tensor, row-major (as ``flatten()``).

    Example:
        >>> cr.ones(2, 3).ravel().shape
        (6,)
    """
    return reshape(as_tensor(input), (-1,))


def take(input: TensorLike, index: TensorLike) -> Tensor:
    """Elements of ``input`` seen as 1-d, at ``index``; shape: ``index``'s.

    Example:
        >>> cr.take(cr.tensor([[1, 2], [3, 4]]), cr.tensor([0, 3]))
        tensor([1, 4])
    """
    x = as_tensor(input)
    idx = as_tensor(index)
    flat = ravel(x)
    if idx.numel() and (idx._data.max() >= x.numel() or idx._data.min() < -x.numel()):
        raise IndexError(f"take: index out of range for a tensor of {x.numel()} elements")
    return reshape(index_select(flat, 0, ravel(idx)), idx.shape)


def take_along_dim(input: TensorLike, indices: TensorLike, dim: int | None = None) -> Tensor:
    """Values of ``input`` at ``indices`` along ``dim`` (flattened when None); the other dims
    broadcast (``x.take_along_dim(x.argmax(1, keepdim=True), 1)`` takes each row's max).

    Example:
        >>> x = cr.tensor([[10.0, 30.0, 20.0]])
        >>> cr.take_along_dim(x, x.argsort(1), 1)
        tensor([[10., 20., 30.]])
    """
    x, idx = as_tensor(input), as_tensor(indices)
    if dim is None:
        return gather(ravel(x), 0, ravel(idx))
    d = _dim(dim, max(x.ndim, idx.ndim), "take_along_dim")
    x_shape, i_shape = list(x.shape), list(idx.shape)
    x_shape[d] = i_shape[d] = 1
    common = np.broadcast_shapes(tuple(x_shape), tuple(i_shape))
    x = x.expand(*common[:d], x.shape[d], *common[d + 1 :])
    idx = idx.expand(*common[:d], idx.shape[d], *common[d + 1 :])
    return gather(x, d, idx)


def fliplr(input: TensorLike) -> Tensor:
    """Columns in reverse order (flip of dim 1; needs 2 dims).

    Example:
        >>> cr.fliplr(cr.tensor([[1, 2, 3]]))
        tensor([[3, 2, 1]])
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: expected at least 2 dims, got shape {x.shape}")
    return flip(x, 1)


def flipud(input: TensorLike) -> Tensor:
    """Rows in reverse order (flip of dim 0).

    Example:
        >>> cr.flipud(cr.tensor([1, 2, 3]))
        tensor([3, 2, 1])
    """
    x = as_tensor(input)
    if x.ndim < 1:
        raise RuntimeError("flipud: expected at least 1 dim, got a scalar")
    return flip(x, 0)


def rot90(input: TensorLike, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotated by 90 degrees ``k`` times in the plane of ``dims``, from the first dim towards
    the second.

    Example:
        >>> cr.rot90(cr.tensor([[1, 2], [3, 4]]))
        tensor([[2, 4],
                [1, 3]])
    """
    x = as_tensor(input)
    if len(dims) != 2 or x.ndim < 2:
        raise RuntimeError(f"rot90: expected 2 dims and a tensor of 2+ dims, got {dims}, {x.shape}")
    d0, d1 = (_dim(d, x.ndim, "rot90") for d in dims)
    if d0 == d1:
        raise RuntimeError(f"rot90: the two dims must differ, got {tuple(dims)}")
    k %= 4
    if k == 1:
        return flip(x, d1).transpose(d0, d1)
    if k == 2:
        return flip(x, (d0, d1))
    if k == 3:
        return flip(x, d0).transpose(d0, d1)
    return x


def diag_embed(input: TensorLike, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Each last-dim vector placed on the ``offset`` diagonal of matrices spanning ``dim1`` and
    ``dim2`` of the result (zeros elsewhere). Shapes: (..., n) -> (..., n + |offset|, same).

    Example:
        >>> cr.diag_embed(cr.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
    """
    x = as_tensor(input)
    n = x.shape[-1] if x.ndim else 1
    m = n + builtins.abs(offset)
    x = x if x.ndim else reshape(x, (1,))
    rows = np.arange(n) + max(-offset, 0)
    zeros = Tensor._wrap(np.zeros((*x.shape[:-1], m, m), dtype=x.dtype))
    out = inplace.index_put(zeros, (Ellipsis, rows, rows + offset), x)  # (no n^3 one-hot)
    ndim = out.ndim
    d1, d2 = _dim(dim1, ndim, "diag_embed"), _dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    return movedim(out, (ndim - 2, ndim - 1), (d1, d2))


def diagflat(input: TensorLike, offset: int = 0) -> Tensor:
    """A 2-d matrix with the flattened ``input`` on its ``offset`` diagonal.

    Example:
        >>> cr.diagflat(cr.tensor([[1, 2]])).tolist()
        [[1, 0], [0, 2]]
    """
    return diag_embed(ravel(as_tensor(input)), offset)


def broadcast_tensors(*tensors: TensorLike) -> tuple[Tensor, ...]:
    """The tensors broadcast to their common shape (views).

    Example:
        >>> [t.shape for t in cr.broadcast_tensors(cr.ones(2, 1), cr.ones(3))]
        [(2, 3), (2, 3)]
    """
    ts = [as_tensor(t) for t in tensors]
    try:
        shape = np.broadcast_shapes(*(t.shape for t in ts))
    except ValueError:
        raise ValueError(
            f"broadcast_tensors: shapes {[t.shape for t in ts]} do not broadcast together"
        ) from None
    return tuple(t if t.shape == shape else t.broadcast_to(shape) for t in ts)


def cartesian_prod(*tensors: TensorLike) -> Tensor:
    """Every combination of one element of each 1-d tensor, as rows (itertools.product order).

    Example:
        >>> cr.cartesian_prod(cr.tensor([1, 2]), cr.tensor([3, 4])).tolist()
        [[1, 3], [1, 4], [2, 3], [2, 4]]
    """
    ts = [as_tensor(t) for t in tensors]
    if any(t.ndim != 1 for t in ts):
        raise RuntimeError(f"cartesian_prod: expected 1-d tensors, got {[t.shape for t in ts]}")
    if len(ts) == 1:
        return ts[0]
    from .shape import meshgrid

    return stack([reshape(g, (-1,)) for g in meshgrid(*ts, indexing="ij")], 1)


def combinations(input: TensorLike, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Every length-``r`` combination of the elements of a 1-d tensor, as rows
    (itertools.combinations order).

    Example:
        >>> cr.combinations(cr.tensor([1, 2, 3])).tolist()
        [[1, 2], [1, 3], [2, 3]]
    """
    x = as_tensor(input)
    if x.ndim != 1:
        raise RuntimeError(f"combinations: expected a 1-d tensor, got shape {x.shape}")
    if r == 0:
        return Tensor._wrap(np.empty((0,), dtype=x.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if r == 1:
        return index_select(x, 0, Tensor._wrap(rows[:, 0]))
    return reshape(index_select(x, 0, Tensor._wrap(rows.reshape(-1))), (-1, r))


def block_diag(*tensors: TensorLike) -> Tensor:
    """The tensors (scalars, vectors as rows, matrices) as blocks on a diagonal, zeros elsewhere.

    Example:
        >>> cr.block_diag(cr.tensor([[1, 2]]), cr.tensor(3)).tolist()
        [[1, 2, 0], [0, 0, 3]]
    """
    ts = [as_tensor(t) for t in tensors]
    if any(t.ndim > 2 for t in ts):
        raise RuntimeError(
            f"block_diag: expected tensors of at most 2 dims, got {[t.shape for t in ts]}"
        )
    ts = [reshape(t, (1, -1) if t.ndim else (1, 1)) if t.ndim < 2 else t for t in ts]
    if not ts:
        return Tensor._wrap(np.zeros((1, 0), dtype=np.float32))
    width = builtins.sum(t.shape[1] for t in ts)
    rows, left = [], 0
    for t in ts:
        right = width - left - t.shape[1]
        rows.append(pad(t, (left, right)) if (left or right) else t)
        left += t.shape[1]
    return cat(rows, 0)


def tril_indices(
    row: int, col: int, offset: int = 0, *, dtype: DTypeLike = np.int64, **_: Any
) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a (row, col) matrix,
    row-major (``offset`` shifts the diagonal up).

    Example:
        >>> cr.tril_indices(2, 2).tolist()
        [[0, 1, 1], [0, 0, 1]]
    """
    return Tensor._wrap(np.stack(np.tril_indices(row, offset, col)).astype(dtype))


def triu_indices(
    row: int, col: int, offset: int = 0, *, dtype: DTypeLike = np.int64, **_: Any
) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a (row, col) matrix.

    Example:
        >>> cr.triu_indices(2, 2).tolist()
        [[0, 0, 1], [0, 1, 1]]
    """
    return Tensor._wrap(np.stack(np.triu_indices(row, offset, col)).astype(dtype))


def vander(x: TensorLike, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-d tensor: columns x^(N-1), ..., x, 1 (or increasing).

    Shapes: (n,) -> (n, N), N defaulting to n.

    Example:
        >>> cr.vander(cr.tensor([2, 3]), 3).tolist()
        [[4, 2, 1], [9, 3, 1]]
    """
    v = as_tensor(x)
    if v.ndim != 1:
        raise RuntimeError(f"vander: expected a 1-d tensor, got shape {v.shape}")
    n = v.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError(f"vander: N must be non-negative, got {N}")
    if v.dtype.kind in "bu" or (v.dtype.kind == "i" and v.dtype.itemsize < 8):
        v = v.to(np.int64)
    if n == 0:
        return Tensor._wrap(np.empty((v.shape[0], 0), dtype=v.dtype))
    column = Tensor._wrap(np.ones(v.shape[0], dtype=v.dtype))
    columns = [column]
    for _ in range(n - 1):  # products, not powers: exact for integers, smooth at 0
        column = column * v
        columns.append(column)
    out = stack(columns, 1)
    return out if increasing else flip(out, 1)


# ---- elementwise ----


def fmax(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise maximum that ignores a NaN (NaN only where both are); a tie's gradient goes
    to ``input``, as torch's.

    Example:
        >>> cr.fmax(cr.tensor([1.0, float("nan")]), cr.tensor([float("nan"), 2.0]))
        tensor([1., 2.])
    """
    a, b = as_tensor(input), as_tensor(other)
    return where((a >= b) | isnan(b), a, b)


def fmin(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise minimum that ignores a NaN (NaN only where both are).

    Example:
        >>> cr.fmin(cr.tensor([1.0, float("nan")]), cr.tensor([float("nan"), 2.0]))
        tensor([1., 2.])
    """
    a, b = as_tensor(input), as_tensor(other)
    return where((a <= b) | isnan(b), a, b)


def frac(input: TensorLike) -> Tensor:
    """The fractional part ``x - trunc(x)``, with x's sign.

    Example:
        >>> cr.frac(cr.tensor([1.5, -1.25]))
        tensor([ 0.5 , -0.25])
    """
    x = as_tensor(input)
    return x - trunc(x)


def fix(input: TensorLike) -> Tensor:
    """Alias of :func:`trunc`.

    Example:
        >>> cr.fix(cr.tensor([-1.5]))
        tensor([-1.])
    """
    return trunc(input)


def addcmul(
    input: TensorLike, tensor1: TensorLike, tensor2: TensorLike, *, value: float = 1
) -> Tensor:
    """``input + value * tensor1 * tensor2``, broadcast.

    Example:
        >>> cr.addcmul(cr.ones(2), cr.tensor([2.0, 3.0]), cr.tensor([4.0, 5.0]), value=0.5)
        tensor([5. , 8.5])
    """
    prod = as_tensor(tensor1) * tensor2
    return as_tensor(input) + (prod if value == 1 else prod * value)


def addcdiv(
    input: TensorLike, tensor1: TensorLike, tensor2: TensorLike, *, value: float = 1
) -> Tensor:
    """``input + value * tensor1 / tensor2``, broadcast (integer tensors refused, as torch).

    Example:
        >>> cr.addcdiv(cr.ones(2), cr.tensor([2.0, 3.0]), cr.tensor([4.0, 6.0]))
        tensor([1.5, 1.5])
    """
    t1, t2 = as_tensor(tensor1), as_tensor(tensor2)
    if t1.dtype.kind in "biu" and t2.dtype.kind in "biu":
        raise RuntimeError(
            "addcdiv: Integer division of tensors is not supported (as torch): divide with "
            "true_divide or floor_divide"
        )
    quotient = t1 / t2
    return as_tensor(input) + (quotient if value == 1 else quotient * value)


def addmv(
    input: TensorLike, mat: TensorLike, vec: TensorLike, *, beta: float = 1, alpha: float = 1
) -> Tensor:
    """``beta * input + alpha * mat @ vec``. Shapes: mat (n, m), vec (m,), input broadcast to (n,).

    Example:
        >>> cr.addmv(cr.ones(2), cr.ones(2, 3), cr.ones(3))
        tensor([4., 4.])
    """
    return scaled_sum("addmv", input, mv(mat, vec), beta, alpha)


def addr(
    input: TensorLike, vec1: TensorLike, vec2: TensorLike, *, beta: float = 1, alpha: float = 1
) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``. Shapes: (n,), (m,) -> (n, m).

    Example:
        >>> cr.addr(cr.zeros(2, 2), cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0])).tolist()
        [[3.0, 4.0], [6.0, 8.0]]
    """
    return scaled_sum("addr", input, outer(vec1, vec2), beta, alpha)


def addbmm(
    input: TensorLike, batch1: TensorLike, batch2: TensorLike, *, beta: float = 1, alpha: float = 1
) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``. Shapes: (B, n, k), (B, k, m) ->
    (n, m).

    Example:
        >>> cr.addbmm(cr.zeros(2, 2), cr.ones(3, 2, 4), cr.ones(3, 4, 2))[0]
        tensor([12., 12.])
    """
    b1, b2 = as_tensor(batch1), as_tensor(batch2)
    if b1.ndim != 3 or b2.ndim != 3:
        raise RuntimeError(f"addbmm: expected 3-d batches, got {b1.shape} and {b2.shape}")
    return scaled_sum("addbmm", input, sum(matmul(b1, b2), 0), beta, alpha)


def logical_xor(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise exclusive or of the truth values (nonzero is True); bool result.

    Example:
        >>> cr.logical_xor(cr.tensor([True, False]), cr.tensor([True, True]))
        tensor([False,  True])
    """
    return ne(as_tensor(input).bool(), as_tensor(other).bool())


def hypot(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise ``sqrt(input**2 + other**2)``, broadcast.

    Example:
        >>> cr.hypot(cr.tensor([3.0]), cr.tensor([4.0]))
        tensor([5.])
    """
    a, b = float_operand(input), float_operand(other)
    return sqrt(a * a + b * b)


def deg2rad(input: TensorLike) -> Tensor:
    """Degrees to radians.

    Example:
        >>> cr.deg2rad(cr.tensor([180.0]))
        tensor([3.1416])
    """
    return float_operand(input) * (math.pi / 180)


def rad2deg(input: TensorLike) -> Tensor:
    """Radians to degrees.

    Example:
        >>> cr.rad2deg(cr.tensor([3.14159265]))
        tensor([180.])
    """
    return float_operand(input) * (180 / math.pi)


def sinc(input: TensorLike) -> Tensor:
    """The normalised sinc ``sin(pi x) / (pi x)``, 1 at 0 (with gradient 0 there).

    Example:
        >>> cr.sinc(cr.tensor([0.0, 0.5]))
        tensor([1.    , 0.6366])
    """
    x = float_operand(input)
    zero = x == 0
    px = where(zero, 1.0, x) * math.pi  # 0 replaced: no 0/0 in the value or the gradient
    return where(zero, 1.0, sin(px) / px)


def logit(input: TensorLike, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))``, p clamped to [eps, 1 - eps] when ``eps`` is given.

    Example:
        >>> cr.logit(cr.tensor([0.5, 0.75]))
        tensor([0.    , 1.0986])
    """
    p = float_operand(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return log(p / (1 - p))


def xlogy(input: TensorLike, other: TensorLike) -> Tensor:
    """``input * log(other)``, 0 where input is 0 (unless other is NaN), broadcast.

    Example:
        >>> cr.xlogy(cr.tensor([0.0, 2.0]), cr.tensor([0.0, 2.718281828]))
        tensor([0., 2.])
    """
    x, y = float_operand(input), float_operand(other)
    silent = (x == 0) & (y <= 0)  # 0 * log(0) and 0 * log(-1) are 0: log(1) stands in
    return x * log(where(silent, 1.0, y))


def logaddexp(input: TensorLike, other: TensorLike) -> Tensor:
    """``log(exp(input) + exp(other))`` without overflow, broadcast.

    Example:
        >>> cr.logaddexp(cr.tensor([1000.0]), cr.tensor([1000.0]))
        tensor([1000.6932])
    """
    a, b = float_operand(input), float_operand(other)
    high = maximum(a, b)
    same_infinity = (a == b) & (abs(a) == math.inf)  # inf - inf would be NaN: the gap is 0
    gap = where(same_infinity, 0.0, a) - where(same_infinity, 0.0, b)
    return high + log1p(exp(-abs(gap)))


def logaddexp2(input: TensorLike, other: TensorLike) -> Tensor:
    """``log2(2**input + 2**other)`` without overflow.

    Example:
        >>> cr.logaddexp2(cr.tensor([3.0]), cr.tensor([3.0]))
        tensor([4.])
    """
    ln2 = math.log(2)
    return logaddexp(float_operand(input) * ln2, float_operand(other) * ln2) / ln2


def exp2(input: TensorLike) -> Tensor:
    """Elementwise ``2 ** x``.

    Example:
        >>> cr.exp2(cr.tensor([3.0, -1.0]))
        tensor([8. , 0.5])
    """
    return 2.0 ** float_operand(input)


def float_power(input: TensorLike, exponent: Any) -> Tensor:
    """``input ** exponent`` computed in float64 (the result is float64).

    Example:
        >>> cr.float_power(cr.tensor([2]), 3).dtype
        dtype('float64')
    """
    base = as_tensor(input).to(np.float64)
    return base ** (
        as_tensor(exponent).to(np.float64) if isinstance(exponent, Tensor) else float(exponent)
    )


def copysign(input: TensorLike, other: TensorLike) -> Tensor:
    """``|input|`` with the sign (bit) of ``other``, broadcast; float result.

    Example:
        >>> cr.copysign(cr.tensor([1.0, 2.0]), cr.tensor([-0.0, 3.0]))
        tensor([-1.,  2.])
    """
    a, b = float_operand(input), as_tensor(other)
    return where(signbit(b), -abs(a), abs(a))


def signbit(input: TensorLike) -> Tensor:
    """Whether the sign bit is set (True for -0.0 and negative numbers); no gradient.

    Example:
        >>> cr.signbit(cr.tensor([-0.0, 0.0, -2.0]))
        tensor([ True, False,  True])
    """
    return Tensor._wrap(np.signbit(as_tensor(input)._data))


def sgn(input: TensorLike) -> Tensor:
    """:func:`sign` (torch's extension of it to complex numbers; real tensors here).

    Example:
        >>> cr.sgn(cr.tensor([-2.0, 0.0]))
        tensor([-1.,  0.])
    """
    return as_tensor(input).sign()


def positive(input: TensorLike) -> Tensor:
    """``input`` itself (the unary ``+``); bool tensors refused, as torch.

    Example:
        >>> x = cr.ones(2)
        >>> cr.positive(x) is x
        True
    """
    x = as_tensor(input)
    if x.dtype == np.bool_:
        raise RuntimeError("positive: not supported for bool tensors (as torch)")
    return x


def isposinf(input: TensorLike) -> Tensor:
    """Elementwise ``x == +inf``.

    Example:
        >>> cr.isposinf(cr.tensor([float("inf"), -float("inf")]))
        tensor([ True, False])
    """
    return Tensor._wrap(np.isposinf(as_tensor(input)._data))


def isneginf(input: TensorLike) -> Tensor:
    """Elementwise ``x == -inf``.

    Example:
        >>> cr.isneginf(cr.tensor([float("inf"), -float("inf")]))
        tensor([False,  True])
    """
    return Tensor._wrap(np.isneginf(as_tensor(input)._data))


def isreal(input: TensorLike) -> Tensor:
    """Elementwise: no imaginary part (True everywhere for real tensors).

    Example:
        >>> cr.isreal(cr.ones(2))
        tensor([ True,  True])
    """
    return Tensor._wrap(np.isreal(as_tensor(input)._data))


# ---- reductions ----


def _nan_to_zero(x: Tensor) -> Tensor:
    return where(isnan(x), 0, x) if x.dtype.kind == "f" else x


def nansum(
    input: TensorLike, dim: Any = None, keepdim: bool = False, *, dtype: DTypeLike | None = None
) -> Tensor:
    """:func:`sum` with NaN counted as 0 (their gradient is 0).

    Example:
        >>> cr.nansum(cr.tensor([1.0, float("nan"), 2.0]))
        tensor(3.)
    """
    x = as_tensor(input)
    return sum(_nan_to_zero(x if dtype is None else x.to(dtype)), dim, keepdim)


def nanmean(
    input: TensorLike, dim: Any = None, keepdim: bool = False, *, dtype: DTypeLike | None = None
) -> Tensor:
    """:func:`mean` of the values that are not NaN (NaN where all are).

    Example:
        >>> cr.nanmean(cr.tensor([1.0, float("nan"), 2.0]))
        tensor(1.5)
    """
    x = as_tensor(input)
    x = x if dtype is None else x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"nanmean: expected a floating point tensor, got {x.dtype}")
    count = sum(logical_not(isnan(x)), dim, keepdim)
    return nansum(x, dim, keepdim) / count


def count_nonzero(input: TensorLike, dim: Any = None) -> Tensor:
    """Number of nonzero entries over ``dim`` (all when None), int64.

    Example:
        >>> cr.count_nonzero(cr.tensor([[0, 1], [2, 0]]), dim=0)
        tensor([1, 1])
    """
    x = as_tensor(input)
    dims = None if dim is None else normalize_dims(dim, x.ndim, "count_nonzero")
    return Tensor._wrap(np.asarray(np.count_nonzero(x._data, axis=dims), dtype=np.int64))


def aminmax(input: TensorLike, *, dim: int | None = None, keepdim: bool = False) -> AminmaxResult:
    """``(min, max)`` over ``dim`` (all elements when None).

    Example:
        >>> cr.aminmax(cr.tensor([3.0, 1.0, 2.0]))
        aminmax(min=tensor(1.), max=tensor(3.))
    """
    return AminmaxResult(amin(input, dim, keepdim), amax(input, dim, keepdim))


def msort(input: TensorLike) -> Tensor:
    """Sorted along dim 0 (values only).

    Example:
        >>> cr.msort(cr.tensor([[2, 1], [1, 3]])).tolist()
        [[1, 1], [2, 3]]
    """
    return sort(input, 0).values


def kthvalue(input: TensorLike, k: int, dim: int = -1, keepdim: bool = False) -> KthvalueResult:
    """The k-th smallest value along ``dim`` and its index (k counts from 1).

    Example:
        >>> cr.kthvalue(cr.tensor([3.0, 1.0, 2.0]), 2)
        kthvalue(values=tensor(2.), indices=tensor(2))
    """
    x = as_tensor(input)
    d = _dim(dim, x.ndim, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue: k = {k} is out of range for a dim of size {n}")
    order = np.argsort(x._data, axis=d, kind="stable") if x.ndim else np.zeros((), np.int64)
    idx = np.take(order, [k - 1], axis=d) if x.ndim else order
    values = gather(x, d, Tensor._wrap(idx)) if x.ndim else x
    if not keepdim and x.ndim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return KthvalueResult(values, Tensor._wrap(np.asarray(idx, dtype=np.int64)))


def mode(input: TensorLike, dim: int = -1, keepdim: bool = False) -> ModeResult:
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and the
    index of its last occurrence, as torch's CPU kernel.

    Example:
        >>> cr.mode(cr.tensor([2, 1, 2, 1, 3]))
        mode(values=tensor(1), indices=tensor(3))
    """
    x = as_tensor(input)
    if x.ndim == 0:
        return ModeResult(x, Tensor._wrap(np.zeros((), np.int64)))
    d = _dim(dim, x.ndim, "mode")
    a = np.moveaxis(x._data, d, -1)
    rows = a.reshape(-1, a.shape[-1])
    best = np.empty(len(rows), dtype=np.int64)
    for r, row in enumerate(rows):
        values, counts = np.unique(row, return_counts=True)
        top = values[np.argmax(counts)]  # unique sorts: the first maximum is the smallest value
        best[r] = np.flatnonzero(row == top)[-1] if top == top else np.flatnonzero(row != row)[-1]
    idx = np.moveaxis(best.reshape(a.shape[:-1] + (1,)), -1, d)
    values = gather(x, d, Tensor._wrap(idx))
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return ModeResult(values, Tensor._wrap(idx))


def _quantile(
    x: Tensor, q: Any, dim: int | None, keepdim: bool, interpolation: str, skip_nan: bool, op: str
) -> Tensor:
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(
            f"{op}: interpolation must be linear, lower, higher, midpoint or nearest, got {interpolation!r}"
        )
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a float tensor, got {x.dtype}")
    scalar_q = not isinstance(q, (Tensor, list, tuple)) or (isinstance(q, Tensor) and q.ndim == 0)
    qs = np.atleast_1d(np.asarray(q._data if isinstance(q, Tensor) else q, dtype=np.float64))
    if qs.ndim > 1 or ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(
            f"{op}: q must be a scalar or 1-d, with values in the range [0, 1], got {q}"
        )
    ndim = x.ndim
    if dim is None:
        x, d = reshape(x, (-1,)), 0
    else:
        d = _dim(dim, x.ndim, op)
        if not x.ndim:
            x = reshape(x, (1,))
    values = sort(x, d).values  # NaN last
    a = values._data
    n = a.shape[d]
    if n == 0:
        raise IndexError(f"{op}: the input is empty along the reduced dim")
    nan = np.isnan(a)
    valid = (
        (n - nan.sum(axis=d, keepdims=True))
        if skip_nan
        else np.full(nan.any(axis=d, keepdims=True).shape, n)
    )
    has_nan = nan.any(axis=d, keepdims=True)
    outs = []
    for i, qv in enumerate(qs):
        # in the input's dtype, as torch computes it (float32 0.3 * 10 is 3 there, 3.0000001 in float64)
        rank = (x.dtype.type(qv) * (valid - 1).astype(x.dtype)).astype(np.float64)
        if interpolation == "lower":
            rank = np.floor(rank)
        elif interpolation == "higher":
            rank = np.ceil(rank)
        elif interpolation == "nearest":
            rank = np.round(rank)  # half to even, as torch
        low = np.clip(np.floor(rank), 0, n - 1).astype(np.int64)
        high = np.clip(np.ceil(rank), 0, n - 1).astype(np.int64)
        v_low, v_high = gather(values, d, Tensor._wrap(low)), gather(values, d, Tensor._wrap(high))
        if interpolation == "midpoint":
            weight = Tensor._wrap(np.where(high > low, 0.5, 0.0).astype(x.dtype))
        elif interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
            q_i = q if q.ndim == 0 else q[i]  # the weight is differentiable in q, as torch's
            spread = Tensor._wrap((valid - 1).astype(x.dtype))
            weight = q_i.to(x.dtype) * spread - Tensor._wrap(low.astype(x.dtype))
        else:
            weight = Tensor._wrap((rank - low).astype(x.dtype))
        out = v_low + (v_high - v_low) * weight
        empty = valid == 0 if skip_nan else has_nan
        if empty.any():
            out = where(Tensor._wrap(empty), math.nan, out)
        outs.append(out if keepdim else out.squeeze(d))
    if dim is None and keepdim:
        outs = [reshape(o, (1,) * ndim) for o in outs]
    return outs[0] if scalar_q else stack(outs, 0)


def quantile(
    input: TensorLike,
    q: Any,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
) -> Tensor:
    """The ``q``-th quantiles along ``dim`` (all elements when None); NaN if the data has a
    NaN. A 1-d ``q`` adds a first dim. Differentiable in the data (through the sorted values).

    Example:
        >>> cr.quantile(cr.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)
        tensor(2.5)
    """
    return _quantile(as_tensor(input), q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(
    input: TensorLike,
    q: Any,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
) -> Tensor:
    """:func:`quantile` of the values that are not NaN (NaN where all are).

    Example:
        >>> cr.nanquantile(cr.tensor([1.0, float("nan"), 3.0]), 0.5)
        tensor(2.)
    """
    return _quantile(as_tensor(input), q, dim, keepdim, interpolation, True, "nanquantile")


def nanmedian(input: TensorLike, dim: int | None = None, keepdim: bool = False) -> Any:
    """The lower median of the values that are not NaN (NaN where all are); with ``dim``,
    ``(values, indices)``.

    Example:
        >>> cr.nanmedian(cr.tensor([3.0, float("nan"), 1.0, 2.0]))
        tensor(2.)
    """
    x = as_tensor(input)
    if dim is None:
        flat = ravel(x)
        return (
            nanmedian(flat, 0).values if flat.numel() else Tensor._wrap(np.asarray(np.nan, x.dtype))
        )
    d = _dim(dim, x.ndim, "nanmedian")
    if x.ndim == 0:
        return NanmedianResult(x, Tensor._wrap(np.zeros((), np.int64)))
    order = np.argsort(x._data, axis=d, kind="stable")  # NaN last
    valid = x.shape[d] - np.isnan(x._data).sum(axis=d, keepdims=True)
    pos = np.maximum((valid - 1) // 2, 0)
    idx = np.take_along_axis(order, pos, axis=d)
    values = gather(x, d, Tensor._wrap(idx))
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return NanmedianResult(values, Tensor._wrap(idx))


def cov(
    input: TensorLike,
    *,
    correction: int = 1,
    fweights: TensorLike | None = None,
    aweights: TensorLike | None = None,
) -> Tensor:
    """Covariance matrix of the variables in the rows of ``input`` (observations in columns),
    optionally weighted. Shapes: (vars, obs) -> (vars, vars); (obs,) -> ().

    Example:
        >>> cr.cov(cr.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    x = as_tensor(input)
    if x.ndim > 2:
        raise RuntimeError(f"cov: expected at most 2 dims, got shape {x.shape}")
    x = reshape(x, (1, -1)) if x.ndim < 2 else x
    if x.dtype.kind != "f":
        x = float_operand(x)
    n = x.shape[1]
    w = None
    for weights, kind in ((fweights, "fweights"), (aweights, "aweights")):
        if weights is not None:
            wt = as_tensor(weights)
            if wt.ndim != 1 or wt.shape[0] != n:
                raise RuntimeError(f"cov: {kind} must be 1-d with {n} values, got shape {wt.shape}")
            w = wt if w is None else w * wt
    if w is None:
        avg = x.mean(1, keepdim=True)
        centred = x - avg
        out = matmul(centred, centred.t()) / max(n - correction, 0)  # <= 0: inf or NaN, as torch
    else:
        w = w.to(x.dtype)
        total = w.sum()
        avg = (x * w).sum(1, keepdim=True) / total
        if aweights is None:
            norm = total - correction
        else:
            norm = total - correction * (w * as_tensor(aweights).to(x.dtype)).sum() / total
        centred = x - avg
        out = matmul(centred * w, centred.t()) / where(norm > 0, norm, 0.0)  # (as torch)
    return out.squeeze() if out.shape == (1, 1) else out


def corrcoef(input: TensorLike) -> Tensor:
    """Pearson correlation coefficients of the rows of ``input``, clipped to [-1, 1].

    Example:
        >>> cr.corrcoef(cr.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    c = cov(input)
    if c.ndim == 0:
        return c / c
    std = sqrt(c.diagonal())
    return (c / std[:, None] / std[None, :]).clamp(-1, 1)


# ---- products ----


def mv(input: TensorLike, vec: TensorLike) -> Tensor:
    """Matrix-vector product. Shapes: (n, m), (m,) -> (n,).

    Example:
        >>> cr.mv(cr.ones(2, 3), cr.ones(3))
        tensor([3., 3.])
    """
    a, v = as_tensor(input), as_tensor(vec)
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a matrix and a vector, got {a.shape} and {v.shape}")
    return matmul(a, v)


def tensordot(a: TensorLike, b: TensorLike, dims: Any = 2) -> Tensor:
    """Sum of products over the last ``dims`` dims of ``a`` and the first of ``b`` (an int), or
    over the dims paired in ``dims = (dims_a, dims_b)``.

    Example:
        >>> cr.tensordot(cr.ones(2, 3, 4), cr.ones(3, 4, 5)).shape
        (2, 5)
    """
    x, y = as_tensor(a), as_tensor(b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot: dims must be non-negative, got {dims}")
        da, db = list(range(x.ndim - dims, x.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da = [_dim(d, x.ndim, "tensordot") for d in da]
    db = [_dim(d, y.ndim, "tensordot") for d in db]
    if len(da) != len(db) or any(x.shape[i] != y.shape[j] for i, j in zip(da, db, strict=True)):
        raise RuntimeError(
            f"tensordot: contracted dims of shapes {x.shape} and {y.shape} differ: {da}, {db}"
        )
    free_a = [i for i in range(x.ndim) if i not in da]
    free_b = [j for j in range(y.ndim) if j not in db]
    k = int(np.prod([x.shape[i] for i in da]))
    xa = reshape(permute(x, free_a + da), (-1, k))
    yb = reshape(permute(y, db + free_b), (k, -1))
    return reshape(
        matmul(xa, yb), tuple(x.shape[i] for i in free_a) + tuple(y.shape[j] for j in free_b)
    )


def inner(input: TensorLike, other: TensorLike) -> Tensor:
    """Sum of products over the last dims (a product with a scalar).

    Shapes: (..., n), (..., n) -> input's leading dims + other's leading dims.

    Example:
        >>> cr.inner(cr.ones(2, 3), cr.ones(4, 3)).shape
        (2, 4)
    """
    x, y = as_tensor(input), as_tensor(other)
    if x.ndim == 0 or y.ndim == 0:
        return x * y
    return tensordot(x, y, ([-1], [-1]))


def kron(input: TensorLike, other: TensorLike) -> Tensor:
    """The Kronecker product: every element of ``input`` times the whole of ``other``.

    Shapes: dims aligned from the right (missing ones are 1) -> their products.

    Example:
        >>> cr.kron(cr.eye(2), cr.ones(2, 2)).shape
        (4, 4)
    """
    x, y = as_tensor(input), as_tensor(other)
    nd = max(x.ndim, y.ndim)
    xs, ys = (1,) * (nd - x.ndim) + x.shape, (1,) * (nd - y.ndim) + y.shape
    xe = reshape(x, tuple(v for s in xs for v in (s, 1)))
    ye = reshape(y, tuple(v for s in ys for v in (1, s)))
    return reshape(xe * ye, tuple(a * b for a, b in zip(xs, ys, strict=True)))


def cross(input: TensorLike, other: TensorLike, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (broadcast); without ``dim``, the first dim of
    size 3, as torch (which warns that this default will become -1, ``linalg.cross``'s).

    Example:
        >>> cr.cross(cr.tensor([1.0, 0.0, 0.0]), cr.tensor([0.0, 1.0, 0.0]), dim=0)
        tensor([0., 0., 1.])
    """
    a, b = broadcast_tensors(input, other)
    if dim is None:
        warnings.warn(
            "cross without dim takes the first dim of size 3; pass dim (or use linalg.cross)",
            UserWarning,
            stacklevel=2,
        )
        sizes = [i for i, s in enumerate(a.shape) if s == 3]
        if not sizes:
            raise RuntimeError(f"cross: no dim of size 3 in shape {a.shape}")
        dim = sizes[0]
    d = _dim(dim, a.ndim, "cross")
    if a.shape[d] != 3:
        raise RuntimeError(f"cross: dim {dim} of shape {a.shape} must have size 3")
    a0, a1, a2 = (select(a, d, i) for i in range(3))
    b0, b1, b2 = (select(b, d, i) for i in range(3))
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def _distance(diff: Tensor, p: float) -> Tensor:
    """p-norm over the last dim of row differences, with torch's gradients where the norm has
    none: 0 for a zero distance and, for p < 1, none through a zero coordinate."""
    same = Tensor._wrap(~diff._data.any(axis=-1, keepdims=True))
    safe = where(same, 1.0, diff)
    if 0 < p < 1:  # |0| ** (p - 1) is infinite
        a = abs(safe)
        zero = Tensor._wrap(a._data == 0)
        dist = sum(where(zero, 0.0, where(zero, 1.0, a) ** p), -1) ** (1.0 / p)
    else:
        dist = safe.norm(p, dim=-1)
    return where(same.squeeze(-1), 0.0, dist)


def cdist(
    x1: TensorLike, x2: TensorLike, p: float = 2.0, compute_mode: str | None = None
) -> Tensor:
    """Distances (p-norm) between each row of ``x1`` and each row of ``x2``.

    Shapes: (..., P, M), (..., R, M) -> (..., P, R) (batch dims broadcast).

    Example:
        >>> cr.cdist(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0], [0.0, 1.0]]))
        tensor([[5., 1.]])
    """
    a, b = float_operand(x1), float_operand(x2)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise RuntimeError(
            f"cdist: expected (..., P, M) and (..., R, M), got {a.shape} and {b.shape}"
        )
    if p < 0:
        raise RuntimeError(f"cdist: p must be non-negative, got {p}")
    return _distance(a[..., :, None, :] - b[..., None, :, :], p)


def pdist(input: TensorLike, p: float = 2.0) -> Tensor:
    """Distances between every pair of rows i < j, in row-major order. Shapes: (N, M) ->
    (N (N - 1) / 2,).

    Example:
        >>> cr.pdist(cr.tensor([[0.0], [1.0], [3.0]]))
        tensor([1., 3., 2.])
    """
    x = float_operand(input)
    if x.ndim != 2:
        raise ValueError(f"pdist: expected a 2-d input (N, M), got shape {tuple(x.shape)}")
    if p < 0:
        raise ValueError(f"pdist: only supports non-negative p values, got {p}")
    i, j = np.triu_indices(x.shape[0], 1)
    rows_i = index_select(x, 0, Tensor._wrap(i.astype(np.int64)))
    rows_j = index_select(x, 0, Tensor._wrap(j.astype(np.int64)))
    return _distance(rows_i - rows_j, p)


def vdot(input: TensorLike, other: TensorLike) -> Tensor:
    """Dot product of two 1-d tensors (real: the same as :func:`dot`).

    Example:
        >>> cr.vdot(cr.tensor([1.0, 2.0]), cr.tensor([3.0, 4.0]))
        tensor(11.)
    """
    return as_tensor(input).dot(other)


def ger(input: TensorLike, vec2: TensorLike) -> Tensor:
    """Alias of :func:`outer`.

    Example:
        >>> cr.ger(cr.tensor([1.0, 2.0]), cr.tensor([3.0])).tolist()
        [[3.0], [6.0]]
    """
    return outer(input, vec2)


def matrix_power(input: TensorLike, n: int) -> Tensor:
    """``input`` multiplied by itself ``n`` times (identity for 0, the inverse's power for
    n < 0), for square matrices or batches of them.

    Example:
        >>> cr.matrix_power(cr.tensor([[1.0, 1.0], [0.0, 1.0]]), 3).tolist()
        [[1.0, 3.0], [0.0, 1.0]]
    """
    x = as_tensor(input)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"matrix_power: expected square matrices, got shape {x.shape}")
    if n == 0:
        eye = np.broadcast_to(np.eye(x.shape[-1], dtype=x.dtype), x.shape)
        return Tensor._wrap(np.array(eye))
    if n < 0:
        x, n = x.inverse(), -n
    result, base = None, x
    while n:  # by squaring: log2(n) products
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    assert result is not None
    return result


# ---- integer and float bit functions, functional writes ----


def gcd(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise greatest common divisor of integer tensors (no gradient).

    Example:
        >>> cr.gcd(cr.tensor([12, -18]), cr.tensor([8, 12]))
        tensor([4, 6])
    """
    a, b = as_tensor(input), as_tensor(other)
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        raise RuntimeError(f"gcd: expected integer tensors, got {a.dtype} and {b.dtype}")
    return Tensor._wrap(np.gcd(a._data, b._data))


def lcm(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise least common multiple of integer tensors (no gradient).

    Example:
        >>> cr.lcm(cr.tensor([4, 6]), cr.tensor([6, 4]))
        tensor([12, 12])
    """
    a, b = as_tensor(input), as_tensor(other)
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        raise RuntimeError(f"lcm: expected integer tensors, got {a.dtype} and {b.dtype}")
    return Tensor._wrap(np.lcm(a._data, b._data))


def ldexp(input: TensorLike, other: TensorLike) -> Tensor:
    """``input * 2 ** other``, elementwise (a float result).

    Example:
        >>> cr.ldexp(cr.tensor([1.0, 3.0]), cr.tensor([2, -1]))
        tensor([4. , 1.5])
    """
    return float_operand(input) * (2.0 ** as_tensor(other))


def frexp(input: TensorLike) -> tuple[Tensor, Tensor]:
    """``(mantissa, exponent)`` with ``input = mantissa * 2 ** exponent``, |mantissa| in
    [0.5, 1) (no gradient).

    Example:
        >>> cr.frexp(cr.tensor([8.0, 0.75]))
        (tensor([0.5 , 0.75]), tensor([4, 0], dtype=int32))
    """
    x = as_tensor(input)
    if x.dtype.kind != "f":
        raise RuntimeError(f"frexp: expected a floating point tensor, got {x.dtype}")
    mantissa, exponent = np.frexp(x._data)
    return Tensor._wrap(mantissa), Tensor._wrap(exponent.astype(np.int32))


def nextafter(input: TensorLike, other: TensorLike) -> Tensor:
    """The next representable float after ``input`` towards ``other`` (no gradient).

    Example:
        >>> bool(cr.nextafter(cr.tensor([1.0]), cr.tensor([2.0])) > 1.0)
        True
    """
    a, b = as_tensor(input), as_tensor(other)
    return Tensor._wrap(np.nextafter(a._data, b._data.astype(a.dtype)))


def renorm(input: TensorLike, p: float, dim: int, maxnorm: float) -> Tensor:
    """Each slice along ``dim`` scaled down so that its ``p``-norm is at most ``maxnorm``
    (slices already within it are unchanged), as ``torch.renorm``.

    Example:
        >>> cr.renorm(cr.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
        tensor([[0.6, 0.8],
                [0.3, 0.4]])
    """
    x = float_operand(input)
    d = _dim(dim, x.ndim, "renorm")
    others = tuple(i for i in range(x.ndim) if i != d)
    norms = x.norm(p, dim=others, keepdim=True) if others else x.abs()
    # torch scales by maxnorm / (norm + 1e-7) where the norm exceeds maxnorm
    scale = where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return x * scale


def _scattered(op: str, input: TensorLike, src: TensorLike, index: Any) -> Tensor:
    x, s = as_tensor(input), as_tensor(src)
    target = x[index]
    if tuple(target.shape) != tuple(s.shape):
        raise RuntimeError(
            f"{op}: src of shape {tuple(s.shape)} does not match the slice's {tuple(target.shape)}"
        )
    out = x.clone()
    out[index] = s
    return out


def select_scatter(input: TensorLike, src: TensorLike, dim: int, index: int) -> Tensor:
    """``input`` with its slice ``select(dim, index)`` replaced by ``src`` (out of place).

    Example:
        >>> cr.select_scatter(cr.zeros(2, 2), cr.ones(2), 0, 1)
        tensor([[0., 0.],
                [1., 1.]])
    """
    x = as_tensor(input)
    d = _dim(dim, x.ndim, "select_scatter")
    return _scattered("select_scatter", x, src, (slice(None),) * d + (int(index),))


def slice_scatter(
    input: TensorLike,
    src: TensorLike,
    dim: int = 0,
    start: int | None = None,
    end: int | None = None,
    step: int = 1,
) -> Tensor:
    """``input`` with its slice ``start:end:step`` along ``dim`` replaced by ``src``.

    Example:
        >>> cr.slice_scatter(cr.zeros(4), cr.ones(2), start=2)
        tensor([0., 0., 1., 1.])
    """
    x = as_tensor(input)
    d = _dim(dim, x.ndim, "slice_scatter")
    return _scattered("slice_scatter", x, src, (slice(None),) * d + (slice(start, end, step),))


def diagonal_scatter(
    input: TensorLike, src: TensorLike, offset: int = 0, dim1: int = 0, dim2: int = 1
) -> Tensor:
    """``input`` with its ``offset`` diagonal (over ``dim1``, ``dim2``) replaced by ``src``.

    Example:
        >>> cr.diagonal_scatter(cr.zeros(2, 2), cr.ones(2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    x, s = as_tensor(input), as_tensor(src)
    d1, d2 = _dim(dim1, x.ndim, "diagonal_scatter"), _dim(dim2, x.ndim, "diagonal_scatter")
    n1, n2 = x.shape[d1], x.shape[d2]
    rows = np.arange(max(0, -offset), min(n1, n2 - offset))
    if len(rows) != s.shape[-1]:
        raise RuntimeError(
            f"diagonal_scatter: src of shape {tuple(s.shape)} does not fit a diagonal of "
            f"{len(rows)} elements"
        )
    index: list[Any] = [slice(None)] * x.ndim
    index[d1], index[d2] = rows, rows + offset
    out = x.clone()
    # src has the diagonal last (as torch.diagonal gives it); x[index] has it where NumPy puts
    # two advanced indices: in their place when adjacent, first otherwise
    place = min(d1, d2) if abs(d1 - d2) == 1 else 0
    out[tuple(index)] = movedim(s, -1, place) if s.ndim > 1 else s
    return out


def put(
    input: TensorLike, index: TensorLike, source: TensorLike, accumulate: bool = False
) -> Tensor:
    """``input`` (seen as 1-d) with ``source`` written (or added) at ``index``; out of place.

    Example:
        >>> cr.zeros(2, 2).put(cr.tensor([0, 3]), cr.tensor([5.0, 6.0]))
        tensor([[5., 0.],
                [0., 6.]])
    """
    x = as_tensor(input)
    flat = index_put(ravel(x), (ravel(as_tensor(index)),), ravel(as_tensor(source)), accumulate)
    return reshape(flat, x.shape)


# ---- tensors and settings ----


def detach(input: Tensor) -> Tensor:
    """``input.detach()``: the same values, cut from the graph.

    Example:
        >>> cr.detach(cr.ones(1, requires_grad=True)).requires_grad
        False
    """
    return input.detach()


def asarray(
    obj: Any,
    *,
    dtype: DTypeLike | None = None,
    device: Any = None,
    copy: bool | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ``obj``, sharing memory with a tensor or array when it can (``copy=True``:
    never; ``copy=False``: always, or an error), as ``torch.asarray``.

    Example:
        >>> a = np.zeros(2)
        >>> cr.asarray(a)[0] = 1.0
        >>> a[0]
        np.float64(1.0)
    """
    from ..creation import as_tensor as make

    source = obj._data if isinstance(obj, Tensor) else obj
    if copy is False and (
        not isinstance(source, np.ndarray)
        or (dtype is not None and np.dtype(dtype) != source.dtype)
    ):
        raise ValueError("asarray: copy=False, but the data cannot be shared without a copy")
    out = make(obj, dtype=dtype, device=device)
    if copy:
        out = Tensor._wrap(out._data.copy())
    elif out is obj and requires_grad and not obj.requires_grad:
        out = obj.detach()
    if requires_grad:
        out.requires_grad_(True)
    return out


def is_complex(input: Tensor) -> bool:
    """Whether the dtype is complex.

    Example:
        >>> cr.is_complex(cr.ones(1))
        False
    """
    return as_tensor(input).dtype.kind == "c"


def is_nonzero(input: Tensor) -> bool:
    """The truth value of a one-element tensor (an error for any other size).

    Example:
        >>> cr.is_nonzero(cr.tensor([0.5]))
        True
    """
    x = as_tensor(input)
    if x.numel() != 1:
        raise RuntimeError(
            f"is_nonzero: a tensor with {x.numel()} elements has no single truth value"
        )
    return bool(x._data.reshape(()) != 0)


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether both have the same shape.

    Example:
        >>> cr.ones(2).is_same_size(cr.zeros(2))
        True
    """
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input: Tensor) -> bool:
    """Whether the dtype holds negative numbers (floats and signed integers).

    Example:
        >>> cr.tensor([1], dtype=cr.uint8).is_signed()
        False
    """
    return as_tensor(input).dtype.kind in "fic"


_CAST_KIND = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def can_cast(from_: Any, to: Any) -> bool:
    """Whether torch's type promotion allows an in-place result of ``from_`` into ``to``: no
    float into an integer, no integer into a bool, no complex into a real.

    Example:
        >>> cr.can_cast(cr.float64, cr.float32), cr.can_cast(cr.float32, cr.int32)
        (True, False)
    """
    a, b = np.dtype(from_), np.dtype(to)
    return _CAST_KIND[a.kind] <= _CAST_KIND[b.kind]


_PRINT_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """How tensors print (as ``torch.set_printoptions``): digits after the point, how many
    elements before summarising with ``...``, items kept at each edge, line width; ``profile``
    ('default', 'short', 'full') resets them; ``sci_mode`` forces (True) or forbids (False)
    scientific notation (None: automatic).

    Example:
        >>> cr.set_printoptions(precision=2)
        >>> cr.tensor([1.23456])
        tensor([1.23])
        >>> cr.set_printoptions(profile="default")
    """
    options = PRINT_OPTIONS
    if profile is not None:
        if profile not in _PRINT_PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {list(_PRINT_PROFILES)}")
        options.update(_PRINT_PROFILES[profile], sci_mode=None)
    for key, value in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if value is not None:
            options[key] = value
    options["sci_mode"] = sci_mode  # (torch sets it on every call too)


def set_num_threads(n: int) -> None:
    """Threads the BLAS (matrix products) may use, as ``torch.set_num_threads`` (NumPy's own
    elementwise kernels run on one thread).

    Example:
        >>> cr.set_num_threads(1)
    """
    from .. import backend

    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive number, got {n}")
    backend.set_blas_threads(int(n))


def get_num_threads() -> int:
    """Threads the BLAS may use (see :func:`set_num_threads`).

    Example:
        >>> cr.get_num_threads() >= 1
        True
    """
    from .. import backend

    return backend.get_blas_threads()


_DETERMINISTIC = [False, False]  # [mode, warn_only]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted for torch programs: every chainrule op is deterministic already (the same
    inputs give the same bits on the same machine and thread count).

    Example:
        >>> cr.use_deterministic_algorithms(True)
        >>> cr.are_deterministic_algorithms_enabled()
        True
        >>> cr.use_deterministic_algorithms(False)
    """
    _DETERMINISTIC[:] = [bool(mode), bool(warn_only)]


def are_deterministic_algorithms_enabled() -> bool:
    """What :func:`use_deterministic_algorithms` last set.

    Example:
        >>> cr.are_deterministic_algorithms_enabled()
        False
    """
    return _DETERMINISTIC[0]


# ---- index writes (out of place; the in-place forms are bound below) ----


def index_fill(input: TensorLike, dim: int, index: TensorLike, value: Any) -> Tensor:
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number or a 0-d
    tensor, through which the gradient flows).

    Example:
        >>> cr.zeros(3).index_fill(0, cr.tensor([0, 2]), 5.0)
        tensor([5., 0., 5.])
    """
    x = as_tensor(input)
    d = _dim(dim, x.ndim, "index_fill")
    idx = to_array(index._data if isinstance(index, Tensor) else index)
    if idx.dtype.kind not in "iu" or idx.ndim > 1:
        raise IndexError(
            f"index_fill: index must be a 0-d or 1-d integer tensor, got {idx.dtype} {idx.shape}"
        )
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(
            f"index_fill: value must be a number or a 0-d tensor, got shape {value.shape}"
        )
    mask = np.zeros(x.shape[d] if x.ndim else 1, dtype=bool)
    mask[idx.reshape(-1)] = True
    mask = mask.reshape((-1,) + (1,) * (x.ndim - d - 1)) if x.ndim else mask.reshape(())
    return where(
        Tensor._wrap(mask),
        value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value, dtype=x.dtype)),
        x,
    )


def index_copy(input: TensorLike, dim: int, index: TensorLike, source: TensorLike) -> Tensor:
    """``input`` with its slices at ``index`` along ``dim`` replaced by those of ``source``.

    Example:
        >>> cr.zeros(3).index_copy(0, cr.tensor([2, 0]), cr.tensor([1.0, 2.0]))
        tensor([2., 0., 1.])
    """
    x, src = as_tensor(input), as_tensor(source)
    d = _dim(dim, x.ndim, "index_copy")
    idx = as_tensor(index)
    shape = [1] * x.ndim
    shape[d] = -1
    full = reshape(idx, shape).expand(*src.shape) if x.ndim else idx
    return scatter(x, d, full, src)


def unfold(input: TensorLike, dimension: int, size: int, step: int) -> Tensor:
    """Sliding windows of ``size`` along ``dimension``, ``step`` apart, as a new last dim
    (``Tensor.unfold``). Shapes: that dim n -> (n - size) // step + 1, plus a last dim ``size``.

    Example:
        >>> cr.arange(5.0).unfold(0, 2, 2)
        tensor([[0., 1.],
                [2., 3.]])
    """
    x = as_tensor(input)
    d = _dim(dimension, x.ndim, "unfold") if x.ndim else 0
    n = x.shape[d] if x.ndim else 1
    if size < 0 or size > n or step <= 0:
        raise RuntimeError(
            f"unfold: size {size} and step {step} do not fit dim {dimension} of size {n} "
            "(need 0 <= size <= that size and step > 0)"
        )
    if x.ndim == 0:
        return reshape(x, (size,))
    windows = (n - size) // step + 1
    index = (np.arange(windows)[:, None] * step + np.arange(size)[None, :]).reshape(-1)
    picked = index_select(x, d, Tensor._wrap(index.astype(np.int64)))
    picked = reshape(picked, (*x.shape[:d], windows, size, *x.shape[d + 1 :]))
    return movedim(picked, d + 1, -1)


def masked_scatter(input: TensorLike, mask: TensorLike, source: TensorLike) -> Tensor:
    """``input`` with the positions where ``mask`` is True filled, in row-major order, by the
    first elements of ``source``. Shapes: mask broadcasts to input; source has enough elements.

    Example:
        >>> cr.zeros(4).masked_scatter(cr.tensor([True, False, True, False]), cr.tensor([1.0, 2.0]))
        tensor([1., 0., 2., 0.])
    """
    x, src = as_tensor(input), as_tensor(source)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter: expected a bool mask, got {m.dtype}")
    where_true = np.flatnonzero(np.broadcast_to(m, x.shape))
    if len(where_true) > src.numel():
        raise RuntimeError(
            f"masked_scatter: the mask selects {len(where_true)} elements, the source has "
            f"{src.numel()}"
        )
    values = ravel(src)[: len(where_true)]
    return reshape(
        index_copy(ravel(x), 0, Tensor._wrap(where_true.astype(np.int64)), values), x.shape
    )


def index_put(
    input: TensorLike, indices: Sequence[Any], values: TensorLike, accumulate: bool = False
) -> Tensor:
    """``input`` with ``input[indices]`` set to ``values`` (added when ``accumulate``, repeated
    indices then adding up), out of place.

    Example:
        >>> cr.zeros(3).index_put((cr.tensor([0, 0]),), cr.tensor(1.0), accumulate=True)
        tensor([2., 0., 0.])
    """
    x, v = as_tensor(input), as_tensor(values)
    if not accumulate:
        out = x.clone()
        out[tuple(indices)] = v
        return out
    from .compat import index_add

    index = tuple(i._data if isinstance(i, Tensor) else i for i in indices)
    positions = np.arange(x.numel()).reshape(x.shape)[index]  # flat position of each element
    v = v if v.shape == positions.shape else v.broadcast_to(positions.shape)
    flat = index_add(ravel(x), 0, Tensor._wrap(positions.reshape(-1).astype(np.int64)), ravel(v))
    return reshape(flat, x.shape)


def fill_diagonal_(input: Tensor, fill_value: float, wrap: bool = False) -> Tensor:
    """In place: ``fill_value`` on the main diagonal (all dims of equal size, or 2-d; ``wrap``:
    a tall matrix's diagonal restarts every ``cols + 1`` rows, as NumPy's and torch's).

    Example:
        >>> cr.zeros(2, 3).fill_diagonal_(5.0)
        tensor([[5., 0., 0.],
                [0., 5., 0.]])
    """
    t = input
    if t.ndim < 2 or (t.ndim > 2 and len(set(t.shape)) != 1):
        raise RuntimeError(
            f"fill_diagonal_: expected 2 dims or all dims equal, got shape {t.shape}"
        )
    mask = np.zeros(t.shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)

    def write() -> None:
        t._data[mask] = fill_value

    return inplace.apply(
        t, "fill_diagonal_", lambda old: where(Tensor._wrap(mask), fill_value, old), write=write
    )


def unique_consecutive(
    input: TensorLike,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """Each run of equal consecutive values (or slices along ``dim``) kept once; optionally the
    run each element belongs to and each run's length. No gradient.

    Example:
        >>> cr.unique_consecutive(cr.tensor([1, 1, 2, 2, 3, 1, 1]))
        tensor([1, 2, 3, 1])
    """
    a = as_tensor(input)._data
    if dim is None:
        a = a.reshape(-1)
        axis = 0
    else:
        axis = _dim(dim, a.ndim, "unique_consecutive")
    moved = np.moveaxis(a, axis, 0)
    n = moved.shape[0]
    if n:
        changed = np.any(moved[1:].reshape(n - 1, -1) != moved[:-1].reshape(n - 1, -1), axis=1)
        starts = np.flatnonzero(np.concatenate([[True], changed]))
    else:
        starts = np.zeros(0, dtype=np.int64)
    values = Tensor._wrap(np.ascontiguousarray(np.moveaxis(moved[starts], 0, axis)))
    out: list[Tensor] = [values]
    if return_inverse:
        run = np.cumsum(np.concatenate([[True], changed])) - 1 if n else np.zeros(0, np.int64)
        inverse = run.astype(np.int64)
        out.append(
            Tensor._wrap(inverse.reshape(as_tensor(input).shape) if dim is None else inverse)
        )
    if return_counts:
        out.append(Tensor._wrap(np.diff(np.append(starts, n)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def sum_to_size(input: TensorLike, *size: Any) -> Tensor:
    """``input`` summed down to ``size`` (which must broadcast to its shape): the reverse of
    ``expand``.

    Example:
        >>> cr.ones(2, 3).sum_to_size(1, 3)
        tensor([[2., 2., 2.]])
    """
    x = as_tensor(input)
    shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    try:
        fits = np.broadcast_shapes(shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"sum_to_size: size {shape} is not expandable to the shape {x.shape}")
    lead = x.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1
    )
    out = sum(x, dims, keepdim=True) if dims else x
    return reshape(out, shape)


def apply_(input: Tensor, callable: Any) -> Tensor:
    """In place, no gradient: ``callable`` applied to each element (a Python function of a
    number; slow, as torch's).

    Example:
        >>> cr.tensor([1.0, 2.0]).apply_(lambda v: v * 10)
        tensor([10., 20.])
    """
    if input.requires_grad and is_grad_enabled():
        raise RuntimeError("apply_: not supported on a tensor that requires grad (as torch)")
    flat = input._data.reshape(-1)
    for i, v in enumerate(flat.tolist()):
        flat[i] = callable(v)
    input._version_counter[0] += 1
    return input


def map_(input: Tensor, other: TensorLike, callable: Any) -> Tensor:
    """In place, no gradient: ``callable(a, b)`` for each element of ``input`` and of ``other``
    broadcast to it.

    Example:
        >>> cr.tensor([1.0, 2.0]).map_(cr.tensor([3.0, 4.0]), lambda a, b: a * b)
        tensor([3., 8.])
    """
    if input.requires_grad and is_grad_enabled():
        raise RuntimeError("map_: not supported on a tensor that requires grad (as torch)")
    b = np.broadcast_to(as_tensor(other)._data, input.shape).reshape(-1).tolist()
    flat = input._data.reshape(-1)
    for i, (va, vb) in enumerate(zip(flat.tolist(), b, strict=True)):
        flat[i] = callable(va, vb)
    input._version_counter[0] += 1
    return input


def argwhere(input: TensorLike) -> Tensor:
    """Indices of the nonzero entries, one row each: ``nonzero(input)``.

    Example:
        >>> cr.argwhere(cr.tensor([0, 3, 5]))
        tensor([[1],
                [2]])
    """
    from .compat import nonzero

    rows = nonzero(input)
    assert isinstance(rows, Tensor)
    return rows


_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(
    input: TensorLike,
    dim: int,
    index: TensorLike,
    src: TensorLike,
    reduce: str,
    *,
    include_self: bool = True,
) -> Tensor:
    """``input`` with ``src`` reduced into it at ``index`` along ``dim`` by ``reduce`` ('sum',
    'prod', 'mean', 'amax', 'amin'); without ``include_self`` the positions written to forget
    their value first (the others keep it). Gradients as PyTorch's for every reduction but
    'prod' (not differentiable here); for 'amax'/'amin' ties share the gradient evenly.

    Example:
        >>> cr.zeros(2).scatter_reduce(0, cr.tensor([0, 0, 1]), cr.tensor([1.0, 3.0, 2.0]),
        ...                            reduce="amax", include_self=False)
        tensor([3., 2.])
    """
    x, s = as_tensor(input), as_tensor(src)
    if reduce not in _REDUCES:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    idx = np.asarray(index.numpy() if isinstance(index, Tensor) else index).astype(np.int64)
    d = _dim(dim, x.ndim, "scatter_reduce")
    s = s[tuple(slice(0, n) for n in idx.shape)] if tuple(s.shape) != idx.shape else s
    idx_t = Tensor._wrap(idx)
    hits = scatter_add(
        Tensor._wrap(np.zeros(x.shape, dtype=np.int64)),
        d,
        idx_t,
        Tensor._wrap(np.ones(idx.shape, dtype=np.int64)),
    ).numpy()
    touched = Tensor._wrap(hits > 0)
    zeros = Tensor._wrap(np.zeros(x.shape, dtype=x.dtype))
    if reduce in ("sum", "mean"):
        total = scatter_add(zeros, d, idx_t, s.to(x.dtype))
        if include_self:
            total = total + x
        if reduce == "sum":
            return where(touched, total, x)
        count = hits + (1 if include_self else 0)
        count = np.maximum(count, 1).astype(x.dtype)
        mean = total / Tensor._wrap(count)
        if x.dtype.kind in "iu":  # integer means round down, as PyTorch
            mean = Tensor._wrap(np.floor_divide(total.numpy(), count.astype(x.dtype)))
        return where(touched, mean, x)
    # amax / amin / prod: the values with NumPy, the gradient (amax, amin) routed to the
    # entries equal to the result
    data = x.numpy().copy()
    src_data = s.numpy().astype(x.dtype)
    if not include_self:
        fill = {"prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
        if x.dtype.kind in "iu" and reduce != "prod":
            info = np.iinfo(x.dtype)
            fill = info.min if reduce == "amax" else info.max
        data = np.where(hits > 0, fill, data).astype(x.dtype)
    positions: list[Any] = list(np.indices(idx.shape))
    positions[d] = idx
    ufunc = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}[reduce]
    ufunc.at(data, tuple(positions), src_data)
    result = Tensor._wrap(data)
    if reduce == "prod":
        if x.requires_grad or s.requires_grad:
            raise NotImplementedError("scatter_reduce: the gradient of 'prod' is not implemented")
        return result
    at_src = gather(result, d, idx_t).numpy()
    src_is = src_data == at_src
    self_equal = data == x.numpy()
    self_is = self_equal & (include_self | (hits == 0))
    # torch counts a tied input entry even without include_self (it then gets no share)
    ties = scatter_add(
        Tensor._wrap(self_equal.astype(x.dtype)), d, idx_t, Tensor._wrap(src_is.astype(x.dtype))
    ).numpy()
    ties = np.maximum(ties, 1)
    share_src = np.where(src_is, 1 / np.take_along_axis(ties, idx, d), 0).astype(x.dtype)
    share_self = np.where(self_is, 1 / ties, 0).astype(x.dtype)
    # zero-valued terms that carry the gradient of the chosen entries
    src_zero = where(Tensor._wrap(src_is), s - s.detach(), 0.0) * Tensor._wrap(share_src)
    grad_src = scatter_add(zeros, d, idx_t, src_zero)
    grad_self = where(Tensor._wrap(self_is), x - x.detach(), 0.0) * Tensor._wrap(share_self)
    return result + where(Tensor._wrap(np.isfinite(data)), grad_src + grad_self, 0.0)


def logcumsumexp(input: TensorLike, dim: int) -> Tensor:
    """``log(cumsum(exp(x)))`` along ``dim`` without overflow or underflow: a running
    :func:`logaddexp` (a shift by the overall max would underflow the early entries).

    Example:
        >>> cr.logcumsumexp(cr.tensor([-1000.0, -1000.0]), 0)
        tensor([-1000.    ,  -999.3068])
    """
    x = float_operand(input)
    d = _dim(dim, x.ndim, "logcumsumexp") if x.ndim else 0
    if x.ndim == 0 or x.shape[d] == 0:
        return x * 1
    lead = (slice(None),) * d
    running = x[lead + (slice(0, 1),)]
    parts = [running]
    for i in range(1, x.shape[d]):
        running = logaddexp(running, x[lead + (slice(i, i + 1),)])
        parts.append(running)
    return cat(parts, d)


def broadcast_shapes(*shapes: Any) -> tuple[int, ...]:
    """The shape the given shapes broadcast to (an error naming them if they do not).

    Example:
        >>> cr.broadcast_shapes((2, 1), (3,))
        (2, 3)
    """
    try:
        return tuple(
            np.broadcast_shapes(*((s,) if isinstance(s, int) else tuple(s) for s in shapes))
        )
    except ValueError:
        raise RuntimeError(
            f"broadcast_shapes: shapes {list(shapes)} do not broadcast together"
        ) from None


def isin(
    elements: TensorLike,
    test_elements: TensorLike,
    *,
    assume_unique: bool = False,
    invert: bool = False,
) -> Tensor:
    """Whether each element of ``elements`` is in ``test_elements`` (bool, ``elements``' shape).

    Example:
        >>> cr.isin(cr.tensor([1, 2, 3]), cr.tensor([2, 5]))
        tensor([False,  True, False])
    """
    a = as_tensor(elements)._data
    b = as_tensor(test_elements)._data
    return Tensor._wrap(np.isin(a, b, assume_unique=assume_unique, invert=invert))


def bucketize(
    input: TensorLike, boundaries: TensorLike, *, out_int32: bool = False, right: bool = False
) -> Tensor:
    """The index of the bucket each value falls in, for sorted 1-d ``boundaries``: i with
    ``boundaries[i-1] < x <= boundaries[i]`` (``right``: ``<= x <``). No gradient.

    Example:
        >>> cr.bucketize(cr.tensor([0.5, 1.0, 3.0]), cr.tensor([1.0, 2.0]))
        tensor([0, 0, 2])
    """
    b = as_tensor(boundaries)._data
    if b.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be 1-d, got shape {b.shape}")
    out = np.searchsorted(b, as_tensor(input)._data, side="right" if right else "left")
    return Tensor._wrap(np.asarray(out, dtype=np.int32 if out_int32 else np.int64))


def unravel_index(indices: TensorLike, shape: Any) -> tuple[Tensor, ...]:
    """Flat (row-major) ``indices`` as one index tensor per dim of ``shape``.

    Example:
        >>> cr.unravel_index(cr.tensor([4, 1]), (2, 3))
        (tensor([1, 0]), tensor([1, 1]))
    """
    flat = as_tensor(indices)._data
    if flat.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected integer indices, got {flat.dtype}")
    dims = (shape,) if isinstance(shape, int) else tuple(shape)
    size = int(np.prod(dims, dtype=np.int64))
    if flat.size and (flat.max() >= size or flat.min() < -size):
        raise RuntimeError(f"unravel_index: index out of range for shape {dims}")
    flat = np.where(flat < 0, flat + size, flat)
    return tuple(Tensor._wrap(np.asarray(i, dtype=np.int64)) for i in np.unravel_index(flat, dims))


def _spacing(y: Tensor, x: Any, dx: Any, d: int) -> Any:
    if x is None:
        return 1.0 if dx is None else dx
    xs = as_tensor(x)
    if xs.ndim == 1:
        shape = [1] * y.ndim
        shape[d] = -1
        xs = reshape(xs, shape)
    return xs.diff(dim=d if xs.ndim == y.ndim else -1)


def trapezoid(
    y: TensorLike, x: TensorLike | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """The trapezoidal rule along ``dim``: samples ``y`` at points ``x`` (or spaced ``dx``, 1 by
    default). ``trapz`` is the same.

    Example:
        >>> cr.trapezoid(cr.tensor([1.0, 2.0, 3.0]))
        tensor(4.)
    """
    v = float_operand(y)
    d = _dim(dim, v.ndim, "trapezoid")
    if v.shape[d] == 0:
        return sum(v, d)
    pairs = v.narrow(d, 1, v.shape[d] - 1) + v.narrow(d, 0, v.shape[d] - 1)
    return sum(pairs * _spacing(v, x, dx, d), d) / 2


trapz = trapezoid


def cumulative_trapezoid(
    y: TensorLike, x: TensorLike | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """The running trapezoidal integral along ``dim`` (one value fewer than ``y`` has).

    Example:
        >>> cr.cumulative_trapezoid(cr.tensor([1.0, 2.0, 3.0]))
        tensor([1.5, 4. ])
    """
    v = float_operand(y)
    d = _dim(dim, v.ndim, "cumulative_trapezoid")
    if v.shape[d] == 0:
        return v
    pairs = v.narrow(d, 1, v.shape[d] - 1) + v.narrow(d, 0, v.shape[d] - 1)
    return (pairs * _spacing(v, x, dx, d) / 2).cumsum(d)


_SETTINGS: dict[str, Any] = {"matmul_precision": "highest", "warn_always": False, "interop": 1}


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted for torch programs: "highest", "high" or "medium". NumPy's float32 products
    always run in full float32 precision here (no TF32 or bfloat16 passes).

    Example:
        >>> cr.set_float32_matmul_precision("high")
        >>> cr.get_float32_matmul_precision()
        'high'
        >>> cr.set_float32_matmul_precision("highest")
    """
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(
            f"set_float32_matmul_precision: expected highest, high or medium, got {precision!r}"
        )
    _SETTINGS["matmul_precision"] = precision


def get_float32_matmul_precision() -> str:
    """What :func:`set_float32_matmul_precision` last set ("highest" by default).

    Example:
        >>> cr.get_float32_matmul_precision()
        'highest'
    """
    return _SETTINGS["matmul_precision"]


def set_num_interop_threads(n: int) -> None:
    """Accepted for torch programs: chainrule runs ops one after the other on the calling
    thread (no inter-op pool).

    Example:
        >>> cr.set_num_interop_threads(1)
    """
    if int(n) < 1:
        raise ValueError(f"set_num_interop_threads: expected a positive number, got {n}")
    _SETTINGS["interop"] = int(n)


def get_num_interop_threads() -> int:
    """What :func:`set_num_interop_threads` last set (1 by default).

    Example:
        >>> cr.get_num_interop_threads()
        1
    """
    return _SETTINGS["interop"]


def set_flush_denormal(mode: bool) -> bool:
    """Not supported by NumPy: returns False, as torch does where the CPU cannot.

    Example:
        >>> cr.set_flush_denormal(True)
        False
    """
    return False


def set_warn_always(b: bool) -> None:
    """Accepted for torch programs (chainrule's warnings follow Python's ``warnings`` filters).

    Example:
        >>> cr.set_warn_always(False)
        >>> cr.is_warn_always_enabled()
        False
    """
    _SETTINGS["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    """What :func:`set_warn_always` last set.

    Example:
        >>> cr.is_warn_always_enabled()
        False
    """
    return _SETTINGS["warn_always"]


def set_default_tensor_type(t: Any) -> None:
    """The legacy form of :func:`set_default_dtype`: ``torch.FloatTensor`` / ``DoubleTensor``
    (or their names) set float32 / float64.

    Example:
        >>> cr.set_default_tensor_type(cr.DoubleTensor)
        >>> cr.tensor([1.0]).dtype
        dtype('float64')
        >>> cr.set_default_tensor_type("torch.FloatTensor")
    """
    from ..tensor import set_default_dtype

    name = t if isinstance(t, str) else getattr(t, "__name__", "")
    kinds = {"FloatTensor": np.float32, "DoubleTensor": np.float64, "HalfTensor": np.float16}
    kind = kinds.get(name.rsplit(".", 1)[-1])
    if kind is None:
        raise TypeError(
            f"set_default_tensor_type: expected FloatTensor, DoubleTensor or HalfTensor, got {t!r}"
        )
    set_default_dtype(kind)


def typename(obj: Any) -> str:
    """torch's type name: ``torch.FloatTensor``-style for tensors, the qualified class name
    otherwise.

    Example:
        >>> cr.typename(cr.ones(1))
        'torch.FloatTensor'
    """
    if isinstance(obj, Tensor):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    module = cls.__module__
    return (
        cls.__qualname__
        if module in ("builtins", "__builtin__")
        else f"{module}.{cls.__qualname__}"
    )


# ---- binding ----

_METHODS = """
hsplit vsplit dsplit tensor_split split_with_sizes unflatten movedim moveaxis swapdims select
ravel take take_along_dim fliplr flipud rot90 diag_embed diagflat fmax fmin frac fix addcmul
addcdiv addmv addr addbmm logical_xor hypot deg2rad rad2deg sinc logit xlogy logaddexp
logaddexp2 exp2 float_power copysign signbit sgn positive isposinf isneginf isreal nansum
nanmean count_nonzero aminmax msort kthvalue mode quantile nanquantile nanmedian cov corrcoef mv
inner kron cross vdot ger matrix_power is_complex is_nonzero is_same_size is_signed index_fill
index_copy scatter_reduce logcumsumexp unfold masked_scatter index_put fill_diagonal_ unique_consecutive sum_to_size apply_
map_ argwhere gcd lcm ldexp frexp nextafter renorm put select_scatter slice_scatter
diagonal_scatter
""".split()  # Tensor methods of the same names

# In-place forms ``x.op_(...)``: the out-of-place op written back through the in-place path
# (recorded inside a graph, a plain write outside one).
_IN_PLACE = """
abs absolute ceil floor round trunc fix frac sign sgn neg negative reciprocal sqrt rsqrt square
log log2 log10 log1p expm1 exp2 sin cos tan asin acos atan arcsin arccos arctan sinh cosh asinh
acosh atanh arcsinh arccosh arctanh atan2 arctan2 erf erfc erfinv lgamma digamma polygamma mvlgamma logit sinc deg2rad rad2deg hypot
xlogy copysign float_power fmod remainder lerp addcmul addcdiv addmv addr addbmm addmm
logical_not logical_and logical_or logical_xor eq ne lt le gt ge index_fill index_copy
floor_divide divide true_divide multiply subtract tril triu cumsum cumprod clamp_min clamp_max
clip index_put masked_scatter scatter_reduce greater greater_equal less less_equal not_equal bitwise_and
bitwise_or bitwise_xor bitwise_not heaviside gcd lcm ldexp nextafter renorm put
""".split()


def _in_place_form(name: str) -> Any:
    def compute(t: Tensor, args: Any, kwargs: Any) -> Tensor:
        # a composite op may record several nodes that read t: they get the old value
        return getattr(inplace.old_value(t), name)(*args, **kwargs)

    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        others = tuple(a for a in (*args, *kwargs.values()) if isinstance(a, Tensor))
        return inplace.apply(self, name + "_", lambda t: compute(t, args, kwargs), others)

    method.__name__ = name + "_"
    method.__doc__ = f"""In place ``{name}``: ``self`` becomes ``self.{name}(...)``.

    Example:
        >>> x = {_EXAMPLE_SELF.get(name, "cr.tensor([[4.0]])")}
        >>> _ = x.{name}_{_EXAMPLE_ARGS.get(name, "()")}
    """
    return method


_EXAMPLE_SELF = {
    "gcd": "cr.tensor([[4]])",
    "lcm": "cr.tensor([[4]])",
    "addmv": "cr.tensor([4.0])",
    "erfinv": "cr.tensor([[0.5]])",
    **dict.fromkeys(
        ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not"], "cr.tensor([[4]])"
    ),
}
_EXAMPLE_ARGS = {
    "gcd": "(6)",
    "lcm": "(6)",
    "ldexp": "(cr.tensor([1]))",
    "nextafter": "(cr.tensor([5.0]))",
    "renorm": "(2, 0, 1.0)",
    "put": "(cr.tensor([0]), cr.tensor([1.0]))",
    "scatter_reduce": '(1, cr.tensor([[0]]), cr.tensor([[1.0]]), "amax")',
    "polygamma": "(1)",
    "mvlgamma": "(2)",
    "atan2": "(cr.tensor([1.0]))",
    "arctan2": "(cr.tensor([1.0]))",
    "hypot": "(cr.tensor([3.0]))",
    "xlogy": "(cr.tensor([2.0]))",
    "copysign": "(cr.tensor([-1.0]))",
    "float_power": "(2)",
    "fmod": "(3)",
    "remainder": "(3)",
    "lerp": "(cr.tensor([0.0]), 0.5)",
    "addcmul": "(cr.tensor([1.0]), cr.tensor([2.0]))",
    "addcdiv": "(cr.tensor([1.0]), cr.tensor([2.0]))",
    "addmv": "(cr.ones(1, 2), cr.ones(2))",
    "addr": "(cr.ones(1), cr.ones(1))",
    "addbmm": "(cr.ones(1, 1, 2), cr.ones(1, 2, 1))",
    "addmm": "(cr.ones(1, 2), cr.ones(2, 1))",
    "logical_and": "(cr.tensor([1.0]))",
    "logical_or": "(cr.tensor([0.0]))",
    "logical_xor": "(cr.tensor([0.0]))",
    "eq": "(4.0)",
    "ne": "(4.0)",
    "lt": "(5.0)",
    "le": "(5.0)",
    "gt": "(3.0)",
    "ge": "(3.0)",
    "index_fill": "(0, cr.tensor([0]), 1.0)",
    "index_copy": "(0, cr.tensor([0]), cr.tensor([[1.0]]))",
    "index_put": "((cr.tensor([0]),), cr.tensor(1.0))",
    "bitwise_and": "(6)",
    "bitwise_or": "(1)",
    "bitwise_xor": "(1)",
    "masked_scatter": "(cr.tensor([[True]]), cr.tensor([1.0]))",
    "greater": "(3.0)",
    "greater_equal": "(3.0)",
    "less": "(5.0)",
    "less_equal": "(5.0)",
    "not_equal": "(4.0)",
    "heaviside": "(cr.tensor([0.5]))",
    "floor_divide": "(3)",
    "divide": "(2)",
    "true_divide": "(2)",
    "multiply": "(2)",
    "subtract": "(1)",
    "tril": "()",
    "triu": "()",
    "cumsum": "(0)",
    "cumprod": "(0)",
    "clamp_min": "(5.0)",
    "clamp_max": "(1.0)",
    "clip": "(0.0, 1.0)",
    "logit": "(0.1)",
}


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    """``polygamma(n, self)``: the n-th derivative of digamma.

    Example:
        >>> cr.tensor([1.0]).polygamma(1)
        tensor([1.6449])
    """
    return special.polygamma(n, self)


def bind_methods() -> None:
    """Put the functions above on ``Tensor`` as methods, and the in-place forms it lacks."""
    for name in _METHODS:
        setattr(Tensor, name, globals()[name])
    for name in "asinh acosh atanh arcsinh arccosh arctanh atan2 arctan2".split():
        setattr(Tensor, name, getattr(pointwise, name))
    for name in "erfc erfinv lgamma digamma mvlgamma".split():
        setattr(Tensor, name, getattr(special, name))
    Tensor.polygamma = _polygamma_method  # type: ignore[attr-defined]
    Tensor.ndimension = Tensor.dim  # type: ignore[attr-defined]
    for name, dtype in (("byte", np.uint8), ("char", np.int8), ("short", np.int16)):
        setattr(Tensor, name, lambda self, dtype=dtype: self.to(dtype))
    for name, dtype in (("byte", "uint8"), ("char", "int8"), ("short", "int16")):
        getattr(Tensor, name).__doc__ = f"""``self`` cast to {dtype}.

        Example:
            >>> cr.tensor([1.7]).{name}().dtype
            dtype('{dtype}')
        """
    for name in _IN_PLACE:
        if not hasattr(Tensor, name + "_") and hasattr(Tensor, name):
            setattr(Tensor, name + "_", _in_place_form(name))


__all__ = [  # every public function above (cr.hstack, cr.quantile, ...)
    name
    for name, obj in list(globals().items())
    if callable(obj)
    and getattr(obj, "__module__", None) == __name__
    and name[0] != "_"
    and name != "bind_methods"
    and not isinstance(obj, type)
]
