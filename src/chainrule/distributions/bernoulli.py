"""``Bernoulli``: 0/1 outcomes with probability ``probs`` (or ``logits``)."""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn.functional import binary_cross_entropy_with_logits, sigmoid
from ..random import bernoulli
from .distribution import Distribution, as_param


class Bernoulli(Distribution):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0; draws in the float dtype.

    Example::

        d = cr.distributions.Bernoulli(probs=cr.tensor([0.2, 0.9]))
        x = d.sample()                  # (2,) of 0. / 1.
        lp = d.log_prob(x)
    """

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give exactly one of probs and logits")
        if probs is not None:
            self.probs = as_param(probs)
            eps = float(np.finfo(self.probs.dtype).eps)
            p = self.probs.clamp(min=eps, max=1 - eps)
            self.logits = p.log() - (-p).log1p()
        else:
            self.logits = as_param(logits)
            self.probs = sigmoid(self.logits)
        super().__init__(tuple(self.probs.shape), (), validate_args)

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.detach().expand(*shape))

    def log_prob(self, value):
        logits, value = self.logits, as_param(value, self.logits)
        shape = np.broadcast_shapes(tuple(logits.shape), tuple(value.shape))
        return -binary_cross_entropy_with_logits(
            logits.expand(*shape), value.expand(*shape), reduction="none"
        )

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
