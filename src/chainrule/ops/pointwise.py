"""Elementwise ops: arithmetic with broadcasting, and the unary functions.

Each op is a forward on arrays followed by its vjp. A vjp reads its inputs with ``ctx.input(i)``
and its result with ``ctx.output()``: arrays on the fast path, Tensors when the backward pass is
itself recorded (``create_graph=True``). Masks and signs are constants, so they always come from
``._data``.
"""

from ..autograd.engine import record
from ..backend import xp as np
from ..tensor import Tensor
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


def _binary(a, b, fn, op, floating=False):
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


def _is_bool(x):
    return (
        (x.dtype.kind == "b")
        if isinstance(x, (Tensor, np.ndarray))
        else isinstance(x, (bool, np.bool_))
    )


# ---- arithmetic ----


def _add_vjp(ctx, g):
    return unbroadcast(ctx, 0, g), unbroadcast(ctx, 1, g)


def add(a, b):
    a, b, out = _binary(a, b, np.add, "add")
    return record(out, (a, b), _add_vjp, "Add", save_inputs=False, save_output=False)


def _sub_vjp(ctx, g):
    return unbroadcast(ctx, 0, g), unbroadcast(ctx, 1, -g) if ctx.needs[1] else None


def sub(a, b):
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError(
            "sub: subtraction (the - operator) with a bool tensor or number is not "
            "supported (as in PyTorch); to invert a mask use ~ or logical_not()"
        )
    a, b, out = _binary(a, b, np.subtract, "sub")
    return record(out, (a, b), _sub_vjp, "Sub", save_inputs=False, save_output=False)


def rsub(a, b):
    return sub(b, a)


def _mul_vjp(ctx, g):
    ga = unbroadcast(ctx, 0, g * ctx.input(1)) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, g * ctx.input(0)) if ctx.needs[1] else None
    return ga, gb


def mul(a, b):
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


def _div_vjp(ctx, g):
    b = ctx.input(1)
    ga = unbroadcast(ctx, 0, g / b) if ctx.needs[0] else None
    # PyTorch's form -g * ((a / b) / b): no b * b, which overflows and, recorded, gives 0 * Inf
    gb = unbroadcast(ctx, 1, -g * ((ctx.input(0) / b) / b)) if ctx.needs[1] else None
    return ga, gb


def div(a, b, rounding_mode=None):
    """True division: always floating (``int_tensor / 2`` is float32, as in PyTorch).

    ``rounding_mode="floor"`` is ``floor_divide``; ``"trunc"`` rounds toward zero (C division).
    """
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        return _trunc_divide(a, b)
    if rounding_mode is not None:
        raise ValueError(
            f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}"
        )
    a, b, out = _binary(a, b, np.true_divide, "div", floating=True)
    return record(
        out, (a, b), _div_vjp, "Div", save_inputs=(b.requires_grad, True), save_output=False
    )


def rdiv(a, b):
    return div(b, a)


def _pow_vjp(ctx, g):
    a, b = ctx.input(0), ctx.input(1)
    ga = None
    if ctx.needs[0]:
        # b * a^(b-1) is 0 where b = 0, also at a = 0 (PyTorch's convention), never 0 * inf.
        zero_b = ctx._inputs[1]._data == 0
        if zero_b.any():  # rare: 0 ** -1 there is inf and is not used (no warning)
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = d.where(zero_b, 0, g * b * a ** (b - 1))
        else:
            ga = g * b * a ** (b - 1)
        ga = unbroadcast(ctx, 0, ga)
    if not ctx.needs[1]:
        return ga, None
    # d(a^b)/db = a^b log a; the limit at a = 0 is 0 (PyTorch's convention), never 0 * -inf.
    positive = (ctx._inputs[0]._data > 0).astype(ctx._inputs[0].dtype)
    safe_a = a * positive + (1 - positive)
    return ga, unbroadcast(ctx, 1, g * ctx.output() * d.log(safe_a))


def _int_power(a, b):
    """Integer powers; a negative exponent gives 1/a**|b| truncated, i.e. 0 unless |a| == 1 (as
    PyTorch's tensor exponents; NumPy refuses them)."""
    negative = b < 0
    if not negative.any():
        return np.power(a, b)
    out = np.power(a, np.where(negative, 0, b))
    odd = (b % 2).astype(bool)
    at_neg = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0)).astype(out.dtype)
    return np.where(negative, at_neg, out)


def pow(a, b):
    if isinstance(a, Tensor) and a.dtype.kind in "iub" and isinstance(b, (int, np.integer)):
        if b < 0:
            raise RuntimeError("pow: integers to negative integer powers are not allowed")
        if a.dtype.kind == "b" and isinstance(b, (bool, np.bool_)):  # mask ** True is mask
            return Tensor._wrap(a._data.copy() if b else np.ones_like(a._data))
    a, b, out = _binary(
        a, b, lambda x, y: (_int_power if x.dtype.kind in "iu" else np.power)(x, y), "pow"
    )
    return record(out, (a, b), _pow_vjp, "Pow", save_output=b.requires_grad)


def rpow(a, b):
    return pow(b, a)


# Gradients are masked with a select (d.where), never ``g * mask``: NaN * 0 is NaN, and a NaN
# gradient must not reach the entries or the branch that were not chosen.


def _check_int_divisor(b, op):
    if b.dtype.kind in "iub" and not np.all(b):
        raise RuntimeError(f"{op}: integer division by zero (ZeroDivisionError)")


def _floor_divide_array(a, b):
    _check_int_divisor(b, "floor_divide")
    with np.errstate(divide="ignore", invalid="ignore"):  # x // 0.0 is +-inf or nan, as in PyTorch
        return np.floor_divide(a, b)


def _zero_vjp(ctx, g):
    # Piecewise constant: the derivative is 0 wherever it exists.
    return tuple(unbroadcast(ctx, i, g * 0) for i in range(2))


def floor_divide(a, b):
    """``a // b`` rounded toward minus infinity, as Python's ``//`` (``-7 // 2 == -4``).

    Integers stay integers; dividing an integer by 0 raises. Gradient: 0 (piecewise constant).
    Example: ``cr.tensor([5, -5]) // 3`` is ``tensor([1, -2])``.
    """
    a, b, out = _binary(a, b, _floor_divide_array, "floor_divide")
    return record(out, (a, b), _zero_vjp, "FloorDivide", save_inputs=False, save_output=False)


def rfloor_divide(a, b):
    return floor_divide(b, a)


def _trunc_divide(a, b):
    def trunc_div(x, y):
        _check_int_divisor(y, "div")
        if x.dtype.kind in "iu":
            q = np.floor_divide(x, y)
            return q + ((q < 0) & (q * y != x))  # floor -> toward zero for inexact negatives
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.trunc(x / y)

    a, b, out = _binary(a, b, trunc_div, "floor_divide")
    return record(out, (a, b), _zero_vjp, "TruncDivide", save_inputs=False, save_output=False)


def _remainder_array(a, b):
    _check_int_divisor(b, "remainder")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.remainder(a, b)


def _remainder_vjp(ctx, g):
    # a % b = a - b * floor(a / b); the quotient is piecewise constant.
    ga = unbroadcast(ctx, 0, g) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, -g * ctx.saved) if ctx.needs[1] else None
    return ga, gb


def remainder(a, b):
    """``a % b`` with the sign of ``b``, as Python's ``%`` (``-7 % 3 == 2``); also for floats.

    Gradient: 1 for ``a``, ``-floor(a / b)`` for ``b``. Example: ``cr.tensor([5, -5]) % 3`` is
    ``tensor([2, 1])``.
    """
    a, b, out = _binary(a, b, _remainder_array, "remainder")
    quotient = None
    if b.requires_grad:
        with np.errstate(divide="ignore", invalid="ignore"):
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


def rremainder(a, b):
    return remainder(b, a)


def fmod(a, b):
    """C's remainder: the sign of ``a`` (``fmod(-7, 3) == -1``). Gradient as ``remainder`` with
    the quotient truncated toward zero."""

    def fmod_array(x, y):
        _check_int_divisor(y, "fmod")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.fmod(x, y)

    a, b, out = _binary(a, b, fmod_array, "remainder")
    quotient = None
    if b.requires_grad:
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient = np.trunc(a._data / b._data).astype(out.dtype)
    return record(
        out, (a, b), _remainder_vjp, "Fmod", saved=quotient, save_inputs=False, save_output=False
    )


def _maximum_vjp(ctx, g):
    # PyTorch's rule: ties share the gradient; a NaN on either side sends it to both (neither
    # a < b nor a > b holds); upstream NaNs reach only the side that was chosen.
    a, b = ctx._inputs[0]._data, ctx._inputs[1]._data
    a_lost, b_lost = (a < b, a > b) if ctx.saved == "max" else (a > b, a < b)
    g = d.where(a == b, g * 0.5, g)
    ga = unbroadcast(ctx, 0, d.where(a_lost, 0, g)) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, d.where(b_lost, 0, g)) if ctx.needs[1] else None
    return ga, gb


def maximum(a, b):
    """Elementwise maximum (NaN if either is NaN), broadcast. Shape: the broadcast shape.

    Example::

        cr.maximum(cr.tensor([1.0, 5.0]), cr.tensor([3.0, 2.0]))   # tensor([3., 5.])
    """
    a, b, out = _binary(a, b, np.maximum, "maximum")
    return record(out, (a, b), _maximum_vjp, "Maximum", saved="max", save_output=False)


def minimum(a, b):
    """Elementwise minimum (NaN if either is NaN), broadcast. Shape: the broadcast shape.

    Example::

        cr.minimum(cr.tensor([1.0, 5.0]), cr.tensor([3.0, 2.0]))   # tensor([1., 2.])
    """
    a, b, out = _binary(a, b, np.minimum, "minimum")
    return record(out, (a, b), _maximum_vjp, "Minimum", saved="min", save_output=False)


def _where_vjp(ctx, g):
    cond = ctx.saved
    ga = unbroadcast(ctx, 0, d.where(cond, g, 0)) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, d.where(cond, 0, g)) if ctx.needs[1] else None
    return ga, gb


def where(condition, a, b):
    """Elementwise ``a`` where ``condition`` else ``b`` (broadcast); no gradient to condition."""
    cond = np.asarray(condition._data if isinstance(condition, Tensor) else condition, dtype=bool)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
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


def _unary(x, fn, vjp, name, saved=None, save_input=True, save_output=None, floating=True):
    """``floating``: a float function, so integer and bool inputs become the default float dtype
    first (``exp(int_tensor)`` is float32, as in PyTorch)."""
    x = float_operand(x) if floating else as_tensor(x)
    # These vjps read their input or their output, not both: keep only what is read.
    keep_output = not save_input if save_output is None else save_output
    return record(
        fn(x._data), (x,), vjp, name, saved=saved, save_inputs=save_input, save_output=keep_output
    )


def neg(x):
    return _unary(
        x,
        np.negative,
        lambda ctx, g: (-g,),
        "Neg",
        save_input=False,
        save_output=False,
        floating=False,
    )


def exp(x):
    return _unary(x, np.exp, lambda ctx, g: (g * ctx.output(),), "Exp", save_input=False)


def log(x):
    return _unary(x, np.log, lambda ctx, g: (g / ctx.input(0),), "Log")


def log1p(x):
    return _unary(x, np.log1p, lambda ctx, g: (g / (ctx.input(0) + 1),), "Log1p")


def expm1(x):
    return _unary(x, np.expm1, lambda ctx, g: (g * (ctx.output() + 1),), "Expm1", save_input=False)


def sqrt(x):
    return _unary(x, np.sqrt, lambda ctx, g: (g / (2 * ctx.output()),), "Sqrt", save_input=False)


def _rsqrt_vjp(ctx, g):
    y = ctx.output()
    return (-0.5 * g * y * y * y,)


def rsqrt(x):
    x = float_operand(x)
    return record(1 / np.sqrt(x._data), (x,), _rsqrt_vjp, "Rsqrt", save_inputs=False)


def _abs_vjp(ctx, g):
    x = ctx._inputs[0]._data
    return (g * ((x > 0).astype(x.dtype) - (x < 0)),)  # sign, 0 at NaN (as PyTorch's sgn)


def abs(x):
    if as_tensor(x).dtype.kind == "b":
        raise RuntimeError("abs: not supported for bool tensors (as in PyTorch)")
    return _unary(x, np.abs, _abs_vjp, "Abs", floating=False)


def sign(x):
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


def sin(x):
    return _unary(x, np.sin, lambda ctx, g: (g * d.cos(ctx.input(0)),), "Sin")


def cos(x):
    return _unary(x, np.cos, lambda ctx, g: (-g * d.sin(ctx.input(0)),), "Cos")


_LN10, _LN2 = float(np.log(10.0)), float(np.log(2.0))


def log10(x):
    return _unary(x, np.log10, lambda ctx, g: (g / (ctx.input(0) * _LN10),), "Log10")


def log2(x):
    return _unary(x, np.log2, lambda ctx, g: (g / (ctx.input(0) * _LN2),), "Log2")


def sinh(x):
    return _unary(x, np.sinh, lambda ctx, g: (g * d.cosh(ctx.input(0)),), "Sinh")


def cosh(x):
    return _unary(x, np.cosh, lambda ctx, g: (g * d.sinh(ctx.input(0)),), "Cosh")


def _tan_vjp(ctx, g):
    y = ctx.output()
    return (g * (1 + y * y),)


def tan(x):
    return _unary(x, np.tan, _tan_vjp, "Tan", save_input=False)


def asin(x):
    return _unary(x, np.arcsin, lambda ctx, g: (g / d.sqrt(1 - ctx.input(0) ** 2),), "Asin")


def acos(x):
    return _unary(x, np.arccos, lambda ctx, g: (-g / d.sqrt(1 - ctx.input(0) ** 2),), "Acos")


def atan(x):
    return _unary(x, np.arctan, lambda ctx, g: (g / (1 + ctx.input(0) ** 2),), "Atan")


arcsin, arccos, arctan = asin, acos, atan


def _rounding(x, fn, name):
    # Piecewise constant: zero gradient (as PyTorch); integers are returned as they are.
    if as_tensor(x).dtype.kind == "b":
        raise RuntimeError(f"{name.lower()}: not supported for bool tensors (as in PyTorch)")
    return _unary(
        x, fn, lambda ctx, g: (g * 0,), name, save_input=False, save_output=False, floating=False
    )


def floor(x):
    """Largest integer <= x, elementwise (float in, float out; integers unchanged)."""
    return _rounding(x, np.floor, "Floor")


def ceil(x):
    """Smallest integer >= x, elementwise."""
    return _rounding(x, np.ceil, "Ceil")


def trunc(x):
    """x rounded toward zero, elementwise."""
    return _rounding(x, np.trunc, "Trunc")


def round(x, decimals=0):
    """x rounded to ``decimals`` places; halves go to the even neighbour, as in PyTorch."""
    return _rounding(x, lambda a: np.round(a, decimals), "Round")


def _tanh_vjp(ctx, g):
    y = ctx.output()
    return (g * (1 - y * y),)


def tanh(x):
    return _unary(x, np.tanh, _tanh_vjp, "Tanh", save_input=False)


def sigmoid_array(x):
    # exp of a negative number only: no overflow warning for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _sigmoid_vjp(ctx, g):
    y = ctx.output()
    return (g * y * (1 - y),)


def sigmoid(x):
    return _unary(x, sigmoid_array, _sigmoid_vjp, "Sigmoid", save_input=False)


def _relu_vjp(ctx, g):
    # PyTorch's threshold rule: blocked where the result is <= 0, so a NaN input passes g on.
    return (d.where(ctx.out_data <= 0, 0, g),)


def relu(x):
    x = as_tensor(x)
    # maximum(0, x), not (x, 0): NumPy returns the second on a tie, so relu(-0.0) is -0.0 (torch)
    return record(np.maximum(0, x._data), (x,), _relu_vjp, "Relu", save_inputs=False)


def _clamp_vjp(ctx, g):
    lo, hi = ctx.saved
    x = ctx._inputs[0]._data
    return (d.where((x >= lo) & (x <= hi), g, 0),)  # inside [min, max]; NaN is not inside


def clamp(x, min=None, max=None):
    """Limit values to [min, max]; the gradient passes where min <= x <= max (as in PyTorch)."""
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


def square(x):
    return mul(x, x)


def _cast_vjp(ctx, g):
    dtype = ctx._inputs[0].dtype
    return (d.astype(g, dtype),)


def to_dtype(x, dtype):
    """Cast; differentiable between floating dtypes."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    out = record(
        x._data.astype(dtype), (x,), _cast_vjp, "Cast", save_inputs=False, save_output=False
    )
    if dtype.kind not in "fc":
        out.requires_grad, out._node = False, None
    return out


def clone(x):
    return record(
        x._data.copy(), (x,), lambda ctx, g: (g,), "Clone", save_inputs=False, save_output=False
    )
