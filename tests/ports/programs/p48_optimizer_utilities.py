"""Optimizer and scheduler idioms of training scripts not covered yet: a custom warmup-cosine
scheduler subclassing lr_scheduler.LRScheduler (get_lr from last_epoch and base_lrs), the
optimizer keyword flags (foreach, fused, capturable, differentiable), Rprop and ASGD,
register_step_pre_hook / register_step_post_hook, zero_grad(set_to_none=False), manual warmup
by writing param_group['lr'], early stopping that keeps copy.deepcopy(model.state_dict()),
nn.utils.get_total_norm + clip_grads_with_norm_, clip_grad_norm_(error_if_nonfinite=True)
raising on an inf gradient, and parameters_to_vector of the gradients."""

import copy
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import LRScheduler

COMPARE = {
    "custom_lrs": 1e-9,
    "flags_losses": 1e-5,
    "rprop": 1e-5,
    "asgd": 1e-5,
    "hook_calls": 0,
    "zeroed": 0,
    "warmup_lrs": 1e-9,
    "best_epoch": 0,
    "restored": 1e-6,
    "total_norm": 1e-5,
    "clipped_norm": 1e-5,
    "nonfinite_raised": 0,
    "grad_vector": 1e-5,
}


class WarmupCosine(LRScheduler):
    def __init__(self, optimizer, warmup_steps, total_steps, min_lr=0.0, last_epoch=-1):
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lr = min_lr
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        step = self.last_epoch
        if step < self.warmup_steps:
            return [base_lr * (step + 1) / self.warmup_steps for base_lr in self.base_lrs]
        progress = (step - self.warmup_steps) / max(1, self.total_steps - self.warmup_steps)
        return [
            self.min_lr + (base_lr - self.min_lr) * 0.5 * (1 + math.cos(math.pi * progress))
            for base_lr in self.base_lrs
        ]


def make(rng):
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    return model


def train(model, opt, X, Y, steps=4):
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def main():
    rng = np.random.default_rng(48)
    X = torch.from_numpy(rng.standard_normal((16, 4)).astype(np.float32))
    Y = torch.from_numpy(rng.standard_normal((16, 2)).astype(np.float32))

    model = make(rng)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = WarmupCosine(opt, warmup_steps=3, total_steps=10, min_lr=1e-4)
    custom_lrs = []
    for _ in range(10):
        opt.step()
        sched.step()
        custom_lrs.append(sched.get_last_lr()[0])

    flags_losses = []
    for cls, kwargs in [
        (torch.optim.Adam, dict(lr=1e-2, foreach=False, fused=None, capturable=False)),
        (torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, foreach=True)),
        (torch.optim.AdamW, dict(lr=1e-2, amsgrad=True, differentiable=False, maximize=False)),
    ]:
        m = make(np.random.default_rng(1))
        flags_losses += train(m, cls(m.parameters(), **kwargs), X, Y)

    m = make(np.random.default_rng(2))
    rprop = train(m, torch.optim.Rprop(m.parameters(), lr=0.01, etas=(0.5, 1.2)), X, Y, 6)
    m = make(np.random.default_rng(3))
    asgd = train(m, torch.optim.ASGD(m.parameters(), lr=0.05, t0=2), X, Y, 6)

    calls = []
    m = make(np.random.default_rng(4))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    opt.register_step_pre_hook(lambda optimizer, args, kwargs: calls.append("pre"))
    handle = opt.register_step_post_hook(lambda optimizer, args, kwargs: calls.append("post"))
    train(m, opt, X, Y, 2)
    handle.remove()
    train(m, opt, X, Y, 1)

    opt.zero_grad(set_to_none=False)
    zeroed = [p.grad is not None and bool((p.grad == 0).all()) for p in m.parameters()]

    m = make(np.random.default_rng(5))
    opt = torch.optim.SGD(m.parameters(), lr=0.2)
    warmup_lrs = []
    best_loss, best_state, best_epoch = float("inf"), None, -1
    for epoch in range(6):
        for group in opt.param_groups:
            group["lr"] = 0.2 * min(1.0, (epoch + 1) / 3)
        warmup_lrs.append(opt.param_groups[0]["lr"])
        train(m, opt, X, Y, 1)
        with torch.no_grad():
            val = F.mse_loss(m(X[:8]), Y[:8]).item()
        if val < best_loss:
            best_loss, best_epoch = val, epoch
            best_state = copy.deepcopy(m.state_dict())
    m.load_state_dict(best_state)
    with torch.no_grad():
        restored = F.mse_loss(m(X[:8]), Y[:8]).item()

    m = make(np.random.default_rng(6))
    F.mse_loss(m(X), Y * 10).backward()
    grads = [p.grad for p in m.parameters()]
    total_norm = nn.utils.get_total_norm(grads, norm_type=2.0)
    nn.utils.clip_grads_with_norm_(m.parameters(), max_norm=0.5, total_norm=total_norm)
    clipped_norm = torch.norm(torch.stack([g.norm() for g in grads])).item()
    grad_vector = nn.utils.parameters_to_vector(grads)
    m[0].weight.grad[0, 0] = float("inf")
    try:
        nn.utils.clip_grad_norm_(m.parameters(), 1.0, error_if_nonfinite=True)
        nonfinite_raised = False
    except RuntimeError:
        nonfinite_raised = True
    return {
        "custom_lrs": custom_lrs,
        "flags_losses": flags_losses,
        "rprop": rprop,
        "asgd": asgd,
        "hook_calls": calls,
        "zeroed": zeroed,
        "warmup_lrs": warmup_lrs,
        "best_epoch": best_epoch,
        "restored": [restored, best_loss],
        "total_norm": total_norm.item(),
        "clipped_norm": clipped_norm,
        "nonfinite_raised": nonfinite_raised,
        "grad_vector": grad_vector.tolist(),
    }
