"""Ranking and metric-learning loss layers: ``MarginRankingLoss``, ``CosineEmbeddingLoss``,
``TripletMarginLoss``, ``SoftMarginLoss``; likelihood losses ``GaussianNLLLoss`` and
``PoissonNLLLoss`` (see ``nn.functional._loss_extra``)."""

from ..functional import _loss_extra as L
from ..functional._loss import _legacy_reduction
from ..module import Module


class MarginRankingLoss(Module):
    """``max(0, -y (x1 - x2) + margin)``. Example: ``cr.nn.MarginRankingLoss(0.5)(a, b, y)``."""

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__()
        self.margin, self.reduction = margin, reduction

    def forward(self, input1, input2, target):
        return L.margin_ranking_loss(input1, input2, target, self.margin, self.reduction)


class CosineEmbeddingLoss(Module):
    """``1 - cos`` for similar pairs (y = 1), ``max(0, cos - margin)`` for dissimilar ones (y = -1).

    Example: ``cr.nn.CosineEmbeddingLoss(margin=0.2)(a, b, y)``
    """

    def __init__(self, margin=0.0, reduction="mean"):
        super().__init__()
        self.margin, self.reduction = margin, reduction

    def forward(self, input1, input2, target):
        return L.cosine_embedding_loss(input1, input2, target, self.margin, self.reduction)


class TripletMarginLoss(Module):
    """``max(d(a, p) - d(a, n) + margin, 0)``. Example: ``cr.nn.TripletMarginLoss(1.0)(a, p, n)``."""

    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"):
        super().__init__()
        self.margin, self.p, self.eps, self.swap, self.reduction = margin, p, eps, swap, reduction

    def forward(self, anchor, positive, negative):
        return L.triplet_margin_loss(
            anchor, positive, negative, self.margin, self.p, self.eps, self.swap, self.reduction
        )


class SoftMarginLoss(Module):
    """``log(1 + exp(-y x))``. Example: ``cr.nn.SoftMarginLoss()(scores, y)``."""

    def __init__(self, reduction="mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):
        return L.soft_margin_loss(input, target, self.reduction)


class GaussianNLLLoss(Module):
    """Gaussian negative log likelihood of ``target`` with mean ``input`` and variance ``var``;
    see ``F.gaussian_nll_loss``. Example: ``cr.nn.GaussianNLLLoss()(mean, target, var)``."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__()
        self.full, self.eps, self.reduction = full, eps, reduction

    def forward(self, input, target, var):
        return L.gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)


class PoissonNLLLoss(Module):
    """Poisson negative log likelihood of ``target`` with (log) rate ``input``; see
    ``F.poisson_nll_loss``. Example: ``cr.nn.PoissonNLLLoss()(log_rate, counts)``."""

    def __init__(
        self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None, reduction="mean"
    ):
        super().__init__()
        self.log_input, self.full, self.eps = log_input, full, eps
        self.reduction = _legacy_reduction(size_average, reduce, reduction)

    def forward(self, log_input, target):
        return L.poisson_nll_loss(
            log_input, target, self.log_input, self.full, eps=self.eps, reduction=self.reduction
        )
