"""Weight initialisation with nn.init and module.apply, parameters_to_vector round trip."""

import torch
import torch.nn as nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

COMPARE = {"n": 0, "vec_head": 1e-7, "zeros": 0, "ones": 0, "bias_after": 1e-7, "numel": 0}


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.constant_(m.weight, 0.01)
        nn.init.zeros_(m.bias)


def main():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model.apply(init_weights)
    vec = parameters_to_vector(model.parameters())
    vector_to_parameters(torch.arange(vec.numel(), dtype=torch.float32) / 100, model.parameters())
    numel = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "n": vec.numel(),
        "vec_head": vec[:5].tolist(),
        "zeros": int((vec == 0).sum()),
        "ones": int((vec == 0.01).sum()),
        "bias_after": model[2].bias.tolist(),
        "numel": numel,
    }
