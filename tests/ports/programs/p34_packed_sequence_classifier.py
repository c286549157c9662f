"""A variable-length sequence classifier as people write it: pad_sequence, pack_padded_sequence
(enforce_sorted=False) through a bidirectional GRU, pad_packed_sequence, masked mean pooling,
the final hidden state of both directions; trained with NAdam, RAdam and Adamax in turn."""

# ruff: noqa: B007, E721  (written as in the original examples)
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

COMPARE = {"losses": 1e-4, "lengths": 0, "padded_shape": 0, "batch_sizes": 0}


class Classifier(nn.Module):
    def __init__(self, vocab, emb, hidden, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.rnn = nn.GRU(emb, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(4 * hidden, classes)

    def forward(self, tokens, lengths):
        x = self.embedding(tokens)
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, h = self.rnn(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=True)
        mask = (torch.arange(out.size(1))[None, :] < out_lengths[:, None]).float()
        pooled = (out * mask.unsqueeze(-1)).sum(1) / out_lengths.unsqueeze(1).float()
        last = torch.cat([h[-2], h[-1]], dim=1)
        return self.head(torch.cat([pooled, last], dim=1)), packed.batch_sizes, out


def main():
    rng = np.random.default_rng(0)
    seqs = [torch.tensor(rng.integers(1, 20, n)) for n in (5, 2, 7, 3)]
    labels = torch.tensor([0, 1, 2, 1])
    lengths = torch.tensor([len(s) for s in seqs])
    tokens = pad_sequence(seqs, batch_first=True, padding_value=0)
    model = Classifier(20, 6, 5, 3)
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    losses = []
    for make in (
        lambda p: torch.optim.NAdam(p, lr=0.01),
        lambda p: torch.optim.RAdam(p, lr=0.01, weight_decay=0.01),
        lambda p: torch.optim.Adamax(p, lr=0.01),
    ):
        optimizer = make(model.parameters())
        for step in range(3):
            optimizer.zero_grad()
            logits, batch_sizes, out = model(tokens, lengths)
            loss = F.cross_entropy(logits, labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return {
        "losses": losses,
        "lengths": lengths.tolist(),
        "padded_shape": list(out.shape),
        "batch_sizes": batch_sizes.tolist(),
    }
