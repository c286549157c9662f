"""``torch.special``: the special functions under their SciPy-style names, differentiable.

Example:
    >>> cr.special.expit(cr.tensor([0.0]))
    tensor([0.5])
"""

import math

from .ops import (
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    lgamma,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    mvlgamma,
    polygamma,
    round,
    sinc,
    softmax,
    xlogy,
)
from .ops import sigmoid as expit
from .ops._util import float_operand
from .tensor import Tensor

__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammaln",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
]

gammaln, psi, multigammaln = lgamma, digamma, mvlgamma


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, ``erfc(-x / sqrt(2)) / 2`` (accurate in the lower tail).

    Example:
        >>> cr.special.ndtr(cr.tensor([0.0]))
        tensor([0.5])
    """
    return erfc(float_operand(input) * -math.sqrt(0.5)) / 2


def log_ndtr(input: Tensor) -> Tensor:
    """``log(ndtr(x))``.

    Example:
        >>> cr.special.log_ndtr(cr.tensor([0.0]))
        tensor([-0.6931])
    """
    return ndtr(input).log()


def ndtri(input: Tensor) -> Tensor:
    """The inverse of :func:`ndtr`: ``sqrt(2) erfinv(2 p - 1)``.

    Example:
        >>> cr.special.ndtri(cr.tensor([0.5]))
        tensor([0.])
    """
    return erfinv(2 * float_operand(input) - 1) * math.sqrt(2)


def entr(input: Tensor) -> Tensor:
    """The entropy term ``-x log(x)``: 0 at 0, -inf below 0.

    Example:
        >>> cr.special.entr(cr.tensor([0.0, 0.5]))
        tensor([0.    , 0.3466])
    """
    x = float_operand(input)
    return (0 - xlogy(x, x)).where(x >= 0, -math.inf)  # (0 - : +0 at 0, as torch)


def xlog1py(input: Tensor, other: Tensor) -> Tensor:
    """``input * log1p(other)``, 0 where input is 0 (unless other is NaN).

    Example:
        >>> cr.special.xlog1py(cr.tensor([0.0, 2.0]), cr.tensor([-1.0, 0.0]))
        tensor([0., 0.])
    """
    x, y = float_operand(input), float_operand(other)
    silent = (x == 0) & (y <= -1)
    return x * log1p(y.where(~silent, 0.0))
