"""Layers beyond the basics in one model: ConvTranspose1d, Upsample (bilinear, align_corners),
PixelUnshuffle, PReLU, Mish, Hardswish, Hardsigmoid, InstanceNorm1d with running stats,
ReplicationPad1d, ZeroPad2d, ParameterList/ParameterDict; a Normal policy and kl_divergence as
in continuous-action RL and VAEs."""

import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Normal, kl_divergence

COMPARE = {
    "out": 1e-4,
    "loss": 1e-4,
    "grads": 1e-3,
    "keys": 0,
    "running_mean": 1e-5,
    "log_prob": 1e-5,
    "kl": 1e-5,
    "eval_out": 1e-4,
}


class Zoo(nn.Module):
    def __init__(self):
        super().__init__()
        self.up1d = nn.ConvTranspose1d(2, 3, 3, stride=2, padding=1)
        self.norm1d = nn.InstanceNorm1d(3, affine=True, track_running_stats=True)
        self.pad1d = nn.ReplicationPad1d((1, 2))
        self.prelu = nn.PReLU(3)
        self.up2d = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
        self.pad2d = nn.ZeroPad2d((1, 1, 0, 2))
        self.unshuffle = nn.PixelUnshuffle(2)
        self.acts = nn.ModuleList([nn.Mish(), nn.Hardswish(), nn.Hardsigmoid()])
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(1)) for _ in range(3)])
        self.extra = nn.ParameterDict({"shift": nn.Parameter(torch.zeros(1))})
        self.head = nn.Linear(3 * 10 + 12 * 4 * 5, 2)

    def forward(self, x1, x2):
        a = self.prelu(self.pad1d(self.norm1d(self.up1d(x1))))
        b = self.unshuffle(self.pad2d(self.up2d(x2)))
        for act, s in zip(self.acts, self.scales, strict=True):
            b = act(b) * s
        z = torch.cat([a.flatten(1), b.flatten(1)], dim=1) + self.extra["shift"]
        return self.head(z)


def main():
    rng = np.random.default_rng(0)
    model = Zoo()
    params = dict(model.named_parameters())
    model.load_state_dict(
        {
            k: (
                torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(v.shape)).astype(np.float32))
                if k in params
                else v
            )
            for k, v in model.state_dict().items()
        }
    )
    x1 = torch.from_numpy(rng.standard_normal((2, 2, 4)).astype(np.float32))
    x2 = torch.from_numpy(rng.standard_normal((2, 3, 3, 4)).astype(np.float32))
    out = model(x1, x2)
    mu, log_std = out[:, 0], out[:, 1]
    dist = Normal(mu, log_std.exp())
    action = torch.tensor([0.3, -0.2])
    log_prob = dist.log_prob(action)
    kl = kl_divergence(dist, Normal(torch.zeros(2), torch.ones(2))).sum()
    loss = -(log_prob.sum()) + kl + dist.entropy().mean()
    loss.backward()
    grads = [p.grad.norm().item() for p in model.parameters()]
    model.eval()
    with torch.no_grad():
        eval_out = model(x1, x2)
    return {
        "out": out.detach().flatten().tolist(),
        "loss": loss.item(),
        "grads": grads,
        "keys": list(model.state_dict().keys()),
        "running_mean": model.norm1d.running_mean.tolist(),
        "log_prob": log_prob.tolist(),
        "kl": kl.item(),
        "eval_out": eval_out.flatten().tolist(),
    }
