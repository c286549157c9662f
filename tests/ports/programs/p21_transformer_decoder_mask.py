"""nn.Transformer with a causal target mask from generate_square_subsequent_mask (eval mode)."""

import numpy as np
import torch
import torch.nn as nn

COMPARE = {"out": 5e-4, "mask": 0, "n_params": 0}


def main():
    rng = np.random.default_rng(0)
    model = nn.Transformer(
        d_model=8,
        nhead=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dim_feedforward=16,
        dropout=0.0,
        batch_first=True,
    )
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    model.eval()
    src = torch.tensor(rng.standard_normal((2, 5, 8)), dtype=torch.float32)
    tgt = torch.tensor(rng.standard_normal((2, 4, 8)), dtype=torch.float32)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    out = model(src, tgt, tgt_mask=mask)
    return {
        "out": out.detach().numpy().ravel().tolist(),
        "mask": torch.isinf(mask).int().numpy().ravel().tolist(),
        "n_params": sum(p.numel() for p in model.parameters()),
    }
