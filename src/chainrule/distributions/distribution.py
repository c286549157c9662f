"""The base class of ``chainrule.distributions``: shapes, sampling and what subclasses provide."""

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import tensor
from ..tensor import Tensor


def as_param(value, like=None):
    """A parameter as a Tensor; Python numbers take ``like``'s dtype or the default float dtype."""
    if isinstance(value, Tensor):
        return value
    if like is not None:
        return tensor(value, dtype=like.dtype)
    return tensor(float(value)) if isinstance(value, (int, float)) else tensor(value)


def broadcast_params(*values):
    """Tensors broadcast to one shape (numbers follow the first tensor's dtype)."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    ts = [as_param(v, like) for v in values]
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in ts))
    return [t if tuple(t.shape) == shape else t.expand(*shape) for t in ts]


def shape_of(sample_shape):
    if isinstance(sample_shape, int):
        return (sample_shape,)
    return tuple(int(s) for s in sample_shape)


class Distribution:
    """A probability distribution with a ``batch_shape`` of independent members, each over an
    ``event_shape``. Subclasses provide ``rsample`` or ``sample``, ``log_prob`` and ``entropy``.

    Example::

        d = cr.distributions.Normal(cr.zeros(3), cr.ones(3))
        x = d.sample((5,))           # (5, 3)
        lp = d.log_prob(x)           # (5, 3)
    """

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return shape_of(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()):
        """A draw of shape ``sample_shape + batch_shape + event_shape``, outside the graph."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sample (rsample)")

    def sample_n(self, n):
        return self.sample((n,))

    def log_prob(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def perplexity(self):
        return self.entropy().exp()

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self._batch_shape})"
