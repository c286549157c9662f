"""A tiny sequence classifier on nn.TransformerEncoder (batch_first, padding mask, eval mode)."""

import math

import numpy as np
import torch
import torch.nn as nn

COMPARE = {"logits": 2e-4, "loss": 2e-4, "grad_norm": 2e-3, "keys": 0}


class Classifier(nn.Module):
    def __init__(self, vocab=20, d_model=16, nhead=4, n_classes=3):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward=32, dropout=0.1, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.head = nn.Linear(d_model, n_classes)
        self.scale = math.sqrt(d_model)

    def forward(self, tokens, padding_mask):
        h = self.encoder(self.embed(tokens) * self.scale, src_key_padding_mask=padding_mask)
        h = h.masked_fill(padding_mask.unsqueeze(-1), 0.0)
        pooled = h.sum(1) / (~padding_mask).sum(1, keepdim=True)
        return self.head(pooled)


def main():
    rng = np.random.default_rng(0)
    model = Classifier()
    sd = model.state_dict()
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in sd.items()
        }
    )
    model.eval()
    tokens = torch.tensor(rng.integers(0, 20, (3, 6)))
    lengths = torch.tensor([6, 4, 2])
    padding_mask = torch.arange(6).unsqueeze(0) >= lengths.unsqueeze(1)
    logits = model(tokens, padding_mask)
    loss = nn.functional.cross_entropy(logits, torch.tensor([0, 2, 1]))
    loss.backward()
    grad_norm = torch.sqrt(
        sum(p.grad.pow(2).sum() for p in model.parameters() if p.grad is not None)
    )
    return {
        "logits": logits.detach().numpy().ravel().tolist(),
        "loss": loss.item(),
        "grad_norm": grad_norm.item(),
        "keys": sorted(sd.keys()),
    }
