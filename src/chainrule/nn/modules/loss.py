"""Loss layers: modules over ``chainrule.nn.functional`` with PyTorch's arguments.

Regression and binary losses require input and target of equal shape and raise a ValueError
naming the loss and both shapes otherwise (PyTorch only warns, then broadcasts).
"""

import warnings

import numpy as np

from ...tensor import Tensor, to_array
from .. import functional as F
from ..functional._loss import _check_reduction, _legacy_reduction
from ..module import Module


class _Loss(Module):
    _allowed = ("mean", "sum", "none")

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _legacy_reduction(size_average, reduce, reduction)
        _check_reduction(type(self).__name__, self.reduction, self._allowed)

    def _same_shape(self, input, target):
        if tuple(input.shape) != tuple(np.shape(target)):
            raise ValueError(
                f"{type(self).__name__}: input shape {tuple(input.shape)} and target "
                f"shape {tuple(np.shape(target))} differ; they must be equal (no "
                "broadcasting, e.g. squeeze an (N, 1) output or unsqueeze the target)"
            )


def _as_buffer(value):
    return value if value is None or isinstance(value, Tensor) else Tensor._wrap(to_array(value))


class _WeightedLoss(_Loss):
    """A loss whose optional ``weight`` is a buffer (in the state dict, as in PyTorch)."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight))


class MSELoss(_Loss):
    """Mean squared error. Shapes: input and target (*) equal; scalar unless reduction='none'."""

    def forward(self, input, target):
        self._same_shape(input, target)
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error. Shapes: input and target equal."""

    def forward(self, input, target):
        self._same_shape(input, target)
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Quadratic within ``delta`` of the target, linear beyond. Shapes: input and target equal."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        self._same_shape(input, target)
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Huber loss divided by ``beta``. Shapes: input and target equal."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        self._same_shape(input, target)
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy of logits; see :func:`chainrule.nn.functional.cross_entropy`.

    Shapes: input (N, C) / (N, C, d1, ...) / (C,); target int class indices (N,) /
    (N, d1, ...) / (), or probabilities shaped like the input. Example::

        loss = cr.nn.CrossEntropyLoss(label_smoothing=0.1)(logits, labels)
    """

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index=-100,
        reduce=None,
        reduction="mean",
        label_smoothing=0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (use after LogSoftmax)."""

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class NLLLoss2d(NLLLoss):
    """Deprecated alias of ``NLLLoss`` (warns, as torch does); NLLLoss takes (N, C, H, W) input.

    Example: ``cr.nn.NLLLoss2d()(log_probs, target)`` (use ``cr.nn.NLLLoss``).
    """

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
    ):
        warnings.warn(
            "`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in "
            "replacement and see https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for "
            "more details.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(weight, size_average, ignore_index, reduce, reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (logs clamped at -100)."""

    def forward(self, input, target):
        self._same_shape(input, target)
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable formula; ``pos_weight`` (C,) weighs positives."""

    def __init__(
        self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _as_buffer(weight))
        self.register_buffer("pos_weight", _as_buffer(pos_weight))

    def forward(self, input, target):
        self._same_shape(input, target)
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class KLDivLoss(_Loss):
    """KL divergence of log-probability inputs from a target; use reduction='batchmean'."""

    _allowed = ("mean", "sum", "none", "batchmean")

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        self._same_shape(input, target)
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
