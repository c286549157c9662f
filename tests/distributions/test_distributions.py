"""Categorical, Normal, Bernoulli and kl_divergence against torch.distributions: log_prob,
entropy and their gradients (also by finite differences), sample shapes and frequencies."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.distributions import Bernoulli, Categorical, Normal, kl_divergence

torch = pytest.importorskip("torch")

RNG = None  # this test's generator, seeded afresh by the fixture below


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws from its own generator, seeded the same: its inputs do not depend on
    which tests ran before it."""
    global RNG
    RNG = np.random.default_rng(0)


P = np.random.default_rng(0).uniform(0.1, 1.0, (3, 4))


def _both(fn, *arrays):
    """fn(lib, *tensors) in both libraries (float64, requires grad); values and input grads."""
    out = []
    for lib in (cr, torch):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        y = fn(lib, *xs)
        y.sum().backward()
        out.append((np.asarray(y.detach().numpy()), [x.grad.numpy() for x in xs]))
    (a, ga), (b, gb) = out
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for x, y in zip(ga, gb, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_categorical_log_prob_and_entropy_match_torch(kind):
    v = np.array([0, 3, 2])
    _both(lambda m, p: m.distributions.Categorical(**{kind: p}).log_prob(m.tensor(v)), P)
    _both(lambda m, p: m.distributions.Categorical(**{kind: p}).log_prob(m.tensor([[1], [0]])), P)
    _both(lambda m, p: m.distributions.Categorical(**{kind: p}).entropy(), P)
    d = Categorical(**{kind: cr.tensor(P)})
    assert (
        d.batch_shape == (3,) and d.sample().shape == (3,) and d.sample((5, 2)).shape == (5, 2, 3)
    )
    assert d.sample().dtype == np.int64
    xs = [cr.tensor(P, requires_grad=True)]
    assert cr.autograd.gradcheck(
        lambda p: (
            Categorical(**{kind: p}).log_prob(cr.tensor(v)) + Categorical(**{kind: p}).entropy()
        ),
        xs,
    )


def test_categorical_sample_frequencies():
    cr.manual_seed(0)
    probs = cr.tensor([0.1, 0.6, 0.3])
    draws = Categorical(probs).sample((20000,)).numpy()
    freq = np.bincount(draws, minlength=3) / draws.size
    np.testing.assert_allclose(freq, [0.1, 0.6, 0.3], atol=0.015)


def test_normal_matches_torch_and_rsample_is_differentiable():
    loc, scale, x = P, P + 0.5, RNG.standard_normal((3, 4))
    _both(lambda m, a, s, v: m.distributions.Normal(a, s).log_prob(v), loc, scale, x)
    _both(lambda m, s: m.distributions.Normal(0.0, s).entropy(), scale)
    _both(
        lambda m, a, s: m.distributions.kl_divergence(
            m.distributions.Normal(a, s), m.distributions.Normal(0.5, 2.0)
        ),
        loc,
        scale,
    )
    mu, sigma = cr.tensor(loc, requires_grad=True), cr.tensor(scale, requires_grad=True)
    z = Normal(mu, sigma).rsample((2,))
    assert z.shape == (2, 3, 4) and z.requires_grad
    z.sum().backward()
    np.testing.assert_allclose(mu.grad.numpy(), np.full((3, 4), 2.0))
    assert not Normal(mu, sigma).sample().requires_grad
    cr.manual_seed(1)
    s = Normal(cr.tensor(1.0), cr.tensor(2.0)).sample((40000,)).numpy()
    assert abs(s.mean() - 1.0) < 0.05 and abs(s.std() - 2.0) < 0.05
    assert cr.autograd.gradcheck(
        lambda a, s, v: Normal(a, s).log_prob(v),
        [cr.tensor(a, requires_grad=True) for a in (loc, scale, x)],
    )


@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_bernoulli_matches_torch(kind):
    p = P[0] if kind == "probs" else P[0] * 4 - 2
    value = np.array([1.0, 0.0, 1.0, 0.0])
    _both(lambda m, a: m.distributions.Bernoulli(**{kind: a}).log_prob(m.tensor(value)), p)
    _both(lambda m, a: m.distributions.Bernoulli(**{kind: a}).entropy(), p)
    _both(
        lambda m, a: m.distributions.kl_divergence(
            m.distributions.Bernoulli(**{kind: a}),
            m.distributions.Bernoulli(probs=m.tensor(0.3, dtype=m.float64)),
        ),
        p,
    )
    d = Bernoulli(**{kind: cr.tensor(p)})
    assert d.sample((3,)).shape == (3, 4) and set(np.unique(d.sample((50,)).numpy())) <= {0.0, 1.0}


def test_categorical_kl_and_errors():
    q = RNG.uniform(0.1, 1.0, (3, 4))
    _both(
        lambda m, a, b: m.distributions.kl_divergence(
            m.distributions.Categorical(a), m.distributions.Categorical(b)
        ),
        P,
        q,
    )
    with pytest.raises(ValueError, match="exactly one"):
        Categorical()
    with pytest.raises(NotImplementedError, match="kl_divergence"):
        kl_divergence(Normal(0.0, 1.0), Categorical(cr.tensor(P)))
