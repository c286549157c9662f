"""Fine-tuning recipes from Kaggle notebooks and the PyTorch docs: a frozen-then-unfrozen backbone
(requires_grad_(False), add_param_group with its own lr), discriminative learning rates in param
groups, gradient accumulation with ``loss / accum_steps``, clip_grad_value_, OneCycleLR stepped
per batch, CosineAnnealingWarmRestarts stepped with a fractional epoch, SequentialLR (LinearLR
warmup then MultiStepLR), ReduceLROnPlateau(mode='max') on a validation metric, optimizer and
scheduler state round trips through io.BytesIO with torch.save/torch.load, and stochastic
weight averaging (swa_utils.AveragedModel, SWALR, update_bn)."""

# ruff: noqa: B905  (written as in the notebooks)
import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import (
    CosineAnnealingWarmRestarts,
    LinearLR,
    MultiStepLR,
    OneCycleLR,
    ReduceLROnPlateau,
    SequentialLR,
)
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn
from torch.utils.data import DataLoader, TensorDataset

COMPARE = {
    "frozen_grads": 0,
    "accum_losses": 1e-4,
    "onecycle_lrs": 1e-9,
    "onecycle_momentum": 1e-9,
    "warm_restart_lrs": 1e-9,
    "sequential_lrs": 1e-9,
    "plateau_lrs": 1e-9,
    "resumed_equal": 0,
    "group_lrs": 1e-9,
    "swa_out": 1e-4,
    "swa_n_averaged": 0,
    "swa_lrs": 1e-9,
    "bn_mean": 1e-4,
}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(6, 16, bias=False), nn.BatchNorm1d(16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


def loaded(rng):
    model = Net()
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            if v.is_floating_point() and "running" not in k
            else v
            for k, v in model.state_dict().items()
        }
    )
    return model


def main():
    rng = np.random.default_rng(41)
    X = torch.from_numpy(rng.standard_normal((24, 6)).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, 3, 24))
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=False)

    # Stage 1: the backbone frozen, only the head trains.
    model = loaded(rng)
    for param in model.backbone.parameters():
        param.requires_grad_(False)
    optimizer = torch.optim.SGD(
        filter(lambda p: p.requires_grad, model.parameters()), lr=0.05, momentum=0.9
    )
    accum_steps = 3
    accum_losses = []
    optimizer.zero_grad()
    for i, (xb, yb) in enumerate(loader):
        loss = F.cross_entropy(model(xb), yb) / accum_steps
        loss.backward()
        if (i + 1) % accum_steps == 0:
            nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
            optimizer.step()
            optimizer.zero_grad()
        accum_losses.append(loss.item() * accum_steps)
    frozen_grads = [p.grad is None for p in model.backbone.parameters()]

    # Stage 2: unfreeze with a smaller learning rate for the backbone.
    for param in model.backbone.parameters():
        param.requires_grad_(True)
    optimizer.add_param_group({"params": model.backbone.parameters(), "lr": 0.005})
    group_lrs = [g["lr"] for g in optimizer.param_groups]

    # OneCycleLR stepped after every batch, discriminative max_lr per group.
    opt = torch.optim.AdamW(
        [
            {"params": model.backbone.parameters(), "lr": 1e-4},
            {"params": model.head.parameters(), "lr": 1e-3},
        ],
        weight_decay=0.01,
    )
    epochs = 2
    sched = OneCycleLR(
        opt, max_lr=[1e-3, 1e-2], epochs=epochs, steps_per_epoch=len(loader), pct_start=0.3
    )
    onecycle_lrs, onecycle_momentum = [], []
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
            sched.step()
            onecycle_lrs.append(sched.get_last_lr())
            onecycle_momentum.append(opt.param_groups[0]["betas"][0])

    # Resume: save everything to a buffer, load into fresh objects, compare one more step.
    buffer = io.BytesIO()
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
        },
        buffer,
    )
    buffer.seek(0)
    checkpoint = torch.load(buffer, weights_only=True)
    twin = Net()
    twin.load_state_dict(checkpoint["model"])
    twin_opt = torch.optim.AdamW(
        [
            {"params": twin.backbone.parameters(), "lr": 1e-4},
            {"params": twin.head.parameters(), "lr": 1e-3},
        ],
        weight_decay=0.01,
    )
    twin_opt.load_state_dict(checkpoint["optimizer"])
    for net, o in ((model, opt), (twin, twin_opt)):
        o.zero_grad()
        F.cross_entropy(net(X[:8]), y[:8]).backward()
        o.step()
    resumed_equal = all(
        torch.equal(a, b) for a, b in zip(model.state_dict().values(), twin.state_dict().values())
    )

    # Warm restarts stepped with a fractional epoch, as in the docs' example.
    opt2 = torch.optim.SGD(model.parameters(), lr=0.1)
    warm = CosineAnnealingWarmRestarts(opt2, T_0=2, T_mult=2, eta_min=0.001)
    iters = 3
    warm_restart_lrs = []
    for epoch in range(4):
        for i in range(iters):
            opt2.step()
            warm.step(epoch + i / iters)
            warm_restart_lrs.append(opt2.param_groups[0]["lr"])

    opt3 = torch.optim.SGD(model.parameters(), lr=0.1)
    seq = SequentialLR(
        opt3,
        schedulers=[
            LinearLR(opt3, start_factor=0.1, total_iters=3),
            MultiStepLR(opt3, milestones=[2, 4], gamma=0.5),
        ],
        milestones=[3],
    )
    sequential_lrs = []
    for _ in range(8):
        opt3.step()
        seq.step()
        sequential_lrs.append(seq.get_last_lr()[0])

    opt4 = torch.optim.Adam(model.parameters(), lr=0.01)
    plateau = ReduceLROnPlateau(opt4, mode="max", factor=0.5, patience=1, threshold=0.01)
    plateau_lrs = []
    for val_acc in [0.5, 0.6, 0.6, 0.605, 0.61, 0.7, 0.69, 0.69, 0.69]:
        plateau.step(val_acc)
        plateau_lrs.append(opt4.param_groups[0]["lr"])

    # Stochastic weight averaging.
    swa_model = AveragedModel(model)
    opt5 = torch.optim.SGD(model.parameters(), lr=0.05)
    swa_scheduler = SWALR(opt5, swa_lr=0.01, anneal_epochs=2, anneal_strategy="cos")
    swa_lrs = []
    for _ in range(4):
        for xb, yb in loader:
            opt5.zero_grad()
            F.cross_entropy(model(xb), yb).backward()
            opt5.step()
        swa_model.update_parameters(model)
        swa_scheduler.step()
        swa_lrs.append(opt5.param_groups[0]["lr"])
    update_bn(loader, swa_model)
    swa_model.eval()
    with torch.no_grad():
        swa_out = swa_model(X)
    return {
        "frozen_grads": frozen_grads,
        "accum_losses": accum_losses,
        "onecycle_lrs": onecycle_lrs,
        "onecycle_momentum": onecycle_momentum,
        "warm_restart_lrs": warm_restart_lrs,
        "sequential_lrs": sequential_lrs,
        "plateau_lrs": plateau_lrs,
        "resumed_equal": resumed_equal,
        "group_lrs": group_lrs,
        "swa_out": swa_out.numpy().ravel().tolist(),
        "swa_n_averaged": swa_model.n_averaged.item(),
        "swa_lrs": swa_lrs,
        "bn_mean": swa_model.module.backbone[1].running_mean.tolist(),
    }
