"""Every differentiable op, declared once (``chainrule.testing.op_table``, shared with
``chainrule gradcheck``) and checked three ways:
- first derivatives by finite differences in float64 (``gradcheck``) over a grid of shapes
  (scalars, size-1 dims, broadcasting, empty where meaningful);
- second derivatives (``gradgradcheck``) for the smooth ops;
- forward values and gradients against PyTorch in float32, when PyTorch is installed;
- float32 in, float32 out (no silent upcast), for values and gradients.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.testing.op_table import CASES, CR_ONLY, SMOOTH

try:
    import torch
except ImportError:  # the PyTorch comparison skips; everything else still runs
    torch = None


def _arrays(shapes, domain, dtype, seed):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        x = rng.standard_normal(s)
        if domain == "pos":
            x = rng.uniform(0.5, 2.0, s)
        elif domain == "prob":
            x = rng.uniform(0.1, 0.9, s)
        elif domain == "nonzero":
            x = np.sign(x + (x == 0)) * rng.uniform(0.2, 2.0, s)
        out.append(np.asarray(x, dtype=dtype))
    return out


GRID = [
    (name, fn, shapes, domain, flags) for name, fn, grid, domain, flags in CASES for shapes in grid
]
IDS = [f"{name}-{shapes}".replace(" ", "") for name, _, shapes, _, _ in GRID]


@pytest.mark.parametrize("name,fn,shapes,domain,flags", GRID, ids=IDS)
def test_gradcheck(name, fn, shapes, domain, flags):
    xs = [cr.tensor(a, requires_grad=True) for a in _arrays(shapes, domain, np.float64, 0)]
    assert cr.autograd.gradcheck(lambda *t: fn(cr, *t), xs)


SMOOTH_GRID = [g for g in GRID if SMOOTH in g[4].split()]


@pytest.mark.parametrize(
    "name,fn,shapes,domain,flags",
    SMOOTH_GRID,
    ids=[f"{g[0]}-{g[2]}".replace(" ", "") for g in SMOOTH_GRID],
)
def test_gradgradcheck(name, fn, shapes, domain, flags):
    xs = [cr.tensor(a, requires_grad=True) for a in _arrays(shapes, domain, np.float64, 1)]
    assert cr.autograd.gradgradcheck(lambda *t: fn(cr, *t), xs)


TORCH_GRID = [g for g in GRID if CR_ONLY not in g[4].split()]  # not random masks


@pytest.mark.parametrize(
    "name,fn,shapes,domain,flags",
    TORCH_GRID,
    ids=[f"{g[0]}-{g[2]}".replace(" ", "") for g in TORCH_GRID],
)
def test_matches_torch_and_keeps_float32(name, fn, shapes, domain, flags):
    if torch is None:
        pytest.skip("PyTorch is not installed")
    arrays = _arrays(shapes, domain, np.float32, 2)
    cx = [cr.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    cout, tout = fn(cr, *cx), fn(torch, *tx)
    np.testing.assert_allclose(cout.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-5)
    v = np.random.default_rng(3).standard_normal(cout.shape).astype(cout.dtype)
    (cout * cr.tensor(v)).sum().backward()
    (tout * torch.tensor(v)).sum().backward()
    if name != "to_float64":
        assert cout.dtype == np.float32, f"{name} upcast its float32 result to {cout.dtype}"
    for c, t in zip(cx, tx, strict=True):
        expected = np.zeros(c.shape, np.float32) if t.grad is None else t.grad.numpy()
        got = np.zeros(c.shape, np.float32) if c.grad is None else c.grad.numpy()
        assert got.dtype == np.float32 and got.shape == c.shape
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
