"""``Normal``: the Gaussian, with reparameterized sampling (VAEs, continuous-action policies)."""

import math

from ..autograd.grad_mode import no_grad
from ..creation import randn
from .distribution import Distribution, broadcast_params, shape_of


class Normal(Distribution):
    """Gaussian with mean ``loc`` and standard deviation ``scale`` (tensors or numbers, broadcast).

    ``rsample`` is ``loc + scale * eps`` with ``eps ~ N(0, 1)``, so gradients reach ``loc`` and
    ``scale``; ``sample`` is the same draw outside the graph.

    Example::

        d = cr.distributions.Normal(mu, sigma)
        z = d.rsample()                   # differentiable in mu and sigma
        lp = d.log_prob(z).sum()
    """

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_params(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale**2

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            eps = randn(*shape, dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        return (
            -((value - self.loc) ** 2) / (2 * self.variance)
            - self.scale.log()
            - math.log(math.sqrt(2 * math.pi))
        )

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value):
        from ..ops.special import erf

        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(shape_of(sample_shape)).detach()
