"""One contract for a vjp: the plain backward (arrays) and the recorded one (``create_graph=True``,
Tensors) give the same first derivatives for every op in the op table, on inputs full of zeros,
ties and repeated values (where the two paths used to disagree: d prod([0, 2, 3]) was
[6, 0, 0] plainly and [nan, 0, 0] recorded), and both equal PyTorch's."""

import numpy as np
import pytest
from test_op_table import GRID, IDS  # tests/ops is on sys.path (rootdir-less test modules)

import chainrule as cr

try:
    import torch
except ImportError:  # the PyTorch comparison skips; the two chainrule paths are still compared
    torch = None

# Few distinct values, so that zeros, ties and repeats are everywhere (within each op's domain).
VALUES = {
    "any": [0.0, 0.0, 1.0, -1.0, 0.5, 1.0, 0.0, -0.5],
    "pos": [1.0, 0.5, 1.0, 2.0, 1.0, 0.5],
    "nonzero": [1.0, -1.0, 0.5, 1.0, -0.5, -1.0],
    "prob": [0.5, 0.25, 0.5, 0.75, 0.25, 0.5],
}
# torch.topk does not say which of tied entries it returns (it is not stable; chainrule's is):
# there only the two chainrule paths are compared.
TIES_UNSPECIFIED = {"topk", "topk_smallest", "kthvalue"}  # (kthvalue: a quickselect)
# torch's det backward returns zeros for some exactly singular matrices of rank n - 1, whose
# derivative (the cofactor matrix) is not 0: chainrule's equals finite differences there
# (tests/ops/test_matrix.py), so only the two chainrule paths are compared.
TORCH_WRONG_WHEN_SINGULAR = {"det"}


def _tied_arrays(shapes, domain, seed):
    rng = np.random.default_rng(seed)
    return [rng.choice(VALUES[domain], size=s).astype(np.float64) for s in shapes]


def _grads(fn, arrays, v, create_graph):
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = fn(cr, *xs)
    out = out[0] if isinstance(out, tuple) and not isinstance(out, cr.Tensor) else out
    gs = cr.autograd.grad(
        (out * cr.tensor(v)).sum(), xs, create_graph=create_graph, allow_unused=True
    )
    return [
        np.zeros(x.shape) if g is None else g.detach().numpy() for x, g in zip(xs, gs, strict=True)
    ]


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
        np.testing.assert_allclose(
            r, p, rtol=1e-12, atol=1e-12, err_msg=f"{name}: input {i}, create_graph=True vs plain"
        )
    if (
        torch is None
        or name in TIES_UNSPECIFIED | TORCH_WRONG_WHEN_SINGULAR
        or "cr-only" in flags.split()
    ):
        return  # cr-only: drawn differently in torch (e.g. dropout's mask)
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = fn(torch, *tx)
    tout = tout[0] if isinstance(tout, tuple) else tout
    tg = torch.autograd.grad((tout * torch.tensor(v)).sum(), tx, allow_unused=True)
    for i, (p, t, x) in enumerate(zip(plain, tg, tx, strict=True)):
        expected = np.zeros(x.shape) if t is None else t.numpy()
        # atol 1e-7: some of torch's float64 kernels use float32 constants (hardsigmoid's 1/6,
        # celu's alpha), which leaves ~1e-8 where the exact derivative is 0.
        np.testing.assert_allclose(
            p, expected, rtol=1e-10, atol=1e-7, err_msg=f"{name}: input {i}, chainrule vs torch"
        )


# Ops recorded outside ops/ (nn.functional) follow the same contract. fn(m, *xs) as in the op
# table; F is torch.nn.functional for torch and chainrule.nn.functional for chainrule.
def _F(m):
    return cr.nn.functional if m is cr else torch.nn.functional


def _target(m, shape, seed):
    return m.tensor(np.random.default_rng(seed).integers(0, shape[1], shape[0]))


FUNCTIONAL = [
    (
        "cross_entropy",
        lambda m, x: _F(m).cross_entropy(x, _target(m, x.shape, 0)),
        [((4, 3),)],
        "any",
    ),
    (
        "cross_entropy_smooth",
        lambda m, x: _F(m).cross_entropy(x, _target(m, x.shape, 1), label_smoothing=0.1),
        [((4, 3),)],
        "any",
    ),
    (
        "cross_entropy_probs",
        lambda m, x, p: _F(m).cross_entropy(x, p.softmax(-1)),
        [((4, 3), (4, 3))],
        "any",
    ),
    ("nll_loss", lambda m, x: _F(m).nll_loss(x, _target(m, x.shape, 2)), [((4, 3),)], "any"),
    ("mse_loss", lambda m, a, b: _F(m).mse_loss(a, b), [((4, 3), (4, 3))], "any"),
    ("huber_loss", lambda m, a, b: _F(m).huber_loss(a, b, delta=0.5), [((4, 3), (4, 3))], "any"),
    ("smooth_l1", lambda m, a, b: _F(m).smooth_l1_loss(a, b), [((4, 3), (4, 3))], "any"),
    (
        "bce",
        lambda m, x, y: _F(m).binary_cross_entropy(x.sigmoid(), y.sigmoid()),
        [((4, 3), (4, 3))],
        "any",
    ),
    (
        "bce_logits",
        lambda m, x, y: _F(m).binary_cross_entropy_with_logits(x, y.sigmoid()),
        [((4, 3), (4, 3))],
        "any",
    ),
    (
        "bce_logits_pos_weight",
        lambda m, x, y: _F(m).binary_cross_entropy_with_logits(
            x, y.sigmoid(), pos_weight=m.tensor([1.0, 2.0, 0.5], dtype=x.dtype)
        ),
        [((4, 3), (4, 3))],
        "any",
    ),
    (
        "kl_div",
        lambda m, x, y: _F(m).kl_div(x.log_softmax(-1), y.softmax(-1), reduction="batchmean"),
        [((4, 3), (4, 3))],
        "any",
    ),
    ("gelu", lambda m, x: _F(m).gelu(x), [((2, 5),)], "any"),
    ("gelu_tanh", lambda m, x: _F(m).gelu(x, approximate="tanh"), [((2, 5),)], "any"),
    ("silu", lambda m, x: _F(m).silu(x), [((2, 5),)], "any"),
    ("softplus", lambda m, x: _F(m).softplus(x, beta=2.0), [((2, 5),)], "any"),
    ("elu", lambda m, x: _F(m).elu(x), [((2, 5),)], "any"),
    ("leaky_relu", lambda m, x: _F(m).leaky_relu(x, 0.1), [((2, 5),)], "any"),
    (
        "layer_norm",
        lambda m, x, w, b: _F(m).layer_norm(x, (3,), w, b),
        [((4, 3), (3,), (3,))],
        "any",
    ),
    (
        "batch_norm",
        lambda m, x, w, b: _F(m).batch_norm(x, None, None, w, b, training=True),
        [((4, 3), (3,), (3,))],
        "any",
    ),
    (
        "conv2d",
        lambda m, x, w: _F(m).conv2d(x, w, padding=1),
        [((2, 2, 4, 4), (3, 2, 3, 3))],
        "any",
    ),
    ("max_pool2d", lambda m, x: _F(m).max_pool2d(x, 2), [((1, 2, 4, 4),)], "any"),
    ("avg_pool2d", lambda m, x: _F(m).avg_pool2d(x, 2), [((1, 2, 4, 4),)], "any"),
]
# The tied inputs reach the kinks too: max_pool2d windows with tied maxima (the first one gets
# the gradient, as in torch's CPU kernel), leaky_relu/elu at 0, huber at |d| = delta.
FUNCTIONAL_GRID = [
    (name, fn, shapes, domain, "") for name, fn, grid, domain in FUNCTIONAL for shapes in grid
]


@pytest.mark.parametrize(
    "name,fn,shapes,domain,flags", FUNCTIONAL_GRID, ids=[g[0] for g in FUNCTIONAL_GRID]
)
@pytest.mark.parametrize("seed", [0, 1])
def test_functional_ops_keep_the_contract(name, fn, shapes, domain, flags, seed):
    test_plain_and_recorded_backward_agree_on_ties_and_zeros(name, fn, shapes, domain, flags, seed)
