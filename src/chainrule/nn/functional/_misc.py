"""Functional pieces that are not activations, losses or norms: dropout, embedding, one_hot,
and the array/Tensor helpers (erf, sigmoid, softplus, ...) the other functional files share.

Helpers named ``*_any`` accept a NumPy array (plain backward) or a Tensor (recorded backward,
``create_graph=True``), so one vjp formula serves both.
"""
import math

import numpy as np

from ...autograd.engine import record
from ...ops import linear, pad  # noqa: F401  (re-exported by nn.functional)
from ...ops._util import as_tensor, is_array
from ...random import default_generator
from ...tensor import Tensor


# ----------------------------------------------------------------------------------------------
# erf: Chebyshev interpolants of math.erf, built once on first use
# ----------------------------------------------------------------------------------------------
# Two smooth, slowly varying functions are interpolated instead of erf itself:
#   |x| <= 1:      erf(x) / x                  as a polynomial in t = x^2 (even, entire)
#   1 < |x| <= 6:  erfc(x) * exp(x^2)          (about 1 / (x sqrt(pi)); on [1, 3] and [3, 6])
# and erf(x) = 1 beyond 6 (erfc(6) ~ 2e-17). The interpolants (degree 12, 18, 14) are turned
# into power series (in t, and in the interval mapped onto [-1, 1]) for a cheap in-place
# Horner evaluation. Relative error stays below 1e-14 (tested against math.erf).

_ERF_FITS = {}
_ERF_INTERVALS = ((1.0, 3.0, 18), (3.0, 6.0, 14))


def _power_series(f, a, b, deg):
    """Power-series coefficients, in u = (2x - a - b) / (b - a), of f's interpolant on [a, b]."""
    cheb = np.polynomial.chebyshev
    return cheb.cheb2poly(cheb.chebinterpolate(lambda u: f(a + (u + 1) * (b - a) / 2), deg))


def _erf_fits():
    if not _ERF_FITS:
        small = np.vectorize(lambda t: math.erf(math.sqrt(t)) / math.sqrt(t) if t > 0
                             else 2 / math.sqrt(math.pi))
        large = np.vectorize(lambda x: math.erfc(x) * math.exp(x * x))
        in_u = _power_series(small, 0.0, 1.0, 12)
        # Re-expand in t itself (u = 2t - 1), so the small range needs no mapping.
        _ERF_FITS["small"] = np.polynomial.Polynomial(in_u, domain=[0, 1]).convert().coef
        _ERF_FITS["large"] = [_power_series(large, a, b, deg) for a, b, deg in _ERF_INTERVALS]
    return _ERF_FITS


def _horner(coefs, u):
    out = np.full_like(u, coefs[-1])
    for c in coefs[-2::-1]:
        out *= u
        out += c
    return out


def erf_array(x):
    """The error function of a NumPy array, computed in float64 and returned in x's dtype."""
    x = np.asarray(x)
    fits = _erf_fits()
    z = np.abs(x, dtype=np.float64)
    out = np.ones_like(z)
    m = z <= 1
    zm = z[m]
    out[m] = zm * _horner(fits["small"], zm * zm)
    for (a, b, _), coefs in zip(_ERF_INTERVALS, fits["large"]):
        m = (z > a) & (z <= b)
        zm = z[m]
        out[m] = 1 - _horner(coefs, (2 / (b - a)) * zm - (a + b) / (b - a)) * np.exp(-zm * zm)
    np.copysign(out, x, out=out)
    np.copyto(out, z, where=np.isnan(z))     # NaN in, NaN out (no mask above selects it)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def _erf_vjp(ctx, g):
    x = ctx.input(0)
    return (g * (2 / math.sqrt(math.pi)) * exp_any(-(x * x)),)


def erf(x):
    """Differentiable error function, 2/sqrt(pi) * integral_0^x exp(-t^2) dt (any shape)."""
    x = as_tensor(x)
    return record(erf_array(x.data), (x,), _erf_vjp, "Erf")


# ----------------------------------------------------------------------------------------------
# array-or-Tensor helpers
# ----------------------------------------------------------------------------------------------

def erf_any(x):
    return erf_array(x) if is_array(x) else erf(x)


def exp_any(x):
    return np.exp(x) if is_array(x) else x.exp()


def tanh_any(x):
    return np.tanh(x) if is_array(x) else x.tanh()


def sigmoid_array(x):
    # exp of a non-positive number only: no overflow for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def sigmoid_any(x):
    return sigmoid_array(x) if is_array(x) else x.sigmoid()


def softplus_array(x):
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softplus_any(x):
    if is_array(x):
        return softplus_array(x)
    return x.relu() + (-(x.abs())).exp().log1p()


def where_any(mask, a, b):
    """``np.where`` for arrays, ``cr.where`` for Tensors; ``mask`` is a boolean array."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        return np.where(mask, a, b)
    from ...ops import where
    return where(mask, a, b)


def log_softmax_array(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_any(x, axis=-1):
    if is_array(x):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)
    return x.softmax(axis)


def moveaxis_any(x, source, dest):
    if is_array(x):
        return np.moveaxis(x, source, dest)
    order = list(range(x.ndim))
    order.insert(dest % x.ndim, order.pop(source % x.ndim))
    return x.permute(order)


# ----------------------------------------------------------------------------------------------
# dropout, embedding, one_hot
# ----------------------------------------------------------------------------------------------

def _scale_vjp(ctx, g):
    return (g * ctx.saved,)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Identity when ``training`` is False. Draws from ``chainrule.random.default_generator()``.
    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    Example: ``F.dropout(x, 0.2, training=model.training)`` (any shape, same shape out).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    input = as_tensor(input)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        mask = np.zeros(input.shape, dtype=input.dtype)
    else:
        keep = default_generator().random(input.shape, dtype=np.float32) >= p
        mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return record(input.data * mask, (input,), _scale_vjp, "Dropout", saved=mask,
                  save_inputs=False)


def _embedding_vjp(ctx, g):
    from ...ops import index_add_into_zeros
    index, padding_idx = ctx.saved
    if padding_idx is not None:
        # The padding row gets no gradient (it stays the "empty" vector).
        keep = (index != padding_idx)[..., None].astype(ctx.inputs[0].dtype)
        g = g * keep
    return (index_add_into_zeros(g, index, ctx.inputs[0].shape),)


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` picked by integer ``input``: (*) indices, (V, D) weight -> (*, D).

    The gradient of a row is the sum over every place it was picked; ``padding_idx``'s row
    gets none. Example: ``F.embedding(cr.tensor([[0, 2]]), w)`` has shape (1, 2, D).
    """
    weight = as_tensor(weight)
    index = np.asarray(input.data if isinstance(input, Tensor) else input)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got {index.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, dim), got {weight.shape}")
    num = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= num):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    return record(weight.data[index], (weight,), _embedding_vjp, "Embedding",
                  saved=(index, padding_idx), save_inputs=False)


def one_hot(tensor, num_classes=-1):
    """Integer class indices (*) -> int64 one-hot (*, num_classes); -1 infers max + 1.

    Example: ``F.one_hot(cr.tensor([0, 2]), 3)`` is ``[[1, 0, 0], [0, 0, 1]]``.
    """
    index = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if index.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got {index.dtype}")
    if index.size and index.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {index.min()}")
    if num_classes == -1:
        num_classes = int(index.max()) + 1 if index.size else 0
    if index.size and index.max() >= num_classes:
        raise ValueError(f"one_hot: class value {index.max()} is out of range for "
                         f"num_classes={num_classes}")
    return Tensor(np.eye(num_classes, dtype=np.int64)[index])
