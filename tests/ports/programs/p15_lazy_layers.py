"""LazyLinear infers its input size on the first call; weights then loaded from numpy."""

import numpy as np
import torch
import torch.nn as nn

COMPARE = {"shape": 0, "out": 1e-5}


def main():
    model = nn.Sequential(nn.LazyLinear(6), nn.ReLU(), nn.LazyLinear(2))
    x = torch.ones(5, 7)
    model(x)  # materialises the weights
    rng = np.random.default_rng(0)
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-1, 1, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    out = model(x * 0.5)
    return {"shape": list(model[0].weight.shape), "out": out.detach().numpy().ravel().tolist()}
