"""One contract for a vjp: the plain backward (arrays) and the recorded one (``create_graph=True``,
Tensors) give the same first derivatives for every op in the op table, on inputs full of zeros,
ties and repeated values (where the two paths used to disagree: d prod([0, 2, 3]) was
[6, 0, 0] plainly and [nan, 0, 0] recorded), and both equal PyTorch's."""
import numpy as np
import pytest

import chainrule as cr

from test_op_table import GRID, IDS  # tests/ops is on sys.path (rootdir-less test modules)

try:
    import torch
except ImportError:  # the PyTorch comparison skips; the two chainrule paths are still compared
    torch = None

# Few distinct values, so that zeros, ties and repeats are everywhere (within each op's domain).
VALUES = {"any": [0.0, 0.0, 1.0, -1.0, 0.5, 1.0, 0.0, -0.5],
          "pos": [1.0, 0.5, 1.0, 2.0, 1.0, 0.5],
          "nonzero": [1.0, -1.0, 0.5, 1.0, -0.5, -1.0]}
# torch.topk does not say which of tied entries it returns (it is not stable; chainrule's is):
# there only the two chainrule paths are compared.
TIES_UNSPECIFIED = {"topk", "topk_smallest"}


def _tied_arrays(shapes, domain, seed):
    rng = np.random.default_rng(seed)
    return [rng.choice(VALUES[domain], size=s).astype(np.float64) for s in shapes]


def _grads(fn, arrays, v, create_graph):
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = fn(cr, *xs)
    out = out[0] if isinstance(out, tuple) and not isinstance(out, cr.Tensor) else out
    gs = cr.autograd.grad((out * cr.tensor(v)).sum(), xs, create_graph=create_graph,
                          allow_unused=True)
    return [np.zeros(x.shape) if g is None else g.detach().numpy() for x, g in zip(xs, gs)]


@pytest.mark.parametrize("name,fn,shapes,domain,flags", GRID, ids=IDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_plain_and_recorded_backward_agree_on_ties_and_zeros(name, fn, shapes, domain, flags, seed):
    arrays = _tied_arrays(shapes, domain, seed)
    probe = fn(cr, *[cr.tensor(a) for a in arrays])
    probe = probe[0] if isinstance(probe, tuple) and not isinstance(probe, cr.Tensor) else probe
    v = np.random.default_rng(seed + 10).choice([1.0, -2.0, 0.5], size=probe.shape)
    with np.errstate(all="ignore"):
        plain = _grads(fn, arrays, v, create_graph=False)
        recorded = _grads(fn, arrays, v, create_graph=True)
    for i, (p, r) in enumerate(zip(plain, recorded, strict=True)):
        np.testing.assert_allclose(r, p, rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name}: input {i}, create_graph=True vs plain")
    if torch is None or name in TIES_UNSPECIFIED:
        return
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = fn(torch, *tx)
    tout = tout[0] if isinstance(tout, tuple) else tout
    tg = torch.autograd.grad((tout * torch.tensor(v)).sum(), tx, allow_unused=True)
    for i, (p, t, x) in enumerate(zip(plain, tg, tx, strict=True)):
        expected = np.zeros(x.shape) if t is None else t.numpy()
        np.testing.assert_allclose(p, expected, rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name}: input {i}, chainrule vs torch")
