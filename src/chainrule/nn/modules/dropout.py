"""``Dropout``, ``Dropout1d``, ``Dropout2d``, ``Dropout3d``: randomly zero activations (or channels)
while training; ``AlphaDropout`` and ``FeatureAlphaDropout`` for SELU networks."""

from .. import functional as F
from ..module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` in training, scaling the rest by 1 / (1 - p).

    In eval mode (``model.eval()``) it is the identity. Draws from
    ``chainrule.random.default_generator()``, so ``cr.manual_seed`` makes it reproducible.
    Shapes: any, unchanged.
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) or (C, L) with probability ``p`` in training, scaling the
    rest by 1 / (1 - p); the identity in eval mode. Example: ``nn.Dropout1d(0.2)(x)``."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Zero whole channels (feature maps) of (N, C, H, W) or (C, H, W) with probability ``p`` in
    training, scaling the rest by 1 / (1 - p); the identity in eval mode.
    Example: ``nn.Dropout2d(0.25)(feature_maps)``."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """Zero whole channels (3-d feature maps) of (N, C, D, H, W) or (C, D, H, W) with probability
    ``p`` in training, scaling the rest by 1 / (1 - p); the identity in eval mode.
    Example: ``nn.Dropout3d(0.25)(volumes)``."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(Dropout):
    """Dropout that keeps the self-normalizing property of SELU networks (mean 0, variance 1);
    see ``F.alpha_dropout``. The identity in eval mode.

    Example::

        net = cr.nn.Sequential(cr.nn.Linear(64, 64), cr.nn.SELU(), cr.nn.AlphaDropout(0.1))
    """

    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels of (N, C, *) input; see ``F.feature_alpha_dropout``.

    Example: ``cr.nn.FeatureAlphaDropout(0.2)(feature_maps)``.
    """

    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
