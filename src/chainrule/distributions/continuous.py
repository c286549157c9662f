"""More continuous distributions with PyTorch's API: ``Uniform``, ``Exponential``, ``Laplace``
(reparameterized: ``rsample`` is differentiable in the parameters), ``Gamma`` and ``Beta``
(``sample`` only), and ``Independent`` (batch dims read as one event)."""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import rand
from ..ops.special import digamma, lgamma
from ..random import resolve
from ..tensor import Tensor
from .distribution import Distribution, broadcast_params


def _uniform(shape, dtype, low=0.0):
    """Draws on [low, 1) outside the graph (``low`` keeps logs away from 0)."""
    with no_grad():
        u = rand(*shape, dtype=dtype)
    return u if low == 0.0 else u * (1 - low) + low


class Uniform(Distribution):
    """Uniform on ``[low, high)`` (tensors or numbers, broadcast).

    Example::

        d = cr.distributions.Uniform(0.0, cr.tensor([1.0, 2.0]))
        x = d.rsample((3,))         # (3, 2), differentiable in low and high
    """

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_params(low, high)
        super().__init__(tuple(self.low.shape), (), validate_args)

    @property
    def mean(self):
        return (self.low + self.high) / 2

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        u = _uniform(self._extended_shape(sample_shape), self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value):
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def entropy(self):
        return (self.high - self.low).log()


class Exponential(Distribution):
    """Exponential with ``rate`` (mean ``1 / rate``).

    Example::

        d = cr.distributions.Exponential(cr.tensor([0.5, 2.0]))
        t = d.rsample()             # differentiable in rate
    """

    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_params(rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)

    @property
    def mean(self):
        return 1 / self.rate

    @property
    def variance(self):
        return self.rate**-2

    def rsample(self, sample_shape=()):
        u = _uniform(self._extended_shape(sample_shape), self.rate.dtype)
        return -(1 - u).log() / self.rate  # (1 - u) in (0, 1]: no log(0)

    def log_prob(self, value):
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        return 1 - (-self.rate * value).exp()

    def entropy(self):
        return 1 - self.rate.log()


class Laplace(Distribution):
    """Laplace with location ``loc`` and scale ``scale``.

    Example::

        d = cr.distributions.Laplace(0.0, cr.tensor([1.0]))
        x = d.rsample((4,))         # (4, 1)
    """

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_params(loc, scale)
        super().__init__(tuple(self.loc.shape), (), validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale**2

    def rsample(self, sample_shape=()):
        eps = float(np.finfo(self.loc.dtype).eps)
        u = _uniform(self._extended_shape(sample_shape), self.loc.dtype) * 2 - 1
        u = u.clamp(-1 + eps, 1 - eps)  # as torch: |u| < 1, so log1p(-|u|) is finite
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        z = (value - self.loc) / self.scale
        return 0.5 - 0.5 * z.sign() * (-z.abs()).expm1()

    def entropy(self):
        return 1 + (2 * self.scale).log()


class Gamma(Distribution):
    """Gamma with ``concentration`` (shape) and ``rate``: density
    ``rate^a x^(a-1) exp(-rate x) / Gamma(a)``. ``sample`` only (no ``rsample`` here).

    Example::

        d = cr.distributions.Gamma(cr.tensor([2.0]), cr.tensor([1.0]))
        lp = d.log_prob(cr.tensor([1.5]))
    """

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_params(concentration, rate)
        super().__init__(tuple(self.rate.shape), (), validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def variance(self):
        return self.concentration / self.rate**2

    def sample(self, sample_shape=(), generator=None):
        shape = self._extended_shape(sample_shape)
        a = np.broadcast_to(self.concentration._data, shape)
        draws = resolve(generator, "Gamma.sample").standard_gamma(a) / self.rate._data
        return Tensor._wrap(np.asarray(draws, dtype=self.rate.dtype))

    def log_prob(self, value):
        a, b = self.concentration, self.rate
        return a * b.log() + (a - 1) * value.log() - b * value - lgamma(a)

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1 - a) * digamma(a)


class Beta(Distribution):
    """Beta on (0, 1) with ``concentration1`` (alpha) and ``concentration0`` (beta). ``sample``
    only (no ``rsample`` here).

    Example::

        d = cr.distributions.Beta(cr.tensor([2.0]), cr.tensor([5.0]))
        lp = d.log_prob(cr.tensor([0.3]))
    """

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_params(concentration1, concentration0)
        super().__init__(tuple(self.concentration1.shape), (), validate_args)

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total**2 * (total + 1))

    def sample(self, sample_shape=(), generator=None):
        shape = self._extended_shape(sample_shape)
        rng = resolve(generator, "Beta.sample")
        x = rng.standard_gamma(np.broadcast_to(self.concentration1._data, shape))
        y = rng.standard_gamma(np.broadcast_to(self.concentration0._data, shape))
        return Tensor._wrap(np.asarray(x / (x + y), dtype=self.concentration1.dtype))

    def _log_beta(self):
        a, b = self.concentration1, self.concentration0
        return lgamma(a) + lgamma(b) - lgamma(a + b)

    def log_prob(self, value):
        a, b = self.concentration1, self.concentration0
        return (a - 1) * value.log() + (b - 1) * (1 - value).log() - self._log_beta()

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return (
            self._log_beta()
            - (a - 1) * digamma(a)
            - (b - 1) * digamma(b)
            + (a + b - 2) * digamma(a + b)
        )


class Independent(Distribution):
    """``base_distribution`` with its last ``reinterpreted_batch_ndims`` batch dims read as one
    event: ``log_prob`` and ``entropy`` sum over them (a diagonal Gaussian as one distribution).

    Example::

        d = cr.distributions.Independent(cr.distributions.Normal(mu, sigma), 1)
        lp = d.log_prob(x)           # mu (B, D): lp (B,)
    """

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        batch = base_distribution.batch_shape
        n = int(reinterpreted_batch_ndims)
        if n > len(batch):
            raise ValueError(
                f"Independent: reinterpreted_batch_ndims {n} exceeds the base's batch dims {batch}"
            )
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, n
        split = len(batch) - n
        super().__init__(
            batch[:split], batch[split:] + base_distribution.event_shape, validate_args
        )

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def _sum_event(self, value):
        n = self.reinterpreted_batch_ndims
        return value.sum(tuple(range(-n, 0))) if n else value

    def log_prob(self, value):
        return self._sum_event(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum_event(self.base_dist.entropy())


__all__ = ["Beta", "Exponential", "Gamma", "Independent", "Laplace", "Uniform"]
