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
    for a, b in zip(
        cr.nonzero(ours, as_tuple=True), torch.nonzero(theirs, as_tuple=True), strict=True
    ):
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
        lambda t, x, y, z: (
            t.tile(x, (2,)) * t.tile(y, (1, 2)) + t.tile(x, (2, 1, 1)).sum(0)[:, :4].repeat(1, 2)
        ),
        lambda t, x, y, z: x.tile(2) + y.tile(1, 2) * x.tile((1, 2)),  # method: ints too
    ]
    for fn in cases:
        grads = []
        for lib in (cr, torch):
            xs = [lib.tensor(v, requires_grad=True) for v in (a, b, m)]
            out = fn(lib, *xs)
            out.sum().backward()
            grads.append(
                [out.detach().numpy()]
                + [v.grad.numpy() if v.grad is not None else 0 * v.detach().numpy() for v in xs]
            )
        for ours, theirs in zip(*grads, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert cr.tensor([1, 2]).reciprocal().dtype == np.float32
    assert cr.autograd.gradcheck(
        lambda x, y: cr.lerp(x, y, 0.3) * x.reciprocal(),
        [cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)],
    )


def test_diagonals_and_repeat_interleave_match_torch():
    rng = np.random.default_rng(1)
    x, v = rng.standard_normal((3, 4)), rng.standard_normal(3)
    cases = [
        (x, lambda t, a: t.repeat_interleave(a, 2)),
        (x, lambda t, a: a.repeat_interleave(t.tensor([1, 0, 2]), dim=0)),
        (x, lambda t, a: a.repeat_interleave(2, dim=1)),
        (x, lambda t, a: t.diagonal(a)),
        (x, lambda t, a: a.diagonal(1)),
        (x, lambda t, a: a.diagonal(-2)),
        (x, lambda t, a: t.diag(a)),
        (x, lambda t, a: t.diag(a, 2)),
        (x, lambda t, a: t.trace(a[:, :3])),
        (v, lambda t, a: t.diag(a)),
        (v, lambda t, a: t.diag(a, -1)),
        (rng.standard_normal((2, 3, 3)), lambda t, a: a.diagonal(0, 1, 2)),
    ]
    for value, fn in cases:
        outs = []
        for lib in (cr, torch):
            a = lib.tensor(value, requires_grad=True)
            y = fn(lib, a)
            (y * y).sum().backward()
            outs.append((y.detach().numpy(), a.grad.numpy()))
        (ya, ga), (yb, gb) = outs
        assert ya.shape == yb.shape
        np.testing.assert_allclose(ya, yb, atol=1e-12)
        np.testing.assert_allclose(ga, gb, atol=1e-12)


def test_unique_and_bincount_match_torch():
    i = [3, 1, 3, 0, 1]
    for a, b in zip(
        cr.unique(cr.tensor(i), return_inverse=True, return_counts=True),
        torch.unique(torch.tensor(i), return_inverse=True, return_counts=True),
        strict=True,
    ):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(
        cr.bincount(cr.tensor(i), minlength=6).numpy(),
        torch.bincount(torch.tensor(i), minlength=6).numpy(),
    )
    w = [1.0, 2.0, 3.0, 4.0, 5.0]
    ours, theirs = (
        cr.bincount(cr.tensor(i), cr.tensor(w)),
        torch.bincount(torch.tensor(i), torch.tensor(w)),
    )
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="repeats"):
        cr.tensor([1, 2]).repeat_interleave(cr.tensor([1, 2, 3]))


def test_index_add_matches_torch_in_and_out_of_place():
    rng = np.random.default_rng(2)
    x, s, r = rng.standard_normal((3, 4)), rng.standard_normal((3, 3)), rng.standard_normal((3, 4))
    outs = []
    for lib in (cr, torch):
        a, b, c = (lib.tensor(v, requires_grad=True) for v in (x, s, r))
        y = a.index_add(1, lib.tensor([2, 0, 2]), b, alpha=2.0) * a
        h = a * 1.0
        h.index_add_(0, lib.tensor([1, 1, 0]), c)  # in place on a non-leaf, recorded
        (y.sum() + (h**2).sum()).backward()
        outs.append(
            (y.detach().numpy(), h.detach().numpy(), a.grad.numpy(), b.grad.numpy(), c.grad.numpy())
        )
    for ours, theirs in zip(*outs, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    with pytest.raises(ValueError, match="index_add"):
        cr.zeros(3).index_add(0, cr.tensor([0, 1]), cr.ones(3))


def test_legacy_constructors():
    assert cr.FloatTensor([1, 2]).dtype == np.float32 and cr.LongTensor([1, 2]).dtype == np.int64
    assert cr.FloatTensor(2, 3).shape == (2, 3) and cr.DoubleTensor(2).dtype == np.float64
    assert cr.ByteTensor([1]).dtype == np.uint8 and cr.BoolTensor([1, 0]).dtype == np.bool_
    np.testing.assert_array_equal(
        cr.LongTensor(cr.tensor([1.7, 2.0])).numpy(),
        torch.LongTensor(torch.tensor([1.7, 2.0]).tolist()).numpy(),
    )
    with pytest.raises(TypeError, match="FloatTensor"):
        cr.FloatTensor(2, "a")


def test_where_alone_method_form_and_std_var_mean_match_torch():
    x = np.random.default_rng(3).standard_normal((3, 4))
    for a, b in zip(cr.where(cr.tensor(x) > 0), torch.where(torch.tensor(x) > 0), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(
        cr.tensor(x).where(cr.tensor(x) > 0, cr.tensor(0.0)).numpy(),
        torch.tensor(x).where(torch.tensor(x) > 0, torch.tensor(0.0)).numpy(),
    )
    with pytest.raises(TypeError, match="where"):
        cr.where(cr.tensor(x) > 0, cr.tensor(x))
    for name in ("std_mean", "var_mean"):
        for args, kw in [((), {}), ((0,), {}), ((1,), dict(correction=0, keepdim=True))]:
            ours = getattr(cr, name)(cr.tensor(x), *args, **kw)
            theirs = getattr(torch, name)(torch.tensor(x), *args, **kw)
            for a, b in zip(ours, theirs, strict=True):
                assert a.shape == tuple(b.shape)
                np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
