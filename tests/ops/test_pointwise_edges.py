"""Pointwise ops at the edges of their domains: second derivatives of ``pow`` at 0 ** 0 and of
sigmoid/tanh with infinite values, and no NumPy warning where the answer is IEEE's (``log(0)``).
Each answer is checked against PyTorch and, where the function is smooth, finite differences."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd.gradcheck import gradgradcheck

torch = pytest.importorskip("torch")


def _second(lib, fn, x0, upstream=None):
    """``d/dx (d fn / dx . upstream)`` summed, through ``create_graph=True``; None when the first
    derivative is a constant (PyTorch's x ** 0)."""
    x = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
    y = fn(x)
    up = lib.ones_like(y) if upstream is None else lib.tensor(upstream, dtype=lib.float64)
    (g,) = lib.autograd.grad(y, (x,), grad_outputs=(up,), create_graph=True)
    if not g.requires_grad:
        return g.detach().numpy().copy(), None
    (h,) = lib.autograd.grad(g.sum(), (x,))
    return g.detach().numpy().copy(), h.numpy().copy()


@pytest.mark.parametrize("exponent", [0, 0.0, 1, 2, 3])
def test_pow_scalar_exponent_second_derivative_at_zero_matches_torch(exponent):
    x0 = [0.0, -0.0, 0.5, -1.5]
    g, h = _second(cr, lambda x: x**exponent, x0)
    tg, th = _second(torch, lambda x: x**exponent, x0)
    np.testing.assert_array_equal(g, tg)
    # PyTorch's gradient of x ** 0 is a constant zero: its derivative is zero
    np.testing.assert_array_equal(h, np.zeros_like(g) if th is None else th)
    assert not np.isnan(h).any()


def test_pow_tensor_exponent_zero_has_finite_second_derivative():
    # a ** 0 = 1 for every a (0 ** 0 too): first and second derivatives in a are 0. The branch
    # b * a ** (b - 1) that is not chosen used to be differentiated to 0 * inf = NaN.
    a = cr.tensor([0.0, 0.0, 2.0], dtype=cr.float64, requires_grad=True)
    b = cr.tensor([0.0, 2.0, 0.0], dtype=cr.float64)
    (g,) = cr.autograd.grad((a**b).sum(), (a,), create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), (a,))
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(h.numpy(), [0.0, 2.0, 0.0])
    # one-sided finite differences of the (plain) first derivative, from a = 0 upwards

    def first_derivative(a0):
        a = cr.tensor(a0, dtype=cr.float64, requires_grad=True)
        (a**b).sum().backward()
        return a.grad.numpy()

    eps = 1e-6
    a0 = np.array([0.0, 0.0, 2.0])
    fd = (first_derivative(a0 + eps) - first_derivative(a0)) / eps
    np.testing.assert_allclose(h.numpy(), fd, atol=1e-5)


def test_pow_exponent_gradient_follows_torch_at_zero_and_negative_bases():
    values = ([0.0, 0.0, 0.0, -2.0, -2.0, 3.0], [0.0, 2.0, -1.0, 2.0, 0.5, 1.5])
    grads = []
    for lib in (cr, torch):
        a = lib.tensor(values[0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor(values[1], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no NumPy warning for 0 ** -1 or log(-2)
            (a**b).sum().backward()
        grads.append((a.grad.numpy().copy(), b.grad.numpy().copy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    # 0 at 0 ** b for b >= 0, -inf at 0 ** -1, NaN for a negative base: as PyTorch
    np.testing.assert_array_equal(grads[0][1], grads[1][1])
    assert np.isneginf(grads[0][1][2]) and np.isnan(grads[0][1][3])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 inside, NaN in both libraries
@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_sigmoid_tanh_second_derivative_with_infinite_values_matches_torch(name):
    xs = np.array([-np.inf, -20.0, -1.0, 0.0, 0.5, 20.0, np.inf])
    ups = np.array([np.inf, -np.inf, 1.0, -3.0])
    x0 = np.repeat(xs, len(ups))
    up = np.tile(ups, len(xs))
    g, h = _second(cr, getattr(cr, name), x0, up)
    tg, th = _second(torch, getattr(torch, name), x0, up)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=0)
    # sigmoid: d/dx of g * y (1 - y) is g * (1 - 2y) * y (1 - y) in one term, never inf - inf
    np.testing.assert_allclose(h, th, rtol=1e-12, atol=0)
    finite = np.isfinite(x0) & np.isfinite(up)
    assert not np.isnan(h[finite]).any()
    assert not np.isnan(h[np.isinf(up) & (x0 == 0.5)]).any()


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_sigmoid_tanh_second_derivative_matches_finite_differences(name):
    x = cr.tensor([-3.0, -0.5, 0.0, 0.7, 2.5], dtype=cr.float64, requires_grad=True)
    assert gradgradcheck(getattr(cr, name), (x,))


@pytest.mark.parametrize(
    "name, x0",
    [
        ("log", [0.0, -1.0, 2.0]),
        ("log2", [0.0, -1.0, 2.0]),
        ("log10", [0.0, -1.0, 2.0]),
        ("log1p", [-1.0, -2.0, 2.0]),
        ("sqrt", [0.0, -1.0, 4.0]),
        ("rsqrt", [0.0, -1.0, 4.0]),
        ("asin", [1.0, 2.0, 0.5]),
        ("acos", [1.0, 2.0, 0.5]),
        ("exp", [1000.0, 0.0, -1000.0]),
        ("expm1", [1000.0, 0.0, -1.0]),
        ("reciprocal", [0.0, -0.0, 2.0]),
        ("sin", [np.inf, 0.0, 1.0]),
        ("cosh", [1000.0, 0.0, 1.0]),
    ],
)
def test_ieee_results_come_without_numpy_warnings(name, x0):
    results = []
    for lib in (cr, torch):
        x = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = getattr(lib, name)(x)
            y.backward(lib.ones_like(y))  # (a sum of inf and -inf would be NaN, with a warning)
        results.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_division_by_zero_gives_ieee_results_and_gradients_without_warnings():
    results = []
    for lib in (cr, torch):
        a = lib.tensor([1.0, -1.0, 0.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.0, 0.0, 0.0, 4.0], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            y = a / b
            y.backward(lib.ones_like(y))
        results.append([v.detach().numpy().copy() for v in (y, a.grad, b.grad)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_shifts_match_torch_on_integers():
    for dtype in ("int64", "int32", "uint8", "int8"):
        a = np.array([7, 100, 8, 1]) if dtype == "uint8" else np.array([7, -7, 8, -9])
        ours = cr.tensor(a, dtype=getattr(cr, dtype))
        theirs = torch.tensor(a, dtype=getattr(torch, dtype))
        for got, want in [
            (ours << 2, theirs << 2),
            (ours >> 1, theirs >> 1),
            (3 << ours.clamp(0, 4), 3 << theirs.clamp(0, 4)),
            (
                ours.bitwise_left_shift(ours.clamp(0, 3)),
                theirs.bitwise_left_shift(theirs.clamp(0, 3)),
            ),
        ]:
            np.testing.assert_array_equal(got.numpy(), want.numpy())
            assert str(got.dtype) == str(want.dtype).split(".")[-1]
    with pytest.raises(TypeError, match="integer"):
        cr.tensor([1.5]) << 1
