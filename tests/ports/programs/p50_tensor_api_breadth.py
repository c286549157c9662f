"""Tensor functions that model and metric code leans on: timm's trunc_normal_ written with
erfinv_ (``tensor.uniform_``-style fill, then ``erfinv_().mul_().add_().clamp_()``), Deformable
DETR's inverse_sigmoid, SimCLR's NT-Xent with ``sim.fill_diagonal_(-inf)``, ROC AUC with
torch.trapz, model size from ``p.nelement() * p.element_size()``, image augmentations with
fliplr/flipud/rot90/roll, triangle normals with torch.cross, block_diag/diag_embed covariance
factors, cov/corrcoef of features, aminmax observers for int8 scales, logcumsumexp, xlogy
entropies, tensor_split, broadcast_tensors, index_fill_/index_copy_, argwhere and
unique_consecutive run lengths, kron, inner, hypot, deg2rad, frac."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

COMPARE = {
    "trunc_normal": 1e-5,
    "inverse_sigmoid": 1e-5,
    "nt_xent": 1e-5,
    "nt_xent_grad": 1e-4,
    "auc": 1e-6,
    "model_bytes": 0,
    "contiguous": 0,
    "augment": 0,
    "normals": 1e-5,
    "block": 1e-6,
    "scale_tril": 1e-6,
    "cov": 1e-5,
    "corr": 1e-5,
    "int8_scale": 1e-6,
    "lcse": 1e-5,
    "entropy": 1e-5,
    "split_shapes": 0,
    "broadcast_shapes": 0,
    "index_ops": 1e-6,
    "argwhere": 0,
    "runs": 0,
    "misc": 1e-5,
}


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, uniform=None):
    def norm_cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    with torch.no_grad():
        l = norm_cdf((a - mean) / std)
        u = norm_cdf((b - mean) / std)
        # tensor.uniform_(2 * l - 1, 2 * u - 1), with shared numbers
        tensor.copy_(uniform * (2 * u - 2 * l) + (2 * l - 1))
        tensor.erfinv_()
        tensor.mul_(std * math.sqrt(2.0))
        tensor.add_(mean)
        tensor.clamp_(min=a, max=b)
        return tensor


def inverse_sigmoid(x, eps=1e-5):
    x = x.clamp(min=0, max=1)
    x1 = x.clamp(min=eps)
    x2 = (1 - x).clamp(min=eps)
    return torch.log(x1 / x2)


def nt_xent(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))
    n = z1.shape[0]
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, targets)


def main():
    rng = np.random.default_rng(50)
    w = torch.empty(4, 5)
    uniform = torch.from_numpy(rng.uniform(0, 1, (4, 5)).astype(np.float32))
    trunc = trunc_normal_(w, std=0.02, a=-0.04, b=0.04, uniform=uniform)
    boxes = torch.from_numpy(rng.uniform(0, 1, (6,)).astype(np.float32))
    boxes[0], boxes[1] = 0.0, 1.0

    z1 = torch.from_numpy(rng.standard_normal((4, 3)).astype(np.float32)).requires_grad_()
    z2 = torch.from_numpy(rng.standard_normal((4, 3)).astype(np.float32))
    loss = nt_xent(z1, z2)
    loss.backward()

    scores = torch.from_numpy(rng.uniform(0, 1, 20).astype(np.float32))
    labels = torch.from_numpy(rng.integers(0, 2, 20))
    order = scores.argsort(descending=True)
    tps = torch.cumsum(labels[order], 0).float()
    fps = torch.cumsum(1 - labels[order], 0).float()
    tpr = torch.cat([torch.zeros(1), tps / tps[-1]])
    fpr = torch.cat([torch.zeros(1), fps / fps[-1]])
    auc = torch.trapz(tpr, fpr)

    model = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 2).double())
    model_bytes = sum(p.nelement() * p.element_size() for p in model.parameters())
    model_bytes += sum(b.nbytes for b in model.buffers())
    contiguous = [model[0].weight.is_contiguous(), model[0].weight.t().contiguous().is_contiguous()]

    img = torch.arange(24).reshape(2, 3, 4)
    augment = torch.cat(
        [
            torch.fliplr(img[0]).flatten(),
            torch.flipud(img[0]).flatten(),
            torch.rot90(img, 1, [1, 2]).flatten(),
            torch.rot90(img, -1, [1, 2]).flatten(),
            torch.roll(img, shifts=(1, -1), dims=(1, 2)).flatten(),
        ]
    )

    verts = torch.from_numpy(rng.standard_normal((5, 3, 3)).astype(np.float32))
    e1, e2 = verts[:, 1] - verts[:, 0], verts[:, 2] - verts[:, 0]
    normals = F.normalize(torch.cross(e1, e2, dim=-1), dim=-1)

    block = torch.block_diag(torch.ones(2, 2), torch.tensor([[3.0]]), torch.tensor([4.0, 5.0]))
    raw = torch.from_numpy(rng.standard_normal((2, 3)).astype(np.float32))
    scale_tril = torch.diag_embed(F.softplus(raw)) + torch.tril(raw.unsqueeze(-1) * 0.1, -1)

    feats = torch.from_numpy(rng.standard_normal((3, 10)).astype(np.float32))
    cov, corr = torch.cov(feats), torch.corrcoef(feats)
    lo, hi = torch.aminmax(feats)
    int8_scale = (torch.max(-lo, hi) / 127.0).item()
    logp = torch.from_numpy(rng.standard_normal((2, 6)).astype(np.float32))
    lcse = torch.logcumsumexp(logp, dim=1)
    probs = F.softmax(logp, dim=1)
    probs[0, 2] = 0.0
    entropy = -torch.xlogy(probs, probs).sum(1)

    parts = torch.tensor_split(torch.arange(10), 3)
    parts2 = torch.tensor_split(torch.arange(10).reshape(2, 5), [1, 3], dim=1)
    split_shapes = [n for p in parts + parts2 for n in p.shape]
    a, b = torch.broadcast_tensors(torch.ones(3, 1), torch.zeros(1, 4))
    broadcast_shapes = list(a.shape) + list(b.shape) + list(torch.broadcast_shapes((2, 1), (5,)))

    t = torch.zeros(3, 4)
    t.index_fill_(1, torch.tensor([0, 3]), -1.0)
    t.index_copy_(
        0, torch.tensor([2, 0]), torch.from_numpy(rng.standard_normal((2, 4)).astype(np.float32))
    )
    mask = torch.tensor([[0, 1, 0], [1, 1, 0]])
    runs, counts = torch.unique_consecutive(
        torch.tensor([1, 1, 2, 2, 2, 3, 1, 1]), return_counts=True
    )
    misc = torch.cat(
        [
            torch.kron(torch.eye(2), torch.tensor([[1.0, 2.0]])).flatten(),
            torch.inner(feats[0], feats[1]).reshape(1),
            torch.hypot(feats[0], feats[1]),
            torch.deg2rad(torch.tensor([90.0, 180.0])),
            torch.frac(feats[0] * 3),
        ]
    )
    return {
        "trunc_normal": trunc.flatten().tolist(),
        "inverse_sigmoid": inverse_sigmoid(boxes).tolist(),
        "nt_xent": loss.item(),
        "nt_xent_grad": z1.grad.flatten().tolist(),
        "auc": auc.item(),
        "model_bytes": model_bytes,
        "contiguous": contiguous,
        "augment": augment.tolist(),
        "normals": normals.flatten().tolist(),
        "block": block.flatten().tolist(),
        "scale_tril": scale_tril.flatten().tolist(),
        "cov": cov.flatten().tolist(),
        "corr": corr.flatten().tolist(),
        "int8_scale": int8_scale,
        "lcse": lcse.flatten().tolist(),
        "entropy": entropy.tolist(),
        "split_shapes": split_shapes,
        "broadcast_shapes": broadcast_shapes,
        "index_ops": t.flatten().tolist(),
        "argwhere": torch.argwhere(mask).flatten().tolist(),
        "runs": runs.tolist() + counts.tolist(),
        "misc": misc.tolist(),
    }
