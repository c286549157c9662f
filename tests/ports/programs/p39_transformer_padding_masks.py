"""A BERT/ViT-style encoder as people write it: a learned [CLS] token ``expand``-ed over the batch,
learned positional embeddings as an nn.Parameter, a pre-norm TransformerEncoderLayer
(norm_first=True, activation='gelu', batch_first) stacked in nn.TransformerEncoder with a final
LayerNorm and enable_nested_tensor=False, src_key_padding_mask built from the pad id, AdamW with
weight decay only on the weights (two param groups) and a linear-warmup LambdaLR; plus
nn.MultiheadAttention with a key_padding_mask and per-head weights (average_attn_weights=False),
a float additive attn_mask, and F.scaled_dot_product_attention with is_causal and a bool mask."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

COMPARE = {
    "losses": 1e-4,
    "lrs": 1e-9,
    "groups": 0,
    "head_weights": 1e-5,
    "head_weights_shape": 0,
    "mha_out": 1e-5,
    "float_mask_out": 1e-5,
    "sdpa_causal": 1e-5,
    "sdpa_bool": 1e-5,
    "eval_logits": 1e-4,
}

PAD = 0


class Encoder(nn.Module):
    def __init__(self, vocab, d_model=16, nhead=4, num_layers=2, max_len=12, num_classes=3):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model, padding_idx=PAD)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d_model))
        self.pos_embed = nn.Parameter(torch.zeros(1, max_len + 1, d_model))
        layer = nn.TransformerEncoderLayer(
            d_model,
            nhead,
            dim_feedforward=32,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, ids):
        B, T = ids.shape
        x = self.tok(ids) * math.sqrt(self.tok.embedding_dim)
        cls = self.cls_token.expand(B, -1, -1)
        x = torch.cat((cls, x), dim=1) + self.pos_embed[:, : T + 1]
        pad_mask = torch.cat([torch.zeros(B, 1, dtype=torch.bool), ids == PAD], dim=1)
        x = self.encoder(x, src_key_padding_mask=pad_mask)
        return self.head(x[:, 0])


def main():
    rng = np.random.default_rng(39)
    model = Encoder(vocab=20)
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.normal(0, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    lengths = [7, 4, 9, 2, 5, 9]
    ids = torch.zeros(len(lengths), 9, dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.from_numpy(rng.integers(1, 20, n))
    labels = torch.tensor([0, 1, 2, 1, 0, 2])

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if p.ndim < 2 or "norm" in name or name.endswith(".bias") or "embed" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
        lr=3e-3,
        betas=(0.9, 0.98),
    )
    warmup = 3

    def lr_lambda(step):
        return min((step + 1) / warmup, 1.0)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    criterion = nn.CrossEntropyLoss()
    losses, lrs = [], []
    for _ in range(5):
        model.train()
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(ids), labels)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        lrs.append([g["lr"] for g in optimizer.param_groups])
    model.eval()
    with torch.no_grad():
        eval_logits = model(ids)

    mha = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
    mha.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(v.shape)).astype(np.float32))
            for k, v in mha.state_dict().items()
        }
    )
    x = torch.from_numpy(rng.standard_normal((2, 5, 8)).astype(np.float32))
    key_padding_mask = torch.tensor(
        [[False, False, False, True, True], [False, False, False, False, False]]
    )
    out, weights = mha(
        x, x, x, key_padding_mask=key_padding_mask, need_weights=True, average_attn_weights=False
    )
    float_mask = torch.triu(torch.full((5, 5), float("-inf")), diagonal=1)
    float_out, _ = mha(x, x, x, attn_mask=float_mask, need_weights=False)

    q = x.view(2, 5, 2, 4).transpose(1, 2)
    sdpa_causal = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    keep = torch.ones(5, 5, dtype=torch.bool).tril()
    sdpa_bool = F.scaled_dot_product_attention(q, q, q, attn_mask=keep)
    return {
        "losses": losses,
        "lrs": lrs,
        "groups": [len(decay), len(no_decay)],
        "head_weights": weights.detach().numpy().ravel().tolist(),
        "head_weights_shape": list(weights.shape),
        "mha_out": out.detach().numpy().ravel().tolist(),
        "float_mask_out": float_out.detach().numpy().ravel().tolist(),
        "sdpa_causal": sdpa_causal.numpy().ravel().tolist(),
        "sdpa_bool": sdpa_bool.numpy().ravel().tolist(),
        "eval_logits": eval_logits.numpy().ravel().tolist(),
    }
