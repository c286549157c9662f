"""Uniform, Exponential, Laplace, Gamma, Beta and Independent against torch.distributions:
log_prob, entropy, mean, variance, cdf and their gradients; sample shapes and statistics;
rsample's gradients."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions
rng = np.random.default_rng(0)

CASES = [
    ("Uniform", (np.array([-1.0, 0.5]), np.array([2.0, 3.0])), np.array([0.0, 2.5])),
    ("Exponential", (np.array([0.5, 2.0]),), np.array([0.3, 1.7])),
    ("Laplace", (np.array([0.0, 1.0]), np.array([1.5, 0.5])), np.array([-0.7, 2.0])),
    ("Gamma", (np.array([2.0, 0.7]), np.array([1.5, 3.0])), np.array([0.4, 1.3])),
    ("Beta", (np.array([2.0, 0.7]), np.array([5.0, 1.5])), np.array([0.3, 0.8])),
]


@pytest.mark.parametrize("name, params, value", CASES, ids=[c[0] for c in CASES])
def test_densities_and_moments_match_torch(name, params, value):
    ours_p = [cr.tensor(p, requires_grad=True) for p in params]
    theirs_p = [torch.tensor(p, requires_grad=True) for p in params]
    ours, theirs = getattr(D, name)(*ours_p), getattr(TD, name)(*theirs_p)
    for attr in ("mean", "variance"):
        np.testing.assert_allclose(
            getattr(ours, attr).detach().numpy(), getattr(theirs, attr).detach().numpy(), rtol=1e-12
        )
    lp_o, lp_t = ours.log_prob(cr.tensor(value)), theirs.log_prob(torch.tensor(value))
    en_o, en_t = ours.entropy(), theirs.entropy()
    np.testing.assert_allclose(lp_o.detach().numpy(), lp_t.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(en_o.detach().numpy(), en_t.detach().numpy(), rtol=1e-10)
    (lp_o.sum() + en_o.sum()).backward()
    (lp_t.sum() + en_t.sum()).backward()
    for a, b in zip(ours_p, theirs_p, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    if name in ("Uniform", "Exponential", "Laplace"):
        np.testing.assert_allclose(
            ours.cdf(cr.tensor(value)).detach().numpy(),
            theirs.cdf(torch.tensor(value)).detach().numpy(),
            rtol=1e-12,
        )


@pytest.mark.parametrize("name, params, value", CASES, ids=[c[0] for c in CASES])
def test_samples_have_the_shape_and_the_moments(name, params, value):
    d = getattr(D, name)(*[cr.tensor(p) for p in params])
    draws = d.sample((20000,)).numpy()
    assert draws.shape == (20000, 2) and draws.dtype == np.float64
    np.testing.assert_allclose(draws.mean(0), d.mean.numpy(), rtol=0.05, atol=0.02)
    np.testing.assert_allclose(draws.var(0), d.variance.numpy(), rtol=0.1, atol=0.02)


@pytest.mark.parametrize("name", ["Uniform", "Exponential", "Laplace"])
def test_rsample_is_differentiable(name):
    params = [cr.tensor(p, requires_grad=True) for p in dict((c[0], c[1]) for c in CASES)[name]]
    x = getattr(D, name)(*params).rsample((5,))
    x.sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all() for p in params)
    with pytest.raises(NotImplementedError):
        D.Gamma(cr.ones(1), cr.ones(1)).rsample()


def test_independent_sums_the_reinterpreted_dims_as_torch():
    mu, sigma, x = (
        rng.standard_normal((3, 4)),
        rng.uniform(0.5, 2, (3, 4)),
        rng.standard_normal((3, 4)),
    )
    ours = D.Independent(D.Normal(cr.tensor(mu), cr.tensor(sigma)), 1)
    theirs = TD.Independent(TD.Normal(torch.tensor(mu), torch.tensor(sigma)), 1)
    assert ours.batch_shape == tuple(theirs.batch_shape) and ours.event_shape == tuple(
        theirs.event_shape
    )
    np.testing.assert_allclose(
        ours.log_prob(cr.tensor(x)).numpy(), theirs.log_prob(torch.tensor(x)).numpy()
    )
    np.testing.assert_allclose(ours.entropy().numpy(), theirs.entropy().numpy())
    assert ours.rsample((2,)).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="exceeds"):
        D.Independent(D.Normal(cr.zeros(2), cr.ones(2)), 2)
