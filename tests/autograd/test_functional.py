"""``chainrule.autograd.functional`` (jacobian, hessian, vjp, jvp, vhp, hvp) against
``torch.autograd.functional``, single and several inputs and outputs, and ``create_graph``."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import functional as AF

torch = pytest.importorskip("torch")
TF = torch.autograd.functional
rng = np.random.default_rng(0)
X, Y, V = rng.standard_normal((3, 4))


def both(*arrays):
    return [cr.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def same(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs, strict=True):
            same(o, t)
        return
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


CASES = [
    ("jacobian", lambda m, x: x.sin() * 2, (X,)),
    ("jacobian", lambda m, x, y: (x * y.exp(), (x**2).sum()), (X, Y)),
    ("hessian", lambda m, x: (x**3 * x.sin()).sum(), (X,)),
    ("hessian", lambda m, x, y: (x**2 * y.exp()).sum(), (X, Y)),
]


@pytest.mark.parametrize("name, fn, arrays", CASES)
def test_jacobian_and_hessian_match_torch(name, fn, arrays):
    ours_in, theirs_in = both(*arrays)
    ours_args = ours_in[0] if len(arrays) == 1 else tuple(ours_in)
    theirs_args = theirs_in[0] if len(arrays) == 1 else tuple(theirs_in)
    ours = getattr(AF, name)(lambda *t: fn(cr, *t), ours_args)
    theirs = getattr(TF, name)(lambda *t: fn(torch, *t), theirs_args)
    same(ours, theirs)


@pytest.mark.parametrize("name", ["vjp", "jvp", "vhp", "hvp"])
def test_products_match_torch(name):
    (x, v), (tx, tv) = both(X, V)
    scalar = name in ("vhp", "hvp")
    fn = (lambda m, t: (t**4 * t.cos()).sum()) if scalar else (lambda m, t: t.sin() * t)
    ours = getattr(AF, name)(lambda t: fn(cr, t), x, v)
    theirs = getattr(TF, name)(lambda t: fn(torch, t), tx, tv)
    same(ours, theirs)


def test_create_graph_keeps_the_results_differentiable():
    x = cr.tensor(X, requires_grad=True)
    jac = AF.jacobian(lambda t: t**3, x, create_graph=True)
    jac.sum().backward()  # d/dx sum(diag(3 x^2)) = 6 x
    np.testing.assert_allclose(x.grad.numpy(), 6 * X)
    plain = AF.jacobian(lambda t: t**3, cr.tensor(X))
    assert not plain.requires_grad


def test_variable_is_the_tensor_itself():
    t = cr.ones(2)
    assert cr.autograd.Variable(t, requires_grad=True) is t and t.requires_grad
