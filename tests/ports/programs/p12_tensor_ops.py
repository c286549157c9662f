"""Everyday tensor functions: einsum, gather, scatter_add, topk, sort, argsort, cumsum,
index_select, narrow, roll, tril/triu, meshgrid, histc, allclose, isclose, equal, mm, bmm."""

import numpy as np
import torch

COMPARE = {
    "einsum": 1e-5,
    "gather": 0,
    "scatter_add": 1e-6,
    "topk_values": 0,
    "topk_indices": 0,
    "sort": 0,
    "argsort": 0,
    "cumsum": 1e-5,
    "index_select": 0,
    "narrow": 0,
    "roll": 0,
    "tril": 0,
    "triu": 0,
    "grid": 0,
    "histc": 0,
    "close": 0,
    "mm": 1e-5,
    "bmm": 1e-5,
    "grad": 1e-5,
}


def main():
    rng = np.random.default_rng(0)
    a = torch.tensor(rng.standard_normal((3, 4)), dtype=torch.float32, requires_grad=True)
    b = torch.tensor(rng.standard_normal((4, 5)), dtype=torch.float32)
    e = torch.einsum("ij,jk->ik", a, b)
    idx = torch.tensor([[0, 3], [1, 1], [2, 0]])
    g = torch.gather(a, 1, idx)
    s = torch.zeros(3, 5).scatter_add(1, idx, torch.ones(3, 2))
    values, indices = torch.topk(a.detach(), k=2, dim=1)
    sorted_vals, _ = torch.sort(a.detach(), dim=1, descending=True)
    order = torch.argsort(a.detach()[:, 0])
    c = torch.cumsum(a, dim=1)
    sel = a.index_select(0, torch.tensor([2, 0]))
    nar = a.narrow(1, 1, 2)
    r = torch.roll(torch.arange(6), shifts=2)
    m = torch.ones(3, 3)
    xs, ys = torch.meshgrid(torch.arange(2), torch.arange(3), indexing="ij")
    h = torch.histc(torch.tensor([1.0, 2.0, 1.0, 4.0, 3.9]), bins=4, min=0, max=4)
    close = [
        torch.allclose(a, a + 1e-9),
        bool(torch.isclose(a, a).all()),
        torch.equal(b, b.clone()),
    ]
    mm = torch.mm(a, b)
    bmm = torch.bmm(a.unsqueeze(0).expand(2, 3, 4), b.unsqueeze(0).expand(2, 4, 5))
    (e.sum() + g.sum() * 2 + c.pow(2).sum() + sel.sum() + nar.sum() + bmm.mean()).backward()
    return {
        "einsum": e.detach().numpy().ravel().tolist(),
        "gather": g.detach().numpy().ravel().tolist(),
        "scatter_add": s.numpy().ravel().tolist(),
        "topk_values": values.numpy().ravel().tolist(),
        "topk_indices": indices.numpy().ravel().tolist(),
        "sort": sorted_vals.numpy().ravel().tolist(),
        "argsort": order.tolist(),
        "cumsum": c.detach().numpy().ravel().tolist(),
        "index_select": sel.detach().numpy().ravel().tolist(),
        "narrow": nar.detach().numpy().ravel().tolist(),
        "roll": r.tolist(),
        "tril": torch.tril(m).numpy().ravel().tolist(),
        "triu": torch.triu(m, diagonal=1).numpy().ravel().tolist(),
        "grid": (xs * 10 + ys).numpy().ravel().tolist(),
        "histc": h.numpy().tolist(),
        "close": close,
        "mm": mm.detach().numpy().ravel().tolist(),
        "bmm": bmm.detach().numpy().ravel().tolist(),
        "grad": a.grad.numpy().ravel().tolist(),
    }
