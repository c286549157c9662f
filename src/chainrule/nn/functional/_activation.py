"""Activation functions, PyTorch's ``torch.nn.functional`` names and defaults.

Each is an elementwise primitive (one NumPy forward, one analytic vjp) unless it is a one-liner
of existing ops. The vjps dispatch through ``ops._util.call`` and read masks from ``._data``, so they also
work when the backward pass is recorded (``create_graph=True``).
"""

import math
import warnings

import numpy as np

from ...autograd.engine import record
from ...ops import dispatch as d
from ...ops import log_softmax as _log_softmax
from ...ops import relu as _relu
from ...ops import sigmoid as _sigmoid
from ...ops import softmax as _softmax
from ...ops import tanh as _tanh
from ...ops._util import as_tensor
from ...ops.inplace import apply as _apply_in_place
from ...ops.pointwise import sigmoid_array
from ...ops.special import erf_array

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_C = 0.044715


def _elementwise(x, forward, vjp, name, saved=None):
    # the vjps here read the input, never the output: the output is not kept (nor version
    # checked), so an in-place op after it (ReLU(inplace=True), Dropout(inplace=True)) is
    # allowed, as in PyTorch
    x = as_tensor(x)
    return record(forward(x._data), (x,), vjp, name, saved=saved, save_output=False)


def _in_place(input, name, compute):
    """PyTorch's ``inplace=True``: ``compute(input)`` is written into ``input``, which is
    returned. In a graph it is recorded as the in-place op ``name`` (a leaf that requires grad
    refuses; a node that saved the old value refuses to backward), as ``x.relu_()`` is."""
    return _apply_in_place(as_tensor(input), name, compute)


def _scalar(x, value):
    """``value`` as a NumPy scalar of x's dtype, so float32 arrays stay float32."""
    return x.dtype.type(value) if x.dtype.kind == "f" else value


def relu(input, inplace=False):
    """max(x, 0) elementwise; with ``inplace=True`` written into ``input`` (returned).

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.relu(x)
        tensor([0., 0., 3.])
    """
    if inplace:
        return _in_place(input, "relu_", _relu)
    return _relu(input)


def _leaky_relu_vjp(ctx, g):
    slope = ctx.saved
    x = ctx.inputs[0]._data
    return (g * np.where(x > 0, 1, slope).astype(x.dtype),)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x for x > 0, ``negative_slope * x`` otherwise.

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.leaky_relu(x, 0.1)
        tensor([-0.2,  0. ,  3. ])
    """
    if inplace:
        return _in_place(input, "leaky_relu_", lambda x: leaky_relu(x, negative_slope))
    return _elementwise(
        input,
        lambda x: np.where(x > 0, x, x * _scalar(x, negative_slope)),
        _leaky_relu_vjp,
        "LeakyRelu",
        saved=negative_slope,
    )


def _elu_vjp(ctx, g):
    alpha, scale = ctx.saved
    x = ctx.input(0)
    positive = ctx.inputs[0]._data > 0
    # From the input, as PyTorch's non-in-place ELU: its output may be changed in place later.
    # The exp of a positive x is not used (and may overflow: min keeps it finite).
    return (g * d.where(positive, scale, d.exp(d.clip(x, None, 0)) * (scale * alpha)),)


def _elu(input, alpha, scale, name):
    def forward(x):
        neg = np.expm1(np.minimum(x, 0)) * _scalar(x, alpha)
        return np.where(x > 0, x, neg) * _scalar(x, scale)

    return _elementwise(input, forward, _elu_vjp, name, saved=(alpha, scale))


def elu(input, alpha=1.0, inplace=False):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise.

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.elu(x)
        tensor([-0.8647,  0.    ,  3.    ])
    """
    if inplace:
        return _in_place(input, "elu_", lambda x: _elu(x, alpha, 1.0, "Elu"))
    return _elu(input, alpha, 1.0, "Elu")


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants of Klambauer et al.

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.selu(x)
        tensor([-1.5202,  0.    ,  3.1521])
    """
    if inplace:
        return _in_place(input, "selu_", selu)
    return _elu(input, SELU_ALPHA, SELU_SCALE, "Selu")


def _gelu_exact_vjp(ctx, g):
    x = ctx.input(0)
    cdf = 0.5 * (1 + d.erf(x * (1 / math.sqrt(2.0))))
    pdf = d.exp(-0.5 * (x * x)) * (1 / math.sqrt(2 * math.pi))
    return (g * (cdf + x * pdf),)


def _gelu_tanh_vjp(ctx, g):
    x = ctx.input(0)
    inner = _SQRT_2_OVER_PI * (x + _GELU_TANH_C * x * x * x)
    t = d.tanh(inner)
    d_inner = _SQRT_2_OVER_PI * (1 + 3 * _GELU_TANH_C * x * x)
    return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner),)


def _gelu_tanh_array(x):
    inner = _scalar(x, _SQRT_2_OVER_PI) * (x + _scalar(x, _GELU_TANH_C) * x * x * x)
    return _scalar(x, 0.5) * x * (1 + np.tanh(inner))


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula.

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.gelu(x)
        tensor([-0.0455,  0.    ,  2.996 ])
        >>> F.gelu(x, approximate="tanh")
        tensor([-0.0454,  0.    ,  2.9964])
    """
    if approximate == "none":
        return _elementwise(
            input,
            lambda x: _scalar(x, 0.5) * x * (1 + erf_array(x / _scalar(x, math.sqrt(2.0)))),
            _gelu_exact_vjp,
            "Gelu",
        )
    if approximate == "tanh":
        return _elementwise(input, _gelu_tanh_array, _gelu_tanh_vjp, "GeluTanh")
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _silu_vjp(ctx, g):
    x = ctx.input(0)
    s = d.sigmoid(x)
    return (g * s * (1 + x * (1 - s)),)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish).

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.silu(x)
        tensor([-0.2384,  0.    ,  2.8577])
    """
    if inplace:
        return _in_place(input, "silu_", silu)
    return _elementwise(input, lambda x: x * sigmoid_array(x), _silu_vjp, "Silu")


def sigmoid(input):
    """Elementwise logistic function ``1 / (1 + exp(-x))`` (``cr.sigmoid``). Shape: as input.

    Example:
        >>> F.sigmoid(cr.tensor([0.0, 100.0]))
        tensor([0.5, 1. ])
    """
    return _sigmoid(input)


def tanh(input):
    """Elementwise hyperbolic tangent (``cr.tanh``). Shape: same as the input.

    Example:
        >>> F.tanh(cr.tensor([0.0, 100.0]))
        tensor([0., 1.])
    """
    return _tanh(input)


def _softplus_vjp(ctx, g):
    beta, threshold = ctx.saved
    x = ctx.input(0)
    linear = ctx.inputs[0]._data * beta > threshold
    return (g * d.where(linear, 1, d.sigmoid(x * beta)),)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``; linear (x) where ``beta * x > threshold``.

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.softplus(x)
        tensor([0.1269, 0.6931, 3.0486])
        >>> F.softplus(cr.tensor([100.0]))
        tensor([100.])
    """

    def forward(x):
        bx = x * _scalar(x, beta)
        smooth = (np.maximum(bx, 0) + np.log1p(np.exp(-np.abs(bx)))) / _scalar(x, beta)
        return np.where(bx > threshold, x, smooth)

    return _elementwise(input, forward, _softplus_vjp, "Softplus", saved=(beta, threshold))


def softsign(input):
    """x / (1 + |x|).

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.softsign(x)
        tensor([-0.6667,  0.    ,  0.75  ])
    """
    input = as_tensor(input)
    return input / (input.abs() + 1)


def _hardtanh_vjp(ctx, g):
    lo, hi = ctx.saved
    x = ctx.inputs[0]._data
    # Strict inequalities: at the corners the gradient is 0, as in PyTorch.
    return (g * ((x > lo) & (x < hi)).astype(x.dtype),)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val].

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.hardtanh(x)
        tensor([-1.,  0.,  1.])
        >>> F.hardtanh(x, 0.0, 2.0)
        tensor([0., 0., 2.])
    """
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
        )
    if inplace:
        return _in_place(input, "hardtanh_", lambda x: hardtanh(x, min_val, max_val))
    return _elementwise(
        input,
        lambda x: np.clip(x, min_val, max_val).astype(x.dtype, copy=False),
        _hardtanh_vjp,
        "Hardtanh",
        saved=(min_val, max_val),
    )


def relu6(input, inplace=False):
    """min(max(x, 0), 6).

    Example:
        >>> F.relu6(cr.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    return hardtanh(input, 0.0, 6.0, inplace)


def _implicit_dim(name, ndim):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call "
        "to include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim`` (numerically stable).

    Example:
        >>> F.softmax(cr.tensor([[0.0, 0.6931472]]), dim=1)
        tensor([[0.3333, 0.6667]])
    """
    input = as_tensor(input) if dtype is None else as_tensor(input).to(dtype)
    if dim is None:
        dim = _implicit_dim("softmax", input.ndim)
    return _softmax(input, dim)


def log_softmax(input, dim=None, dtype=None):
    """log(softmax(x)) along ``dim``, computed without forming softmax.

    Example:
        >>> F.log_softmax(cr.tensor([[0.0, 0.0]]), dim=1)
        tensor([[-0.6931, -0.6931]])
    """
    input = as_tensor(input) if dtype is None else as_tensor(input).to(dtype)
    if dim is None:
        dim = _implicit_dim("log_softmax", input.ndim)
    return _log_softmax(input, dim)


def _logsigmoid_vjp(ctx, g):
    return (g * d.sigmoid(-ctx.input(0)),)


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|.

    Example:
        >>> F.logsigmoid(cr.tensor([0.0, -200.0]))
        tensor([  -0.6931, -200.    ])
    """
    return _elementwise(
        input,
        lambda x: np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))),
        _logsigmoid_vjp,
        "LogSigmoid",
    )


# In-place forms with torch's names: each is its function with ``inplace=True``.


def relu_(input):
    """In-place :func:`relu`: writes ``max(x, 0)`` into ``input`` and returns it.

    Example:
        >>> x = cr.tensor([-2.0, 3.0])
        >>> F.relu_(x) is x, x
        (True, tensor([0., 3.]))
    """
    return relu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`: writes the result into ``input`` and returns it.

    Example:
        >>> F.leaky_relu_(cr.tensor([-2.0, 3.0]), 0.2)
        tensor([-0.4,  3. ])
    """
    return leaky_relu(input, negative_slope, inplace=True)


def elu_(input, alpha=1.0):
    """In-place :func:`elu`: writes the result into ``input`` and returns it.

    Example:
        >>> F.elu_(cr.tensor([-2.0, 3.0]))
        tensor([-0.8647,  3.    ])
    """
    return elu(input, alpha, inplace=True)


def selu_(input):
    """In-place :func:`selu`: writes the result into ``input`` and returns it.

    Example:
        >>> F.selu_(cr.tensor([-2.0, 3.0]))
        tensor([-1.5202,  3.1521])
    """
    return selu(input, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`: writes the result into ``input`` and returns it.

    Example:
        >>> F.hardtanh_(cr.tensor([-2.0, 3.0]), -1.0, 2.0)
        tensor([-1.,  2.])
    """
    return hardtanh(input, min_val, max_val, inplace=True)
