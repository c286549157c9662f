"""Metric-learning and activation odds and ends: TripletMarginWithDistanceLoss with a cosine
distance lambda and swap=True, a pdist diversity penalty on embeddings, an embedding net using
the functional in-place activations (F.relu_, F.leaky_relu_, F.hardtanh_, F.threshold_) and
nn.RReLU in eval mode, trained a few steps with Adam; and F.gumbel_softmax(hard=True) as used
for discrete latent codes (the sample is random: compared are its shape, its one-hotness and
that the straight-through gradient flows)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

COMPARE = {
    "losses": 1e-4,
    "pdist": 1e-5,
    "rrelu_repr": 0,
    "eval_out": 1e-5,
    "gumbel_shape": 0,
    "gumbel_one_hot": 0,
    "gumbel_grad_flows": 0,
}


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 12)
        self.fc2 = nn.Linear(12, 12)
        self.fc3 = nn.Linear(12, 4)
        self.act = nn.RReLU(0.1, 0.3)

    def forward(self, x):
        x = F.relu_(self.fc1(x))
        x = F.leaky_relu_(self.fc2(x), 0.2) + F.hardtanh_(self.fc2(x) * 2, -2.0, 2.0)
        return F.normalize(F.threshold_(self.fc3(self.act(x)), -0.3, -0.3), dim=1)


def main():
    rng = np.random.default_rng(52)
    net = EmbeddingNet()
    net.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in net.state_dict().items()
        }
    )
    net.eval()  # RReLU's slope is random in training; its mean slope in eval
    criterion = nn.TripletMarginWithDistanceLoss(
        distance_function=lambda x, y: 1.0 - F.cosine_similarity(x, y), margin=0.5, swap=True
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    a, p, n = (torch.from_numpy(rng.standard_normal((8, 6)).astype(np.float32)) for _ in range(3))
    losses = []
    for _ in range(4):
        opt.zero_grad()
        ea, ep, en = net(a), net(p), net(n)
        diversity = torch.exp(-F.pdist(ea)).mean()
        loss = criterion(ea, ep, en) + 0.1 * diversity
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        eval_out = net(a)
        pd = F.pdist(eval_out, p=1.5)

    logits = torch.from_numpy(rng.standard_normal((5, 7)).astype(np.float32)).requires_grad_()
    code = F.gumbel_softmax(logits, tau=0.5, hard=True)
    (code * torch.arange(7.0)).sum().backward()
    return {
        "losses": losses,
        "pdist": pd.tolist(),
        "rrelu_repr": repr(net.act),
        "eval_out": eval_out.flatten().tolist(),
        "gumbel_shape": list(code.shape),
        "gumbel_one_hot": [bool(((code == 0) | (code == 1)).all())] + code.sum(1).tolist(),
        "gumbel_grad_flows": bool(logits.grad.abs().sum() > 0),
    }
