"""Ranking and metric-learning loss layers: ``MarginRankingLoss``, ``CosineEmbeddingLoss``,
``TripletMarginLoss``, ``TripletMarginWithDistanceLoss``, ``SoftMarginLoss``,
``HingeEmbeddingLoss``, ``MultiMarginLoss``, ``MultiLabelMarginLoss``,
``MultiLabelSoftMarginLoss``; likelihood losses ``GaussianNLLLoss`` and ``PoissonNLLLoss`` (see
``nn.functional._loss_extra``)."""

from ..functional import _loss_extra as L
from ..functional._ctc import ctc_loss
from ..functional._loss import _legacy_reduction
from ..module import Module
from .distance import PairwiseDistance
from .loss import _Loss, _WeightedLoss


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


class HingeEmbeddingLoss(_Loss):
    """``x`` for similar pairs (y = 1), ``max(0, margin - x)`` for dissimilar ones (y = -1), x
    being a distance; see ``F.hinge_embedding_loss``.

    Example: ``cr.nn.HingeEmbeddingLoss(margin=2.0)(distances, y)``
    """

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return L.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multi-class hinge loss over scores (N, C) and class indices (N,); see
    ``F.multi_margin_loss``. ``weight`` (C,) is a buffer, as in PyTorch.

    Example: ``cr.nn.MultiMarginLoss(p=2, margin=0.5)(scores, labels)``
    """

    def __init__(
        self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"
    ):
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got {p}")
        super().__init__(weight, size_average, reduce, reduction)
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return L.multi_margin_loss(
            input,
            target,
            p=self.p,
            margin=self.margin,
            weight=self.weight,
            reduction=self.reduction,
        )


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss; each target row lists class indices, ended by -1. See
    ``F.multilabel_margin_loss``. Example: ``cr.nn.MultiLabelMarginLoss()(scores, targets)``."""

    def forward(self, input, target):
        return L.multilabel_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Per-class logistic loss averaged over classes, targets 0/1 (N, C); see
    ``F.multilabel_soft_margin_loss``. Example: ``cr.nn.MultiLabelSoftMarginLoss()(x, y)``."""

    def forward(self, input, target):
        return L.multilabel_soft_margin_loss(
            input, target, weight=self.weight, reduction=self.reduction
        )


class TripletMarginWithDistanceLoss(_Loss):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with any distance function (default
    ``PairwiseDistance()``, kept as a child module as in PyTorch).

    Example::

        loss_fn = cr.nn.TripletMarginWithDistanceLoss(
            distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), margin=0.5
        )
        loss = loss_fn(anchor, positive, negative)
    """

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction=reduction)
        if margin <= 0:
            raise ValueError(
                "TripletMarginWithDistanceLoss: expected margin to be greater than 0, got "
                f"{margin} instead"
            )
        self.distance_function = (
            distance_function if distance_function is not None else PairwiseDistance()
        )
        self.margin, self.swap = margin, swap

    def forward(self, anchor, positive, negative):
        return L.triplet_margin_with_distance_loss(
            anchor,
            positive,
            negative,
            distance_function=self.distance_function,
            margin=self.margin,
            swap=self.swap,
            reduction=self.reduction,
        )


class CTCLoss(Module):
    """Connectionist Temporal Classification loss; see ``F.ctc_loss`` for the shapes.

    Example: ``cr.nn.CTCLoss(blank=0)(log_probs, targets, input_lengths, target_lengths)``
    """

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__()
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return ctc_loss(
            log_probs,
            targets,
            input_lengths,
            target_lengths,
            self.blank,
            self.reduction,
            self.zero_infinity,
        )
