"""Metric-learning and ranking losses (siamese and triplet networks): ``margin_ranking_loss``,
``cosine_embedding_loss``, ``triplet_margin_loss``, ``soft_margin_loss``; and the likelihood
losses ``gaussian_nll_loss`` and ``poisson_nll_loss``. Built from recorded ops with PyTorch's
formulas (eps placement included)."""

import math

import numpy as np

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


# ---------------------------------------------------------------------------------------------
# hinge and multi-class / multi-label margin losses
# ---------------------------------------------------------------------------------------------


def _same_shape(x, y, op):
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(
            f"{op}: input shape {tuple(x.shape)} and target shape {tuple(y.shape)} must be equal"
        )


def hinge_embedding_loss(
    input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"
):
    """``x`` where ``y == 1``, ``max(0, margin - x)`` where ``y == -1`` (x: distances).

    As in PyTorch, a target that is neither 1 nor -1 gets both terms. Shapes: input and target
    (*) -> scalar (``reduction='none'``: (*)).

    Example:
        >>> F.hinge_embedding_loss(cr.tensor([0.3, 0.3]), cr.tensor([1.0, -1.0]), reduction="none")
        tensor([0.3, 0.7])
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = as_tensor(input), as_tensor(target)
    _same_shape(x, y, "hinge_embedding_loss")
    zeros = x * 0
    loss = where(y != 1, (margin - x).clamp(min=0), zeros) + where(y != -1, x, zeros)
    return _reduce(loss, reduction, "hinge_embedding_loss")


def _positive_part(z):
    """max(z, 0) with gradient 0 at z == 0 (clamp passes it there; torch's margin kernels not)."""
    return where(z > 0, z, z * 0)


def _class_scores(x, y, op):
    """(N, C) scores and (N,) int targets, checked; an unbatched (C,) input has a 0-d target."""
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"{op}: expected input of shape (N, C) or (C,), got {tuple(x.shape)}")
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    if y.dtype.kind not in "iu" or y.numel() != x2.shape[0] or y.ndim > 1:
        raise ValueError(
            f"{op}: target must hold one int class index per sample, got {y.dtype} "
            f"{tuple(y.shape)} for input {tuple(x.shape)}"
        )
    labels = y.numpy().reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= x2.shape[1]):
        raise IndexError(f"{op}: target out of range [0, {x2.shape[1]}): {labels.tolist()}")
    return x2, labels


def multi_margin_loss(
    input,
    target,
    p=1,
    margin=1.0,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
):
    """Multi-class hinge loss: ``sum_{i != y} max(0, margin - x[y] + x[i])**p / C`` per sample,
    each term scaled by ``weight[y]`` when given. ``p`` is 1 or 2.

    Shapes: input (N, C) or (C,), target (N,) or () int64, weight (C,) -> scalar
    (``reduction='none'``: (N,) or ()).

    Example:
        >>> F.multi_margin_loss(cr.tensor([[0.1, 0.2, 0.4, 0.8]]), cr.tensor([3]))
        tensor(0.325)
    """
    from ...ops.indexing import gather

    reduction = _legacy_reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: only p == 1 and p == 2 supported, got {p}")
    x, y = as_tensor(input), as_tensor(target)
    x2, labels = _class_scores(x, y, "multi_margin_loss")
    c = x2.shape[1]
    index = np.asarray(labels, np.int64).reshape(-1, 1)
    own = gather(x2, 1, index)  # (N, 1): each sample's score for its class
    # as torch's kernel: a term counts (and has a gradient) only where it is > 0
    terms = _positive_part(x2 - own + margin)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        w = as_tensor(weight)
        if tuple(w.shape) != (c,):
            raise ValueError(f"multi_margin_loss: weight must have shape ({c},), got {w.shape}")
        terms = terms * gather(w, 0, index.reshape(-1)).reshape(-1, 1)
    others = np.arange(c) != index  # the target's own term (margin**p) is not counted
    loss = (terms * as_tensor(others.astype(x.dtype))).sum(-1) / c
    return _reduce(loss.reshape(()) if x.ndim == 1 else loss, reduction, "multi_margin_loss")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: ``sum_{j, i} max(0, 1 - (x[y_j] - x[i])) / C`` per sample, over
    its target classes ``y_j`` (the leading entries of its target row, up to the first -1) and
    its non-target classes ``i``.

    Shapes: input (N, C) or (C,), target int64 of the same shape -> scalar
    (``reduction='none'``: (N,) or ()).

    Example:
        >>> x = cr.tensor([[0.1, 0.2, 0.4, 0.8]])
        >>> F.multilabel_margin_loss(x, cr.tensor([[3, 0, -1, 1]]))
        tensor(0.85)
    """
    from ...ops.indexing import gather

    op = "multilabel_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = as_tensor(input), as_tensor(target)
    if x.ndim not in (1, 2) or tuple(y.shape) != tuple(x.shape) or y.dtype.kind not in "iu":
        raise ValueError(
            f"{op}: expected input (N, C) or (C,) and an int target of the same shape, got "
            f"input {tuple(x.shape)} and target {y.dtype} {tuple(y.shape)}"
        )
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    labels = y.numpy().reshape(x2.shape).astype(np.int64)
    n, c = x2.shape
    # slot j of a row is used while no -1 came before it (the target list ends at the first -1)
    used = np.cumprod(labels >= 0, axis=1).astype(bool)
    if (labels[used] >= c).any():
        raise IndexError(f"{op}: target out of range [0, {c}): {labels.tolist()}")
    safe = np.where(used, labels, 0)
    is_target = np.zeros((n, c), bool)
    is_target[np.nonzero(used)[0], labels[used]] = True
    mask = used[:, :, None] & ~is_target[:, None, :]  # (N, slot, class)
    own = gather(x2, 1, safe)  # (N, slot): the score of each slot's target class
    terms = _positive_part(1 - own.unsqueeze(2) + x2.unsqueeze(1))
    loss = (terms * as_tensor(mask.astype(x.dtype))).sum((1, 2)) / c
    return _reduce(loss.reshape(()) if x.ndim == 1 else loss, reduction, op)


def multilabel_soft_margin_loss(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """Per-class logistic loss averaged over the C classes:
    ``-mean_c(y log sigmoid(x) + (1 - y) log sigmoid(-x))``, each class scaled by ``weight``.

    Shapes: input and target (N, C), weight (C,) -> scalar (``reduction='none'``: (N,)).

    Example:
        >>> F.multilabel_soft_margin_loss(cr.tensor([[0.0, 0.0]]), cr.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """
    op = "multilabel_soft_margin_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x, y = as_tensor(input), as_tensor(target)
    _same_shape(x, y, op)
    if x.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (N, C), got {tuple(x.shape)}")
    loss = y * softplus(-x) + (1 - y) * softplus(x)
    if weight is not None:
        loss = loss * as_tensor(weight)
    return _reduce(loss.sum(-1) / x.shape[-1], reduction, op)


def triplet_margin_with_distance_loss(
    anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction="mean"
):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with any distance ``d`` (default
    :func:`pairwise_distance`); with ``swap`` the negative distance is ``min(d(a, n), d(p, n))``.

    Shapes: anchor, positive, negative (N, D) or (D,) -> scalar (``reduction='none'``: (N,)).

    Example:
        >>> a, p, n = cr.tensor([[0.0, 0.0]]), cr.tensor([[0.0, 1.0]]), cr.tensor([[0.0, 3.0]])
        >>> cos = lambda u, v: 1 - F.cosine_similarity(u, v)
        >>> F.triplet_margin_with_distance_loss(a, p, n, distance_function=cos)
        tensor(1.)
    """
    op = "triplet_margin_with_distance_loss"
    if margin <= 0:
        raise ValueError(f"{op}: expected margin to be greater than 0, got {margin} instead")
    a, pos, neg = as_tensor(anchor), as_tensor(positive), as_tensor(negative)
    if not a.ndim == pos.ndim == neg.ndim:
        raise ValueError(
            f"{op}: anchor {tuple(a.shape)}, positive {tuple(pos.shape)} and negative "
            f"{tuple(neg.shape)} must have the same number of dims"
        )
    dist = pairwise_distance if distance_function is None else distance_function
    d_ap, d_an = dist(a, pos), dist(a, neg)
    if swap:
        d_pn = dist(pos, neg)
        d_an = where(d_pn < d_an, d_pn, d_an)
    return _reduce((margin + d_ap - d_an).clamp(min=0), reduction, op)
