"""Binary classification with BCEWithLogitsLoss, AdamW, CosineAnnealingLR and weight decay."""

import numpy as np
import torch
import torch.nn as nn

COMPARE = {"losses": 1e-4, "acc": 1e-6}


def main():
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((128, 2)), dtype=torch.float32)
    y = ((X[:, 0] ** 2 + X[:, 1] ** 2) < 1.0).float()
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 1))
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    opt = torch.optim.AdamW(model.parameters(), lr=0.05, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(30):
        opt.zero_grad()
        logits = model(X).squeeze(1)
        loss = loss_fn(logits, y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = ((torch.sigmoid(model(X).squeeze(1)) > 0.5).float() == y).float().mean()
    return {"losses": losses, "acc": acc.item()}
