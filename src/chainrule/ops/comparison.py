"""Comparisons, logical and bitwise ops, and tests of closeness: results without gradients.

Operands are promoted as in arithmetic (``_util.result_type``) before they are compared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._typing import Dims, TensorLike
from ..backend import xp as np
from ..tensor import Tensor
from ._util import as_tensor, normalize_dims, result_type, scalar_array

_NUMBER = (int, float, bool, np.number, np.bool_)


def _promoted(a: Tensor, b: TensorLike, op: str) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    """The arrays of ``a`` (a Tensor) and ``b`` cast to their promoted dtype (no graph)."""
    dt = result_type(a, b)
    x = a._data.astype(dt, copy=False)
    y = (
        (b._data if isinstance(b, Tensor) else np.asarray(b)).astype(dt, copy=False)
        if isinstance(b, (Tensor, np.ndarray))
        else scalar_array(b, dt)
    )
    return x, y, dt


def _compare(fn: Callable[..., Any]) -> Callable[[Tensor, Any], Tensor]:
    """A comparison: operands promoted first (``uint8_t > -1`` compares with 255, as PyTorch)."""

    def method(self: Tensor, other: Any) -> Tensor:
        dt = self._data.dtype
        if isinstance(other, Tensor) and other._data.dtype == dt:
            return Tensor._wrap(fn(self._data, other._data))
        if type(other) in (float, int) and dt.kind == "f":
            return Tensor._wrap(fn(self._data, other))  # NumPy casts the number to dt too
        if not isinstance(other, (Tensor, np.ndarray) + _NUMBER):
            return NotImplemented  # t == None is False, as in PyTorch
        x, y, _ = _promoted(self, other, fn.__name__)
        return Tensor._wrap(fn(x, y))

    return method


def _bitwise(
    fn: Callable[..., Any], op: str, reflected: bool = False
) -> Callable[[Tensor, Any], Tensor]:
    """``&``, ``|``, ``^``: logical on bools, bitwise on integers (``6 & 3 == 2``)."""

    def method(self: Tensor, other: Any) -> Tensor:
        if not isinstance(other, (Tensor, np.ndarray) + _NUMBER):
            return NotImplemented
        x, y, dt = _promoted(self, other, op)
        if dt.kind not in "biu":
            raise TypeError(f"{op}: only integer and bool tensors, got {dt}")
        return Tensor._wrap(fn(y, x) if reflected else fn(x, y))

    method.__name__ = op
    return method


def _invert(self: Tensor) -> Tensor:
    if self.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not (~): only integer and bool tensors, got {self.dtype}")
    return Tensor._wrap(np.invert(self._data))


def _bool_reduction(fn: Callable[..., Any], op: str) -> Callable[..., Tensor]:
    def reduce(x: TensorLike, dim: Dims = None, keepdim: bool = False) -> Tensor:
        """True where every (``all``) or some (``any``) element along ``dim`` is nonzero."""
        x = as_tensor(x)
        axis = None if dim is None else normalize_dims(dim, x.ndim, op)
        return Tensor._wrap(np.asarray(fn(x._data, axis=axis, keepdims=keepdim)))

    reduce.__name__ = op
    return reduce


all = _bool_reduction(np.all, "all")
any = _bool_reduction(np.any, "any")
bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
bitwise_not = _invert
rbitwise_and = _bitwise(np.bitwise_and, "bitwise_and", reflected=True)
rbitwise_or = _bitwise(np.bitwise_or, "bitwise_or", reflected=True)
rbitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor", reflected=True)
eq, ne = _compare(np.equal), _compare(np.not_equal)
lt, le, gt, ge = (
    _compare(np.less),
    _compare(np.less_equal),
    _compare(np.greater),
    _compare(np.greater_equal),
)
for _name, _fn in [("eq", eq), ("ne", ne), ("lt", lt), ("le", le), ("gt", gt), ("ge", ge)]:
    _fn.__name__ = _name
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def isclose(
    a: TensorLike, b: TensorLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """``|a - b| <= atol + rtol * |b|`` elementwise (bool), as torch.isclose; inf equals inf."""
    a = as_tensor(a)
    x, y, dt = _promoted(a, b, "isclose")
    if dt.kind not in "fc":
        return Tensor._wrap(
            np.asarray(x == y)
            if rtol == 0 and atol == 0
            else np.isclose(x, y, rtol=rtol, atol=atol)
        )
    return Tensor._wrap(np.asarray(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(
    a: TensorLike, b: TensorLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """True when :func:`isclose` holds everywhere (a Python bool, as torch.allclose)."""
    return bool(isclose(a, b, rtol, atol, equal_nan)._data.all())


def equal(a: TensorLike, b: TensorLike) -> bool:
    """True when ``a`` and ``b`` have the same shape and the same values (a Python bool)."""
    a, b = as_tensor(a), as_tensor(b)
    if a.shape != b.shape:
        return False
    x, y, _ = _promoted(a, b, "equal")
    return bool(np.array_equal(x, y))


def isnan(x: TensorLike) -> Tensor:
    return Tensor._wrap(np.isnan(as_tensor(x)._data))


def isinf(x: TensorLike) -> Tensor:
    return Tensor._wrap(np.isinf(as_tensor(x)._data))


def isfinite(x: TensorLike) -> Tensor:
    return Tensor._wrap(np.isfinite(as_tensor(x)._data))


def logical_not(x: TensorLike) -> Tensor:
    return Tensor._wrap(np.logical_not(as_tensor(x)._data))


def logical_and(a: TensorLike, b: TensorLike) -> Tensor:
    x, y, _ = _promoted(as_tensor(a), b, "logical_and")
    return Tensor._wrap(np.logical_and(x, y))


def logical_or(a: TensorLike, b: TensorLike) -> Tensor:
    x, y, _ = _promoted(as_tensor(a), b, "logical_or")
    return Tensor._wrap(np.logical_or(x, y))
