"""Save a model's and optimizer's state dicts to a file object and a path, reload, continue."""

import io
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn

COMPARE = {"before": 1e-5, "after": 1e-5, "same": 0}


def main():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x = torch.tensor(rng.standard_normal((16, 4)), dtype=torch.float32)
    y = x.sum(dim=1, keepdim=True)
    for _ in range(5):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "opt.pt")
        torch.save({"optimizer": opt.state_dict(), "epoch": 5}, path)
        clone = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        clone.load_state_dict(torch.load(buffer, weights_only=True))
        opt2 = torch.optim.Adam(clone.parameters(), lr=0.01)
        checkpoint = torch.load(path, weights_only=True)
        opt2.load_state_dict(checkpoint["optimizer"])
    same = all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), clone.state_dict().values(), strict=True)
    )
    before = loss.item()
    for _ in range(5):
        opt2.zero_grad()
        loss = nn.functional.mse_loss(clone(x), y)
        loss.backward()
        opt2.step()
    return {"before": before, "after": loss.item(), "same": int(same)}
