"""Stochastic weight averaging and EMA of weights (``torch.optim.swa_utils``).

``AveragedModel`` keeps a copy of a model whose parameters are the running average of the
model's over the calls to ``update_parameters``; ``SWALR`` anneals each group's learning rate
to a constant ``swa_lr``; ``update_bn`` recomputes the BatchNorm statistics of the averaged
weights with one pass over the data.

Example::

    swa_model = cr.optim.swa_utils.AveragedModel(model)
    swa_scheduler = cr.optim.swa_utils.SWALR(optimizer, swa_lr=0.05)
    for epoch in range(epochs):
        train_one_epoch(model, optimizer)
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
    cr.optim.swa_utils.update_bn(loader, swa_model)
"""

import copy
import itertools
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..creation import tensor
from ..nn.module import Module
from ..nn.modules.normalization import _BatchNorm
from .lr_scheduler import LRScheduler

__all__ = [
    "AveragedModel",
    "SWALR",
    "update_bn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
]


def get_swa_avg_fn():
    """``avg_fn`` of the equal-weight average: ``avg + (current - avg) / (n + 1)``."""

    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """``avg_fn`` of an exponential moving average: ``decay * avg + (1 - decay) * current``."""

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_multi_avg_fn():
    """``multi_avg_fn`` of the equal-weight average, updating the lists in place."""

    def swa_update(averaged_params, current_params, num_averaged):
        weight = 1.0 / (float(num_averaged) + 1)
        for avg, cur in zip(averaged_params, current_params, strict=True):
            avg.lerp_(cur, weight)

    return swa_update


def get_ema_multi_avg_fn(decay=0.999):
    """``multi_avg_fn`` of an exponential moving average, updating the lists in place."""

    def ema_update(ema_params, current_params, num_averaged):
        for ema, cur in zip(ema_params, current_params, strict=True):
            ema.lerp_(cur, 1 - decay)

    return ema_update


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters (and buffers, with ``use_buffers``) average the
    model's over ``update_parameters`` calls; calling it runs the copy.

    The first update copies the model; later ones apply ``multi_avg_fn(averaged_list,
    current_list, n_averaged)`` (in place) or ``avg_fn(averaged, current, n_averaged)`` (returns
    the new value), by default the equal-weight average. Without ``use_buffers`` the buffers
    (BatchNorm statistics) are copied from the model at each update; ``n_averaged`` is an int64
    buffer.

    Example::

        ema = cr.optim.swa_utils.AveragedModel(
            model, multi_avg_fn=cr.optim.swa_utils.get_ema_multi_avg_fn(0.99)
        )
        ema.update_parameters(model)
        ema(x)      # (N, ...) as model(x)
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give only one of avg_fn and multi_avg_fn")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=np.int64))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _pairs(self, model):
        if self.use_buffers:
            mine = itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = itertools.chain(model.parameters(), model.buffers())
        else:
            mine, theirs = self.parameters(), model.parameters()
        return list(mine), list(theirs)

    def update_parameters(self, model):
        """Fold ``model``'s current parameters into the average."""
        mine, theirs = self._pairs(model)
        if len(mine) != len(theirs):
            raise ValueError("AveragedModel.update_parameters: the models do not match")
        n = int(self.n_averaged.item())
        with no_grad():
            if n == 0:
                for avg, cur in zip(mine, theirs, strict=True):
                    avg.detach().copy_(cur.detach())
            else:
                # Only floating-point tensors are averaged; counters are copied.
                pairs = [
                    (a.detach(), c.detach())
                    for a, c in zip(mine, theirs, strict=True)
                    if a.is_floating_point()
                ]
                for avg, cur in zip(mine, theirs, strict=True):
                    if not avg.is_floating_point():
                        avg.detach().copy_(cur.detach())
                if self.avg_fn is not None:
                    for avg, cur in pairs:
                        avg.copy_(self.avg_fn(avg, cur, self.n_averaged))
                else:
                    multi = self.multi_avg_fn or get_swa_multi_avg_fn()
                    multi([a for a, _ in pairs], [c for _, c in pairs], self.n_averaged)
            if not self.use_buffers:
                # The buffers (BatchNorm statistics) follow the model; update_bn recomputes them.
                for mine_b, theirs_b in zip(self.module.buffers(), model.buffers(), strict=True):
                    mine_b.detach().copy_(theirs_b.detach())
            self.n_averaged += 1


def update_bn(loader, model, device=None):
    """Recompute every BatchNorm's running statistics with one pass over ``loader``.

    The statistics are reset and averaged over all batches (momentum None for the pass);
    a batch that is a list or tuple contributes its first item. The model's train/eval mode
    and the momenta are restored.

    Example::

        cr.optim.swa_utils.update_bn(train_loader, swa_model)
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's learning rate from its current value to ``swa_lr`` over
    ``anneal_epochs`` steps ('cos' or 'linear'), then holds it.

    ``swa_lr`` is one float or one per group. Example::

        sched = cr.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=5)
        for epoch in range(10):
            train_one_epoch(model, opt)
            sched.step()
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        groups = optimizer.param_groups
        swa_lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) else [swa_lr] * len(groups)
        if len(swa_lrs) != len(groups):
            raise ValueError(
                f"SWALR: expected {len(groups)} values for swa_lr (one per group), "
                f"got {len(swa_lrs)}"
            )
        for lr, group in zip(swa_lrs, groups, strict=True):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"SWALR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be an int >= 0, got {anneal_epochs}")
        self.anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _choices(self):
        return {"anneal_strategy": ("cos", "linear")}

    def _anneal(self, t):
        if self.anneal_strategy == "linear":
            return t
        return (1 - math.cos(math.pi * t)) / 2

    def get_lr(self):
        # Recover the learning rate the annealing started from out of the current one (the
        # optimizer may have been changed by hand), then move one step further along.
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        lrs = []
        for group in self.optimizer.param_groups:
            swa = group["swa_lr"]
            start = swa if prev_alpha == 1 else (group["lr"] - prev_alpha * swa) / (1 - prev_alpha)
            lrs.append(swa * alpha + start * (1 - alpha))
        return lrs
