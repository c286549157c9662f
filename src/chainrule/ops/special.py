"""Special functions: the error function (needed by the exact GELU)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._typing import Grad, Grads, TensorLike
from ..autograd.engine import record
from ..backend import xp as np
from . import dispatch as d
from ._util import float_operand

if TYPE_CHECKING:
    from ..autograd.engine import Node
    from ..tensor import Tensor

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


def _power_series(f: Callable[..., Any], a: float, b: float, deg: int) -> Any:
    """Power-series coefficients, in u = (2x - a - b) / (b - a), of f's interpolant on [a, b]."""
    cheb = np.polynomial.chebyshev
    return cheb.cheb2poly(cheb.chebinterpolate(lambda u: f(a + (u + 1) * (b - a) / 2), deg))


def _erf_fits() -> Any:
    if not _ERF_FITS:
        small = np.vectorize(
            lambda t: math.erf(math.sqrt(t)) / math.sqrt(t) if t > 0 else 2 / math.sqrt(math.pi)
        )
        large = np.vectorize(lambda x: math.erfc(x) * math.exp(x * x))
        in_u = _power_series(small, 0.0, 1.0, 12)
        # Re-expand in t itself (u = 2t - 1), so the small range needs no mapping.
        _ERF_FITS["small"] = np.polynomial.Polynomial(in_u, domain=[0, 1]).convert().coef
        _ERF_FITS["large"] = [_power_series(large, a, b, deg) for a, b, deg in _ERF_INTERVALS]
    return _ERF_FITS


def _horner(coefs: Any, u: Any) -> Any:
    out = np.full_like(u, coefs[-1])
    for c in coefs[-2::-1]:
        out *= u
        out += c
    return out


def erf_array(x: np.ndarray) -> np.ndarray:
    """The error function of a NumPy array, computed in float64 and returned in x's dtype."""
    x = np.asarray(x)
    fits = _erf_fits()
    z = np.abs(x, dtype=np.float64)
    out = np.ones_like(z)
    m = z <= 1
    zm = z[m]
    out[m] = zm * _horner(fits["small"], zm * zm)
    for (a, b, _), coefs in zip(_ERF_INTERVALS, fits["large"], strict=True):
        m = (z > a) & (z <= b)
        zm = z[m]
        out[m] = 1 - _horner(coefs, (2 / (b - a)) * zm - (a + b) / (b - a)) * np.exp(-zm * zm)
    np.copysign(out, x, out=out)
    np.copyto(out, z, where=np.isnan(z))  # NaN in, NaN out (no mask above selects it)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def _erf_vjp(ctx: Node, g: Grad) -> Grads:
    x = ctx.input(0)
    return (g * (2 / math.sqrt(math.pi)) * d.exp(-(x * x)),)


def erf(x: TensorLike) -> Tensor:
    """Differentiable error function, 2/sqrt(pi) * integral_0^x exp(-t^2) dt (any shape).

    Example:
        >>> cr.erf(cr.tensor([0.0, 1.0, -3.0]))
        tensor([ 0.    ,  0.8427, -1.    ])
    """
    x = float_operand(x)
    return record(erf_array(x._data), (x,), _erf_vjp, "Erf")


# ----------------------------------------------------------------------------------------------
# erfc, erfinv: from the erf interpolants above
# ----------------------------------------------------------------------------------------------


def erfc_array(x: np.ndarray) -> np.ndarray:
    """1 - erf(x) without the cancellation of computing it so: the interpolant of
    erfc(x) exp(x^2) on (1, 6], its continued fraction beyond (erfc(6) ~ 2e-17)."""
    arg = np.asarray(x)
    return _erfc_array(arg.reshape(-1)).reshape(arg.shape)


def _erfc_array(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    fits = _erf_fits()
    z = np.abs(x, dtype=np.float64)
    out = 1 - erf_array(z.clip(max=1.0))  # |x| <= 1: no cancellation to fear
    for (a, b, _), coefs in zip(_ERF_INTERVALS, fits["large"], strict=True):
        m = (z > a) & (z <= b)
        zm = z[m]
        out[m] = _horner(coefs, (2 / (b - a)) * zm - (a + b) / (b - a)) * np.exp(-zm * zm)
    far = z > 6
    if far.any():  # the continued fraction exp(-z^2) / sqrt(pi) / (z + (1/2) / (z + 1 / (z + ...
        zf = z[far]
        fraction = zf.copy()
        for k in range(40, 0, -1):  # (converged to float64 long before 40 terms for z > 6)
            fraction = zf + (k / 2) / fraction
        with np.errstate(under="ignore"):
            out[far] = np.exp(-zf * zf) / (math.sqrt(math.pi) * fraction)
    out = np.where(x < 0, 2 - out, out)
    np.copyto(out, z, where=np.isnan(z))
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def _erfc_vjp(ctx: Node, g: Grad) -> Grads:
    x = ctx.input(0)
    return (g * (-2 / math.sqrt(math.pi)) * d.exp(-(x * x)),)


def erfc(x: TensorLike) -> Tensor:
    """The complementary error function ``1 - erf(x)``, accurate where it is tiny (any shape).

    Example:
        >>> cr.erfc(cr.tensor([0.0, 5.0]))
        tensor([1.0000e+00, 1.5375e-12])
    """
    x = float_operand(x)
    return record(erfc_array(x._data), (x,), _erfc_vjp, "Erfc")


# Giles (2010), "Approximating the erfinv function": a single-precision starting point
_ERFINV_CENTRAL = (
    1.50140941, 0.246640727, -0.00417768164, -0.00125372503, 0.00021858087,
    -4.39150654e-06, -3.5233877e-06, 3.43273939e-07, 2.81022636e-08,
)  # fmt: skip
_ERFINV_TAIL = (
    2.83297682, 1.00167406, 0.00943887047, -0.0076224613, 0.00573950773,
    -0.00367342844, 0.00134934322, 0.000100950558, -0.000200214257,
)  # fmt: skip


def erfinv_array(y: np.ndarray) -> np.ndarray:
    """The inverse of erf on [-1, 1] (+-inf at +-1, NaN outside): Giles' approximation, then
    Newton steps in float64 on erf (on log erfc near the ends, where 1 - |y| is what is known)."""
    arg = np.asarray(y)
    return _erfinv_array(arg.reshape(-1)).reshape(arg.shape)


def _erfinv_array(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    a = np.abs(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.log((1 - a) * (1 + a))
        central = w < 5
        u = np.where(central, w - 2.5, np.sqrt(w) - 3)
        x = np.where(central, _horner(_ERFINV_CENTRAL, u), _horner(_ERFINV_TAIL, u)) * a
        tail = a > 0.5  # there Newton runs on log erfc, which is nearly linear in x
        log_gap = np.log(1 - a)
        for _ in range(4):
            inside = np.isfinite(x) & (a < 1)
            density = (2 / math.sqrt(math.pi)) * np.exp(-x * x)
            upper = erfc_array(x)
            step = np.where(
                tail, (np.log(upper) - log_gap) * upper / -density, (erf_array(x) - a) / density
            )
            x = np.where(inside, x - step, x)
    x = np.where(a == 1, np.inf, x)
    x = np.where(a > 1, np.nan, x)
    out = np.copysign(x, y)
    return out.astype(y.dtype if y.dtype.kind == "f" else np.float64, copy=False)


def _erfinv_vjp(ctx: Node, g: Grad) -> Grads:
    out = ctx.output()
    with np.errstate(over="ignore"):
        return (g * (math.sqrt(math.pi) / 2) * d.exp(out * out),)


def erfinv(x: TensorLike) -> Tensor:
    """The inverse error function: ``erf(erfinv(y)) == y`` on [-1, 1] (+-inf at +-1, NaN
    outside). Any shape.

    Example:
        >>> cr.erfinv(cr.tensor([0.0, 0.5]))
        tensor([0.    , 0.4769])
    """
    x = float_operand(x)
    return record(erfinv_array(x._data), (x,), _erfinv_vjp, "Erfinv", save_inputs=False)


# ----------------------------------------------------------------------------------------------
# lgamma, digamma, polygamma
# ----------------------------------------------------------------------------------------------


def _lgamma_scalar(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # the poles 0, -1, -2, ...: log|Gamma| is +inf there (as torch)
        return math.inf


_LGAMMA = np.frompyfunc(_lgamma_scalar, 1, 1)


def lgamma_array(x: np.ndarray) -> np.ndarray:
    """log |Gamma(x)| elementwise (math.lgamma, exact to float64; +inf at the poles)."""
    x = np.asarray(x)
    out = np.asarray(_LGAMMA(x.astype(np.float64)), dtype=np.float64)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


# Bernoulli numbers B_2, B_4, ..., B_14 of the asymptotic series
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)
_SHIFT_TO = 10.0  # the recurrences move x up to here, where the series converge fast enough


def polygamma_array(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x), the n-th derivative of digamma (n = 0: digamma itself), elementwise: the
    recurrences (below) up to x >= 10, then the asymptotic series with Bernoulli numbers. Poles (0, -1, ...): digamma -inf at 0 and NaN at
    the negative integers, as torch; its derivatives +inf (n odd) or NaN."""
    arg = np.asarray(x)
    return _polygamma_array(n, arg.reshape(-1)).reshape(arg.shape)


def _polygamma_array(n: int, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    z = x.astype(np.float64, copy=True)
    pole = (z <= 0) & (z == np.floor(z))
    z[pole | ~np.isfinite(z)] = _SHIFT_TO  # computed apart below
    total = np.zeros_like(z)
    sign = -1.0 if n % 2 == 0 else 1.0  # (-1)^(n + 1)
    fact = math.factorial(n)
    while True:
        low = z < _SHIFT_TO
        if not low.any():
            break
        zl = z[low]
        if n == 0:  # psi(x) = psi(x + 1) - 1 / x
            total[low] -= 1.0 / zl
        else:  # psi^(n)(x) = psi^(n)(x + 1) + (-1)^(n + 1) n! / x^(n + 1)
            total[low] += sign * fact / zl ** (n + 1)
        z[low] = zl + 1
    inv = 1 / z
    if n == 0:
        series = np.log(z) - 0.5 * inv
        power = inv * inv
        for k, b in enumerate(_BERNOULLI, start=1):
            series -= b / (2 * k) * power
            power = power * inv * inv
    else:
        series = math.factorial(n - 1) * inv**n + fact / 2 * inv ** (n + 1)
        for k, b in enumerate(_BERNOULLI, start=1):
            coef = b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
            series += coef * inv ** (2 * k + n)
        series *= sign
    out = series + total
    raw = x.astype(np.float64)
    if n == 0:
        out = np.where(pole, np.where(raw == 0, -np.inf, np.nan), out)
        out = np.where(raw == np.inf, np.inf, out)
    else:
        out = np.where(pole, np.inf if n % 2 else np.nan, out)
        out = np.where(raw == np.inf, 0.0, out)
    out = np.where((raw == -np.inf) | np.isnan(raw), np.nan, out)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


def _lgamma_vjp(ctx: Node, g: Grad) -> Grads:
    return (g * _polygamma_of(0, ctx.input(0)),)


def _polygamma_of(n: int, x: Any) -> Any:
    """psi^(n) of an array, or the recorded op of a Tensor (second derivatives)."""
    return polygamma(n, x) if d.is_recorded(x) else polygamma_array(n, x)


def lgamma(x: TensorLike) -> Tensor:
    """``log |Gamma(x)|`` elementwise (+inf at 0, -1, -2, ...); its derivative is digamma.

    Example:
        >>> cr.lgamma(cr.tensor([1.0, 5.0]))
        tensor([0.    , 3.1781])
    """
    x = float_operand(x)
    return record(lgamma_array(x._data), (x,), _lgamma_vjp, "Lgamma")


def _polygamma_vjp(ctx: Node, g: Grad) -> Grads:
    return (g * _polygamma_of(ctx.saved + 1, ctx.input(0)),)


def polygamma(n: int, x: TensorLike) -> Tensor:
    """The n-th derivative of :func:`digamma` (n = 0: digamma itself), elementwise.

    Example:
        >>> cr.polygamma(1, cr.tensor([1.0]))
        tensor([1.6449])
    """
    if int(n) != n or n < 0:
        raise RuntimeError(f"polygamma: n must be a non-negative integer, got {n}")
    x = float_operand(x)
    return record(polygamma_array(int(n), x._data), (x,), _polygamma_vjp, "Polygamma", saved=int(n))


def digamma(x: TensorLike) -> Tensor:
    """The logarithmic derivative of Gamma, ``d lgamma(x) / dx`` (-inf at 0, NaN at the
    negative integers). ``special.psi`` is the same.

    Example:
        >>> cr.digamma(cr.tensor([1.0]))
        tensor([-0.5772])
    """
    return polygamma(0, x)


def mvlgamma(x: TensorLike, p: int) -> Tensor:
    """The multivariate log-gamma of dimension ``p``:
    ``p (p - 1) / 4 log(pi) + sum_i lgamma(x - i / 2)``, i = 0 .. p - 1 (needs x > (p - 1) / 2).

    Example:
        >>> cr.mvlgamma(cr.tensor([2.5]), 2)
        tensor([0.857])
    """
    x = float_operand(x)
    if p < 1:
        raise RuntimeError(f"mvlgamma: p must be at least 1, got {p}")
    if bool((x._data <= (p - 1) / 2).any()):
        raise RuntimeError(
            f"mvlgamma: all elements must be greater than (p - 1) / 2 = {(p - 1) / 2}"
        )
    total = lgamma(x)
    for i in range(1, p):
        total = total + lgamma(x - i / 2)
    return total + p * (p - 1) / 4 * math.log(math.pi)
