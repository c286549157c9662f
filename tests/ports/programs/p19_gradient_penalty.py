"""A gradient penalty (WGAN-GP style) with torch.autograd.grad(create_graph=True)."""

import numpy as np
import torch
import torch.nn as nn

COMPARE = {"penalty": 1e-5, "grad_norm": 1e-4}


def main():
    rng = np.random.default_rng(0)
    critic = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    critic.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in critic.state_dict().items()
        }
    )
    x = torch.tensor(rng.standard_normal((8, 4)), dtype=torch.float32, requires_grad=True)
    out = critic(x)
    grads = torch.autograd.grad(
        outputs=out,
        inputs=x,
        grad_outputs=torch.ones_like(out),
        create_graph=True,
        retain_graph=True,
    )[0]
    penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    total = torch.sqrt(sum((p.grad**2).sum() for p in critic.parameters() if p.grad is not None))
    return {"penalty": penalty.item(), "grad_norm": total.item()}
