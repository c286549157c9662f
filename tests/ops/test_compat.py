"""Small PyTorch functions real programs call (ops/compat.py), against PyTorch."""
import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def test_predicates_sizes_and_limits():
    x = cr.zeros(2, 3)
    assert cr.is_tensor(x) and not cr.is_tensor(np.zeros(2)) and cr.numel(x) == 6
    assert x.is_floating_point() and not cr.tensor([1]).is_floating_point()
    assert cr.finfo(cr.float32).eps == torch.finfo(torch.float32).eps
    assert cr.finfo().eps == torch.finfo().eps
    assert cr.iinfo(cr.int64).max == torch.iinfo(torch.int64).max
    assert cr.Size([2, 3]) == (2, 3) and cr.Size([2, 3]).numel() == 6
    assert x.type_as(cr.tensor([1])).dtype == np.int64


@pytest.mark.parametrize("values", [[[0.0, 2.0], [3.0, 0.0]], [0, 1, 0, 5], 3, 0])
def test_nonzero_matches_torch(values):
    ours, theirs = cr.tensor(values), torch.tensor(values)
    np.testing.assert_array_equal(ours.nonzero().numpy(), theirs.nonzero().numpy())
    assert ours.nonzero().shape == tuple(theirs.nonzero().shape)
    for a, b in zip(cr.nonzero(ours, as_tuple=True), torch.nonzero(theirs, as_tuple=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_values_dtypes_and_gradients_match_torch():
    rng = np.random.default_rng(0)
    a, b, m = rng.uniform(0.5, 2, (3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    cases = [
        lambda t, x, y, z: t.reciprocal(x) * y,
        lambda t, x, y, z: x.clamp_min(1.0) + y.clamp_max(0.1),
        lambda t, x, y, z: t.lerp(x, y, 0.3),
        lambda t, x, y, z: t.addmm(x[:, :2], y, z, beta=0.5, alpha=2.0),
        lambda t, x, y, z: x[:, :2].addmm(y, z),
        lambda t, x, y, z: t.tile(x, (2,)) * t.tile(y, (1, 2)) + t.tile(x, (2, 1, 1)).sum(0)[:, :4].repeat(1, 2),
    ]
    for fn in cases:
        grads = []
        for lib in (cr, torch):
            xs = [lib.tensor(v, requires_grad=True) for v in (a, b, m)]
            out = fn(lib, *xs)
            out.sum().backward()
            grads.append([out.detach().numpy()] + [v.grad.numpy() if v.grad is not None else 0 * v.detach().numpy()
                                                   for v in xs])
        for ours, theirs in zip(*grads):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert cr.tensor([1, 2]).reciprocal().dtype == np.float32
    assert cr.autograd.gradcheck(lambda x, y: cr.lerp(x, y, 0.3) * x.reciprocal(),
                                 [cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)])
