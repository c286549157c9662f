"""Fitting a small curve with optim.LBFGS and a closure (the classic L-BFGS example)."""

import numpy as np
import torch

COMPARE = {"loss": 1e-3, "params": 1e-3}


def main():
    x = torch.linspace(-2, 2, 50)
    y = 0.5 * x**3 - x + 0.3
    params = torch.zeros(4, requires_grad=True)
    opt = torch.optim.LBFGS(
        [params], lr=1, max_iter=20, history_size=10, line_search_fn="strong_wolfe"
    )

    def closure():
        opt.zero_grad()
        pred = params[0] * x**3 + params[1] * x**2 + params[2] * x + params[3]
        loss = ((pred - y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        loss = opt.step(closure)
    return {"loss": float(loss), "params": params.detach().numpy().astype(np.float64).tolist()}
