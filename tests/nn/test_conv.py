"""Conv1d / Conv2d and their functional forms against PyTorch, plus gradchecks and errors."""

import itertools
import math
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.nn.functional import _conv as C
from chainrule.nn.modules.conv import Conv1d, Conv2d

torch = pytest.importorskip("torch")
TF = torch.nn.functional
rng = None  # this test's generator, seeded afresh by the fixture below


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws from its own generator, seeded the same: its inputs do not depend on
    which tests ran before it."""
    global rng
    rng = np.random.default_rng(0)


@pytest.fixture(params=["planes", "batch_last"])
def layout(request, monkeypatch):
    """Force one of the two kernel layouts; one sample per chunk, so the chunk loops run too."""
    monkeypatch.setattr(C, "SMALL_PLANE", 0 if request.param == "planes" else 10**9)
    monkeypatch.setattr(C, "CHUNK_BYTES", 1)
    return request.param


def _pair(shape, dtype=np.float32):
    a = rng.standard_normal(shape).astype(dtype)
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _assert_close(ours, theirs, tol=1e-4):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(
        ours.numpy() if hasattr(ours, "data") else ours, theirs, atol=tol, rtol=tol
    )


def _backward_both(y, ty):
    g = rng.standard_normal(ty.shape).astype(np.float32)
    y.backward(g)
    ty.backward(torch.tensor(g))


GRID_2D = [
    (s, p, d, g, b)
    for s, p, d, g, b in itertools.product(
        [1, 2], [0, 1, (2, 1), "same", "valid"], [1, (2, 1)], [1, 2], [True, False]
    )
    if not (p == "same" and s != 1)
]


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("stride,padding,dilation,groups,bias", GRID_2D)
def test_conv2d_matches_torch(stride, padding, dilation, groups, bias, layout):
    x, tx = _pair((2, 4, 7, 6))
    w, tw = _pair((6, 4 // groups, 3, 2))
    b, tb = _pair((6,)) if bias else (None, None)
    y = F.conv2d(x, w, b, stride, padding, dilation, groups)
    ty = TF.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    _assert_close(y, ty)
    _backward_both(y, ty)
    _assert_close(x.grad, tx.grad)
    _assert_close(w.grad, tw.grad)
    if bias:
        _assert_close(b.grad, tb.grad)
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


@pytest.mark.parametrize(
    "stride,padding,dilation,groups",
    [
        (1, 0, 1, 1),
        (2, 1, 1, 1),
        (1, "same", 2, 1),
        (3, 2, 2, 3),
        (1, "valid", 1, 3),
        (2, (1,), (2,), 1),
    ],
)
def test_conv1d_matches_torch(stride, padding, dilation, groups, layout):
    x, tx = _pair((3, 6, 11))
    w, tw = _pair((9, 6 // groups, 4))
    b, tb = _pair((9,))
    y = F.conv1d(x, w, b, stride, padding, dilation, groups)
    ty = TF.conv1d(tx, tw, tb, stride, padding, dilation, groups)
    _assert_close(y, ty)
    _backward_both(y, ty)
    for ours, theirs in [(x, tx), (w, tw), (b, tb)]:
        _assert_close(ours.grad, theirs.grad)


def test_unbatched_inputs():
    x, tx = _pair((3, 5, 5))
    w, tw = _pair((4, 3, 3, 3))
    _assert_close(F.conv2d(x, w, padding=1), TF.conv2d(tx, tw, padding=1))
    x1, tx1 = _pair((3, 8))
    w1, tw1 = _pair((4, 3, 3))
    _assert_close(F.conv1d(x1, w1, stride=2), TF.conv1d(tx1, tw1, stride=2))


def test_float64_is_kept():
    x = cr.randn(1, 2, 5, 5, dtype=cr.float64, requires_grad=True)
    w = cr.randn(3, 2, 3, 3, dtype=cr.float64)
    y = F.conv2d(x, w)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == np.float64


def _t64(*shape):
    return cr.tensor(rng.standard_normal(shape), dtype=cr.float64, requires_grad=True)


def test_gradcheck_conv2d(layout):
    x, w, b = _t64(2, 4, 5, 5), _t64(6, 2, 3, 2), _t64(6)
    assert gradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2), groups=2), (x, w, b)
    )


def test_gradcheck_conv1d():
    x, w = _t64(2, 3, 7), _t64(4, 3, 3)
    assert gradcheck(lambda x, w: F.conv1d(x, w, padding="same", dilation=2), (x, w))


def test_second_derivatives_conv2d(layout):
    x, w, b = _t64(1, 2, 5, 4), _t64(2, 1, 2, 3), _t64(2)
    assert gradgradcheck(
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, groups=2), (x, w, b)
    )


def test_gradient_penalty_matches_torch():
    # create_graph through a convolution: d/dw of |dL/dx|^2.
    x, tx = _pair((2, 3, 6, 6))
    w, tw = _pair((4, 3, 3, 3))
    (gx,) = cr.grad((F.conv2d(x, w, padding=1) ** 2).sum(), [x], create_graph=True)
    (tgx,) = torch.autograd.grad((TF.conv2d(tx, tw, padding=1) ** 2).sum(), [tx], create_graph=True)
    _assert_close(gx, tgx)
    (gx**2).sum().backward()
    (tgx**2).sum().backward()
    _assert_close(w.grad, tw.grad, tol=1e-3)


@pytest.mark.parametrize("small_plane", [0, 10**9])
@pytest.mark.parametrize("chunk_bytes", [1, 3 * 2 * 9 * 36 * 4, 1 << 30])
def test_chunks_of_any_size_give_the_same_result(small_plane, chunk_bytes, monkeypatch):
    # 5 samples in chunks of 1, of 3 + 2 (the columns of 3 samples: C*kh*kw*Ho*Wo float32s
    # each) or all at once.
    monkeypatch.setattr(C, "SMALL_PLANE", small_plane)
    monkeypatch.setattr(C, "CHUNK_BYTES", chunk_bytes)
    x, tx = _pair((5, 2, 6, 6))
    w, tw = _pair((3, 2, 3, 3))
    y, ty = F.conv2d(x, w, padding=1), TF.conv2d(tx, tw, padding=1)
    _assert_close(y, ty)
    _backward_both(y, ty)
    _assert_close(x.grad, tx.grad)
    _assert_close(w.grad, tw.grad)


@pytest.mark.parametrize("small_plane", [0, 10**9])
def test_empty_batch(small_plane, monkeypatch):
    monkeypatch.setattr(C, "SMALL_PLANE", small_plane)
    x = cr.randn(0, 3, 8, 8, requires_grad=True)
    w = cr.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    y.sum().backward()
    assert y.shape == (0, 4, 8, 8) and x.grad.shape == x.shape
    assert np.all(w.grad.numpy() == 0)


def test_memory_of_a_training_step_stays_below_the_columns():
    # im2col columns are kh*kw = 25 times the input: kept whole (or built whole) they would
    # dominate; chunked and rebuilt in backward, the peak stays near the activations.
    x = cr.randn(32, 4, 32, 32)
    w = cr.randn(8, 4, 5, 5, requires_grad=True)
    cols_bytes = 32 * 4 * 25 * 28 * 28 * 4
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        y = F.conv2d(x, w)
        held = tracemalloc.get_traced_memory()[0] - start - y.numpy().nbytes
        y.sum().backward()
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert held < cols_bytes / 50  # nothing but small objects kept for backward
    assert peak < cols_bytes / 2


# ---- modules ----


def _copy_params(ours, theirs):
    for (name, p), (tname, tp) in zip(
        ours.named_parameters(), theirs.named_parameters(), strict=True
    ):
        assert name == tname
        p.numpy()[...] = tp.detach().numpy()


@pytest.mark.parametrize(
    "cls,tcls,kwargs,shape",
    [
        (Conv2d, "Conv2d", dict(kernel_size=3, padding=1), (2, 3, 6, 5)),
        (Conv2d, "Conv2d", dict(kernel_size=(2, 3), stride=2, bias=False, groups=3), (2, 3, 7, 7)),
        (Conv2d, "Conv2d", dict(kernel_size=3, padding="same", dilation=2), (1, 3, 6, 6)),
        (Conv1d, "Conv1d", dict(kernel_size=3, stride=2, padding=2), (2, 3, 9)),
    ],
)
def test_module_matches_torch(cls, tcls, kwargs, shape):
    m, tm = cls(3, 6, **kwargs), getattr(torch.nn, tcls)(3, 6, **kwargs)
    assert [k for k, _ in m.named_parameters()] == [k for k, _ in tm.named_parameters()]
    assert m.extra_repr() == tm.extra_repr()
    _copy_params(m, tm)
    x, tx = _pair(shape)
    y, ty = m(x), tm(tx)
    _assert_close(y, ty)
    _backward_both(y, ty)
    _assert_close(x.grad, tx.grad)
    for (_, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters(), strict=True):
        _assert_close(p.grad, tp.grad)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "cls,tcls,padding,shape",
    [
        (Conv2d, "Conv2d", (1, 2), (2, 2, 5, 6)),
        (Conv2d, "Conv2d", "same", (1, 2, 5, 5)),
        (Conv1d, "Conv1d", 2, (2, 2, 7)),
    ],
)
def test_padding_modes_match_torch(mode, cls, tcls, padding, shape):
    m = cls(2, 3, kernel_size=3, padding=padding, padding_mode=mode)
    tm = getattr(torch.nn, tcls)(2, 3, kernel_size=3, padding=padding, padding_mode=mode)
    _copy_params(m, tm)
    x, tx = _pair(shape)
    y, ty = m(x), tm(tx)
    _assert_close(y, ty)
    _backward_both(y, ty)
    _assert_close(x.grad, tx.grad)


def test_default_init_bounds():
    cr.manual_seed(0)
    m = Conv2d(4, 16, kernel_size=3)
    bound = 1 / math.sqrt(4 * 9)  # kaiming_uniform_(a=sqrt(5)) gives U(+-1/sqrt(fan_in))
    w = np.abs(m.weight.numpy())
    assert w.max() <= bound and w.max() > 0.9 * bound
    assert np.abs(m.bias.numpy()).max() <= bound
    assert m.weight.dtype == m.bias.dtype == np.float32
    assert m.weight.shape == (16, 4, 3, 3) and m.weight.requires_grad


def test_reset_parameters_is_reproducible():
    cr.manual_seed(3)
    a = Conv1d(2, 4, 3)
    cr.manual_seed(3)
    b = Conv1d(2, 4, 3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())


# ---- errors ----


def test_module_error_names_layer_expected_and_got():
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*\(N, 3, H, W\).*\(2, 4, 8, 8\)"):
        Conv2d(3, 8, 3)(cr.randn(2, 4, 8, 8))
    with pytest.raises(ValueError, match=r"Conv1d\(2, 4.*\(N, 2, L\).*\(2, 2, 3, 3\)"):
        Conv1d(2, 4, 3)(cr.randn(2, 2, 3, 3))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: F.conv2d(cr.randn(2, 3, 5), cr.randn(4, 3, 3)), "weight must have 4 dims"),
        (lambda: F.conv2d(cr.randn(2, 3, 5, 5), cr.randn(4, 2, 3, 3)), "3 channels"),
        (
            lambda: F.conv2d(cr.randn(2, 4, 5, 5), cr.randn(3, 2, 3, 3), groups=2),
            "divisible by groups",
        ),
        (
            lambda: F.conv2d(cr.randn(1, 1, 2, 2), cr.randn(1, 1, 3, 3)),
            "larger than the padded input",
        ),
        (
            lambda: F.conv2d(cr.randn(1, 1, 5, 5), cr.randn(1, 1, 3, 3), stride=2, padding="same"),
            "same",
        ),
        (
            lambda: F.conv2d(cr.randn(1, 1, 5, 5), cr.randn(1, 1, 3, 3), padding="full"),
            "padding must be",
        ),
        (lambda: F.conv2d(cr.randn(1, 1, 5, 5), cr.randn(2, 1, 3, 3), cr.randn(3)), "bias"),
        (lambda: F.conv1d(cr.randn(1, 2, 5, 5), cr.randn(2, 2, 3)), r"\(N, C, L\)"),
        (lambda: Conv2d(3, 4, 3, groups=2), "divisible by groups"),
        (lambda: Conv2d(3, 4, 3, padding_mode="mirror"), "padding_mode"),
    ],
)
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_dtype_mismatch_is_an_error():
    with pytest.raises(TypeError, match="dtype"):
        F.conv2d(cr.randn(1, 1, 4, 4), cr.randn(1, 1, 2, 2, dtype=cr.float64))


def test_public_names():
    assert cr.nn.Conv2d is Conv2d and cr.nn.Conv1d is Conv1d
    assert F.conv2d is not None and F.conv1d is not None


# ---- 3-d ----

GRID_3D = [
    (1, 0, 1, 1),
    (2, 1, 1, 2),
    ((1, 2, 3), (1, 0, 2), (2, 1, 1), 1),
    (1, "same", (1, 2, 1), 2),
    (2, "valid", 1, 1),
]


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("stride,padding,dilation,groups", GRID_3D)
def test_conv3d_matches_torch(stride, padding, dilation, groups, dtype):
    x, tx = _pair((2, 4, 5, 6, 7), dtype)
    w, tw = _pair((6, 4 // groups, 3, 2, 3), dtype)
    b, tb = _pair((6,), dtype)
    y = F.conv3d(x, w, b, stride, padding, dilation, groups)
    ty = TF.conv3d(tx, tw, tb, stride, padding, dilation, groups)
    _assert_close(y, ty)
    _backward_both(y, ty)
    for ours, theirs in ((x, tx), (w, tw), (b, tb)):
        _assert_close(ours.grad, theirs.grad)
        assert ours.grad.dtype == dtype
    assert y.dtype == dtype


def test_conv3d_unbatched_kernel_of_one_and_gradchecks():
    x, tx = _pair((2, 3, 4, 5))
    w, tw = _pair((3, 2, 1, 1, 1))
    _assert_close(F.conv3d(x, w), TF.conv3d(tx, tw))
    a, k = rng.standard_normal((1, 2, 3, 3, 4)), rng.standard_normal((2, 1, 2, 2, 2))
    xs = [cr.tensor(a, requires_grad=True), cr.tensor(k, requires_grad=True)]
    fn = lambda x, w: F.conv3d(x, w, None, (2, 1, 1), (1, 0, 1), (1, 1, 2), groups=2)
    assert gradcheck(fn, xs) and gradgradcheck(fn, xs)


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        (dict(kernel_size=3, padding=1), (2, 3, 4, 5, 4)),
        (dict(kernel_size=(1, 2, 3), stride=(1, 2, 1), groups=3, bias=False), (1, 3, 3, 5, 6)),
        (dict(kernel_size=2, padding="same", dilation=(2, 1, 1)), (1, 3, 4, 4, 4)),
        (dict(kernel_size=3, padding=1, padding_mode="reflect"), (1, 3, 3, 4, 5)),
        (dict(kernel_size=3, padding=(0, 1, 2), padding_mode="circular"), (1, 3, 3, 4, 5)),
        (dict(kernel_size=3, padding=1, padding_mode="replicate"), (3, 4, 4, 4)),
    ],
)
@pytest.mark.filterwarnings("ignore:Using padding=.same.")
def test_conv3d_module_matches_torch(kwargs, shape):
    m, tm = cr.nn.Conv3d(3, 6, **kwargs), torch.nn.Conv3d(3, 6, **kwargs)
    assert [k for k, _ in m.named_parameters()] == [k for k, _ in tm.named_parameters()]
    assert repr(m) == repr(tm)
    _copy_params(m, tm)
    x, tx = _pair(shape)
    y, ty = m(x), tm(tx)
    _assert_close(y, ty)
    _backward_both(y, ty)
    _assert_close(x.grad, tx.grad)
    for (_, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters(), strict=True):
        _assert_close(p.grad, tp.grad)


def test_conv3d_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"Conv3d\(3, 8.*\(N, 3, D, H, W\).*\(2, 4, 5, 5, 5\)"):
        cr.nn.Conv3d(3, 8, 3)(cr.randn(2, 4, 5, 5, 5))
    with pytest.raises(ValueError, match=r"conv3d: weight must have 5 dims.*\(4, 3, 3, 3\)"):
        F.conv3d(cr.randn(1, 3, 4, 4, 4), cr.randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv3d: kernel \(3, 3, 3\).*larger.*\(2, 4, 4\)"):
        F.conv3d(cr.randn(1, 3, 2, 4, 4), cr.randn(4, 3, 3, 3, 3))
    with pytest.raises(ValueError, match=r"conv3d: stride must be an int or a triple"):
        F.conv3d(cr.randn(1, 3, 4, 4, 4), cr.randn(4, 3, 3, 3, 3), stride=(1, 2))
