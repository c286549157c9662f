"""Elementwise ops: arithmetic with broadcasting, and the unary functions.

Each op is a forward on arrays followed by its vjp. A vjp reads its inputs with ``ctx.input(i)``
and its result with ``ctx.output()``: arrays on the fast path, Tensors when the backward pass is
itself recorded (``create_graph=True``). Masks and signs are constants, so they always come from
``._data``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._typing import DTypeLike, Grad, Grads, TensorLike
from ..autograd.engine import reads_no_input_values, record
from ..backend import xp as np
from ..tensor import Tensor, to_array
from . import dispatch as d
from ._util import (
    as_tensor,
    cast,
    coerce,
    float_operand,
    result_type,
    shape_error,
    tensor_operand,
    unbroadcast,
)

if TYPE_CHECKING:
    from ..autograd.engine import Node


def _binary(
    a: TensorLike, b: TensorLike, fn: Callable[..., Any], op: str, floating: bool = False
) -> tuple[Tensor, Tensor, Any]:
    """Promote both operands (PyTorch's rules, see ``_util.result_type``), then ``fn`` on arrays."""
    a, b, dt = coerce(a, b, floating)
    if dt.kind == "b" and op in _NO_BOOL:
        raise RuntimeError(f"{op}: not supported for two bool operands (as in PyTorch)")
    try:
        out = fn(a._data, b._data)
    except ValueError as e:
        raise shape_error(op, a.shape, b.shape, f" (cannot broadcast: {e})") from None
    return a, b, out


_NO_BOOL = ("pow", "floor_divide", "remainder")


def _quiet() -> Any:
    """NumPy's divide-by-zero, invalid-value and overflow warnings off: the Inf and NaN results
    are IEEE's answers, which PyTorch returns silently (``log(0)`` is -inf, ``sqrt(-1)`` NaN,
    ``1 / 0`` inf, ``exp(1000)`` inf)."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def _ieee(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A forward ``fn`` on arrays, run under :func:`_quiet`. (Only forwards: the diagnostics
    tell ops apart by their vjp's code, so each vjp quiets NumPy in its own body.)"""

    @functools.wraps(fn)
    def quiet(*args: Any) -> Any:
        with _quiet():
            return fn(*args)

    return quiet


def _is_bool(x: object) -> bool:
    return (
        (x.dtype.kind == "b")
        if isinstance(x, (Tensor, np.ndarray))
        else isinstance(x, (bool, np.bool_))
    )


# ---- arithmetic ----


@reads_no_input_values
def _add_vjp(ctx: Node, g: Grad) -> Grads:
    return unbroadcast(ctx, 0, g), unbroadcast(ctx, 1, g)


def add(a: TensorLike, b: TensorLike, *, alpha: Any = 1) -> Tensor:
    """Elementwise ``a + alpha * b`` (the ``+`` operator), with PyTorch's broadcasting and type
    promotion.

    Shapes: ``a`` and ``b`` broadcast together -> the broadcast shape.

    Example:
        >>> cr.add(cr.tensor([[1.0], [2.0]]), cr.tensor([10.0, 20.0]))
        tensor([[11., 21.],
                [12., 22.]])
        >>> cr.tensor([1.0, 2.0]).add(cr.tensor([1.0, 1.0]), alpha=-2)
        tensor([-1.,  0.])
    """
    if alpha != 1:
        b = b * alpha
    a, b, out = _binary(a, b, np.add, "add")
    return record(out, (a, b), _add_vjp, "Add", save_inputs=False, save_output=False)


@reads_no_input_values
def _sub_vjp(ctx: Node, g: Grad) -> Grads:
    return unbroadcast(ctx, 0, g), unbroadcast(ctx, 1, -g) if ctx.needs[1] else None


def sub(a: TensorLike, b: TensorLike, *, alpha: Any = 1) -> Tensor:
    """Elementwise ``a - alpha * b`` (the ``-`` operator); refused for bool operands, as in
    PyTorch.

    Shapes: ``a`` and ``b`` broadcast together -> the broadcast shape.

    Example:
        >>> cr.sub(cr.tensor([5.0, 7.0]), 2)
        tensor([3., 5.])
    """
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(
            "sub: subtraction (the - operator) with a bool tensor or number is not "
            "supported (as in PyTorch); to invert a mask use ~ or logical_not()"
        )
    if alpha != 1:
        b = b * alpha
    a, b, out = _binary(a, b, np.subtract, "sub")
    return record(out, (a, b), _sub_vjp, "Sub", save_inputs=False, save_output=False)


def rsub(a: TensorLike, b: TensorLike) -> Tensor:
    """``b - a``: the reflected subtraction behind ``number - tensor``.

    Shapes: the broadcast shape of ``a`` and ``b``.

    Example:
        >>> cr.rsub(cr.tensor([1.0, 2.0]), 10)
        tensor([9., 8.])
    """
    return sub(b, a)


def _mul_vjp(ctx: Node, g: Grad) -> Grads:
    ga = unbroadcast(ctx, 0, g * ctx.input(1)) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, g * ctx.input(0)) if ctx.needs[1] else None
    return ga, gb


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``a * b`` (the ``*`` operator), broadcast.

    Shapes: ``a`` and ``b`` broadcast together -> the broadcast shape.

    Example:
        >>> cr.mul(cr.tensor([1.0, 2.0, 3.0]), 2)
        tensor([2., 4., 6.])
    """
    a, b, out = _binary(a, b, np.multiply, "mul")
    # a is read only for b's gradient and b for a's: only those versions are checked (as torch)
    return record(
        out,
        (a, b),
        _mul_vjp,
        "Mul",
        save_inputs=(b.requires_grad, a.requires_grad),
        save_output=False,
    )


def _div_vjp(ctx: Node, g: Grad) -> Grads:
    b = ctx.input(1)
    with _quiet():  # a zero divisor gives inf or NaN, as in PyTorch
        ga = unbroadcast(ctx, 0, g / b) if ctx.needs[0] else None
        # PyTorch's form -g * ((a / b) / b): no b * b, which overflows and, recorded, 0 * Inf
        gb = unbroadcast(ctx, 1, -g * ((ctx.input(0) / b) / b)) if ctx.needs[1] else None
    return ga, gb


_log_array = _ieee(np.log)
_log1p_array = _ieee(np.log1p)
_sqrt_array = _ieee(np.sqrt)
_log10_array = _ieee(np.log10)
_log2_array = _ieee(np.log2)
_arcsin_array = _ieee(np.arcsin)
_arccos_array = _ieee(np.arccos)
_true_divide_array = _ieee(np.true_divide)
_exp_array = _ieee(np.exp)
_expm1_array = _ieee(np.expm1)
_sin_array, _cos_array = _ieee(np.sin), _ieee(np.cos)  # of +-inf: NaN
_sinh_array, _cosh_array = _ieee(np.sinh), _ieee(np.cosh)  # overflow to +-inf


def div(a: TensorLike, b: TensorLike, rounding_mode: str | None = None) -> Tensor:
    """True division: always floating (``int_tensor / 2`` is float32, as in PyTorch).

    ``rounding_mode="floor"`` is ``floor_divide``; ``"trunc"`` rounds toward zero (C division).

    Example:
        >>> cr.tensor([3, -3]) / 2
        tensor([ 1.5, -1.5])
        >>> cr.div(cr.tensor([7.0, -7.0]), 2, rounding_mode="floor")
        tensor([ 3., -4.])
        >>> cr.div(cr.tensor([7.0, -7.0]), 2, rounding_mode="trunc")
        tensor([ 3., -3.])
    """
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        return _trunc_divide(a, b)
    if rounding_mode is not None:
        raise ValueError(
            f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}"
        )
    a, b, out = _binary(a, b, _true_divide_array, "div", floating=True)
    return record(
        out, (a, b), _div_vjp, "Div", save_inputs=(b.requires_grad, True), save_output=False
    )


def rdiv(a: TensorLike, b: TensorLike) -> Tensor:
    """``b / a``: the reflected division behind ``number / tensor``.

    Shapes: the broadcast shape of ``a`` and ``b``.

    Example:
        >>> cr.rdiv(cr.tensor([2.0, 4.0]), 1)
        tensor([0.5 , 0.25])
    """
    return div(b, a)


def _pow_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # 0 ** -1 and log(0) give inf, a negative base NaN, as in PyTorch
        return _pow_vjp_quiet(ctx, g)


def _pow_vjp_quiet(ctx: Node, g: Grad) -> Grads:
    a, b = ctx.input(0), ctx.input(1)
    a_data, b_data = ctx.inputs[0]._data, ctx.inputs[1]._data
    ga = None
    if ctx.needs[0]:
        # b * a^(b-1) is 0 where b = 0, also at a = 0 (PyTorch's convention). There the base is
        # replaced by 1, so the branch not chosen stays finite: 0 ** -1 = inf would give
        # 0 * inf = NaN in its own derivative when this backward is recorded.
        zero_b = b_data == 0
        if zero_b.any():
            ga = d.where(zero_b, 0, g * b * d.where(zero_b, 1, a) ** (b - 1))
        else:
            ga = g * b * a ** (b - 1)
        ga = unbroadcast(ctx, 0, ga)
    if not ctx.needs[1]:
        return ga, None
    # d(a^b)/db = a^b log a. PyTorch's convention: 0 where a = 0 and b >= 0 (the limit; never
    # 0 * -inf), log's own answer elsewhere (-inf at 0 ** negative, NaN for a negative base).
    # The base is again replaced by 1 where the answer is 0, so the recorded path has no NaN.
    limit = (a_data == 0) & (b_data >= 0)
    log_a = d.log(d.where(limit, 1, a)) if limit.any() else d.log(a)
    return ga, unbroadcast(ctx, 1, g * ctx.output() * log_a)


def _int_power(a: Any, b: Any) -> Any:
    """Integer powers; a negative exponent gives 1/a**|b| truncated, i.e. 0 unless |a| == 1 (as
    PyTorch's tensor exponents; NumPy refuses them)."""
    negative = b < 0
    if not negative.any():
        return np.power(a, b)
    out = np.power(a, np.where(negative, 0, b))
    odd = (b % 2).astype(bool)
    at_neg = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0)).astype(out.dtype)
    return np.where(negative, at_neg, out)


def _power(x: Any, y: Any) -> Any:
    if x.dtype.kind in "iu":
        return _int_power(x, y)
    if y.ndim == 0 and y >= 0 and float(y).is_integer():  # x ** 2: no inf or NaN can arise
        return np.power(x, y)
    with _quiet():  # 0 ** -1 is inf, (-8) ** (1/3) NaN, as in PyTorch
        return np.power(x, y)


def pow(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise ``a ** b``, broadcast. Integers to negative integer powers are refused.

    Shapes: the broadcast shape. The derivative in ``b`` is 0 at ``a = 0, b >= 0``, as in
    PyTorch.

    Example:
        >>> cr.pow(cr.tensor([1.0, 2.0, 3.0]), 2)
        tensor([1., 4., 9.])
        >>> cr.tensor([2.0]) ** cr.tensor([0.5, 3.0])
        tensor([1.4142, 8.    ])
    """
    if isinstance(a, Tensor) and a.dtype.kind in "iub" and isinstance(b, (int, np.integer)):
        if b < 0:
            raise RuntimeError("pow: integers to negative integer powers are not allowed")
        if a.dtype.kind == "b" and isinstance(b, (bool, np.bool_)):  # mask ** True is mask
            return Tensor._wrap(a._data.copy() if b else np.ones_like(a._data))
    a, b, out = _binary(a, b, _power, "pow")
    return record(out, (a, b), _pow_vjp, "Pow", save_output=b.requires_grad)


def rpow(a: TensorLike, b: TensorLike) -> Tensor:
    """``b ** a``: the reflected power behind ``number ** tensor``.

    Shapes: the broadcast shape of ``a`` and ``b``.

    Example:
        >>> cr.rpow(cr.tensor([0.0, 1.0, 3.0]), 2)
        tensor([1., 2., 8.])
    """
    return pow(b, a)


# Gradients are masked with a select (d.where), never ``g * mask``: NaN * 0 is NaN, and a NaN
# gradient must not reach the entries or the branch that were not chosen.


def _check_int_divisor(b: Any, op: str) -> None:
    if b.dtype.kind in "iub" and not np.all(b):
        raise RuntimeError(f"{op}: integer division by zero (ZeroDivisionError)")


def _floor_divide_array(a: Any, b: Any) -> Any:
    _check_int_divisor(b, "floor_divide")
    with _quiet():  # x // 0.0 is +-inf or nan, as in PyTorch
        return np.floor_divide(a, b)


def _zero_vjp(ctx: Node, g: Grad) -> Grads:
    # Piecewise constant: the derivative is 0 wherever it exists.
    return tuple(unbroadcast(ctx, i, g * 0) for i in range(2))


def floor_divide(a: TensorLike, b: TensorLike) -> Tensor:
    """``a // b`` rounded toward minus infinity, as Python's ``//`` (``-7 // 2 == -4``).

    Integers stay integers; dividing an integer by 0 raises. Gradient: 0 (piecewise constant).

    Example:
        >>> cr.tensor([5, -5]) // 3
        tensor([ 1, -2])
    """
    a, b, out = _binary(a, b, _floor_divide_array, "floor_divide")
    return record(out, (a, b), _zero_vjp, "FloorDivide", save_inputs=False, save_output=False)


def rfloor_divide(a: TensorLike, b: TensorLike) -> Tensor:
    """``b // a``: the reflected floor division behind ``number // tensor``.

    Shapes: the broadcast shape of ``a`` and ``b``.

    Example:
        >>> cr.rfloor_divide(cr.tensor([2, 3]), 7)
        tensor([3, 2])
    """
    return floor_divide(b, a)


def _trunc_divide(a: TensorLike, b: TensorLike) -> Tensor:
    def trunc_div(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        _check_int_divisor(y, "div")
        if x.dtype.kind in "iu":
            q = np.floor_divide(x, y)
            return q + ((q < 0) & (q * y != x))  # floor -> toward zero for inexact negatives
        with _quiet():
            return np.trunc(x / y)

    a, b, out = _binary(a, b, trunc_div, "floor_divide")
    return record(out, (a, b), _zero_vjp, "TruncDivide", save_inputs=False, save_output=False)


def _remainder_array(a: Any, b: Any) -> Any:
    _check_int_divisor(b, "remainder")
    with _quiet():
        return np.remainder(a, b)


def _remainder_vjp(ctx: Node, g: Grad) -> Grads:
    # a % b = a - b * floor(a / b); the quotient is piecewise constant.
    ga = unbroadcast(ctx, 0, g) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, -g * ctx.saved) if ctx.needs[1] else None
    return ga, gb


def remainder(a: TensorLike, b: TensorLike) -> Tensor:
    """``a % b`` with the sign of ``b``, as Python's ``%`` (``-7 % 3 == 2``); also for floats.

    Gradient: 1 for ``a``, ``-floor(a / b)`` for ``b``.

    Example:
        >>> cr.tensor([5, -5]) % 3
        tensor([2, 1])
    """
    a, b, out = _binary(a, b, _remainder_array, "remainder")
    quotient = None
    if b.requires_grad:
        with _quiet():
            quotient = np.floor_divide(a._data, b._data)
    return record(
        out,
        (a, b),
        _remainder_vjp,
        "Remainder",
        saved=quotient,
        save_inputs=False,
        save_output=False,
    )


def rremainder(a: TensorLike, b: TensorLike) -> Tensor:
    """``b % a``: the reflected remainder behind ``number % tensor`` (the sign of ``a``).

    Shapes: the broadcast shape of ``a`` and ``b``.

    Example:
        >>> cr.rremainder(cr.tensor([3, -3]), 7)
        tensor([ 1, -2])
    """
    return remainder(b, a)


def fmod(a: TensorLike, b: TensorLike) -> Tensor:
    """C's remainder: the sign of ``a`` (``fmod(-7, 3) == -1``). Gradient as ``remainder`` with
    the quotient truncated toward zero.

    Example:
        >>> cr.fmod(cr.tensor([-7.0, 7.0]), 3)
        tensor([-1.,  1.])
    """

    def fmod_array(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        _check_int_divisor(y, "fmod")
        with _quiet():
            return np.fmod(x, y)

    a, b, out = _binary(a, b, fmod_array, "remainder")
    quotient = None
    if b.requires_grad:
        with _quiet():
            quotient = np.trunc(a._data / b._data).astype(out.dtype)
    return record(
        out, (a, b), _remainder_vjp, "Fmod", saved=quotient, save_inputs=False, save_output=False
    )


def _maximum_vjp(ctx: Node, g: Grad) -> Grads:
    # PyTorch's rule: ties share the gradient; a NaN on either side sends it to both (neither
    # a < b nor a > b holds); upstream NaNs reach only the side that was chosen.
    a, b = ctx._inputs[0]._data, ctx._inputs[1]._data
    a_lost, b_lost = (a < b, a > b) if ctx.saved == "max" else (a > b, a < b)
    g = d.where(a == b, g * 0.5, g)
    ga = unbroadcast(ctx, 0, d.where(a_lost, 0, g)) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, d.where(b_lost, 0, g)) if ctx.needs[1] else None
    return ga, gb


def maximum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise maximum (NaN if either is NaN), broadcast. Shape: the broadcast shape.

    Example:
        >>> cr.maximum(cr.tensor([1.0, 5.0]), cr.tensor([3.0, 2.0]))
        tensor([3., 5.])
    """
    a, b, out = _binary(a, b, np.maximum, "maximum")
    return record(out, (a, b), _maximum_vjp, "Maximum", saved="max", save_output=False)


def minimum(a: TensorLike, b: TensorLike) -> Tensor:
    """Elementwise minimum (NaN if either is NaN), broadcast. Shape: the broadcast shape.

    Example:
        >>> cr.minimum(cr.tensor([1.0, 5.0]), cr.tensor([3.0, 2.0]))
        tensor([1., 2.])
    """
    a, b, out = _binary(a, b, np.minimum, "minimum")
    return record(out, (a, b), _maximum_vjp, "Minimum", saved="min", save_output=False)


def _where_vjp(ctx: Node, g: Grad) -> Grads:
    cond = ctx.saved
    ga = unbroadcast(ctx, 0, d.where(cond, g, 0)) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, d.where(cond, 0, g)) if ctx.needs[1] else None
    return ga, gb


def where(condition: TensorLike, a: Any, b: Any) -> Tensor:
    """Elementwise ``a`` where ``condition`` else ``b``; no gradient to condition.

    Shapes: ``condition``, ``a`` and ``b`` broadcast together -> the broadcast shape.

    Example:
        >>> cr.where(cr.tensor([True, False]), cr.tensor([1.0, 2.0]), 0.0)
        tensor([1., 0.])
    """
    cond = np.asarray(condition._data if isinstance(condition, Tensor) else condition, dtype=bool)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor._wrap(to_array(a))  # Tensor(3) would be a size
    a, b = (tensor_operand(a, b), b) if not isinstance(a, Tensor) else (a, tensor_operand(b, a))
    if a.dtype != b.dtype:  # where(mask, int_tensor, 0.5) is float32, as in PyTorch
        dt = result_type(a, b)
        a, b = cast(a, dt), cast(b, dt)
    try:
        out = np.where(cond, a._data, b._data)
    except ValueError:
        raise shape_error("where", a.shape, b.shape, f" (condition {cond.shape})") from None
    return record(
        out, (a, b), _where_vjp, "Where", saved=cond, save_inputs=False, save_output=False
    )


# ---- unary ----


def _unary(
    x: Any,
    fn: Callable[..., Any],
    vjp: Callable[..., Any],
    name: str,
    saved: Any = None,
    save_input: bool = True,
    save_output: bool | None = None,
    floating: bool = True,
) -> Tensor:
    """``floating``: a float function, so integer and bool inputs become the default float dtype
    first (``exp(int_tensor)`` is float32, as in PyTorch)."""
    x = float_operand(x) if floating else as_tensor(x)
    # These vjps read their input or their output, not both: keep only what is read.
    keep_output = not save_input if save_output is None else save_output
    return record(
        fn(x._data), (x,), vjp, name, saved=saved, save_inputs=save_input, save_output=keep_output
    )


def neg(x: TensorLike) -> Tensor:
    """Elementwise ``-x`` (the unary ``-``). Shape: same as ``x``.

    Example:
        >>> cr.neg(cr.tensor([1.0, -2.0]))
        tensor([-1.,  2.])
    """
    return _unary(
        x,
        np.negative,
        lambda ctx, g: (-g,),
        "Neg",
        save_input=False,
        save_output=False,
        floating=False,
    )


def _exp_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # 0 * inf past an overflow is NaN, as in PyTorch
        return (g * ctx.output(),)


def exp(x: TensorLike) -> Tensor:
    """Elementwise ``e ** x``. Shape: same as ``x``; integers give the default float dtype.

    Example:
        >>> cr.exp(cr.tensor([0.0, 1.0]))
        tensor([1.    , 2.7183])
    """
    return _unary(x, _exp_array, _exp_vjp, "Exp", save_input=False)


def _log_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at the edge of the domain: inf or NaN, as in PyTorch
        return (g / ctx.input(0),)


def log(x: TensorLike) -> Tensor:
    """Elementwise natural logarithm: -inf at 0 and NaN below 0 (IEEE, no warning).

    Shape: same as ``x``; integers give the default float dtype.

    Example:
        >>> cr.log(cr.tensor([1.0, 0.0, -1.0]))
        tensor([  0., -inf,  nan])
    """
    return _unary(x, _log_array, _log_vjp, "Log")


def _log1p_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at the edge of the domain: inf or NaN, as in PyTorch
        return (g / (ctx.input(0) + 1),)


def log1p(x: TensorLike) -> Tensor:
    """Elementwise ``log(1 + x)``, accurate for small ``x``. Shape: same as ``x``.

    Example:
        >>> cr.log1p(cr.tensor([0.0, 1e-8]))
        tensor([0.e+00, 1.e-08])
    """
    return _unary(x, _log1p_array, _log1p_vjp, "Log1p")


def _expm1_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # 0 * inf past an overflow is NaN, as in PyTorch
        return (g * (ctx.output() + 1),)


def expm1(x: TensorLike) -> Tensor:
    """Elementwise ``exp(x) - 1``, accurate for small ``x``. Shape: same as ``x``.

    Example:
        >>> cr.expm1(cr.tensor([0.0, 1e-8]))
        tensor([0.e+00, 1.e-08])
    """
    return _unary(x, _expm1_array, _expm1_vjp, "Expm1", save_input=False)


def _sqrt_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at the edge of the domain: inf or NaN, as in PyTorch
        return (g / (2 * ctx.output()),)


def sqrt(x: TensorLike) -> Tensor:
    """Elementwise square root: NaN below 0 (no warning). Shape: same as ``x``.

    Example:
        >>> cr.sqrt(cr.tensor([4.0, 2.0]))
        tensor([2.    , 1.4142])
    """
    return _unary(x, _sqrt_array, _sqrt_vjp, "Sqrt", save_input=False)


def _rsqrt_vjp(ctx: Node, g: Grad) -> Grads:
    y = ctx.output()
    with _quiet():
        return (-0.5 * g * y * y * y,)


def rsqrt(x: TensorLike) -> Tensor:
    """Elementwise ``1 / sqrt(x)``: inf at 0. Shape: same as ``x``.

    Example:
        >>> cr.rsqrt(cr.tensor([4.0, 0.0]))
        tensor([0.5, inf])
    """
    x = float_operand(x)
    with _quiet():  # rsqrt(0) is inf, as in PyTorch
        out = 1 / np.sqrt(x._data)
    return record(out, (x,), _rsqrt_vjp, "Rsqrt", save_inputs=False)


def _abs_vjp(ctx: Node, g: Grad) -> Grads:
    x = ctx._inputs[0]._data
    return (g * ((x > 0).astype(x.dtype) - (x < 0)),)  # sign, 0 at NaN (as PyTorch's sgn)


def abs(x: TensorLike) -> Tensor:
    """Elementwise ``|x|``; the gradient is ``sign(x)`` (0 at 0). Shape: same as ``x``.

    Example:
        >>> cr.abs(cr.tensor([-2.0, 0.0, 3.0]))
        tensor([2., 0., 3.])
    """
    if as_tensor(x).dtype.kind == "b":
        raise RuntimeError("abs: not supported for bool tensors (as in PyTorch)")
    return _unary(x, np.abs, _abs_vjp, "Abs", floating=False)


def sign(x: TensorLike) -> Tensor:
    """Elementwise sign: -1, 0 or 1 (NaN stays NaN); zero gradient. Shape: same as ``x``.

    Example:
        >>> cr.sign(cr.tensor([-2.0, 0.0, 3.0]))
        tensor([-1.,  0.,  1.])
    """
    if as_tensor(x).dtype.kind == "b":
        return as_tensor(x).clone()  # sign of a bool is itself, as in PyTorch
    return _unary(
        x,
        np.sign,
        lambda ctx, g: (g * 0,),
        "Sign",
        save_input=False,
        save_output=False,
        floating=False,
    )


def _sin_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at +-inf: NaN or inf, as in PyTorch
        return (g * d.cos(ctx.input(0)),)


def sin(x: TensorLike) -> Tensor:
    """Elementwise sine (radians). Shape: same as ``x``.

    Example:
        >>> cr.sin(cr.tensor([0.0, 1.5707964]))
        tensor([0., 1.])
    """
    return _unary(x, _sin_array, _sin_vjp, "Sin")


def _cos_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at +-inf: NaN or inf, as in PyTorch
        return (-g * d.sin(ctx.input(0)),)


def cos(x: TensorLike) -> Tensor:
    """Elementwise cosine (radians). Shape: same as ``x``.

    Example:
        >>> cr.cos(cr.tensor([0.0, 3.1415927]))
        tensor([ 1., -1.])
    """
    return _unary(x, _cos_array, _cos_vjp, "Cos")


_LN10, _LN2 = float(np.log(10.0)), float(np.log(2.0))


def _log10_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at the edge of the domain: inf or NaN, as in PyTorch
        return (g / (ctx.input(0) * _LN10),)


def log10(x: TensorLike) -> Tensor:
    """Elementwise base-10 logarithm. Shape: same as ``x``.

    Example:
        >>> cr.log10(cr.tensor([1.0, 100.0]))
        tensor([0., 2.])
    """
    return _unary(x, _log10_array, _log10_vjp, "Log10")


def _log2_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at the edge of the domain: inf or NaN, as in PyTorch
        return (g / (ctx.input(0) * _LN2),)


def log2(x: TensorLike) -> Tensor:
    """Elementwise base-2 logarithm. Shape: same as ``x``.

    Example:
        >>> cr.log2(cr.tensor([1.0, 8.0]))
        tensor([0., 3.])
    """
    return _unary(x, _log2_array, _log2_vjp, "Log2")


def _sinh_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at +-inf: NaN or inf, as in PyTorch
        return (g * d.cosh(ctx.input(0)),)


def sinh(x: TensorLike) -> Tensor:
    """Elementwise hyperbolic sine. Shape: same as ``x``.

    Example:
        >>> cr.sinh(cr.tensor([0.0, 1.0]))
        tensor([0.    , 1.1752])
    """
    return _unary(x, _sinh_array, _sinh_vjp, "Sinh")


def _cosh_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at +-inf: NaN or inf, as in PyTorch
        return (g * d.sinh(ctx.input(0)),)


def cosh(x: TensorLike) -> Tensor:
    """Elementwise hyperbolic cosine. Shape: same as ``x``.

    Example:
        >>> cr.cosh(cr.tensor([0.0, 1.0]))
        tensor([1.    , 1.5431])
    """
    return _unary(x, _cosh_array, _cosh_vjp, "Cosh")


def _tan_vjp(ctx: Node, g: Grad) -> Grads:
    y = ctx.output()
    return (g * (1 + y * y),)


def tan(x: TensorLike) -> Tensor:
    """Elementwise tangent (radians). Shape: same as ``x``.

    Example:
        >>> cr.tan(cr.tensor([0.0, 0.7853982]))
        tensor([0., 1.])
    """
    return _unary(x, np.tan, _tan_vjp, "Tan", save_input=False)


def _asin_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at the edge of the domain: inf or NaN, as in PyTorch
        return (g / d.sqrt(1 - ctx.input(0) ** 2),)


def asin(x: TensorLike) -> Tensor:
    """Elementwise inverse sine (NaN outside [-1, 1]). Shape: same as ``x``.

    Example:
        >>> cr.asin(cr.tensor([0.0, 1.0]))
        tensor([0.    , 1.5708])
    """
    return _unary(x, _arcsin_array, _asin_vjp, "Asin")


def _acos_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at the edge of the domain: inf or NaN, as in PyTorch
        return (-g / d.sqrt(1 - ctx.input(0) ** 2),)


def acos(x: TensorLike) -> Tensor:
    """Elementwise inverse cosine (NaN outside [-1, 1]). Shape: same as ``x``.

    Example:
        >>> cr.acos(cr.tensor([1.0, 0.0]))
        tensor([0.    , 1.5708])
    """
    return _unary(x, _arccos_array, _acos_vjp, "Acos")


def atan(x: TensorLike) -> Tensor:
    """Elementwise inverse tangent. Shape: same as ``x``.

    Example:
        >>> cr.atan(cr.tensor([0.0, 1.0]))
        tensor([0.    , 0.7854])
    """
    return _unary(x, np.arctan, lambda ctx, g: (g / (1 + ctx.input(0) ** 2),), "Atan")


arcsin, arccos, arctan = asin, acos, atan


def asinh(x: TensorLike) -> Tensor:
    """Elementwise inverse hyperbolic sine. Shape: same as ``x``.

    Example:
        >>> cr.asinh(cr.tensor([0.0, 1.0]))
        tensor([0.    , 0.8814])
    """
    return _unary(x, np.arcsinh, lambda ctx, g: (g / d.sqrt(ctx.input(0) ** 2 + 1),), "Asinh")


def _acosh_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at 1 and below: inf or NaN, as in PyTorch
        return (g / d.sqrt(ctx.input(0) ** 2 - 1),)


def acosh(x: TensorLike) -> Tensor:
    """Elementwise inverse hyperbolic cosine (NaN below 1). Shape: same as ``x``.

    Example:
        >>> cr.acosh(cr.tensor([1.0, 2.0]))
        tensor([0.   , 1.317])
    """
    return _unary(x, _ieee(np.arccosh), _acosh_vjp, "Acosh")


def _atanh_vjp(ctx: Node, g: Grad) -> Grads:
    with _quiet():  # at +-1: inf, outside: NaN, as in PyTorch
        return (g / (1 - ctx.input(0) ** 2),)


def atanh(x: TensorLike) -> Tensor:
    """Elementwise inverse hyperbolic tangent (+-inf at +-1, NaN outside). Shape: same as ``x``.

    Example:
        >>> cr.atanh(cr.tensor([0.0, 0.5]))
        tensor([0.    , 0.5493])
    """
    return _unary(x, _ieee(np.arctanh), _atanh_vjp, "Atanh")


def _atan2_vjp(ctx: Node, g: Grad) -> Grads:
    y, x = ctx.input(0), ctx.input(1)
    with _quiet():  # at (0, 0): NaN, as in PyTorch
        scale = g / (x * x + y * y)
        gy = unbroadcast(ctx, 0, scale * x) if ctx.needs[0] else None
        gx = unbroadcast(ctx, 1, -scale * y) if ctx.needs[1] else None
    return gy, gx


def atan2(input: TensorLike, other: TensorLike) -> Tensor:
    """Elementwise angle of the point (other, input) = (x, y), in [-pi, pi]; broadcast.

    Shapes: input and other broadcast together.

    Example:
        >>> cr.atan2(cr.tensor([1.0, -1.0]), cr.tensor([0.0, -1.0]))
        tensor([ 1.5708, -2.3562])
    """
    y, x, out = _binary(input, other, np.arctan2, "atan2", floating=True)
    return record(out, (y, x), _atan2_vjp, "Atan2", save_output=False)


arcsinh, arccosh, arctanh, arctan2 = asinh, acosh, atanh, atan2


def _rounding(x: TensorLike, fn: Callable[..., Any], name: str) -> Tensor:
    # Piecewise constant: zero gradient (as PyTorch); integers are returned as they are.
    if as_tensor(x).dtype.kind == "b":
        raise RuntimeError(f"{name.lower()}: not supported for bool tensors (as in PyTorch)")
    return _unary(
        x, fn, lambda ctx, g: (g * 0,), name, save_input=False, save_output=False, floating=False
    )


def floor(x: TensorLike) -> Tensor:
    """Largest integer <= x, elementwise (float in, float out; integers unchanged).

    Example:
        >>> cr.floor(cr.tensor([1.5, -1.5]))
        tensor([ 1., -2.])
    """
    return _rounding(x, np.floor, "Floor")


def ceil(x: TensorLike) -> Tensor:
    """Smallest integer >= x, elementwise.

    Example:
        >>> cr.ceil(cr.tensor([1.5, -1.5]))
        tensor([ 2., -1.])
    """
    return _rounding(x, np.ceil, "Ceil")


def trunc(x: TensorLike) -> Tensor:
    """x rounded toward zero, elementwise.

    Example:
        >>> cr.trunc(cr.tensor([1.5, -1.5]))
        tensor([ 1., -1.])
    """
    return _rounding(x, np.trunc, "Trunc")


def round(x: TensorLike, decimals: int = 0) -> Tensor:
    """x rounded to ``decimals`` places; halves go to the even neighbour, as in PyTorch.

    Example:
        >>> cr.round(cr.tensor([0.5, 1.5, 2.25]))
        tensor([0., 2., 2.])
        >>> cr.round(cr.tensor([2.25]), decimals=1)
        tensor([2.2])
    """
    return _rounding(x, lambda a: np.round(a, decimals), "Round")


@reads_no_input_values
def _tanh_vjp(ctx: Node, g: Grad) -> Grads:
    y = ctx.output()
    return (g * (1 - y * y),)


def tanh(x: TensorLike) -> Tensor:
    """Elementwise hyperbolic tangent, in (-1, 1). Shape: same as ``x``.

    Example:
        >>> cr.tanh(cr.tensor([0.0, 100.0]))
        tensor([0., 1.])
    """
    return _unary(x, np.tanh, _tanh_vjp, "Tanh", save_input=False)


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` on an array, in its dtype (the forward of ``sigmoid``)."""
    # exp of a negative number only: no overflow warning for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _sigmoid_grad_array(g: Any, y: Any) -> Any:
    return g * y * (1 - y)


def _sigmoid_grad_vjp(ctx: Node, gg: Grad) -> Grads:
    # PyTorch's formula: d/dy is g * (1 - 2y) in one term. The product rule on g * y * (1 - y)
    # gives two, g * (1 - y) - g * y, which is inf - inf = NaN when g is infinite.
    g, y = ctx.input(0), ctx.input(1)
    return (
        _sigmoid_grad(gg, y) if ctx.needs[0] else None,
        gg * g * (1 - 2 * y) if ctx.needs[1] else None,
    )


def _sigmoid_grad_recorded(g: Grad, y: Grad) -> Tensor:
    g, y = as_tensor(g), as_tensor(y)
    data = _sigmoid_grad_array(g._data, y._data)
    return record(data, (g, y), _sigmoid_grad_vjp, "SigmoidBackward", save_output=False)


# sigmoid's backward g * y * (1 - y) as one op, so that its own derivative is PyTorch's
_sigmoid_grad = d.primitive(_sigmoid_grad_array, _sigmoid_grad_recorded)


@reads_no_input_values
def _sigmoid_vjp(ctx: Node, g: Grad) -> Grads:
    return (_sigmoid_grad(g, ctx.output()),)


def sigmoid(x: TensorLike) -> Tensor:
    """Elementwise logistic function ``1 / (1 + exp(-x))``, without overflow. Shape: same as
    ``x``.

    Example:
        >>> cr.sigmoid(cr.tensor([0.0, 100.0]))
        tensor([0.5, 1. ])
    """
    return _unary(x, sigmoid_array, _sigmoid_vjp, "Sigmoid", save_input=False)


@reads_no_input_values
def _relu_vjp(ctx: Node, g: Grad) -> Grads:
    # PyTorch's threshold rule: blocked where the result is <= 0, so a NaN input passes g on.
    return (d.zero_where_(ctx.out_data <= 0, g),)


def relu(x: TensorLike) -> Tensor:
    """Elementwise ``max(x, 0)``; the gradient is blocked where the result is <= 0.

    Shape: same as ``x``.

    Example:
        >>> cr.relu(cr.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    x = as_tensor(x)
    # maximum(0, x), not (x, 0): NumPy returns the second on a tie, so relu(-0.0) is -0.0 (torch)
    return record(np.maximum(0, x._data), (x,), _relu_vjp, "Relu", save_inputs=False)


def _clamp_vjp(ctx: Node, g: Grad) -> Grads:
    lo, hi = ctx.saved
    x = ctx._inputs[0]._data
    return (d.where((x >= lo) & (x <= hi), g, 0),)  # inside [min, max]; NaN is not inside


def clamp(x: TensorLike, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
    """Limit values to [min, max]; the gradient passes where min <= x <= max (as in PyTorch).

    Example:
        >>> cr.clamp(cr.tensor([-2.0, 0.5, 3.0]), min=0.0, max=1.0)
        tensor([0. , 0.5, 1. ])
    """
    x = as_tensor(x)
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    # The result takes the promoted dtype of x and the bounds: clamp(int_tensor, 0.5) is float32.
    if x.dtype.kind != "f" or isinstance(min, Tensor) or isinstance(max, Tensor):
        dt = result_type(x, *(v for v in (min, max) if v is not None))
        if dt != x.dtype:  # (a Python number never widens a float tensor)
            x = cast(x, dt)
    lo = -np.inf if min is None else (min._data if isinstance(min, Tensor) else min)
    hi = np.inf if max is None else (max._data if isinstance(max, Tensor) else max)
    out = np.clip(x._data, lo, hi).astype(x.dtype, copy=False)
    return record(out, (x,), _clamp_vjp, "Clamp", saved=(lo, hi), save_output=False)


clip = clamp


def square(x: TensorLike) -> Tensor:
    """Elementwise ``x * x``. Shape: same as ``x``.

    Example:
        >>> cr.square(cr.tensor([-2.0, 3.0]))
        tensor([4., 9.])
    """
    return mul(x, x)


def _cast_vjp(ctx: Node, g: Grad) -> Grads:
    dtype = ctx._inputs[0].dtype
    return (d.astype(g, dtype),)


def to_dtype(x: Tensor, dtype: DTypeLike) -> Tensor:
    """Cast; differentiable between floating dtypes.

    Example:
        >>> cr.to_dtype(cr.tensor([1.7, -1.7]), cr.int64)
        tensor([ 1, -1])
    """
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    out = record(
        x._data.astype(dtype), (x,), _cast_vjp, "Cast", save_inputs=False, save_output=False
    )
    if dtype.kind not in "fc":
        out.requires_grad, out._node = False, None
    return out


def clone(x: Tensor) -> Tensor:
    """A copy of ``x`` that is still in the graph (the gradient passes through unchanged).

    Shape: same as ``x``.

    Example:
        >>> x = cr.tensor([1.0, 2.0])
        >>> y = cr.clone(x)
        >>> y[0] = 5.0
        >>> x
        tensor([1., 2.])
    """
    return record(
        x._data.copy(), (x,), lambda ctx, g: (g,), "Clone", save_inputs=False, save_output=False
    )
