"""``Categorical``: one of K classes (policy-gradient agents, samplers)."""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn.functional import log_softmax, softmax
from ..random import multinomial
from .distribution import Distribution, shape_of


class Categorical(Distribution):
    """A distribution over ``{0, ..., K-1}`` given by ``probs`` (non-negative, normalized here)
    or unnormalized ``logits``, each of shape (*batch_shape, K).

    Example::

        m = cr.distributions.Categorical(probs=policy(state))     # probs (1, n_actions)
        action = m.sample()                                       # (1,) int64
        loss = -m.log_prob(action) * reward
    """

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give exactly one of probs and logits")
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("Categorical: probs must have at least one dim (the K classes)")
            self.probs = probs / probs.sum(-1, keepdim=True)
            eps = float(np.finfo(self.probs.dtype).eps)
            self.logits = self.probs.clamp(min=eps, max=1 - eps).log()
        else:
            if logits.ndim < 1:
                raise ValueError("Categorical: logits must have at least one dim (the K classes)")
            self.logits = log_softmax(logits, dim=-1)
            self.probs = softmax(logits, dim=-1)
        self._num_events = self.probs.shape[-1]
        super().__init__(tuple(self.probs.shape[:-1]), (), validate_args)

    @property
    def param_shape(self):
        return tuple(self.probs.shape)

    @property
    def mean(self):
        raise NotImplementedError("Categorical has no mean (as in PyTorch it would be nan)")

    def sample(self, sample_shape=()):
        """Class indices (int64) of shape ``sample_shape + batch_shape``."""
        shape = shape_of(sample_shape)
        n = int(np.prod(shape)) if shape else 1
        with no_grad():
            flat = self.probs.detach().reshape(-1, self._num_events)
            draws = multinomial(flat, n, replacement=True)  # (B, n)
            return draws.T.reshape(*(shape + self._batch_shape))

    def log_prob(self, value):
        """log p(value) for class indices ``value`` broadcastable with ``batch_shape``."""
        v = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(v.shape[:-1]), self._batch_shape)
        v = v.expand(*shape, 1)
        logits = self.logits.expand(*shape, self._num_events)
        return logits.gather(-1, v).squeeze(-1)

    def entropy(self):
        """-sum p log p over the classes (zero-probability classes add nothing)."""
        lowest = float(np.finfo(self.logits.dtype).min)
        return -(self.logits.clamp(min=lowest) * self.probs).sum(-1)
