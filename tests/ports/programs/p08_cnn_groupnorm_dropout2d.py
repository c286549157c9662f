"""A small CNN with Conv2d, GroupNorm, Dropout2d (eval mode for comparison), MaxPool, flatten."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

COMPARE = {"out": 1e-4, "loss": 1e-4, "grad_norm": 1e-3}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.gn = nn.GroupNorm(2, 8)
        self.drop = nn.Dropout2d(0.25)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.fc = nn.Linear(16 * 3 * 3, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.gn(self.conv1(x))), 2)
        x = self.drop(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return F.log_softmax(self.fc(x), dim=1)


def main():
    rng = np.random.default_rng(0)
    net = Net()
    net.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in net.state_dict().items()
        }
    )
    net.eval()
    x = torch.tensor(rng.standard_normal((4, 1, 10, 10)), dtype=torch.float32)
    target = torch.tensor([1, 0, 4, 9])
    out = net(x)
    loss = F.nll_loss(out, target)
    loss.backward()
    total = torch.sqrt(sum((p.grad**2).sum() for p in net.parameters()))
    return {
        "out": out.detach().numpy().ravel().tolist(),
        "loss": loss.item(),
        "grad_norm": total.item(),
    }
