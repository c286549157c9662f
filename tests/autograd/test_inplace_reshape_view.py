"""In-place writes through a reshape/view of a tensor in a graph (d2l's masked_softmax writes
``X.reshape(-1, n)[~mask] = value``): recorded on the base as in PyTorch, gradients equal."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _program(lib):
    rng = np.random.default_rng(0)
    X = lib.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    W = lib.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    Y = X * W
    V = Y.reshape(-1, 4)
    mask = lib.arange(4)[None, :] < lib.tensor([1, 2, 3, 4, 2, 1])[:, None]
    V[~mask] = -1e6  # setitem through the view
    out = lib.softmax(V.reshape(2, 3, 4), dim=-1)
    Z = Y * 1.0
    Z.view(6, 4).mul_(W.reshape(6, 4))  # reads the view's old value
    Z.reshape(3, 8)[1:].add_(1.0)  # a slice of a reshape view
    (out * lib.tensor(rng.standard_normal((2, 3, 4)))).sum().backward(retain_graph=True)
    (Z**2).sum().backward()
    return [
        out.detach().numpy(),
        Y.detach().numpy(),
        Z.detach().numpy(),
        X.grad.numpy(),
        W.grad.numpy(),
    ]


def test_inplace_through_reshape_views_matches_torch():
    for ours, theirs in zip(_program(cr), _program(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_reshape_view_of_a_leaf_is_still_refused():
    x = cr.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.view(6)[0] = 1.0


def test_gradcheck_through_a_masked_reshape_view():
    def fn(x):
        y = x * 2.0
        y.reshape(-1)[::2] = 0.5
        return (y * x).sum(dim=0)

    assert cr.autograd.gradcheck(
        fn, [cr.tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)]
    )
