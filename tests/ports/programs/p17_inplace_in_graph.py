"""In-place ops inside a recorded graph, as PyTorch allows them: residual `h += x`, index
assignment into a buffer, relu_ on a non-leaf."""

import numpy as np
import torch

COMPARE = {"out": 1e-6, "grad_x": 1e-6, "grad_w": 1e-6}


def main():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((4, 3)), dtype=torch.float32, requires_grad=True)
    w = torch.tensor(rng.standard_normal((3, 3)), dtype=torch.float32, requires_grad=True)
    h = x @ w
    h += x
    h.relu_()
    buf = torch.zeros(6, 3)
    buf[1:5] = h * 2
    buf[0] = x[0]
    out = buf.sum(0)
    (out * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    return {
        "out": out.detach().tolist(),
        "grad_x": x.grad.numpy().ravel().tolist(),
        "grad_w": w.grad.numpy().ravel().tolist(),
    }
