"""Linear regression with hand-written SGD through .data and .grad.zero_(), as in many tutorials."""

import numpy as np
import torch

COMPARE = {"w": 1e-5, "b": 1e-5, "loss": 1e-5, "w_std": 1e-5}


def main():
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((100, 3)), dtype=torch.float32)
    true_w = torch.tensor([[2.0], [-3.4], [1.5]])
    y = X @ true_w + 4.2
    w = torch.zeros((3, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr = 0.05
    for _step in range(200):
        loss = ((X @ w + b - y) ** 2).mean()
        loss.backward()
        w.data -= lr * w.grad.data
        b.data += -lr * b.grad
        w.grad.zero_()
        b.grad.data.zero_()
    return {
        "w": w.detach().numpy().ravel().tolist(),
        "b": b.item(),
        "loss": loss.item(),
        "w_std": w.data.std().item(),
    }
