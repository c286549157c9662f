"""Probability distributions with PyTorch's API (``chainrule.distributions``): ``Categorical``,
``Normal``, ``Bernoulli``, ``Uniform``, ``Exponential``, ``Laplace``, ``Gamma``, ``Beta``,
``Independent`` and ``kl_divergence`` — what policy-gradient agents and VAEs use.

Example::

    from chainrule.distributions import Categorical
    m = Categorical(probs)            # probs (N, K)
    a = m.sample()                    # (N,) int64
    loss = -(m.log_prob(a) * returns).sum()
"""

from .bernoulli import Bernoulli
from .categorical import Categorical
from .continuous import Beta, Exponential, Gamma, Independent, Laplace, Uniform
from .distribution import Distribution
from .kl import kl_divergence
from .normal import Normal

__all__ = [
    "Bernoulli",
    "Beta",
    "Categorical",
    "Distribution",
    "Exponential",
    "Gamma",
    "Independent",
    "Laplace",
    "Normal",
    "Uniform",
    "kl_divergence",
]
