"""The one contract for a vjp: its arithmetic runs on arrays or on Tensors, through this module.

A vjp receives arrays on the plain backward (fast: no graph is built) and Tensors when the
backward is itself recorded (``create_graph=True``). Python operators (``g * y``, ``g.sum(...)``,
``g.reshape(...)``) already work on both; everything else a vjp needs comes from here, as
``d.exp(x)``, ``d.where(mask, g, 0)``, ``d.sum_to(g, shape)``... Each function takes arrays or
Tensors and returns the same kind: NumPy on arrays, the recorded chainrule op on Tensors. So a
vjp is written once, the two paths compute the same formula, and no vjp tests which kind it got.

Masks, signs and indices are constants of the backward: they are plain arrays on both paths
(read from ``ctx.inputs[i]._data`` / ``ctx.out_data``), never Tensors.

Example::

    from . import dispatch as d

    def _sin_vjp(ctx, g):
        return (g * d.cos(ctx.input(0)),)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._typing import Dims, DTypeLike, Grad
from ..backend import xp as np
from ..tensor import Tensor


def primitive(array_fn: Callable[..., Any], recorded_fn: Callable[..., Any]) -> Callable[..., Any]:
    """One function from a pair: ``array_fn`` on arrays, ``recorded_fn`` (which records a node,
    so it is differentiable again) when any argument is a Tensor. For the functions that are
    each other's vjp (a convolution and its input gradient, a gather and its scatter)."""

    def fn(*args: Any) -> Grad:
        return recorded_fn(*args) if is_recorded(*args) else array_fn(*args)

    fn.__name__ = getattr(array_fn, "__name__", "primitive")
    fn.__doc__ = array_fn.__doc__
    return fn


def is_recorded(*xs: Any) -> bool:
    """True when any of ``xs`` is a Tensor (the backward is being recorded)."""
    for x in xs:
        if isinstance(x, Tensor):
            return True
    return False


def _ops() -> Any:
    from .. import ops  # the ops import this module: resolved at call time (Tensor path only)

    return ops


# ---- elementwise functions ----


def _unary(name: str, array_fn: Callable[..., Any]) -> Callable[[Grad], Grad]:
    def fn(x: Grad) -> Grad:
        return getattr(_ops(), name)(x) if isinstance(x, Tensor) else array_fn(x)

    fn.__name__ = name
    fn.__doc__ = f"``{name}(x)`` on an array or a Tensor (same kind back)."
    return fn


def _sigmoid_array(x: Any) -> Any:
    from .pointwise import sigmoid_array

    return sigmoid_array(x)


def _erf_array(x: Any) -> Any:
    from .special import erf_array

    return erf_array(x)


exp = _unary("exp", np.exp)
log = _unary("log", np.log)
sqrt = _unary("sqrt", np.sqrt)
sin = _unary("sin", np.sin)
cos = _unary("cos", np.cos)
sinh = _unary("sinh", np.sinh)
cosh = _unary("cosh", np.cosh)
tanh = _unary("tanh", np.tanh)
sigmoid = _unary("sigmoid", _sigmoid_array)
erf = _unary("erf", _erf_array)


def rsqrt(x: Grad) -> Grad:
    """``1 / sqrt(x)``."""
    return x.rsqrt() if isinstance(x, Tensor) else 1 / np.sqrt(x)


def softplus(x: Grad) -> Grad:
    """``log(1 + exp(x))`` without overflow."""
    if isinstance(x, Tensor):
        return x.relu() + (-(x.abs())).exp().log1p()
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softmax(x: Grad, axis: int = -1) -> Grad:
    """``exp(x) / sum(exp(x))`` along ``axis`` (the max subtracted first)."""
    if isinstance(x, Tensor):
        return x.softmax(axis)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def where(mask: Any, a: Grad, b: Grad) -> Grad:
    """``a`` where ``mask`` else ``b`` (a select: a NaN in the branch not chosen stays out)."""
    if is_recorded(a, b):
        return _ops().where(mask, a, b)
    if type(b) is int and b == 0 and type(a) is np.ndarray:
        return _keep_where(mask, a, invert=False)
    if type(a) is int and a == 0 and type(b) is np.ndarray:
        return _keep_where(mask, b, invert=True)
    return np.where(mask, a, b)


# Float dtype -> the integer dtype of its bits, for the branch-free select below.
_BITS = {
    np.dtype(np.float16): np.int16,
    np.dtype(np.float32): np.int32,
    np.dtype(np.float64): np.int64,
}
_SELECT_MIN_SIZE = 1024  # below this np.where's one call is cheaper than three


def zero_where_(blocked: Any, g: Grad) -> Grad:
    """``where(blocked, 0, g)`` for a bool array ``blocked`` made for this call alone: its
    memory is reused for the select's mask (no temporary beyond the result; ReLU's backward)."""
    if is_recorded(g):
        return _ops().where(blocked, 0, g)
    if type(g) is not np.ndarray:
        return np.where(blocked, 0, g)
    return _keep_where(blocked, g, invert=True, reuse_mask=True)


def _keep_where(mask: Any, g: np.ndarray, invert: bool, reuse_mask: bool = False) -> np.ndarray:
    """``where(mask, g, 0)`` (``where(mask, 0, g)`` with ``invert``) without np.where's branch;
    ``reuse_mask``: ``mask`` is a temporary of the caller's, overwritten here.

    np.where branches on every element, and a ReLU mask is as unpredictable as a coin: on
    (256, 128) float32 it runs 3x slower than an AND of the gradient's bits with a mask of all
    ones (keep) or all zeros (drop, giving +0.0 exactly as the select). The result is the
    same bit for bit, NaN and -0.0 included (``python -m benchmarks.levers`` times both)."""
    if not (
        g.dtype in _BITS
        and g.size >= _SELECT_MIN_SIZE
        and type(mask) is np.ndarray
        and mask.dtype == np.bool_
        and mask.shape == g.shape
    ):
        return np.where(mask, 0, g) if invert else np.where(mask, g, 0)
    bits = _BITS[g.dtype]
    flags = mask.view(np.int8)  # 1 where mask, 0 elsewhere
    if reuse_mask:  # all bits set (-1) where g is kept, 0 where dropped, in the mask's memory
        keep = np.subtract(flags, 1, out=flags) if invert else np.negative(flags, out=flags)
    else:
        keep = flags - 1 if invert else -flags
    return np.bitwise_and(g.view(bits), keep, dtype=bits).view(g.dtype)


def clip(x: Grad, lo: float | None, hi: float | None) -> Grad:
    """``x`` limited to ``[lo, hi]`` (either may be None)."""
    if isinstance(x, Tensor):
        return x.clamp(lo, hi)
    return np.clip(x, lo, hi)


def astype(x: Grad, dtype: DTypeLike) -> Grad:
    """``x`` cast to ``dtype`` (differentiable between floating dtypes)."""
    return x.to(dtype) if isinstance(x, Tensor) else x.astype(dtype)


# ---- shapes ----


def sum_to(g: Grad, shape: Sequence[int]) -> Grad:
    """Sum a broadcast gradient back down to ``shape`` (the one place broadcasting is undone)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if lead else g


def broadcast_to(g: Grad, shape: Sequence[int]) -> Grad:
    """``g`` broadcast to ``shape``; an array is materialised (faster downstream than NumPy's
    read-only view)."""
    if isinstance(g, Tensor):
        return g.expand(shape)
    out = np.empty(shape, g.dtype)
    out[...] = g
    return out


def permute(g: Grad, axes: Sequence[int]) -> Grad:
    """``g`` with its dims reordered to ``axes`` (array or Tensor, same kind back)."""
    return g.permute(axes) if isinstance(g, Tensor) else g.transpose(axes)


def moveaxis(g: Grad, source: int, dest: int) -> Grad:
    """``g`` with dim ``source`` moved to position ``dest``, the others in order."""
    if not isinstance(g, Tensor):
        return np.moveaxis(g, source, dest)
    order = list(range(g.ndim))
    order.insert(dest % g.ndim, order.pop(source % g.ndim))
    return g.permute(order)


def flip(g: Grad, dims: int | tuple[int, ...]) -> Grad:
    """``g`` reversed along each dim in ``dims``."""
    return _ops().flip(g, dims) if isinstance(g, Tensor) else np.flip(g, dims)


def roll(g: Grad, shifts: int | Sequence[int], dims: Dims) -> Grad:
    """``g`` shifted circularly by ``shifts`` along ``dims``."""
    return _ops().roll(g, shifts, dims) if isinstance(g, Tensor) else np.roll(g, shifts, dims)


def zeros(shape: Sequence[int], like: Grad) -> Grad:
    """Zeros of ``shape`` with ``like``'s dtype and kind (a constant Tensor on the recorded path)."""
    out = np.zeros(shape, like.dtype)
    return Tensor._wrap(out) if isinstance(like, Tensor) else out


def reverse_cumsum(g: Grad, dim: int) -> Grad:
    """``out[i] = sum_{j >= i} g[j]`` along ``dim``: the vjp of ``cumsum``."""
    if isinstance(g, Tensor):
        ops = _ops()
        return ops.flip(ops.cumsum(ops.flip(g, (dim,)), dim), (dim,))
    return np.flip(np.cumsum(np.flip(g, dim), dim), dim)


def prod_of_others(x: Grad, dims: Sequence[int]) -> Grad:
    """For each element, the product of the other elements of its group over ``dims`` (exact
    with zeros: products only, no division)."""
    from .reduction import _prod_of_others, _prod_of_others_recorded

    return (_prod_of_others_recorded if isinstance(x, Tensor) else _prod_of_others)(x, dims)


# ---- indexing ----


def gather(x: Grad, dim: int, index: Any) -> Grad:
    """``x`` picked along ``dim`` at ``index`` (an int array)."""
    if isinstance(x, Tensor):
        return _ops().gather(x, dim, index)
    from .indexing import gather_array

    return gather_array(x, dim, index)


def scatter_add(x: Grad, dim: int, index: Any, src: Grad) -> Grad:
    """A copy of ``x`` with ``src`` added at ``index`` along ``dim`` (repeated indices add up)."""
    if is_recorded(x, src):
        return _ops().scatter_add(x, dim, index, src)
    from .indexing import scatter_add_array

    return scatter_add_array(x, dim, index, src)


def einsum(spec: str, *operands: Grad) -> Grad:
    """Einstein summation ``spec`` over arrays or Tensors (recorded when any is a Tensor)."""
    if is_recorded(*operands):
        return _ops().einsum(spec, *operands)
    from .linalg import _einsum_array

    return _einsum_array(spec, *operands)
