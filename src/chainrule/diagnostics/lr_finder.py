"""The learning-rate range test: train briefly with an exponentially growing rate, read the curve.

Leslie Smith's test (Cyclical Learning Rates, 2017; popularised by fastai): one batch per step,
the rate multiplied by a constant factor each step from ``start_lr`` to ``end_lr``, stopping when
the loss diverges. Where the (smoothed) loss falls fastest is a good learning rate; where it stops
falling and starts to blow up is the limit. The model, the optimizer and the random generators
are restored exactly afterwards, so the test leaves no trace.

Example::

    result = cr.diagnostics.lr_range_test(model, cr.nn.functional.cross_entropy, opt, loader)
    print(result)                  # suggested lr, range and the reasoning
    result.plot()                  # needs matplotlib (pip install chainrule[plot])
"""

import copy
import math

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..tensor import Tensor


class LRRangeResult:
    """The curve of an LR range test and what to read from it.

    Attributes:
        lrs (ndarray): the learning rate of each step taken (float64), shape (S,).
        losses (ndarray): the batch loss at each step, shape (S,).
        smoothed_losses (ndarray): exponential moving average of ``losses`` (bias-corrected).
        suggested_lr (float): where the smoothed loss falls fastest per decade of lr.
        suggested_range (tuple): (low, high) rates for schedules that sweep a range.
        reasoning (str): how the suggestion was read from the curve, in words.
        diverged_at (float | None): the rate at which the sweep stopped on divergence.
        update_ratios (dict[str, ndarray]): per parameter name, ‖Δw‖/‖w‖ of each step's update
            (shape (S,); NaN where no update was made: the step that diverged).
    """

    def __init__(
        self, lrs, losses, smoothed, diverged_at, update_ratios, diverge_factor=4.0, smooth=0.05
    ):
        self.lrs = np.asarray(lrs, dtype=np.float64)
        self.losses = np.asarray(losses, dtype=np.float64)
        self.smoothed_losses = np.asarray(smoothed, dtype=np.float64)
        self.diverged_at = diverged_at
        self.diverge_factor = diverge_factor
        self.smooth = smooth
        self.update_ratios = {k: np.asarray(v, dtype=np.float64) for k, v in update_ratios.items()}
        self.suggested_lr, self.suggested_range, self.reasoning = _suggest(self)

    def __repr__(self):
        lo, hi = self.suggested_range
        return (
            f"LRRangeResult(suggested_lr={self.suggested_lr:.3g}, suggested_range=({lo:.3g}, "
            f"{hi:.3g}), steps={len(self.lrs)}, diverged_at={self.diverged_at!r})"
        )

    def __str__(self):
        return f"{self!r}\n{self.reasoning}"

    def plot(self, ax=None):
        """Loss against learning rate (log scale), with the suggestion, range and divergence.

        Needs matplotlib. Non-finite losses are left out of the drawing. Returns the axes.
        """
        if ax is None:
            _, ax = _pyplot().subplots(figsize=(6, 4))
        finite = lambda a: np.where(np.isfinite(a), a, np.nan)
        ax.plot(self.lrs, finite(self.losses), color="C0", alpha=0.3, label="loss")
        ax.plot(self.lrs, finite(self.smoothed_losses), color="C0", label="smoothed loss")
        ax.axvline(
            self.suggested_lr, color="C2", ls="--", label=f"suggested lr {self.suggested_lr:.2g}"
        )
        ax.axvspan(*self.suggested_range, color="C2", alpha=0.12, label="suggested range")
        if self.diverged_at is not None:
            ax.axvline(
                self.diverged_at, color="C3", ls=":", label=f"diverged {self.diverged_at:.2g}"
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.set_title("LR range test")
        _clip_ylim(ax, self.smoothed_losses)
        ax.legend(fontsize=8)
        return ax


def lr_range_test(
    model,
    loss_fn,
    optimizer,
    loader,
    start_lr=1e-7,
    end_lr=10,
    num_steps=100,
    smooth=0.05,
    diverge_factor=4.0,
):
    """Sweep the learning rate exponentially, one batch per step, and suggest a good one.

    Step ``i`` sets every parameter group's ``lr`` to ``start_lr * (end_lr/start_lr)**(i/(S-1))``,
    draws the next batch (the loader is cycled), computes ``loss_fn(model(*inputs), target)``
    and takes one optimizer step. The sweep stops when the loss is not finite or the smoothed
    loss exceeds ``diverge_factor`` times its best value so far. Afterwards the parameters,
    buffers, ``.grad``, train/eval modes, the optimizer (state and options, via
    ``state_dict``), chainrule's global random generator and the loader's own generator are put
    back exactly as they were, bit for bit.

    Args:
        model (Module): the model, in any mode (it is trained in train mode).
        loss_fn: ``loss_fn(output, target) -> scalar Tensor``.
        optimizer (Optimizer): its groups all get the swept rate.
        loader: iterable of batches ``(inputs..., target)``.
        start_lr, end_lr (float): the sweep's ends, ``0 < start_lr < end_lr``.
        num_steps (int): at most this many steps (>= 3).
        smooth (float): weight of the newest loss in the moving average (1: no smoothing).
        diverge_factor (float): divergence threshold relative to the best smoothed loss.

    Returns:
        LRRangeResult: ``.lrs``, ``.losses``, ``.suggested_lr``, ``.suggested_range``,
        ``.reasoning``, ``.diverged_at``, ``.update_ratios``, ``.plot()``.

    Example::

        res = lr_range_test(model, F.cross_entropy, cr.optim.SGD(model.parameters(), lr=0.1),
                            loader, num_steps=100)
        res.suggested_lr          # e.g. 0.2
    """
    _check_args(start_lr, end_lr, num_steps, smooth, diverge_factor)
    from . import torch_adapter  # a torch model: the same sweep, torch's state

    torch_adapter.adapt(model, where="lr_range_test")  # a TypeError for a non-module
    if torch_adapter.is_torch_module(model):
        return torch_adapter.lr_range_test(
            model, loss_fn, optimizer, loader, start_lr, end_lr, num_steps, smooth, diverge_factor
        )
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    snapshot = _Snapshot(model, optimizer, loader)
    try:
        model.train()
        curve = _sweep(
            model,
            loss_fn,
            optimizer,
            loader,
            named,
            _schedule(start_lr, end_lr, num_steps),
            smooth,
            diverge_factor,
        )
    finally:
        snapshot.restore()
    return LRRangeResult(*curve, diverge_factor=diverge_factor, smooth=smooth)


def _check_args(start_lr, end_lr, num_steps, smooth, diverge_factor):
    if not 0 < start_lr < end_lr:
        raise ValueError(
            f"lr_range_test: need 0 < start_lr < end_lr, got start_lr={start_lr}, end_lr={end_lr}"
        )
    if int(num_steps) != num_steps or num_steps < 3:
        raise ValueError(f"lr_range_test: num_steps must be an integer >= 3, got {num_steps}")
    if not 0 < smooth <= 1:
        raise ValueError(f"lr_range_test: smooth must be in (0, 1], got {smooth}")
    if not diverge_factor > 1:
        raise ValueError(f"lr_range_test: diverge_factor must be > 1, got {diverge_factor}")


def _schedule(start_lr, end_lr, num_steps):
    return start_lr * (end_lr / start_lr) ** (np.arange(int(num_steps)) / (int(num_steps) - 1))


def _sweep(model, loss_fn, optimizer, loader, named, schedule, smooth, diverge_factor):
    lrs, losses, smoothed, ratios = [], [], [], {n: [] for n, _ in named}
    batches, avg, best, diverged_at = _cycle(loader), 0.0, math.inf, None
    for i, lr in enumerate(schedule):
        for group in optimizer.param_groups:
            group["lr"] = float(lr)
        inputs, target = _split(next(batches))
        optimizer.zero_grad()
        loss = loss_fn(model(*inputs), target)
        value = float(loss.item())
        avg = (1 - smooth) * avg + smooth * value
        s = avg / (1 - (1 - smooth) ** (i + 1))  # bias correction of the average
        lrs.append(float(lr))
        losses.append(value)
        smoothed.append(s)
        if not math.isfinite(value) or (i > 0 and s > diverge_factor * best):
            diverged_at = float(lr)
            for n in ratios:
                ratios[n].append(math.nan)
            break
        best = min(best, s)
        loss.backward()
        before = [p._data.copy() for _, p in named]
        optimizer.step()
        for (n, p), old in zip(named, before, strict=True):
            ratios[n].append(_ratio(p._data, old))
    return lrs, losses, smoothed, diverged_at, ratios


def _cycle(loader):
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("lr_range_test: the loader yielded no batch")


def _split(batch):
    if isinstance(batch, (tuple, list)) and len(batch) >= 2:
        return tuple(batch[:-1]), batch[-1]
    raise TypeError(
        f"lr_range_test: each batch must be a tuple (inputs..., target), got "
        f"{type(batch).__name__}"
        + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
    )


def _ratio(new, old):
    old64 = old.astype(np.float64)
    w = float(np.linalg.norm(old64))
    dw = float(np.linalg.norm(new.astype(np.float64) - old64))
    return dw / w if w > 0 else (0.0 if dw == 0 else math.inf)


class _Snapshot:
    """Everything the sweep changes, copied, and put back bit for bit by :meth:`restore`."""

    def __init__(self, model, optimizer, loader):
        tensors = {id(p): p for p in model.parameters()}
        tensors.update({id(p): p for g in optimizer.param_groups for p in g["params"]})
        self.tensors = [
            (t, t._data.copy(), None if t.grad is None else t.grad._data.copy())
            for t in tensors.values()
        ]
        self.buffers = [
            (m, name, b, b._data.copy())
            for _, m in model.named_modules()
            for name, b in m.named_buffers(recurse=False)
            if b is not None
        ]
        self.modes = [(m, m.training) for m in model.modules()]
        self.optimizer, self.opt_state = optimizer, copy.deepcopy(optimizer.state_dict())
        self.rng = copy.deepcopy(_random.get_rng_state())
        gen = getattr(loader, "generator", None)
        self.loader_gen = gen if isinstance(gen, np.random.Generator) else None
        self.loader_state = copy.deepcopy(gen.bit_generator.state) if self.loader_gen else None

    def restore(self):
        with no_grad():
            for t, data, grad in self.tensors:
                _put(t, data)
                t.grad = None if grad is None else Tensor._wrap(grad.copy())
            for module, name, b, data in self.buffers:
                _put(b, data)
                if getattr(module, name, None) is not b:  # the sweep rebound the buffer
                    setattr(module, name, b)
        for module, mode in self.modes:
            module.training = mode
        self.optimizer.load_state_dict(copy.deepcopy(self.opt_state))
        _random.set_rng_state(copy.deepcopy(self.rng))
        if self.loader_gen is not None:
            self.loader_gen.bit_generator.state = self.loader_state


def _put(t, data):
    if t._data.shape == data.shape and t._data.dtype == data.dtype:
        t.copy_(data)  # in place: the optimizer and any views keep the same array
    else:
        t._data = data.copy()


# ---- reading the curve ----


def _suggest(res):
    """Steepest descent of the smoothed loss (per decade of lr) before its minimum.

    The low end of the range is a decade below that point (the loss still falls there, more
    slowly: a safe starting or base rate). The high end is a decade below the rate at which
    the smoothed loss was lowest, where it stopped falling and started towards divergence
    (fastai's "minimum / 10" rule), but never below the suggestion.
    """
    usable = len(res.lrs) - (1 if res.diverged_at is not None else 0)
    lrs, s = res.lrs[:usable], res.smoothed_losses[:usable]
    lines = [
        f"Swept {len(res.lrs)} learning rates from {res.lrs[0]:.3g} to {res.lrs[-1]:.3g} "
        "(exponentially, one batch each)."
    ]
    if usable < 3 or not np.isfinite(s).any():
        lr = float(res.lrs[0])
        lines.append(
            f"The loss diverged almost at once: even {lr:.3g} is too high; lower start_lr."
        )
        return lr, (lr / 10, lr), " ".join(lines)
    k_min = int(np.nanargmin(s))
    if k_min < 2:
        lr = float(lrs[0])
        lines.append(
            f"The smoothed loss never fell; it was lowest at the first rate, {lr:.3g}: "
            "lower start_lr to see where it starts falling."
        )
        return lr, (lr / 10, lr), " ".join(lines)
    k, slope = _steepest(np.log10(lrs[: k_min + 1]), s[: k_min + 1], res.smooth)
    lr, onset = float(lrs[k]), float(lrs[k_min])
    low, high = lr / 10, max(onset / 10, lr)
    lines.append(
        f"The smoothed loss fell fastest at lr = {lr:.3g} ({slope:.3g} per decade "
        "of lr): that is the suggested rate (steepest descent)."
    )
    lines.append(
        f"It was lowest ({s[k_min]:.4g}) at lr = {onset:.3g}"
        + (
            f" and diverged (the smoothed loss passed {res.diverge_factor:g} x its best, "
            f"or was not finite) at lr = {res.diverged_at:.3g}."
            if res.diverged_at is not None
            else "; it never diverged, raise end_lr to find the upper limit."
        )
    )
    top = (
        "a decade below where it stopped falling (the largest rate with a safety margin)"
        if high > lr
        else "the suggestion itself (a decade below where the loss stopped "
        f"falling, {onset / 10:.3g}, would lie under it)"
    )
    lines.append(
        f"Range {low:.3g} to {high:.3g}: from a decade below the steepest descent (the "
        f"loss still falls there, slowly) up to {top}."
    )
    return lr, (low, high), " ".join(lines)


def _steepest(log_lr, smoothed, smooth):
    """Index and slope of the steepest fall, each slope taken across about half a decade.

    A slope between neighbouring points is mostly batch noise when the loss is still flat, and
    the moving average's first ~1/smooth points are its warm-up: both would put the "steepest"
    point at the very start of the sweep. So the warm-up is skipped (as far as the curve
    allows) and each slope spans +-0.25 decade of learning rate.
    """
    n = len(log_lr)
    per_decade = (n - 1) / max(log_lr[-1] - log_lr[0], 1e-12)
    half = max(1, int(round(per_decade / 4)))
    start = min(int(round(1 / max(smooth, 1e-6))), n // 2)
    best_k, best = None, np.inf
    for k in range(max(start, half), n - half):
        slope = (smoothed[k + half] - smoothed[k - half]) / (log_lr[k + half] - log_lr[k - half])
        if slope < best:
            best_k, best = k, slope
    if best_k is None:  # too few points for windows: neighbouring slopes
        slopes = np.gradient(smoothed, log_lr)
        best_k = int(np.argmin(slopes))
        best = slopes[best_k]
    return best_k, float(best)


def _clip_ylim(ax, smoothed):
    finite = smoothed[np.isfinite(smoothed)]
    if finite.size:  # show the fall in full, not the whole blow-up at the end
        lo = finite.min()
        hi = min(finite.max(), 2 * finite[0] - lo) if finite[0] > lo else finite.max()
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        ax.set_ylim(lo - pad, hi + pad)


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError("LRRangeResult.plot needs matplotlib: pip install chainrule[plot]") from e
    return plt
