"""``chainrule.utils.checkpoint``: the same values and gradients as without checkpointing (with
dropout: the generator is replayed), against torch's checkpoint on a deterministic block, and
its limits."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.checkpoint import checkpoint, checkpoint_sequential


def _net():
    cr.manual_seed(0)
    return cr.nn.Sequential(
        cr.nn.Linear(3, 4), cr.nn.Dropout(0.5), cr.nn.Tanh(), cr.nn.Linear(4, 2)
    )


def _grads(net, x):
    return [p.grad.numpy().copy() for p in net.parameters()] + [x.grad.numpy().copy()]


@pytest.mark.parametrize("use_reentrant", [False, True, None])
def test_same_values_and_gradients_as_without_it(use_reentrant):
    net, x = _net(), cr.randn(5, 3, requires_grad=True)
    cr.manual_seed(1)
    plain = net(x)
    (plain * cr.arange(2.0)).sum().backward()
    expected = _grads(net, x)
    net.zero_grad()
    x.grad = None
    cr.manual_seed(1)
    out = checkpoint(net, x, use_reentrant=use_reentrant)
    np.testing.assert_array_equal(out.detach().numpy(), plain.detach().numpy())
    (out * cr.arange(2.0)).sum().backward()
    for a, b in zip(expected, _grads(net, x), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_parameters_get_gradients_when_the_input_does_not_require_grad():
    net = _net().eval()
    checkpoint(net, cr.randn(4, 3), use_reentrant=False).sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_matches_torch_on_a_deterministic_block():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    w = np.random.default_rng(0).standard_normal((4, 3))
    x = np.random.default_rng(1).standard_normal((5, 3))
    results = []
    for lib, ckpt in ((cr, checkpoint), (torch, torch_checkpoint)):
        weight = lib.tensor(w, requires_grad=True)
        inp = lib.tensor(x, requires_grad=True)
        y = ckpt(
            lambda t, weight=weight, lib=lib: (t @ weight.T).tanh() ** 2, inp, use_reentrant=False
        )
        y.sum().backward()
        results.append((y.detach().numpy(), weight.grad.numpy(), inp.grad.numpy()))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_checkpoint_sequential_equals_the_plain_network():
    net, x = _net().eval(), cr.randn(5, 3, requires_grad=True)
    (net(x) ** 2).sum().backward()
    expected = _grads(net, x)
    net.zero_grad()
    x.grad = None
    (checkpoint_sequential(net, 2, x) ** 2).sum().backward()
    for a, b in zip(expected, _grads(net, x), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_limits_are_said():
    with pytest.raises(NotImplementedError, match="one Tensor"):
        checkpoint(lambda t: (t, t), cr.ones(2, requires_grad=True))
    with pytest.warns(UserWarning, match="no input requires grad"):
        checkpoint(lambda t: t * 2, cr.ones(2))
