"""An autoencoder with BatchNorm1d, trained a few steps, then evaluated; state-dict keys and
buffers (running stats, num_batches_tracked) as PyTorch has them."""

import numpy as np
import torch
import torch.nn as nn

COMPARE = {"losses": 1e-4, "running_mean": 1e-5, "tracked": 0, "keys": 0, "eval_loss": 1e-4}


def main():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 8))
    sd = model.state_dict()
    params = dict(model.named_parameters())
    model.load_state_dict(
        {
            k: (
                torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
                if k in params
                else v
            )
            for k, v in sd.items()
        }
    )
    X = torch.tensor(rng.standard_normal((64, 8)), dtype=torch.float32)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    losses = []
    model.train()
    for i in range(0, 64, 16):
        xb = X[i : i + 16]
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xb), xb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        eval_loss = nn.functional.mse_loss(model(X), X).item()
    return {
        "losses": losses,
        "running_mean": model[1].running_mean.tolist(),
        "tracked": int(model[1].num_batches_tracked),
        "keys": list(sd.keys()),
        "eval_loss": eval_loss,
    }
