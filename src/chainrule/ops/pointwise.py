"""Elementwise ops: arithmetic with broadcasting, and the unary functions.

Each op is a forward on arrays followed by its vjp. A vjp reads its inputs with ``ctx.input(i)``
and its result with ``ctx.output()``: arrays on the fast path, Tensors when the backward pass is
itself recorded (``create_graph=True``). Masks and signs are constants, so they always come from
``._data``.
"""
import numpy as np

from ..autograd.engine import record
from ..tensor import Tensor
from ._util import ARRAY_FUNCTIONS, as_tensor, call, shape_error, tensor_operand, unbroadcast


def _binary(a, b, fn, op):
    if not isinstance(a, Tensor):
        a = tensor_operand(a, b)
    if not isinstance(b, Tensor):
        b = tensor_operand(b, a)
    try:
        out = fn(a._data, b._data)
    except ValueError as e:
        raise shape_error(op, a.shape, b.shape, f" (cannot broadcast: {e})") from None
    dt = out.dtype
    if dt is not a._data.dtype and dt != a.dtype and dt != b.dtype and dt.kind == "f":
        # int with float32 gives float32 (as in PyTorch), where NumPy would widen to float64
        out = out.astype(a.dtype if a.dtype.kind == "f" else b.dtype)
    return a, b, out


# ---- arithmetic ----

def _add_vjp(ctx, g):
    return unbroadcast(ctx, 0, g), unbroadcast(ctx, 1, g)


def add(a, b):
    a, b, out = _binary(a, b, np.add, "add")
    return record(out, (a, b), _add_vjp, "Add", save_inputs=False, save_output=False)


def _sub_vjp(ctx, g):
    return unbroadcast(ctx, 0, g), unbroadcast(ctx, 1, -g) if ctx.needs[1] else None


def sub(a, b):
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
    return record(out, (a, b), _mul_vjp, "Mul", save_inputs=(b.requires_grad, a.requires_grad),
                  save_output=False)


def _div_vjp(ctx, g):
    b = ctx.input(1)
    ga = unbroadcast(ctx, 0, g / b) if ctx.needs[0] else None
    # PyTorch's form -g * ((a / b) / b): no b * b, which overflows and, recorded, gives 0 * Inf
    gb = unbroadcast(ctx, 1, -g * ((ctx.input(0) / b) / b)) if ctx.needs[1] else None
    return ga, gb


def div(a, b):
    a, b, out = _binary(a, b, np.true_divide, "div")
    if out.dtype.kind != "f" and a.dtype.kind in "iub":
        out = out.astype(np.result_type(a._data.dtype, b._data.dtype, np.float32))
    return record(out, (a, b), _div_vjp, "Div", save_inputs=(b.requires_grad, True),
                  save_output=False)


def rdiv(a, b):
    return div(b, a)


def _pow_vjp(ctx, g):
    a, b = ctx.input(0), ctx.input(1)
    ga = unbroadcast(ctx, 0, g * b * a ** (b - 1)) if ctx.needs[0] else None
    if not ctx.needs[1]:
        return ga, None
    # d(a^b)/db = a^b log a; the limit at a = 0 is 0 (PyTorch's convention), never 0 * -inf.
    positive = (ctx.inputs[0]._data > 0).astype(ctx.inputs[0].dtype)
    safe_a = a * positive + (1 - positive)
    return ga, unbroadcast(ctx, 1, g * ctx.output() * call("log", safe_a))


def pow(a, b):
    a, b, out = _binary(a, b, np.power, "pow")
    return record(out, (a, b), _pow_vjp, "Pow", save_output=b.requires_grad)


def rpow(a, b):
    return pow(b, a)


def _select(mask, g, other=0):
    """``g`` where ``mask`` else ``other``: a select, never ``g * mask`` (NaN * 0 is NaN, and a
    NaN gradient must not reach the entries or the branch that were not chosen)."""
    return np.where(mask, g, other) if type(g) is np.ndarray else call("where", mask, g, other)


def _maximum_vjp(ctx, g):
    # PyTorch's rule: ties share the gradient; a NaN on either side sends it to both (neither
    # a < b nor a > b holds); upstream NaNs reach only the side that was chosen.
    a, b = ctx.inputs[0]._data, ctx.inputs[1]._data
    a_lost, b_lost = (a < b, a > b) if ctx.saved == "max" else (a > b, a < b)
    g = _select(a == b, g * 0.5, g)
    ga = unbroadcast(ctx, 0, _select(a_lost, 0, g)) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, _select(b_lost, 0, g)) if ctx.needs[1] else None
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
    ga = unbroadcast(ctx, 0, _select(cond, g)) if ctx.needs[0] else None
    gb = unbroadcast(ctx, 1, _select(cond, 0, g)) if ctx.needs[1] else None
    return ga, gb


def where(condition, a, b):
    """Elementwise ``a`` where ``condition`` else ``b`` (broadcast); no gradient to condition."""
    cond = np.asarray(condition._data if isinstance(condition, Tensor) else condition, dtype=bool)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    a, b = (tensor_operand(a, b), b) if not isinstance(a, Tensor) else (a, tensor_operand(b, a))
    try:
        out = np.where(cond, a._data, b._data)
    except ValueError:
        raise shape_error("where", a.shape, b.shape, f" (condition {cond.shape})") from None
    return record(out, (a, b), _where_vjp, "Where", saved=cond, save_inputs=False,
                  save_output=False)


# ---- unary ----

def _unary(x, fn, vjp, name, saved=None, save_input=True, save_output=None):
    x = as_tensor(x)
    # These vjps read their input or their output, not both: keep only what is read.
    keep_output = not save_input if save_output is None else save_output
    return record(fn(x._data), (x,), vjp, name, saved=saved, save_inputs=save_input,
                  save_output=keep_output)


def neg(x):
    return _unary(x, np.negative, lambda ctx, g: (-g,), "Neg", save_input=False, save_output=False)


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
    x = as_tensor(x)
    return record(1 / np.sqrt(x._data), (x,), _rsqrt_vjp, "Rsqrt", save_inputs=False)


def _abs_vjp(ctx, g):
    x = ctx.inputs[0]._data
    return (g * ((x > 0).astype(x.dtype) - (x < 0)),)   # sign, 0 at NaN (as PyTorch's sgn)


def abs(x):
    return _unary(x, np.abs, _abs_vjp, "Abs")


def sign(x):
    return _unary(x, np.sign, lambda ctx, g: (g * 0,), "Sign", save_input=False,
                  save_output=False)


def sin(x):
    return _unary(x, np.sin, lambda ctx, g: (g * call("cos", ctx.input(0)),), "Sin")


def cos(x):
    return _unary(x, np.cos, lambda ctx, g: (-g * call("sin", ctx.input(0)),), "Cos")


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


ARRAY_FUNCTIONS["sigmoid"] = sigmoid_array


def _relu_vjp(ctx, g):
    # PyTorch's threshold rule: blocked where the result is <= 0, so a NaN input passes g on.
    return (_select(ctx.out_data <= 0, 0, g),)


def relu(x):
    x = as_tensor(x)
    return record(np.maximum(x._data, 0), (x,), _relu_vjp, "Relu", save_inputs=False)


def _clamp_vjp(ctx, g):
    lo, hi = ctx.saved
    x = ctx.inputs[0]._data
    return (_select((x >= lo) & (x <= hi), g),)     # inside [min, max]; NaN is not inside


def clamp(x, min=None, max=None):
    """Limit values to [min, max]; the gradient passes where min <= x <= max (as in PyTorch)."""
    x = as_tensor(x)
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    lo = -np.inf if min is None else (min._data if isinstance(min, Tensor) else min)
    hi = np.inf if max is None else (max._data if isinstance(max, Tensor) else max)
    out = np.clip(x._data, lo, hi).astype(x.dtype, copy=False)
    return record(out, (x,), _clamp_vjp, "Clamp", saved=(lo, hi), save_output=False)


clip = clamp


def square(x):
    return mul(x, x)


def _cast_vjp(ctx, g):
    dtype = ctx.inputs[0].dtype
    return (g.astype(dtype) if type(g) is np.ndarray else g.to(dtype),)


def to_dtype(x, dtype):
    """Cast; differentiable between floating dtypes."""
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    out = record(x._data.astype(dtype), (x,), _cast_vjp, "Cast", save_inputs=False, save_output=False)
    if dtype.kind not in "fc":
        out.requires_grad, out._node = False, None
    return out


def clone(x):
    return record(x._data.copy(), (x,), lambda ctx, g: (g,), "Clone", save_inputs=False,
                  save_output=False)
