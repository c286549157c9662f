"""d2l.ai attention and seq2seq chapters: sequence_mask writing ``X[~mask] = value`` through a
reshape, masked_softmax with repeat_interleave, additive and scaled dot-product attention,
sinusoidal positional encoding filled by strided slice assignment, a GRU decoder fed its context
with ``state[-1].repeat``, xavier init through ``_flat_weights_names``, MaskedSoftmaxCELoss
subclassing CrossEntropyLoss with (N, C, L) logits, grad_clipping and Adam."""

# ruff: noqa: B007, E721  (written as in the original chapters)
import math

import numpy as np
import torch
from torch import nn

COMPARE = {"attn": 1e-5, "pos": 1e-6, "losses": 1e-4, "dot_attn": 1e-5}


def sequence_mask(X, valid_len, value=0):
    maxlen = X.size(1)
    mask = (
        torch.arange((maxlen), dtype=torch.float32, device=X.device)[None, :] < valid_len[:, None]
    )
    X[~mask] = value
    return X


def masked_softmax(X, valid_lens):
    if valid_lens is None:
        return nn.functional.softmax(X, dim=-1)
    else:
        shape = X.shape
        if valid_lens.dim() == 1:
            valid_lens = torch.repeat_interleave(valid_lens, shape[1])
        else:
            valid_lens = valid_lens.reshape(-1)
        X = sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
        return nn.functional.softmax(X.reshape(shape), dim=-1)


class AdditiveAttention(nn.Module):
    def __init__(self, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        self.W_k = nn.LazyLinear(num_hiddens, bias=False)
        self.W_q = nn.LazyLinear(num_hiddens, bias=False)
        self.w_v = nn.LazyLinear(1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        queries, keys = self.W_q(queries), self.W_k(keys)
        features = queries.unsqueeze(2) + keys.unsqueeze(1)
        features = torch.tanh(features)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class DotProductAttention(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        d = queries.shape[-1]
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class PositionalEncoding(nn.Module):
    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.P = torch.zeros((1, max_len, num_hiddens))
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens
        )
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)

    def forward(self, X):
        X = X + self.P[:, : X.shape[1], :].to(X.device)
        return self.dropout(X)


class Seq2SeqEncoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size, num_hiddens, num_layers)

    def forward(self, X):
        X = self.embedding(X)
        X = X.permute(1, 0, 2)
        output, state = self.rnn(X)
        return output, state


class Seq2SeqDecoder(nn.Module):
    def __init__(self, vocab_size, embed_size, num_hiddens, num_layers):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.GRU(embed_size + num_hiddens, num_hiddens, num_layers)
        self.dense = nn.Linear(num_hiddens, vocab_size)

    def init_state(self, enc_outputs):
        return enc_outputs[1]

    def forward(self, X, state):
        X = self.embedding(X).permute(1, 0, 2)
        context = state[-1].repeat(X.shape[0], 1, 1)
        X_and_context = torch.cat((X, context), 2)
        output, state = self.rnn(X_and_context, state)
        output = self.dense(output).permute(1, 0, 2)
        return output, state


class MaskedSoftmaxCELoss(nn.CrossEntropyLoss):
    def forward(self, pred, label, valid_len):
        weights = torch.ones_like(label)
        weights = sequence_mask(weights, valid_len)
        self.reduction = "none"
        unweighted_loss = super().forward(pred.permute(0, 2, 1), label)
        weighted_loss = (unweighted_loss * weights).mean(dim=1)
        return weighted_loss


def xavier_init_weights(m):
    if type(m) == nn.Linear:
        nn.init.xavier_uniform_(m.weight)
    if type(m) == nn.GRU:
        for param in m._flat_weights_names:
            if "weight" in param:
                nn.init.xavier_uniform_(m._parameters[param])


def grad_clipping(params, theta):
    norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def shared(module, rng):
    module.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in module.state_dict().items()
        }
    )


def main():
    rng = np.random.default_rng(0)
    queries = torch.from_numpy(rng.standard_normal((2, 1, 20)).astype(np.float32))
    keys = torch.ones((2, 10, 2))
    values = torch.arange(40, dtype=torch.float32).reshape(1, 10, 4).repeat(2, 1, 1)
    valid_lens = torch.tensor([2, 6])
    attention = AdditiveAttention(num_hiddens=8, dropout=0.1)
    attention.eval()
    attention(queries, keys, values, valid_lens)
    shared(attention, rng)
    attn = attention(queries, keys, values, valid_lens)
    dot = DotProductAttention(dropout=0.5)
    dot.eval()
    q2 = torch.from_numpy(rng.standard_normal((2, 1, 2)).astype(np.float32))
    dot_attn = dot(q2, keys, values, valid_lens)
    pos = PositionalEncoding(8, 0).P[0, :5].flatten()

    encoder, decoder = Seq2SeqEncoder(12, 6, 8, 2), Seq2SeqDecoder(12, 6, 8, 2)
    encoder.apply(xavier_init_weights)
    decoder.apply(xavier_init_weights)
    shared(encoder, rng)
    shared(decoder, rng)
    params = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(params, lr=0.005)
    loss = MaskedSoftmaxCELoss()
    X = torch.from_numpy(rng.integers(1, 12, (4, 5)))
    Y = torch.from_numpy(rng.integers(1, 12, (4, 5)))
    Y_valid_len = torch.tensor([5, 3, 4, 2])
    losses = []
    for epoch in range(3):
        optimizer.zero_grad()
        bos = torch.tensor([1] * Y.shape[0]).reshape(-1, 1)
        dec_input = torch.cat([bos, Y[:, :-1]], 1)
        state = decoder.init_state(encoder(X))
        Y_hat, _ = decoder(dec_input, state)
        l = loss(Y_hat, Y, Y_valid_len)
        l.sum().backward()
        grad_clipping(params, 1)
        optimizer.step()
        losses.append(l.sum().item())
    return {
        "attn": attn.detach().flatten().tolist(),
        "pos": pos.tolist(),
        "losses": losses,
        "dot_attn": dot_attn.flatten().tolist(),
    }
