"""The special functions (``ops/special.py``, ``chainrule.special``) against PyTorch in float64
over their whole range, tails and poles included; their gradients and second derivatives on
random shapes are in the op table."""

import math

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")
INF, NAN = math.inf, math.nan

GAMMA_POINTS = np.concatenate(
    [np.linspace(-7.9, 12.0, 397), [1e-8, 0.5, 1.0, 2.0, 30.0, 150.0, 1e5, -0.3, -2.5]]
)


def both(name, values, *args, lib_name=None):
    ours = (
        getattr(cr, name)(*args, cr.tensor(values))
        if args
        else getattr(cr, name)(cr.tensor(values))
    )
    theirs_fn = getattr(torch, lib_name or name)
    theirs = theirs_fn(*args, torch.tensor(values)) if args else theirs_fn(torch.tensor(values))
    return ours.numpy(), theirs.numpy()


@pytest.mark.parametrize("name", ["lgamma", "digamma"])
def test_gamma_family_matches_torch(name):
    ours, theirs = both(name, GAMMA_POINTS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_polygamma_matches_torch(n):
    points = GAMMA_POINTS[GAMMA_POINTS != np.floor(GAMMA_POINTS)]  # (torch's poles differ)
    ours = cr.polygamma(n, cr.tensor(points)).numpy()
    theirs = torch.polygamma(n, torch.tensor(points)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_poles_and_infinities():
    x = cr.tensor([0.0, -1.0, -2.0, INF, -INF, NAN], dtype=cr.float64)
    assert cr.lgamma(x).tolist()[:4] == [INF, INF, INF, INF]
    digamma = cr.digamma(x).numpy()
    assert digamma[0] == -INF and np.isnan(digamma[1:3]).all() and digamma[3] == INF
    assert np.isnan(cr.lgamma(x).numpy()[5]) and np.isnan(digamma[4:]).all()
    assert cr.polygamma(1, x).numpy()[0] == INF


def test_erfinv_is_erfs_inverse_to_the_last_bits_as_torch():
    y = np.concatenate(
        [np.linspace(-1, 1, 4001), [1 - 1e-12, -1 + 1e-15, 1e-300, 0.0, 1.0, -1.0, 1.5, NAN]]
    )
    ours, theirs = both("erfinv", y)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    x = cr.tensor(np.linspace(-3.5, 3.5, 71))  # (beyond, erf rounds to +-1 within 1e-7)
    np.testing.assert_allclose(cr.erfinv(cr.erf(x)).numpy(), x.numpy(), rtol=1e-9)


def test_erfc_keeps_its_relative_accuracy_in_the_tail():
    x = np.concatenate([np.linspace(-8, 27, 3501), [INF, -INF, NAN]])
    ours, theirs = both("erfc", x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=0)
    assert cr.erfc(cr.tensor([10.0])).numpy()[0] > 0  # 2e-45 in float32, as torch's


def test_float32_in_float32_out():
    for fn in (cr.lgamma, cr.digamma, cr.erfinv, cr.erfc):
        assert fn(cr.tensor([0.5])).dtype == cr.float32
    assert cr.lgamma(cr.tensor([3])).dtype == cr.float32  # integers: the default float


def test_mvlgamma_and_its_domain_as_torch():
    x = np.array([2.5, 3.0, 7.25])
    np.testing.assert_allclose(
        cr.mvlgamma(cr.tensor(x), 3).numpy(), torch.mvlgamma(torch.tensor(x), 3).numpy()
    )
    with pytest.raises(RuntimeError, match="greater than"):
        cr.mvlgamma(cr.tensor([0.5]), 3)


def test_polygamma_order_must_be_a_natural_number():
    with pytest.raises(RuntimeError, match="non-negative integer"):
        cr.polygamma(-1, cr.ones(1))


@pytest.mark.parametrize(
    "name, args",
    [
        ("ndtr", (np.linspace(-12, 8, 41),)),
        ("ndtri", (np.linspace(0.001, 0.999, 37),)),
        ("log_ndtr", (np.linspace(-8, 5, 27),)),
        ("entr", (np.array([0.0, 0.25, 1.0, 3.0, -1.0]),)),
        ("xlog1py", (np.array([0.0, 2.0, 0.0, 1.5]), np.array([-1.0, 0.5, 3.0, -0.5]))),
        ("expit", (np.linspace(-5, 5, 11),)),
        ("gammaln", (np.linspace(0.1, 9, 17),)),
        ("psi", (np.linspace(0.1, 9, 17),)),
        ("multigammaln", (np.linspace(1.1, 9, 17), 2)),
        ("sinc", (np.linspace(-2, 2, 9),)),
        ("erfinv", (np.linspace(-0.9, 0.9, 7),)),
    ],
)
def test_special_namespace_matches_torch_special(name, args):
    ours = getattr(cr.special, name)(
        *[cr.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    )
    theirs = getattr(torch.special, name)(
        *[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_special_gradients_against_torch():
    values = np.array([0.3, 1.7, 4.0])
    for name, rtol in (("lgamma", 1e-10), ("erfc", 1e-10), ("digamma", 1e-8)):
        ours = cr.tensor(values, requires_grad=True)
        theirs = torch.tensor(values, requires_grad=True)
        getattr(cr, name)(ours).sum().backward()
        getattr(torch, name)(theirs).sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol)


def test_trigamma_exact_at_integers():
    # psi'(n) = pi^2 / 6 - sum_{k < n} 1 / k^2 (torch's CPU trigamma is off by ~4e-10 here)
    n = np.arange(1, 9)
    exact = [math.pi**2 / 6 - sum(1 / k**2 for k in range(1, m)) for m in n]
    np.testing.assert_allclose(cr.polygamma(1, cr.tensor(n * 1.0)).numpy(), exact, rtol=1e-14)
