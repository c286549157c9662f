"""Small PyTorch functions that real programs call, built from the ops above (their gradients
are those ops'): ``is_tensor``, ``numel``, ``type_as``, ``is_floating_point``, ``reciprocal``,
``clamp_min`` / ``clamp_max``, ``lerp``, ``addmm``, ``tile``, ``nonzero``, ``finfo`` / ``iinfo``,
``Size``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._typing import Dims, DTypeLike, TensorLike
from ..backend import xp as np
from ..tensor import Tensor
from ._util import as_tensor, scaled_sum
from .linalg import mm
from .pointwise import clamp, rdiv, to_dtype
from .shape import _shape_arg


class Size(tuple):
    """A shape, as ``torch.Size``: a tuple of ints.

    Example:
        >>> cr.Size([2, 3]) == (2, 3)
        True
        >>> cr.zeros(cr.Size([2, 3])).shape
        (2, 3)
    """

    def numel(self) -> int:
        return int(np.prod(self)) if self else 1

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"


def is_tensor(obj: Any) -> bool:
    """True for a chainrule Tensor.

    Example:
        >>> cr.is_tensor(cr.zeros(2))
        True
        >>> cr.is_tensor([1.0])
        False
    """
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """Number of elements.

    Example:
        >>> cr.numel(cr.zeros(2, 3))
        6
    """
    return as_tensor(input).numel()


def type_as(self: Tensor, other: Tensor) -> Tensor:
    """``self`` in ``other``'s dtype (differentiable between float dtypes).

    Example:
        >>> mask = cr.tensor([True, False])
        >>> mask.type_as(cr.zeros(1))
        tensor([1., 0.])
    """
    return to_dtype(self, other.dtype)


def is_floating_point(input: Tensor) -> bool:
    """True when the dtype is a float.

    Example:
        >>> cr.is_floating_point(cr.zeros(2))
        True
        >>> cr.tensor([1, 2]).is_floating_point()
        False
    """
    return as_tensor(input).dtype.kind == "f"


def reciprocal(input: TensorLike) -> Tensor:
    """``1 / x`` elementwise (integers give the default float dtype, as in PyTorch).

    Example:
        >>> cr.reciprocal(cr.tensor([2, 4]))
        tensor([0.5 , 0.25])
    """
    return rdiv(as_tensor(input), 1.0)


def clamp_min(input: TensorLike, min: TensorLike) -> Tensor:
    """``max(x, min)`` elementwise. Shape: same as ``input``.

    Example:
        >>> cr.clamp_min(cr.tensor([0.0, 2.0]), 1e-8)
        tensor([1.e-08, 2.e+00])
    """
    return clamp(input, min=min)


def clamp_max(input: TensorLike, max: TensorLike) -> Tensor:
    """``min(x, max)`` elementwise. Shape: same as ``input``.

    Example:
        >>> cr.clamp_max(cr.tensor([0.5, 2.0]), 1.0)
        tensor([0.5, 1. ])
    """
    return clamp(input, max=max)


def lerp(input: TensorLike, end: TensorLike, weight: TensorLike) -> Tensor:
    """``input + weight * (end - input)``, broadcast (``weight`` a number or a tensor).

    Shapes: the broadcast shape of the three.

    Example:
        >>> cr.lerp(cr.tensor([0.0, 10.0]), cr.tensor([1.0, 20.0]), 0.5)
        tensor([ 0.5, 15. ])
    """
    start = as_tensor(input)
    return start + weight * (end - start)


def addmm(
    input: TensorLike, mat1: TensorLike, mat2: TensorLike, *, beta: float = 1, alpha: float = 1
) -> Tensor:
    """``beta * input + alpha * mat1 @ mat2``.

    Shapes: input broadcast to (n, m); mat1 (n, k); mat2 (k, m) -> (n, m).

    Example:
        >>> cr.addmm(cr.tensor([1.0, 2.0]), cr.ones(3, 4), cr.ones(4, 2))
        tensor([[5., 6.],
                [5., 6.],
                [5., 6.]])
    """
    return scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def tile(input: TensorLike, *dims: int | Sequence[int]) -> Tensor:
    """Repeat ``input`` along each dim; fewer ``dims`` than dims count from the last one.

    Example:
        >>> cr.tile(cr.tensor([1, 2]), (2,))
        tensor([1, 2, 1, 2])
        >>> cr.tile(cr.tensor([[1, 2]]), (2, 1))
        tensor([[1, 2],
                [1, 2]])
    """
    x = as_tensor(input)
    dims = _shape_arg(dims)
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return x.repeat(*dims)


def nonzero(input: TensorLike, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """Indices of the non-zero entries: (count, ndim) int64, or a tuple of 1-d index tensors.

    Example:
        >>> cr.nonzero(cr.tensor([0, 3, 0, 5]))
        tensor([[1],
                [3]])
        >>> cr.tensor([[0, 1], [1, 0]]).nonzero(as_tuple=True)
        (tensor([0, 1]), tensor([1, 0]))
    """
    arr = as_tensor(input)._data
    if arr.ndim == 0:  # PyTorch: shape (1, 0) or (0, 0); as a tuple, 1-d
        if as_tuple:
            return (Tensor._wrap(np.zeros(int(arr != 0), np.int64)),)
        return Tensor._wrap(np.zeros((int(arr != 0), 0), np.int64))
    idx = np.nonzero(arr)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in idx)
    return Tensor._wrap(np.stack(idx, axis=1).astype(np.int64))


def finfo(dtype: DTypeLike | None = None) -> np.finfo:
    """Machine limits of a float dtype (``eps``, ``max``, ``min``, ``tiny``), as ``torch.finfo``.

    Example:
        >>> cr.finfo(cr.float32).eps
        np.float32(1.1920929e-07)
        >>> cr.finfo(cr.float16).max
        np.float16(6.55e+04)
    """
    from ..tensor import get_default_dtype

    return np.finfo(get_default_dtype() if dtype is None else dtype)


def iinfo(dtype: DTypeLike) -> np.iinfo:
    """Limits of an integer dtype (``max``, ``min``, ``bits``), as ``torch.iinfo``.

    Example:
        >>> cr.iinfo(cr.int64).max
        9223372036854775807
        >>> cr.iinfo(cr.uint8).bits
        8
    """
    return np.iinfo(dtype)


def repeat_interleave(
    input: TensorLike, repeats: int | TensorLike, dim: int | None = None
) -> Tensor:
    """Repeat each element ``repeats`` times (an int or one count per element) along ``dim``
    (the flattened input when ``dim`` is None), as ``torch.repeat_interleave``.

    Example:
        >>> cr.tensor([1, 2]).repeat_interleave(2)
        tensor([1, 1, 2, 2])
        >>> cr.repeat_interleave(cr.tensor([1, 2]), cr.tensor([1, 3]))
        tensor([1, 2, 2, 2])
    """
    x = as_tensor(input)
    if dim is None:
        x, dim = x.reshape(-1), 0
    dim = dim % max(x.ndim, 1)
    counts = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    n = x.shape[dim]
    if counts.ndim and counts.size not in (1, n):
        raise ValueError(f"repeat_interleave: {counts.size} repeats for dim {dim} of size {n}")
    index = np.repeat(np.arange(n), counts.reshape(-1) if counts.ndim else int(counts))
    from .indexing import index_select

    return index_select(x, dim, Tensor._wrap(index.astype(np.int64)))


def diagonal(input: TensorLike, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of dims ``dim1``/``dim2`` (moved to the last dim), as ``torch.diagonal``.

    Example:
        >>> cr.diagonal(cr.eye(3) * 2)
        tensor([2., 2., 2.])
        >>> cr.diagonal(cr.zeros(4, 2, 3), dim1=1, dim2=2).shape
        (4, 2)
    """
    from .shape import getitem, permute

    x = as_tensor(input)
    dim1, dim2 = dim1 % x.ndim, dim2 % x.ndim
    rest = [d for d in range(x.ndim) if d not in (dim1, dim2)]
    x = permute(x, *rest, dim1, dim2)
    rows, cols = x.shape[-2], x.shape[-1]
    start_r, start_c = max(-offset, 0), max(offset, 0)
    length = max(0, min(rows - start_r, cols - start_c))
    r = np.arange(length) + start_r
    c = np.arange(length) + start_c
    return getitem(x, (Ellipsis, Tensor._wrap(r), Tensor._wrap(c)))


def diag(input: TensorLike, diagonal: int = 0) -> Tensor:
    """1-d input: a square matrix with it on the ``diagonal``; 2-d input: that diagonal (1-d).

    Example:
        >>> cr.diag(cr.tensor([1.0, 2.0]))
        tensor([[1., 0.],
                [0., 2.]])
        >>> cr.diag(cr.tensor([[1, 2], [3, 4]]))
        tensor([1, 4])
    """
    x = as_tensor(input)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-d or 2-d input, got shape {tuple(x.shape)}")
    n = x.shape[0] + abs(diagonal)
    place = np.zeros((x.shape[0], n * n), dtype=x.dtype)
    rows = np.arange(x.shape[0]) + max(-diagonal, 0)
    cols = np.arange(x.shape[0]) + max(diagonal, 0)
    place[np.arange(x.shape[0]), rows * n + cols] = 1
    from .linalg import matmul

    return matmul(x, Tensor._wrap(place)).reshape(n, n)


def trace(input: TensorLike) -> Tensor:
    """Sum of the main diagonal of a 2-d input, a 0-d tensor.

    Example:
        >>> cr.trace(cr.eye(3))
        tensor(3.)
    """
    x = as_tensor(input)
    if x.ndim != 2:
        raise ValueError(f"trace: expected a 2-d input, got shape {tuple(x.shape)}")
    return diagonal(x).sum()


def unique(
    input: TensorLike,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """The distinct values (sorted), optionally with the inverse indices and the counts.

    Example:
        >>> cr.unique(cr.tensor([3, 1, 3]))
        tensor([1, 3])
        >>> cr.unique(cr.tensor([3, 1, 3]), return_inverse=True, return_counts=True)
        (tensor([1, 3]), tensor([1, 0, 1]), tensor([1, 2]))
    """
    arr = as_tensor(input)._data
    if dim is not None:
        raise NotImplementedError("unique: dim= is not implemented in chainrule")
    values, inverse, counts = np.unique(arr, return_inverse=True, return_counts=True)
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(arr.shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input: TensorLike, weights: TensorLike | None = None, minlength: int = 0) -> Tensor:
    """Counts of each non-negative integer (weighted sums with ``weights``), as ``torch.bincount``.

    Example:
        >>> cr.bincount(cr.tensor([0, 2, 2]))
        tensor([1, 0, 2])
        >>> cr.bincount(cr.tensor([0, 2]), weights=cr.tensor([0.5, 2.0]), minlength=4)
        tensor([0.5, 0. , 2. , 0. ])
    """
    arr = as_tensor(input)._data
    w = None if weights is None else as_tensor(weights)._data
    out = np.bincount(arr, weights=w, minlength=minlength)
    return Tensor._wrap(out.astype(w.dtype) if w is not None else out.astype(np.int64))


def index_add(
    input: TensorLike, dim: int, index: Any, source: TensorLike, *, alpha: float = 1
) -> Tensor:
    """``input`` with ``alpha * source`` slices added at positions ``index`` along ``dim``
    (repeated indices accumulate), as ``torch.index_add``.

    Example:
        >>> cr.index_add(cr.zeros(3), 0, cr.tensor([0, 0]), cr.ones(2))
        tensor([2., 0., 0.])
    """
    from .shape import index_add_into_zeros

    x, src = as_tensor(input), as_tensor(source)
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    dim = dim % max(x.ndim, 1)
    expected = tuple(x.shape[:dim]) + idx.shape + tuple(x.shape[dim + 1 :])
    if idx.ndim != 1 or (src.ndim and tuple(src.shape) != expected):
        raise ValueError(
            f"index_add: index must be 1-d with one entry per slice of source along "
            f"dim {dim} (source {expected}), got index {idx.shape} and source "
            f"{tuple(src.shape)} for input {tuple(x.shape)}"
        )
    key = (slice(None),) * dim + (idx.astype(np.int64),)
    added = index_add_into_zeros(src if alpha == 1 else src * alpha, key, tuple(x.shape))
    return x + added


# torch's legacy type names, for x.type(): dtype -> "torch.FloatTensor" and back.
_TYPE_NAMES: dict[Any, str] = {
    np.dtype(np.float32): "FloatTensor",
    np.dtype(np.float64): "DoubleTensor",
    np.dtype(np.float16): "HalfTensor",
    np.dtype(np.int64): "LongTensor",
    np.dtype(np.int32): "IntTensor",
    np.dtype(np.int16): "ShortTensor",
    np.dtype(np.int8): "CharTensor",
    np.dtype(np.uint8): "ByteTensor",
    np.dtype(np.bool_): "BoolTensor",
    np.dtype(np.complex64): "ComplexFloatTensor",
    np.dtype(np.complex128): "ComplexDoubleTensor",
}
_TYPE_DTYPES: dict[str, Any] = {name: dtype for dtype, name in _TYPE_NAMES.items()}


def tensor_type(self: Tensor, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any:
    """``x.type()``: the type name, as torch's (``'torch.FloatTensor'``: ported code compares
    it with torch's strings); ``x.type(dtype)``: ``x`` cast to ``dtype``, which may also be such
    a name (``'torch.DoubleTensor'``, ``'chainrule.DoubleTensor'``) or a legacy constructor.

    Shape: same as ``x``.

    Example:
        >>> cr.tensor([1, 2]).type()
        'torch.LongTensor'
        >>> cr.tensor([1, 2]).type(cr.float64)
        tensor([1., 2.], dtype=float64)
        >>> cr.tensor([1, 2]).type("torch.FloatTensor").dtype
        dtype('float32')
    """
    if dtype is None:
        name = _TYPE_NAMES.get(self.dtype)
        if name is None:
            raise TypeError(f"type: no torch type name for dtype {self.dtype}")
        return f"torch.{name}"
    if isinstance(dtype, str) or callable(dtype) and dtype.__name__ in _TYPE_DTYPES:
        name = dtype if isinstance(dtype, str) else dtype.__name__
        found = _TYPE_DTYPES.get(name.rpartition(".")[2])
        if found is None or name.count(".") > 1:
            raise ValueError(f"type: invalid type {name!r} (expected e.g. 'torch.FloatTensor')")
        dtype = found
    return to_dtype(self, dtype)


def _legacy_constructor(name: str, dtype: DTypeLike) -> Callable[..., Tensor]:
    def make(*args: Any) -> Tensor:
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            return (
                as_tensor(args[0]).to(dtype)
                if isinstance(args[0], Tensor)
                else Tensor._wrap(np.array(args[0], dtype=dtype))
            )
        if all(isinstance(a, (int, np.integer)) for a in args):
            return Tensor._wrap(np.zeros(tuple(int(a) for a in args), dtype=dtype))
        raise TypeError(f"{name}: expected data (a list, array or tensor) or sizes, got {args!r}")

    make.__name__ = make.__qualname__ = name
    make.__doc__ = (
        f"Legacy constructor ``{name}(data)`` or ``{name}(*sizes)`` (zeros): a tensor of "
        f"{np.dtype(dtype).name}.\n\nShapes: the shape of ``data``, or ``sizes``.\n\n"
        f"Example:\n    >>> cr.{name}(2, 3).shape\n    (2, 3)\n"
        f"    >>> cr.{name}([1, 0]).dtype\n    dtype('{np.dtype(dtype).name}')\n"
    )
    return make


FloatTensor = _legacy_constructor("FloatTensor", np.float32)
DoubleTensor = _legacy_constructor("DoubleTensor", np.float64)
HalfTensor = _legacy_constructor("HalfTensor", np.float16)
LongTensor = _legacy_constructor("LongTensor", np.int64)
IntTensor = _legacy_constructor("IntTensor", np.int32)
ByteTensor = _legacy_constructor("ByteTensor", np.uint8)
BoolTensor = _legacy_constructor("BoolTensor", np.bool_)


def where(
    condition: TensorLike, input: TensorLike | None = None, other: TensorLike | None = None
) -> Tensor | tuple[Tensor, ...]:
    """``where(cond, a, b)``: elementwise choice (see ``ops.pointwise.where``); ``where(cond)``
    alone: the indices of the true entries, as ``nonzero(cond, as_tuple=True)``.

    Example:
        >>> x = cr.tensor([-1.0, 2.0])
        >>> cr.where(x > 0, x, 0.0)
        tensor([0., 2.])
        >>> cr.where(cr.tensor([[True, False], [False, True]]))
        (tensor([0, 1]), tensor([0, 1]))
    """
    from .pointwise import where as choose

    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if input is None or other is None:
        raise TypeError("where: give both input and other, or neither")
    return choose(condition, input, other)


def std_mean(
    input: TensorLike, dim: Dims = None, *, correction: float = 1, keepdim: bool = False
) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim``, as ``torch.std_mean``.

    Shapes: each the input with ``dim`` removed (or kept as 1).

    Example:
        >>> cr.std_mean(cr.tensor([1.0, 2.0, 3.0]))
        (tensor(1.), tensor(2.))
    """
    x = as_tensor(input)
    return (
        x.std(dim=dim, correction=correction, keepdim=keepdim),
        x.mean(dim=dim, keepdim=keepdim) if dim is not None else x.mean(),
    )


def var_mean(
    input: TensorLike, dim: Dims = None, *, correction: float = 1, keepdim: bool = False
) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim``, as ``torch.var_mean``.

    Shapes: each the input with ``dim`` removed (or kept as 1).

    Example:
        >>> cr.var_mean(cr.tensor([[1.0, 3.0], [2.0, 2.0]]), 1)
        (tensor([2., 0.]), tensor([2., 2.]))
    """
    x = as_tensor(input)
    return (
        x.var(dim=dim, correction=correction, keepdim=keepdim),
        x.mean(dim=dim, keepdim=keepdim) if dim is not None else x.mean(),
    )
