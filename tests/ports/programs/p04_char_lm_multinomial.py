"""Character-level language model (embedding + GRU) trained briefly, then sampled with
torch.multinomial from a seeded Generator."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TEXT = "hello world, the chain rule carries the gradient back through every layer. " * 4
COMPARE = {"losses": 2e-4, "sample_len": 0, "sample_in_vocab": 0}


class CharModel(nn.Module):
    def __init__(self, vocab, hidden=32):
        super().__init__()
        self.embed = nn.Embedding(vocab, 16)
        self.rnn = nn.GRU(16, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, h=None):
        out, h = self.rnn(self.embed(x), h)
        return self.head(out), h


def main():
    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)
    model = CharModel(len(chars))
    rng = np.random.default_rng(0)
    sd = {
        k: torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(v.shape)).astype(np.float32))
        for k, v in model.state_dict().items()
    }
    model.load_state_dict(sd)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    seq = 20
    losses = []
    for step in range(15):
        i = (step * 7) % (len(data) - seq - 1)
        x = data[i : i + seq].unsqueeze(0)
        y = data[i + 1 : i + seq + 1].unsqueeze(0)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.view(-1, len(chars)), y.view(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    g = torch.Generator().manual_seed(42)
    idx = torch.tensor([[stoi["h"]]])
    h = None
    out = []
    model.eval()
    with torch.no_grad():
        for _ in range(30):
            logits, h = model(idx, h)
            probs = F.softmax(logits[:, -1, :] / 0.8, dim=-1)
            idx = torch.multinomial(probs, num_samples=1, generator=g)
            out.append(chars[idx.item()])
    sample = "".join(out)
    return {
        "losses": losses,
        "sample_len": len(sample),
        "sample_in_vocab": int(all(c in chars for c in sample)),
    }
