"""Helpers shared by the ops: type promotion, operand coercion, dims and error messages.

The arithmetic a vjp does on arrays or Tensors lives in :mod:`chainrule.ops.dispatch`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._typing import Dims, DTypeLike, Grad, TensorLike
from ..backend import xp as np
from ..tensor import Tensor, get_default_dtype, to_array
from . import dispatch
from .dispatch import broadcast_to, sum_to  # noqa: F401  (re-exported for older imports)

if TYPE_CHECKING:
    from ..autograd.engine import Node

# ---- type promotion (PyTorch's rules, in one place) ----
#
# Dtypes fall in categories bool < integer < floating. Operands come in three kinds, from strongest
# to weakest: tensors with dims, 0-d tensors, and Python numbers. A weaker kind only changes the
# result when it is of a higher category than every stronger operand: ``int64 tensor * 2.5`` is the
# default float dtype, ``float32 tensor + float64 0-d tensor`` stays float32, ``uint8 tensor + 300``
# stays uint8 (the number wraps, as in PyTorch). Python floats count as the default dtype.

_BOOL, _INT64 = np.dtype(np.bool_), np.dtype(np.int64)


def _category(dtype: np.dtype) -> int:
    return 0 if dtype.kind == "b" else 1 if dtype.kind in "iu" else 2


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """The smallest dtype holding both: a float beats any integer (int64 + float32 is float32).

    Example:
        >>> cr.promote_types(cr.int64, cr.float32)
        dtype('float32')
        >>> cr.promote_types(cr.uint8, cr.int8)
        dtype('int16')
    """
    if a == b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> Any:
    """Result of a stronger operand group ``higher`` with a weaker group ``lower`` (None: empty)."""
    if higher is None:
        return lower
    if lower is None or _category(higher) >= _category(lower):
        return higher
    return promote_types(higher, lower)


def _scalar_dtype(x: object) -> np.dtype:
    if isinstance(x, (bool, np.bool_)):
        return _BOOL
    if isinstance(x, (int, np.integer)):
        return _INT64
    if isinstance(x, (float, np.floating)):
        return get_default_dtype()
    raise TypeError(f"expected a Tensor or a number, got {type(x).__name__}")


def result_type(*operands: TensorLike) -> np.dtype:
    """The dtype PyTorch gives an op over ``operands`` (Tensors, arrays, Python numbers).

    Example:
        >>> cr.result_type(cr.tensor([1, 2]), 2.5)
        dtype('float32')
        >>> cr.result_type(cr.tensor([1.0], dtype=cr.float16), cr.tensor(2.0))
        dtype('float16')
    """
    groups: list[Any] = [None, None, None]  # tensors with dims, 0-d tensors, Python numbers
    for x in operands:
        if isinstance(x, (Tensor, np.ndarray)):
            dt, kind = x.dtype, 0 if x.ndim else 1
        else:
            dt, kind = _scalar_dtype(x), 2
        groups[kind] = dt if groups[kind] is None else promote_types(groups[kind], dt)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def scalar_array(x: TensorLike, dtype: DTypeLike) -> np.ndarray:
    """A Python number as a 0-d array of ``dtype``; integers wrap around as in PyTorch (-1 -> 255
    for uint8)."""
    try:
        return np.asarray(x, dtype=dtype)
    except OverflowError:
        return np.asarray(x).astype(dtype)


def cast(x: Tensor, dtype: np.dtype) -> Tensor:
    """``x`` (a Tensor) as ``dtype``; differentiable between floating dtypes."""
    if x.dtype == dtype:
        return x
    if not x.requires_grad or dtype.kind not in "fc":
        return Tensor._wrap(x._data.astype(dtype))
    from .pointwise import to_dtype

    return to_dtype(x, dtype)


def _operand(x: TensorLike) -> Any:
    """Arrays and lists count as tensors with dims; numbers stay numbers (they promote weakly)."""
    if isinstance(x, np.ndarray):
        return Tensor._wrap(x)
    return Tensor(x) if isinstance(x, (list, tuple)) else x


def coerce(a: TensorLike, b: TensorLike, floating: bool = False) -> tuple[Tensor, Tensor, np.dtype]:
    """Both operands of a binary op as Tensors of their promoted dtype (``floating``: at least the
    default float dtype, as true division needs). Returns ``(a, b, dtype)``."""
    # The common cases first: same dtypes, or a float tensor with a Python number.
    if isinstance(a, Tensor):
        dt = a._data.dtype
        if isinstance(b, Tensor):
            if b._data.dtype == dt and (dt.kind == "f" or not floating):
                return a, b, dt
        elif type(b) in (float, int) and dt.kind == "f":
            return a, Tensor._wrap(np.asarray(b, dt)), dt
    elif type(a) in (float, int) and isinstance(b, Tensor) and b._data.dtype.kind == "f":
        dt = b._data.dtype
        return Tensor._wrap(np.asarray(a, dt)), b, dt
    a = _operand(a)
    b = _operand(b)
    dt = result_type(a, b)
    if floating and dt.kind not in "fc":
        dt = get_default_dtype()
    a = cast(a, dt) if isinstance(a, Tensor) else Tensor._wrap(scalar_array(a, dt))
    b = cast(b, dt) if isinstance(b, Tensor) else Tensor._wrap(scalar_array(b, dt))
    return a, b, dt


def tensor_operand(x: TensorLike, like: TensorLike) -> Tensor:
    """``x`` as a Tensor; a Python number takes the dtype it promotes to with ``like``."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._wrap(x)
    if isinstance(x, (int, float, bool, np.number, np.bool_)):
        return Tensor._wrap(scalar_array(x, result_type(like, x)))
    return Tensor._wrap(to_array(x))


def float_operand(x: TensorLike) -> Tensor:
    """``x`` as a Tensor of a floating dtype: integers and bools become the default float dtype,
    as PyTorch's float functions (exp, sqrt, sigmoid, ...) do."""
    x = as_tensor(x)
    return x if x.dtype.kind in "fc" else Tensor._wrap(x._data.astype(get_default_dtype()))


def as_tensor(x: TensorLike) -> Tensor:
    """``x`` itself when it is a Tensor, else a new Tensor holding it (numbers, lists, arrays)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple)):
        return Tensor(x)  # lists: the default float dtype, as the library's callers expect
    return Tensor._wrap(to_array(x))  # arrays keep their dtype; a number is a 0-d tensor


def unbroadcast(ctx: Node, i: int, g: Grad) -> Grad:
    """Gradient for input ``i`` reduced to its shape, or None when it needs none."""
    return sum_to(g, ctx._inputs[i].shape) if ctx.needs[i] else None


def is_array(x: object) -> bool:
    """Kept for ``nn/functional/_rnn.py``; vjps use :mod:`chainrule.ops.dispatch` instead."""
    return isinstance(x, (np.ndarray, np.generic))


def call(name: str, *args: Any) -> Grad:
    """``dispatch.<name>(*args)``; kept for ``nn/functional/_rnn.py`` (vjps call ``d.<name>``)."""
    return getattr(dispatch, name)(*args)


def normalize_dims(dim: Dims, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` (int, tuple or None) as a sorted tuple of non-negative axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims")
        out.append(d % ndim if ndim else None)
    return tuple(sorted({d for d in out if d is not None}))


def keepdim_shape(shape: Sequence[int], dims: Sequence[int]) -> tuple[int, ...]:
    """``shape`` with the reduced ``dims`` kept as size 1."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def dim_kwargs(dim: Dims, keepdim: bool, kwargs: dict[str, Any], op: str) -> tuple[Any, bool]:
    """Accept NumPy's ``axis``/``keepdims`` as aliases of PyTorch's ``dim``/``keepdim``."""
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    if kwargs:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kwargs)}")
    return dim, bool(keepdim)


def shape_error(op: str, a: Sequence[int], b: Sequence[int], why: str = "") -> ValueError:
    """The ValueError naming ``op`` and both shapes: ``add: incompatible shapes (2, 3) and (4,)``."""
    return ValueError(f"{op}: incompatible shapes {tuple(a)} and {tuple(b)}{why}")


def scaled_sum(op: str, input: TensorLike, product: Tensor, beta: float, alpha: float) -> Tensor:
    """``beta * input + alpha * product`` for the add-product ops (``addmm``, ``baddbmm``,
    ``addmv``...): ``input`` must broadcast to the product's shape, and with ``beta == 0`` its
    values are ignored, NaN included (as torch)."""
    x = as_tensor(input)
    try:
        fits = np.broadcast_shapes(tuple(x.shape), tuple(product.shape)) == tuple(product.shape)
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"{op}: input of shape {tuple(x.shape)} does not broadcast to the product's "
            f"{tuple(product.shape)}"
        )
    product = product if alpha == 1 else product * alpha
    if beta == 0:
        return product
    return product + (x if beta == 1 else x * beta)
