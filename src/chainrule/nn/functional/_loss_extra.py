"""Metric-learning and ranking losses (siamese and triplet networks): ``margin_ranking_loss``,
``cosine_embedding_loss``, ``triplet_margin_loss``, ``soft_margin_loss``; and the likelihood
losses ``gaussian_nll_loss`` and ``poisson_nll_loss``. Built from recorded ops with PyTorch's
formulas (eps placement included)."""

import math

from ...ops import where
from ...ops._util import as_tensor
from ._activation import softplus
from ._distance import pairwise_distance
from ._loss import _legacy_reduction


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """``max(0, -y * (x1 - x2) + margin)`` with ``y`` in {1, -1}: (N,), (N,), (N,) -> scalar.

    Example:
        >>> x1, x2, y = cr.tensor([3.0, 1.0]), cr.tensor([1.0, 2.0]), cr.tensor([1.0, 1.0])
        >>> F.margin_ranking_loss(x1, x2, y, reduction="none")
        tensor([0., 1.])
    """
    x1, x2, y = as_tensor(input1), as_tensor(input2), as_tensor(target)
    return _reduce((-y * (x1 - x2) + margin).clamp(min=0), reduction, "margin_ranking_loss")


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """``1 - cos(x1, x2)`` where ``y == 1``, ``max(0, cos(x1, x2) - margin)`` where ``y == -1``.

    Shapes (N, D), (N, D), (N,) -> scalar; the cosine is PyTorch's
    ``sum(x1 x2) / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))``.

    Example:
        >>> a = cr.tensor([[1.0, 0.0], [1.0, 0.0]])
        >>> F.cosine_embedding_loss(a, a, cr.tensor([1, -1]), reduction="none")
        tensor([0., 1.])
    """
    x1, x2, y = as_tensor(input1), as_tensor(input2), as_tensor(target)
    eps = 1e-12
    dot = (x1 * x2).sum(-1)
    cos = dot / (((x1 * x1).sum(-1) + eps) * ((x2 * x2).sum(-1) + eps)).sqrt()
    zeros = cos * 0
    loss = where(y == 1, 1 - cos, zeros) + where(y == -1, (cos - margin).clamp(min=0), zeros)
    return _reduce(loss, reduction, "cosine_embedding_loss")


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, reduction="mean"
):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the p-norm distance (+eps), (N, D) each.

    With ``swap`` the negative distance is ``min(d(a, n), d(p, n))``.

    Example:
        >>> a, p, n = cr.tensor([[0.0, 0.0]]), cr.tensor([[0.0, 1.0]]), cr.tensor([[0.0, 3.0]])
        >>> F.triplet_margin_loss(a, p, n, eps=0.0)
        tensor(0.)
        >>> F.triplet_margin_loss(a, n, p, eps=0.0)
        tensor(3.)
    """
    a, pos, neg = as_tensor(anchor), as_tensor(positive), as_tensor(negative)
    d_ap = pairwise_distance(a, pos, p, eps)
    d_an = pairwise_distance(a, neg, p, eps)
    if swap:
        d_pn = pairwise_distance(pos, neg, p, eps)
        d_an = where(d_pn < d_an, d_pn, d_an)
    return _reduce((margin + d_ap - d_an).clamp(min=0), reduction, "triplet_margin_loss")


def soft_margin_loss(input, target, reduction="mean"):
    """``log(1 + exp(-y x))`` with ``y`` in {1, -1}.

    Example:
        >>> F.soft_margin_loss(cr.tensor([0.0, 0.0]), cr.tensor([1.0, -1.0]))
        tensor(0.6931)
    """
    x, y = as_tensor(input), as_tensor(target)
    return _reduce(softplus(-y * x), reduction, "soft_margin_loss")


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log likelihood of ``target`` under N(``input``, ``var``)::

        loss = (log(max(var, eps)) + (input - target) ** 2 / max(var, eps)) / 2  (+ log(2 pi) / 2)

    ``var`` (positive) has the input's shape, or one dim fewer, or size 1 in one dim (shared
    variance), or is a float. As in PyTorch, the clamp at ``eps`` does not stop ``var``'s
    gradient. Shapes: input, target (N, *) -> scalar (``reduction='none'``: as input).

    Example:
        >>> F.gaussian_nll_loss(cr.tensor([0.0, 1.0]), cr.tensor([1.0, 1.0]), cr.tensor([1.0, 2.0]))
        tensor(0.4233)
    """
    x, y = as_tensor(input), as_tensor(target)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = x.detach() * 0 + float(var)
    else:
        var = as_tensor(var)
        if bool((var.detach() < 0).any()):
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if tuple(var.shape) != tuple(x.shape):
        if tuple(x.shape[:-1]) == tuple(var.shape):  # one variance per row of the last dim
            var = var.unsqueeze(-1)
        elif not (
            x.ndim == var.ndim
            and sum(v for n, v in zip(x.shape, var.shape, strict=True) if n != v) == 1
        ):
            raise ValueError(
                f"gaussian_nll_loss: var of shape {tuple(var.shape)} is of incorrect size for "
                f"input of shape {tuple(x.shape)}"
            )
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"gaussian_nll_loss: {reduction} is not valid")
    # torch clamps a copy under no_grad: the value is clamped, the gradient passes unchanged
    var = var + (var.detach().clamp(min=eps) - var.detach())
    diff = x - y
    loss = 0.5 * (var.log() + diff * diff / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def poisson_nll_loss(
    input,
    target,
    log_input=True,
    full=False,
    size_average=None,
    eps=1e-8,
    reduce=None,
    reduction="mean",
):
    """Negative log likelihood of ``target`` under Poisson(rate), up to a constant::

        exp(input) - target * input           (log_input=True: input is the log rate)
        input - target * log(input + eps)     (log_input=False: input is the rate)

    With ``full`` Stirling's term ``target log(target) - target + log(2 pi target) / 2`` is
    added where target > 1. Shapes: input, target (*) -> scalar (``reduction='none'``: (*)).

    Example:
        >>> F.poisson_nll_loss(cr.tensor([0.0, 1.0]), cr.tensor([1.0, 2.0]), reduction="none")
        tensor([1.    , 0.7183])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"poisson_nll_loss: {reduction} is not a valid value for reduction")
    x, y = as_tensor(input), as_tensor(target)
    loss = x.exp() - y * x if log_input else x - y * (x + eps).log()
    if full:
        big = y > 1
        safe = where(big, y, y * 0 + 2)  # keeps log finite where the term is not used
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(big, stirling, stirling * 0)
    return _reduce(loss, reduction, "poisson_nll_loss")
