"""``ctc_loss``: Connectionist Temporal Classification (speech and handwriting recognition).

The forward (alpha) recursion runs over time on recorded ops, so the gradient (and a second
derivative) comes from autograd. Unreachable states hold a large negative number instead of
-inf: a log-sum-exp over three -inf would give NaN gradients; a loss that stays near that
number means no alignment exists, and is reported as inf (or 0 with ``zero_infinity``).
"""

import numpy as np

from ...ops import cat, gather, stack, where
from ...ops._util import as_tensor
from ...tensor import Tensor

_NEG = -1e30  # "log 0" that stays finite
_IMPOSSIBLE = -1e29  # log-likelihoods below this mean no alignment


def _lse(*terms):
    """log(sum(exp(terms))), elementwise, shifted by the (detached) max."""
    top = terms[0].detach()
    for t in terms[1:]:
        top = where(t.detach() > top, t.detach(), top)
    total = None
    for t in terms:
        e = (t - top).exp()
        total = e if total is None else total + e
    return top + total.log()


def _targets_per_sample(targets, target_lengths, batch):
    """One int array of labels per sample, from (N, S) padded or (sum(lengths),) concatenated."""
    labels = np.asarray(targets._data if isinstance(targets, Tensor) else targets).astype(np.int64)
    if labels.ndim == 2:
        return [labels[n, : target_lengths[n]] for n in range(batch)]
    ends = np.cumsum(target_lengths)
    return [labels[e - n : e] for n, e in zip(target_lengths, ends, strict=True)]


def ctc_loss(
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank=0,
    reduction="mean",
    zero_infinity=False,
):
    """Negative log likelihood of each target sequence summed over all its CTC alignments.

    Shapes: ``log_probs`` (T, N, C) (or (T, C)) from ``log_softmax(2)``; ``targets`` (N, S)
    padded or (sum(target_lengths),) concatenated, class indices without ``blank``;
    ``input_lengths`` and ``target_lengths`` (N,) ints. ``reduction='mean'`` divides each loss
    by its target length, then averages over the batch; 'sum' adds; 'none' gives (N,). With
    ``zero_infinity`` an impossible target (input too short) gives 0 and no gradient.
    ``log_probs.grad`` is the exact gradient (PyTorch returns one that is only right after the
    log_softmax backward); the gradient of the logits before ``log_softmax`` is the same.

    Example:
        >>> lp = cr.zeros(3, 1, 2).log_softmax(2)  # 6 of the 8 paths give "1": -log(0.75)
        >>> F.ctc_loss(lp, cr.tensor([[1]]), [3], [1], reduction="sum")
        tensor(0.2877)
    """
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"ctc_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    log_probs = as_tensor(log_probs)
    single = log_probs.ndim == 2
    if single:
        log_probs = log_probs.unsqueeze(1)
        targets = as_tensor(targets).reshape(1, -1)
    steps, batch, _classes = log_probs.shape
    in_lens = (
        np.asarray(input_lengths._data if isinstance(input_lengths, Tensor) else input_lengths)
        .astype(np.int64)
        .reshape(-1)
    )
    tg_lens = (
        np.asarray(target_lengths._data if isinstance(target_lengths, Tensor) else target_lengths)
        .astype(np.int64)
        .reshape(-1)
    )
    if in_lens.shape != (batch,) or tg_lens.shape != (batch,):
        raise ValueError(f"ctc_loss: input_lengths and target_lengths must have {batch} entries")
    if (in_lens > steps).any() or (in_lens < 0).any():
        raise ValueError(f"ctc_loss: input_lengths must be within 0..{steps}, got {in_lens}")
    labels = _targets_per_sample(targets, tg_lens, batch)
    width = 2 * int(tg_lens.max(initial=0)) + 1
    # The extended sequence blank, l1, blank, l2, ..., blank; padding positions hold blank.
    ext = np.full((batch, width), blank, dtype=np.int64)
    for n, lab in enumerate(labels):
        ext[n, 1 : 2 * len(lab) : 2] = lab
    # A skip from s - 2 to s is allowed onto a label that differs from the one two back.
    skip = np.zeros((batch, width), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    emit = gather(log_probs, 2, Tensor._wrap(np.broadcast_to(ext, (steps, batch, width)).copy()))
    neg = Tensor._wrap(np.full((batch, 1), _NEG, dtype=log_probs.dtype))
    neg2 = Tensor._wrap(np.full((batch, 2), _NEG, dtype=log_probs.dtype))
    start = np.full((batch, width), _NEG, dtype=log_probs.dtype)
    start[:, 0] = 0
    start[tg_lens > 0, 1] = 0
    alpha = emit[0] + Tensor._wrap(start)
    skip_t = Tensor._wrap(skip)
    history = [alpha]
    for t in range(1, steps):
        stay = alpha
        step = cat([neg, alpha[:, :-1]], dim=1)
        jump = where(skip_t, cat([neg2, alpha[:, :-2]], dim=1), neg.expand(batch, width))
        new = _lse(stay, step, jump) + emit[t]
        alpha = where(Tensor._wrap((t < in_lens)[:, None]), new, alpha)
        history.append(alpha)
    last = stack(history)  # the value at each sample's last step is alpha after that step
    final = last[np.maximum(in_lens - 1, 0), np.arange(batch)]
    end = Tensor._wrap(2 * tg_lens[:, None])
    before = Tensor._wrap(np.maximum(2 * tg_lens - 1, 0)[:, None])
    tail = _lse(
        gather(final, 1, end),
        gather(final, 1, before)
        + Tensor._wrap(np.where(tg_lens > 0, 0, _NEG)[:, None].astype(log_probs.dtype)),
    )
    loss = -tail.reshape(batch)
    impossible = Tensor._wrap((loss.detach().numpy() > -_IMPOSSIBLE) | (in_lens == 0))
    fill = 0.0 if zero_infinity else float("inf")
    loss = where(impossible, loss * 0 + fill, loss)
    if single:
        loss = loss.reshape(())
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return (loss / Tensor._wrap(np.maximum(tg_lens, 1).astype(log_probs.dtype))).mean()
