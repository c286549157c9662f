"""``CosineSimilarity`` and ``PairwiseDistance`` layers (siamese networks, metric learning)."""

from ..functional import _distance as D
from ..module import Module


class CosineSimilarity(Module):
    """Cosine of the angle between ``x1`` and ``x2`` along ``dim``: (N, D), (N, D) -> (N,).

    Example::

        s = cr.nn.CosineSimilarity(dim=1)(cr.randn(5, 16), cr.randn(5, 16))
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return D.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` over the last dim: (N, D), (N, D) -> (N,).

    Example::

        d = cr.nn.PairwiseDistance()(cr.randn(5, 16), cr.randn(5, 16))
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return D.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
