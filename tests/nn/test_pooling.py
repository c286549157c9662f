"""Max / average / adaptive pooling (functional and modules) against PyTorch."""

import itertools
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.nn.functional import _pool as P
from chainrule.nn.modules import pooling as M

torch = pytest.importorskip("torch")
TF = torch.nn.functional
rng = None  # this test's generator, seeded afresh by the fixture below


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws from its own generator, seeded the same: its inputs do not depend on
    which tests ran before it."""
    global rng
    rng = np.random.default_rng(1)


def _compare(fn, tfn, shape, ties=False):
    """Forward and input gradient of ``fn`` equal PyTorch's ``tfn``; float32 is kept."""
    a = rng.standard_normal(shape).astype(np.float32)
    if ties:  # few distinct values: windows with several maxima
        a = np.round(a)
    x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = fn(x), tfn(tx)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-5, rtol=1e-5)
    g = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-5, rtol=1e-5)
    assert y.dtype == x.grad.dtype == np.float32


WINDOWS = [
    (k, s, p) for k, s, p in itertools.product([1, 2, 3], [None, 1, 2], [0, 1]) if p <= k // 2
]


@pytest.mark.parametrize("k,s,p", WINDOWS)
@pytest.mark.parametrize("d", [1, 2])
def test_max_pool_matches_torch_including_ties(k, s, p, d):
    _compare(
        lambda x: F.max_pool2d(x, k, s, p, d),
        lambda x: TF.max_pool2d(x, k, s, p, d),
        (2, 3, 7, 8),
        ties=True,
    )
    _compare(
        lambda x: F.max_pool1d(x, k, s, p, d),
        lambda x: TF.max_pool1d(x, k, s, p, d),
        (2, 3, 9),
        ties=True,
    )


@pytest.mark.parametrize("k,s,p", WINDOWS + [((2, 3), (1, 2), (1, 0))])
@pytest.mark.parametrize("include_pad", [True, False])
def test_avg_pool_matches_torch(k, s, p, include_pad):
    _compare(
        lambda x: F.avg_pool2d(x, k, s, p, count_include_pad=include_pad),
        lambda x: TF.avg_pool2d(x, k, s, p, count_include_pad=include_pad),
        (2, 3, 7, 8),
    )
    if isinstance(k, int):
        _compare(
            lambda x: F.avg_pool1d(x, k, s, p, count_include_pad=include_pad),
            lambda x: TF.avg_pool1d(x, k, s, p, count_include_pad=include_pad),
            (2, 3, 9),
        )


def test_avg_pool_divisor_override():
    _compare(
        lambda x: F.avg_pool2d(x, 3, 1, 1, divisor_override=2),
        lambda x: TF.avg_pool2d(x, 3, 1, 1, divisor_override=2),
        (1, 2, 5, 5),
    )


@pytest.mark.parametrize("size", [1, 2, 3, (2, 5), (None, 3), 7, (4, 8)])
def test_adaptive_avg_pool2d_matches_torch(size):
    _compare(
        lambda x: F.adaptive_avg_pool2d(x, size),
        lambda x: TF.adaptive_avg_pool2d(x, size),
        (2, 3, 7, 8),
    )


@pytest.mark.parametrize("size", [1, 3, 4, 9])
def test_adaptive_avg_pool1d_matches_torch(size):
    _compare(
        lambda x: P.adaptive_avg_pool1d(x, size),
        lambda x: TF.adaptive_avg_pool1d(x, size),
        (2, 3, 9),
    )


def test_unbatched_inputs():
    _compare(lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), (3, 6, 5))
    _compare(lambda x: F.avg_pool2d(x, 2, 1), lambda x: TF.avg_pool2d(x, 2, 1), (3, 6, 5))
    _compare(lambda x: F.max_pool1d(x, 2), lambda x: TF.max_pool1d(x, 2), (3, 7))
    _compare(lambda x: F.avg_pool1d(x, 3, 2, 1), lambda x: TF.avg_pool1d(x, 3, 2, 1), (3, 7))
    _compare(
        lambda x: F.adaptive_avg_pool2d(x, 2), lambda x: TF.adaptive_avg_pool2d(x, 2), (3, 5, 5)
    )


def test_return_indices_match_torch():
    a = np.round(rng.standard_normal((2, 3, 7, 8))).astype(np.float32)
    _, idx = F.max_pool2d(cr.tensor(a), 3, 2, 1, return_indices=True)
    _, tidx = TF.max_pool2d(torch.tensor(a), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert idx.dtype == np.int64
    _, idx1 = F.max_pool1d(cr.tensor(a[0]), 2, return_indices=True)
    _, tidx1 = TF.max_pool1d(torch.tensor(a[0]), 2, return_indices=True)
    np.testing.assert_array_equal(idx1.numpy(), tidx1.numpy())


def test_nan_windows_follow_torch():
    # NaN propagates; PyTorch's index (and gradient) goes to the window's last NaN.
    a = np.round(rng.standard_normal((2, 2, 6, 6))).astype(np.float32)
    a[0, 0, 0, :2] = np.nan  # two NaNs in one 2x2 window
    a[1, 1, 3, 3] = np.nan
    for args in [(2,), (3, 1, 1)]:
        x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, idx = F.max_pool2d(x, *args, return_indices=True)
        ty, tidx = TF.max_pool2d(tx, *args, return_indices=True)
        np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_window_of_more_than_256_taps():
    # Tap indices no longer fit in one byte.
    _compare(
        lambda x: F.max_pool2d(x, 17), lambda x: TF.max_pool2d(x, 17), (1, 2, 17, 18), ties=True
    )


def test_max_pool_keeps_one_byte_per_output_for_backward():
    x = cr.randn(8, 8, 32, 32, requires_grad=True)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        y = F.max_pool2d(x, 2)
        held = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    assert held < y.numpy().nbytes * 1.25 + 10_000  # the output and a uint8 argmax
    y.sum().backward()
    assert x.grad.numpy().sum() == y.numel()


def test_empty_batch():
    x = cr.randn(0, 3, 8, 8, requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.sum().backward()
    assert y.shape == (0, 3, 4, 4) and x.grad.shape == x.shape


def _t64(*shape):
    return cr.tensor(rng.standard_normal(shape), dtype=cr.float64, requires_grad=True)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.max_pool2d(x, 3, 2, 1),
        lambda x: F.max_pool2d(x, 2, dilation=2),
        lambda x: F.max_pool2d(x, 2),
        lambda x: F.max_pool2d(x, (2, 3), (1, 2)),
        lambda x: F.avg_pool2d(x, 3, 2, 1),
        lambda x: F.avg_pool2d(x, 2),
        lambda x: F.adaptive_avg_pool2d(x, (2, 4)),
        lambda x: F.adaptive_avg_pool2d(x, 1),
    ],
)
def test_gradcheck_and_second_derivatives(fn):
    x = _t64(2, 2, 5, 6)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_float64_is_kept():
    x = _t64(1, 1, 4, 4)
    for y in (F.max_pool2d(x, 2), F.avg_pool2d(x, 3, 1, 1), F.adaptive_avg_pool2d(x, 3)):
        assert y.dtype == np.float64


# ---- modules ----


@pytest.mark.parametrize(
    "name,args,kwargs,shape",
    [
        ("MaxPool2d", (2,), {}, (2, 3, 6, 7)),
        ("MaxPool2d", (3,), dict(stride=2, padding=1, dilation=1), (2, 3, 6, 7)),
        ("MaxPool1d", (3,), dict(stride=1, padding=1), (2, 3, 8)),
        ("AvgPool2d", (2,), dict(stride=1, padding=1, count_include_pad=False), (2, 3, 6, 7)),
        ("AvgPool2d", ((2, 3),), {}, (2, 3, 6, 7)),
        ("AvgPool1d", (3,), dict(stride=2, padding=1), (2, 3, 8)),
        ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
        ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 8)),
        ("AdaptiveMaxPool2d", ((3, 2),), {}, (2, 3, 7, 5)),
        ("AdaptiveMaxPool2d", ((None, 3),), {}, (2, 3, 4, 7)),
        ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 8)),
    ],
)
def test_modules_match_torch(name, args, kwargs, shape):
    m, tm = getattr(M, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert m.extra_repr() == tm.extra_repr()
    assert list(m.parameters()) == []
    _compare(m, tm, shape, ties=name.startswith("Max"))


def test_max_pool_module_return_indices():
    x = cr.randn(1, 2, 4, 4)
    out, idx = M.MaxPool2d(2, return_indices=True)(x)
    assert out.shape == idx.shape == (1, 2, 2, 2)


# ---- errors ----


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (
            lambda: F.max_pool2d(cr.randn(4, 4), 2),
            ValueError,
            r"max_pool2d.*\(N, C, H, W\).*\(4, 4\)",
        ),
        (lambda: F.avg_pool1d(cr.randn(2, 3, 4, 4), 2), ValueError, r"avg_pool1d.*\(N, C, L\)"),
        (lambda: F.max_pool2d(cr.randn(1, 1, 4, 4), 2, padding=2), ValueError, "at most half"),
        (lambda: F.avg_pool2d(cr.randn(1, 1, 2, 2), 3), ValueError, "too small"),
        (lambda: F.max_pool2d(cr.randn(1, 1, 4, 4), 0), ValueError, "kernel_size"),
        (lambda: F.adaptive_avg_pool2d(cr.randn(1, 1, 4, 4), (1, 2, 3)), ValueError, "output_size"),
        (
            lambda: F.max_pool2d(cr.tensor(np.ones((1, 1, 4, 4), dtype=np.int64)), 2),
            TypeError,
            "floating",
        ),
    ],
)
def test_clear_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_public_names():
    for name in ("MaxPool2d", "MaxPool1d", "AvgPool2d", "AvgPool1d", "AdaptiveAvgPool2d"):
        assert getattr(cr.nn, name) is getattr(M, name)
    for name in ("max_pool2d", "max_pool1d", "avg_pool2d", "avg_pool1d", "adaptive_avg_pool2d"):
        assert getattr(F, name) is getattr(P, name)


# ---- adaptive max pooling ----


@pytest.mark.parametrize("size", [1, 2, 3, (4, 2), (5, 7), (None, 2)])
def test_adaptive_max_pool2d_matches_torch_including_ties_and_indices(size):
    for ties in (False, True):
        _compare(
            lambda x: F.adaptive_max_pool2d(x, size),
            lambda x: TF.adaptive_max_pool2d(x, size),
            (2, 3, 5, 7),
            ties=ties,
        )
    x = np.round(rng.standard_normal((2, 3, 5, 7)))
    ours = F.adaptive_max_pool2d(cr.tensor(x), size, return_indices=True)
    theirs = TF.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    assert ours[1].dtype == np.int64


@pytest.mark.parametrize("size", [1, 3, 4, 9])
def test_adaptive_max_pool1d_matches_torch(size):
    _compare(
        lambda x: F.adaptive_max_pool1d(x, size),
        lambda x: TF.adaptive_max_pool1d(x, size),
        (2, 3, 9),
        ties=True,
    )
    x = rng.standard_normal((3, 9))  # unbatched, with indices
    ours = F.adaptive_max_pool1d(cr.tensor(x), size, return_indices=True)
    theirs = TF.adaptive_max_pool1d(torch.tensor(x), size, return_indices=True)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_adaptive_max_pool_unbatched_nan_and_gradcheck():
    x = rng.standard_normal((3, 6, 5))
    x[0, 1, 1] = x[1, 4, 4] = np.nan
    ours = F.adaptive_max_pool2d(cr.tensor(x), (2, 3), return_indices=True)
    theirs = TF.adaptive_max_pool2d(torch.tensor(x), (2, 3), return_indices=True)
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    a = rng.standard_normal(tuple(rng.integers(2, 7, size=4)))  # distinct values: smooth
    for fn in (
        lambda x: F.adaptive_max_pool2d(x, (2, 3)),
        lambda x: F.adaptive_max_pool1d(x.reshape(x.shape[0], x.shape[1], -1), 4),
    ):
        assert gradcheck(fn, [cr.tensor(a, requires_grad=True)])
        assert gradgradcheck(fn, [cr.tensor(a, requires_grad=True)])


def test_adaptive_max_pool_module_return_indices():
    out, idx = M.AdaptiveMaxPool2d(2, return_indices=True)(cr.randn(1, 2, 5, 5))
    assert out.shape == idx.shape == (1, 2, 2, 2)
    assert cr.nn.AdaptiveMaxPool1d is M.AdaptiveMaxPool1d
    assert F.adaptive_max_pool2d is P.adaptive_max_pool2d


# ---- 3-d ----


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=(1, 1, 0), dilation=(2, 1, 2)),
    ],
)
def test_max_pool3d_matches_torch_with_indices(kwargs):
    for ties in (False, True):
        _compare(
            lambda x: F.max_pool3d(x, **kwargs),
            lambda x: TF.max_pool3d(x, **kwargs),
            (2, 3, 5, 6, 7),
            ties=ties,
        )
    a = rng.standard_normal((3, 5, 6, 7)).astype(np.float32)  # unbatched
    out, idx = F.max_pool3d(cr.tensor(a), return_indices=True, **kwargs)
    tout, tidx = TF.max_pool3d(torch.tensor(a), return_indices=True, **kwargs)
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert idx.dtype == np.int64


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(kernel_size=2),
        dict(kernel_size=3, stride=2, padding=1),
        dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
        dict(kernel_size=(1, 2, 3), stride=1, divisor_override=4),
    ],
)
def test_avg_pool3d_matches_torch(kwargs):
    _compare(
        lambda x: F.avg_pool3d(x, **kwargs), lambda x: TF.avg_pool3d(x, **kwargs), (2, 3, 5, 6, 7)
    )
    _compare(
        lambda x: F.avg_pool3d(x, **kwargs), lambda x: TF.avg_pool3d(x, **kwargs), (3, 4, 5, 6)
    )


@pytest.mark.parametrize("size", [1, 2, (3, 4, 5), (None, 2, 3), (5, 6, 7)])
def test_adaptive_pool3d_matches_torch(size):
    _compare(
        lambda x: F.adaptive_avg_pool3d(x, size),
        lambda x: TF.adaptive_avg_pool3d(x, size),
        (2, 3, 5, 6, 7),
    )
    _compare(
        lambda x: F.adaptive_max_pool3d(x, size),
        lambda x: TF.adaptive_max_pool3d(x, size),
        (2, 3, 5, 6, 7),
        ties=True,
    )
    a = np.round(rng.standard_normal((3, 5, 6, 7)))
    out, idx = F.adaptive_max_pool3d(cr.tensor(a), size, return_indices=True)
    tout, tidx = TF.adaptive_max_pool3d(torch.tensor(a), size, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    assert out.dtype == np.float64


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.max_pool3d(x, 2, 1, 1),
        lambda x: F.avg_pool3d(x, 3, 2, 1),
        lambda x: F.adaptive_avg_pool3d(x, (2, 3, 2)),
        lambda x: F.adaptive_max_pool3d(x, (2, 3, 2)),
    ],
)
def test_pool3d_gradcheck_and_second_derivatives(fn):
    x = cr.tensor(rng.standard_normal((1, 2, 3, 4, 3)), requires_grad=True)
    assert gradcheck(fn, [x]) and gradgradcheck(fn, [x])


@pytest.mark.parametrize(
    "name,args,kwargs",
    [
        ("MaxPool3d", (2,), {}),
        ("MaxPool3d", (3,), dict(stride=2, padding=1, dilation=1)),
        ("AvgPool3d", (2,), dict(stride=1, padding=1, count_include_pad=False)),
        ("AdaptiveAvgPool3d", ((3, 2, 1),), {}),
        ("AdaptiveMaxPool3d", ((None, 3, 2),), {}),
    ],
)
def test_pool3d_modules_match_torch(name, args, kwargs):
    m, tm = getattr(cr.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(m) == repr(tm)
    _compare(m, tm, (2, 3, 4, 5, 6), ties=name.startswith("Max"))


def test_pool3d_errors_name_the_op_and_shape():
    with pytest.raises(ValueError, match=r"max_pool3d: expected input of shape \(N, C, D, H, W\)"):
        F.max_pool3d(cr.ones(2, 3, 4), 2)
    with pytest.raises(ValueError, match=r"avg_pool3d: kernel_size must be an int or a triple"):
        F.avg_pool3d(cr.ones(1, 1, 4, 4, 4), (2, 2))
    with pytest.raises(ValueError, match=r"adaptive_avg_pool3d: output_size .* must have 3"):
        F.adaptive_avg_pool3d(cr.ones(1, 1, 4, 4, 4), (2, 2))
    with pytest.raises(ValueError, match=r"max_pool3d: input .* is too small"):
        F.max_pool3d(cr.ones(1, 1, 1, 4, 4), 2)


# ---- *_with_indices, max unpooling, LP pooling ----


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_with_indices_names_match_torch(nd):
    a = rng.standard_normal((2, 3) + (6,) * nd).astype(np.float32)
    ours = getattr(F, f"max_pool{nd}d_with_indices")(cr.tensor(a), 3, 2, 1)
    theirs = getattr(TF, f"max_pool{nd}d_with_indices")(torch.tensor(a), 3, 2, 1)
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(o.numpy(), t.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "nd,shape,k,s,p,size",
    [
        (1, (2, 3, 8), 2, None, 0, None),
        (1, (3, 9), 3, 2, 1, (9,)),  # unbatched
        (2, (2, 3, 6, 8), 2, None, 0, None),
        (2, (2, 3, 7, 6), 3, 2, 1, (2, 3, 7, 6)),  # output_size with N, C, as torch allows
        (3, (1, 2, 4, 5, 4), 2, None, 0, (4, 5, 4)),
    ],
)
def test_max_unpool_matches_torch(nd, shape, k, s, p, size, dtype):
    a = rng.standard_normal(shape).astype(dtype)
    y, i = getattr(F, f"max_pool{nd}d")(cr.tensor(a), k, s, p, return_indices=True)
    ty, ti = getattr(TF, f"max_pool{nd}d")(torch.tensor(a), k, s, p, return_indices=True)
    unpool = (
        lambda x: getattr(F, f"max_unpool{nd}d")(x, i, k, s, p, size),
        lambda x: getattr(TF, f"max_unpool{nd}d")(x, ti, k, s, p, size),
    )
    x, tx = cr.tensor(y.numpy(), requires_grad=True), torch.tensor(ty.numpy(), requires_grad=True)
    u, tu = unpool[0](x), unpool[1](tx)
    np.testing.assert_array_equal(u.numpy(), tu.detach().numpy())
    assert u.dtype == dtype
    g = rng.standard_normal(tu.shape).astype(dtype)
    u.backward(g)
    tu.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    m, tm = (
        getattr(cr.nn, f"MaxUnpool{nd}d")(k, s, p),
        getattr(torch.nn, f"MaxUnpool{nd}d")(k, s, p),
    )
    assert repr(m) == repr(tm)
    np.testing.assert_array_equal(m(y, i, size).numpy(), tm(ty, ti, size).numpy())


def test_max_unpool_gradcheck_and_errors():
    y, i = F.max_pool2d(cr.randn(1, 2, 4, 4), 2, return_indices=True)
    x = cr.tensor(y.numpy().astype(np.float64), requires_grad=True)
    assert gradcheck(lambda t: F.max_unpool2d(t, i, 2), [x])
    with pytest.raises(ValueError, match=r"max_unpool2d: output_size \(9, 9\) must be"):
        F.max_unpool2d(y, i, 2, output_size=(9, 9))
    with pytest.raises(IndexError, match="max_unpool2d: found an invalid max index"):
        F.max_unpool2d(y, i * 10, 2)
    with pytest.raises(ValueError, match=r"max_unpool1d: expected input .* \(1, 2, 2, 2\)"):
        F.max_unpool1d(y, i, 2)


@pytest.mark.parametrize("p", [1, 2, 3.0, 1.5])
@pytest.mark.parametrize(
    "nd,k,s", [(1, 3, 2), (1, 2, None), (2, 2, None), (2, (3, 2), (2, 1)), (3, 2, 1)]
)
def test_lp_pool_matches_torch(p, nd, k, s):
    shape = (2, 3) + (6, 5, 4)[:nd]
    positive = p != 1  # (a negative window sum has no real p-th root: NaN in both)
    fn = lambda lib: lambda x: getattr(lib.nn.functional, f"lp_pool{nd}d")(x, p, k, s)
    a = rng.standard_normal(shape).astype(np.float32)
    a = np.abs(a) + 0.1 if positive else a
    x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = fn(cr)(x), fn(torch)(tx)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    m, tm = getattr(cr.nn, f"LPPool{nd}d")(p, k, s), getattr(torch.nn, f"LPPool{nd}d")(p, k, s)
    assert repr(m) == repr(tm)
    np.testing.assert_allclose(
        m(cr.tensor(a)).numpy(), tm(torch.tensor(a)).numpy(), rtol=1e-5, atol=1e-6
    )


def test_lp_pool_gradcheck():
    x = cr.tensor(np.abs(rng.standard_normal((1, 2, 4, 5))) + 0.5, requires_grad=True)
    assert gradcheck(lambda t: F.lp_pool2d(t, 2.5, (2, 3), 1), [x])
    assert gradgradcheck(lambda t: F.lp_pool2d(t, 2, 2), [x])


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_adaptive_with_indices_names_match_torch(nd):
    a = rng.standard_normal((2, 3) + (5,) * nd).astype(np.float32)
    ours = getattr(F, f"adaptive_max_pool{nd}d_with_indices")(cr.tensor(a), 3)
    theirs = getattr(TF, f"adaptive_max_pool{nd}d_with_indices")(torch.tensor(a), 3)
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(o.numpy(), t.numpy())


# ---- ceil_mode ----

CEIL_WINDOWS = [(2, 2, 0, 1), (3, 2, 1, 1), (3, 3, 1, 1), (2, 3, 0, 2), (3, 2, 0, 2)]


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("k,s,p,d", CEIL_WINDOWS)
def test_ceil_mode_max_pool_matches_torch_with_indices(nd, k, s, p, d):
    shape = (2, 2) + (7, 6, 5)[:nd]
    fn = lambda lib: (
        lambda x: getattr(lib.nn.functional, f"max_pool{nd}d")(x, k, s, p, d, ceil_mode=True)
    )
    _compare(fn(cr), fn(torch), shape, ties=True)
    a = rng.standard_normal(shape).astype(np.float32)
    ours = getattr(F, f"max_pool{nd}d")(cr.tensor(a), k, s, p, d, True, True)
    theirs = getattr(TF, f"max_pool{nd}d")(torch.tensor(a), k, s, p, d, True, True)
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1), (3, 3, 1), (2, 3, 0)])
@pytest.mark.parametrize("include_pad", [True, False])
def test_ceil_mode_avg_pool_matches_torch(nd, k, s, p, include_pad):
    shape = (2, 2) + (7, 6, 5)[:nd]
    fn = lambda lib: (
        lambda x: getattr(lib.nn.functional, f"avg_pool{nd}d")(x, k, s, p, True, include_pad)
    )
    _compare(fn(cr), fn(torch), shape)
    if nd > 1:  # divisor_override: window sums over the part inside, divided by it (as torch)
        fn = lambda lib: (
            lambda x: getattr(lib.nn.functional, f"avg_pool{nd}d")(x, k, s, p, True, include_pad, 3)
        )
        _compare(fn(cr), fn(torch), shape)


def test_ceil_mode_modules_and_lp_pool_match_torch():
    for name, args in [("MaxPool2d", (3, 2)), ("AvgPool2d", (3, 2, 1)), ("LPPool2d", (2, 3, 2))]:
        kwargs = dict(ceil_mode=True)
        m, tm = getattr(cr.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert m.extra_repr() == tm.extra_repr()
        a = np.abs(rng.standard_normal((2, 3, 6, 7))).astype(np.float32) + 0.5
        np.testing.assert_allclose(
            m(cr.tensor(a)).numpy(), tm(torch.tensor(a)).numpy(), rtol=1e-5, atol=1e-6
        )
    x = cr.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True), [x])
    assert gradcheck(lambda t: F.max_pool2d(t, 2, 2, ceil_mode=True), [x])


# ---- fractional max pooling ----


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "nd,shape,k,kwargs",
    [
        (2, (2, 3, 10, 9), 3, dict(output_ratio=(0.5, 0.5))),
        (2, (2, 3, 10, 9), (2, 3), dict(output_size=(6, 4))),
        (2, (3, 7, 8), 2, dict(output_size=5)),  # unbatched
        (3, (2, 2, 6, 7, 8), 2, dict(output_size=(4, 5, 3))),
        (3, (1, 2, 6, 7, 8), (3, 2, 2), dict(output_ratio=(0.5, 0.6, 0.7))),
    ],
)
def test_fractional_max_pool_matches_torch_given_the_samples(nd, shape, k, kwargs, dtype):
    a = (np.round(rng.standard_normal(shape) * 2) / 2).astype(dtype)  # ties
    channels = shape[-nd - 1]
    samples = rng.random((shape[0] if len(shape) == nd + 2 else 1, channels, nd)).astype(dtype)
    fn = lambda lib, s: (
        lambda x: getattr(lib.nn.functional, f"fractional_max_pool{nd}d")(
            x, k, return_indices=True, _random_samples=s, **kwargs
        )
    )
    x, tx = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (y, i), (ty, ti) = fn(cr, samples)(x), fn(torch, torch.tensor(samples))(tx)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    assert y.dtype == dtype and i.dtype == np.int64
    g = rng.standard_normal(ty.shape).astype(dtype)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_fractional_max_pool_modules_draw_fresh_windows_and_check_arguments():
    cr.manual_seed(0)
    pool = cr.nn.FractionalMaxPool2d(2, output_size=(5, 5), return_indices=True)
    assert repr(pool) == repr(torch.nn.FractionalMaxPool2d(2, output_size=(5, 5)))
    x = cr.randn(1, 4, 9, 9)
    first, second = pool(x)[1].numpy(), pool(x)[1].numpy()
    assert not np.array_equal(first, second)  # new draws at every call
    samples = cr.tensor(rng.random((1, 4, 3)).astype(np.float32))
    fixed = cr.nn.FractionalMaxPool3d(2, output_ratio=0.5, _random_samples=samples)
    y = cr.randn(1, 4, 8, 8, 8)
    np.testing.assert_array_equal(fixed(y).numpy(), fixed(y).numpy())
    assert fixed(y).shape == (1, 4, 4, 4, 4)
    with pytest.raises(ValueError, match="either an output size, or a pooling ratio"):
        cr.nn.FractionalMaxPool2d(2)
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        cr.nn.FractionalMaxPool2d(2, output_ratio=1.5)
    with pytest.raises(ValueError, match=r"fractional_max_pool2d: output_size \(9, 9\) with"):
        F.fractional_max_pool2d(x, 2, output_size=9)
    z = cr.tensor(rng.standard_normal((1, 2, 6, 6)), requires_grad=True)
    s = rng.random((1, 2, 2))
    assert gradcheck(lambda t: F.fractional_max_pool2d(t, 2, 4, _random_samples=s), [z])
