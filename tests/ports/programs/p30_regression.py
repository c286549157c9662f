"""The official regression example: fit a degree-4 polynomial with one Linear layer,
smooth_l1_loss and the manual update ``param.data.add_(-0.1 * param.grad)``."""

# ruff: noqa: B007, E721  (written as in the original examples)
import numpy as np
import torch
import torch.nn.functional as F

COMPARE = {"steps": 0, "loss": 1e-4, "weights": 1e-4, "desc": 0}

POLY_DEGREE = 4
rng = np.random.default_rng(0)
W_target = torch.from_numpy(rng.standard_normal((POLY_DEGREE, 1)).astype(np.float32)) * 5
b_target = torch.from_numpy(rng.standard_normal(1).astype(np.float32)) * 5


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
    x = x.unsqueeze(1)
    return torch.cat([x**i for i in range(1, POLY_DEGREE + 1)], 1)


def f(x):
    """Approximated function."""
    return x.mm(W_target) + b_target.item()


def poly_desc(W, b):
    """Creates a string description of a polynomial."""
    result = "y = "
    for i, w in enumerate(W):
        result += f"{w:+.2f} x^{i + 1} "
    result += f"{b[0]:+.2f}"
    return result


def get_batch(batch_size=32):
    """Builds a batch i.e. (x, f(x)) pair."""
    random = torch.from_numpy(rng.standard_normal(batch_size).astype(np.float32))
    x = make_features(random)
    y = f(x)
    return x, y


def main():
    fc = torch.nn.Linear(W_target.size(0), 1)
    fc.load_state_dict({"weight": torch.zeros(1, POLY_DEGREE), "bias": torch.zeros(1)})
    for batch_idx in range(1, 200):
        batch_x, batch_y = get_batch()
        fc.zero_grad()
        output = F.smooth_l1_loss(fc(batch_x), batch_y)
        loss = output.item()
        output.backward()
        for param in fc.parameters():
            param.data.add_(-0.1 * param.grad)
        if loss < 1e-3:
            break
    desc = poly_desc(fc.weight.view(-1), fc.bias)
    return {
        "steps": batch_idx,
        "loss": loss,
        "weights": fc.weight.view(-1).tolist() + [fc.bias.item()],
        "desc": desc,
    }
