"""Scaled dot-product self-attention written by hand, next to nn.MultiheadAttention."""

import math

import numpy as np
import torch
import torch.nn as nn

COMPARE = {"manual": 1e-5, "mha": 1e-5, "weights": 1e-5, "grad_norm": 1e-4}


def attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(mask == 0, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def main():
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((2, 5, 8)), dtype=torch.float32, requires_grad=True)
    mask = torch.tril(torch.ones(5, 5))
    manual = attention(x, x, x, mask)
    mha = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
    sd = {
        k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
        for k, v in mha.state_dict().items()
    }
    mha.load_state_dict(sd)
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    out, weights = mha(x, x, x, attn_mask=causal)
    (out.sum() + manual.sum()).backward()
    return {
        "manual": manual.detach().numpy().ravel().tolist(),
        "mha": out.detach().numpy().ravel().tolist(),
        "weights": weights.detach().numpy().ravel().tolist(),
        "grad_norm": x.grad.norm().item(),
    }
