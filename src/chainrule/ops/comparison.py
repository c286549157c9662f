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
    """Elementwise ``~x``: logical not on bools, bitwise not on integers; no gradient.

    Shape: same as ``x``.

    Example:
        >>> cr.bitwise_not(cr.tensor([True, False]))
        tensor([False,  True])
        >>> ~cr.tensor([0, 5])
        tensor([-1, -6])
    """
    if self.dtype.kind not in "biu":
        raise TypeError(f"bitwise_not (~): only integer and bool tensors, got {self.dtype}")
    return Tensor._wrap(np.invert(self._data))


def _bool_reduction(
    fn: Callable[..., Any], op: str, example: tuple[str, str]
) -> Callable[..., Tensor]:
    def reduce(x: TensorLike, dim: Dims = None, keepdim: bool = False) -> Tensor:
        x = as_tensor(x)
        axis = None if dim is None else normalize_dims(dim, x.ndim, op)
        return Tensor._wrap(np.asarray(fn(x._data, axis=axis, keepdims=keepdim)))

    reduce.__name__ = op
    which = "every" if op == "all" else "some"
    reduce.__doc__ = f"""True where {which} element along ``dim`` is nonzero (all dims when None).

    Shape: a bool tensor, the input with ``dim`` removed (or kept as 1 with ``keepdim=True``).

    Example:
        >>> x = cr.tensor([[1, 0], [1, 1]])
        >>> cr.{op}(x)
        {example[0]}
        >>> cr.{op}(x, dim=1)
        {example[1]}
    """
    return reduce


def _bitwise_doc(
    method: Callable[..., Any],
    op: str,
    symbol: str,
    results: tuple[str, str],
    reflected: bool = False,
) -> Callable[..., Any]:
    """The docstring of a bitwise op and its example (``results``: bools, then integers)."""
    a, b = ("b", "a") if reflected else ("a", "b")
    name = f"r{op}" if reflected else op
    note = f"The reflected form behind ``number {symbol} tensor``. " if reflected else ""
    method.__doc__ = f"""Elementwise ``{a} {symbol} {b}``: logical on bools, bitwise on integers.

    {note}No gradient. Shapes: the broadcast shape of ``a`` and ``b``.

    Example:
        >>> a, b = cr.tensor([True, True, False]), cr.tensor([True, False, False])
        >>> cr.{name}(a, b)
        {results[0]}
        >>> cr.{name}(cr.tensor([6]), cr.tensor([3]))
        {results[1]}
    """
    return method


all = _bool_reduction(np.all, "all", ("tensor(False)", "tensor([False,  True])"))
any = _bool_reduction(np.any, "any", ("tensor(True)", "tensor([ True,  True])"))
_AND = ("tensor([ True, False, False])", "tensor([2])")
_OR = ("tensor([ True,  True, False])", "tensor([7])")
_XOR = ("tensor([False,  True, False])", "tensor([5])")
bitwise_and = _bitwise_doc(_bitwise(np.bitwise_and, "bitwise_and"), "bitwise_and", "&", _AND)
bitwise_or = _bitwise_doc(_bitwise(np.bitwise_or, "bitwise_or"), "bitwise_or", "|", _OR)
bitwise_xor = _bitwise_doc(_bitwise(np.bitwise_xor, "bitwise_xor"), "bitwise_xor", "^", _XOR)
bitwise_not = _invert
rbitwise_and = _bitwise_doc(
    _bitwise(np.bitwise_and, "bitwise_and", reflected=True), "bitwise_and", "&", _AND, True
)
rbitwise_or = _bitwise_doc(
    _bitwise(np.bitwise_or, "bitwise_or", reflected=True), "bitwise_or", "|", _OR, True
)
rbitwise_xor = _bitwise_doc(
    _bitwise(np.bitwise_xor, "bitwise_xor", reflected=True), "bitwise_xor", "^", _XOR, True
)


def _shift(fn: Callable[..., Any], op: str, symbol: str, reflected: bool = False) -> Any:
    """``<<`` and ``>>`` on integer tensors (``>>`` is arithmetic: it rounds down)."""

    def method(self: Tensor, other: Any) -> Tensor:
        if not isinstance(other, (Tensor, np.ndarray) + _NUMBER):
            return NotImplemented
        x, y, dt = _promoted(self, other, op)
        if dt.kind not in "iu":
            raise TypeError(f"{op}: only integer tensors, got {dt}")
        return Tensor._wrap(fn(y, x) if reflected else fn(x, y))

    method.__name__ = op
    a, b = ("b", "a") if reflected else ("a", "b")
    method.__doc__ = f"""Elementwise ``{a} {symbol} {b}`` on integers (no gradient).

    Example:
        >>> cr.tensor([5, -5]) {symbol} 1
        {"tensor([ 10, -10])" if symbol == "<<" else "tensor([ 2, -3])"}
    """
    return method


bitwise_left_shift = _shift(np.left_shift, "bitwise_left_shift", "<<")
bitwise_right_shift = _shift(np.right_shift, "bitwise_right_shift", ">>")
rbitwise_left_shift = _shift(np.left_shift, "bitwise_left_shift", "<<", reflected=True)
rbitwise_right_shift = _shift(np.right_shift, "bitwise_right_shift", ">>", reflected=True)

eq, ne = _compare(np.equal), _compare(np.not_equal)
lt, le, gt, ge = (
    _compare(np.less),
    _compare(np.less_equal),
    _compare(np.greater),
    _compare(np.greater_equal),
)
for _name, _fn, _op, _result in [
    ("eq", eq, "==", "tensor([False,  True, False])"),
    ("ne", ne, "!=", "tensor([ True, False,  True])"),
    ("lt", lt, "<", "tensor([ True, False, False])"),
    ("le", le, "<=", "tensor([ True,  True, False])"),
    ("gt", gt, ">", "tensor([False, False,  True])"),
    ("ge", ge, ">=", "tensor([False,  True,  True])"),
]:
    _fn.__name__ = _name
    _fn.__doc__ = f"""Elementwise ``a {_op} b`` as a bool tensor (the ``{_op}`` operator).

    No gradient. Operands are promoted first, as in arithmetic. Shapes: the broadcast shape.

    Example:
        >>> cr.{_name}(cr.tensor([1.0, 2.0, 3.0]), 2)
        {_result}
        >>> cr.tensor([1, 2, 3]) {_op} cr.tensor([2, 2, 2])
        {_result}
    """
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def isclose(
    a: TensorLike, b: TensorLike, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """``|a - b| <= atol + rtol * |b|`` elementwise (bool), as torch.isclose; inf equals inf.

    Example:
        >>> cr.isclose(cr.tensor([1.0, 1.1]), cr.tensor([1.0 + 1e-7, 1.0]))
        tensor([ True, False])
    """
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
    """True when :func:`isclose` holds everywhere (a Python bool, as torch.allclose).

    Example:
        >>> cr.allclose(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0 + 1e-7]))
        True
    """
    return bool(isclose(a, b, rtol, atol, equal_nan)._data.all())


def equal(a: TensorLike, b: TensorLike) -> bool:
    """True when ``a`` and ``b`` have the same shape and the same values (a Python bool).

    Example:
        >>> cr.equal(cr.tensor([1, 2]), cr.tensor([1.0, 2.0]))
        True
        >>> cr.equal(cr.zeros(2), cr.zeros(3))
        False
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.shape != b.shape:
        return False
    x, y, _ = _promoted(a, b, "equal")
    return bool(np.array_equal(x, y))


def isnan(x: TensorLike) -> Tensor:
    """Elementwise test for NaN, a bool tensor (no gradient). Shape: same as ``x``.

    Example:
        >>> cr.isnan(cr.tensor([1.0, float("nan"), float("inf")]))
        tensor([False,  True, False])
    """
    return Tensor._wrap(np.isnan(as_tensor(x)._data))


def isinf(x: TensorLike) -> Tensor:
    """Elementwise test for +-inf, a bool tensor (no gradient). Shape: same as ``x``.

    Example:
        >>> cr.isinf(cr.tensor([1.0, float("nan"), -float("inf")]))
        tensor([False, False,  True])
    """
    return Tensor._wrap(np.isinf(as_tensor(x)._data))


def isfinite(x: TensorLike) -> Tensor:
    """Elementwise test for a finite value (not NaN, not +-inf), a bool tensor.

    Shape: same as ``x``.

    Example:
        >>> cr.isfinite(cr.tensor([1.0, float("nan"), float("inf")]))
        tensor([ True, False, False])
    """
    return Tensor._wrap(np.isfinite(as_tensor(x)._data))


def logical_not(x: TensorLike) -> Tensor:
    """Elementwise logical not (zero is False), a bool tensor. Shape: same as ``x``.

    Example:
        >>> cr.logical_not(cr.tensor([0.0, 2.0]))
        tensor([ True, False])
    """
    return Tensor._wrap(np.logical_not(as_tensor(x)._data))


def logical_and(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise logical and (zero is False), a bool tensor.

    Shapes: the broadcast shape of ``a`` and ``b``.

    Example:
        >>> cr.logical_and(cr.tensor([1, 1, 0]), cr.tensor([2, 0, 0]))
        tensor([ True, False, False])
    """
    x, y, _ = _promoted(as_tensor(a), b, "logical_and")
    return Tensor._wrap(np.logical_and(x, y))


def logical_or(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise logical or (zero is False), a bool tensor.

    Shapes: the broadcast shape of ``a`` and ``b``.

    Example:
        >>> cr.logical_or(cr.tensor([1, 1, 0]), cr.tensor([2, 0, 0]))
        tensor([ True,  True, False])
    """
    x, y, _ = _promoted(as_tensor(a), b, "logical_or")
    return Tensor._wrap(np.logical_or(x, y))
