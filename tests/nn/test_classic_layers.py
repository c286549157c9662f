"""Layers of classic architectures (LocalResponseNorm, MaxUnpool, ChannelShuffle, AlphaDropout,
Bilinear, LPPool, Softmax2d, CircularPad) and nn.utils.fusion against PyTorch: outputs,
gradients, state-dict names, reprs."""

import numpy as np
import pytest
from helpers import compare_modules, compare_with_torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.LocalResponseNorm(5, alpha=1e-2, beta=0.75, k=2.0), (2, 7, 3, 3)),
        (lambda m: m.LocalResponseNorm(2), (2, 4, 5)),
        (lambda m: m.LocalResponseNorm(3), (1, 3, 2, 2, 2)),
        (lambda m: m.ChannelShuffle(2), (2, 6, 3, 3)),
        (lambda m: m.Softmax2d(), (2, 3, 4, 4)),
        (lambda m: m.Softmax2d(), (3, 4, 4)),
        (lambda m: m.CircularPad1d((1, 2)), (2, 3, 4)),
        (lambda m: m.CircularPad2d((1, 2, 0, 1)), (2, 3, 4, 5)),
        (lambda m: m.AlphaDropout(0.3).eval(), (4, 5)),
        (lambda m: m.FeatureAlphaDropout(0.3).eval(), (2, 3, 4)),
    ],
)
def test_parameterless_layers_match_torch(make, shape):
    ours, theirs = make(nn), make(torch.nn)
    compare_modules(ours, theirs, [_x(*shape)])
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(
    "n, p, kernel, stride", [(1, 2, 3, 2), (2, 2, 2, 1), (2, 3.0, (2, 3), None)]
)
def test_lp_pool_matches_torch(n, p, kernel, stride):
    ours = (nn.LPPool1d if n == 1 else nn.LPPool2d)(p, kernel, stride)
    theirs = (torch.nn.LPPool1d if n == 1 else torch.nn.LPPool2d)(p, kernel, stride)
    x = np.abs(_x(2, 3, 7) if n == 1 else _x(2, 3, 6, 7)) + 0.1
    compare_modules(ours, theirs, [x])
    assert repr(ours) == repr(theirs)


def test_bilinear_matches_torch_with_and_without_bias():
    for bias in (True, False):
        ours, theirs = nn.Bilinear(3, 4, 2, bias=bias), torch.nn.Bilinear(3, 4, 2, bias=bias)
        compare_modules(ours, theirs, [_x(5, 3), _x(5, 4, seed=1)])
        assert repr(ours) == repr(theirs)
    w = nn.Bilinear(50, 4, 200).weight.numpy()
    assert np.abs(w).max() <= 1 / np.sqrt(50) and w.std() > 0.05  # U(-1/sqrt(in1), ..)


@pytest.mark.parametrize("n", [1, 2])
def test_max_unpool_matches_torch(n):
    x = _x(2, 3, 9) if n == 1 else _x(2, 3, 5, 7)
    pool_c = F.max_pool1d if n == 1 else F.max_pool2d
    pool_t = TF.max_pool1d if n == 1 else TF.max_pool2d
    y_c, i_c = pool_c(cr.tensor(x), 2, return_indices=True)
    y_t, i_t = pool_t(torch.tensor(x), 2, return_indices=True)
    size = x.shape
    ours = (nn.MaxUnpool1d if n == 1 else nn.MaxUnpool2d)(2)
    theirs = (torch.nn.MaxUnpool1d if n == 1 else torch.nn.MaxUnpool2d)(2)
    compare_with_torch(
        lambda y: ours(y, i_c, output_size=size),
        lambda y: theirs(y, i_t, output_size=size),
        [y_t.numpy()],
    )
    even = _x(2, 3, 8) if n == 1 else _x(2, 3, 6, 8)  # the default size is the pooled one
    y_c, i_c = pool_c(cr.tensor(even), 2, return_indices=True)
    y_t, i_t = pool_t(torch.tensor(even), 2, return_indices=True)
    compare_with_torch(lambda y: ours(y, i_c), lambda y: theirs(y, i_t), [y_t.numpy()])
    assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="output_size"):
        ours(cr.tensor(y_t.numpy()), i_c, output_size=[s + 5 for s in size])


def test_alpha_dropout_keeps_selu_statistics_and_is_random():
    cr.manual_seed(0)
    x = cr.randn(200_000)
    y = F.alpha_dropout(x, 0.2, training=True)
    assert abs(float(y.mean())) < 0.02 and abs(float(y.std()) - 1) < 0.02
    alpha, p = -1.7580993408473766, 0.2
    a = 1 / np.sqrt((1 - p) * (1 + p * alpha**2))
    dropped = np.isclose(y.numpy(), a * alpha * (1 - p))  # the value every dropped unit takes
    assert 0.19 < dropped.mean() < 0.21
    z = cr.randn(4, 6, 5)
    f = F.feature_alpha_dropout(z, 0.5, training=True).numpy()
    per_channel = f.reshape(4, 6, 5)
    assert all(len(np.unique(c.round(6))) in (1, 5) for c in per_channel.reshape(24, 5))
    h = cr.randn(3) * 1
    assert F.alpha_dropout(h, 0.5, training=True, inplace=True) is h


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval_matches_torch(transpose):
    from chainrule.nn.utils.fusion import fuse_conv_bn_eval

    make_c = nn.ConvTranspose2d if transpose else nn.Conv2d
    make_t = torch.nn.ConvTranspose2d if transpose else torch.nn.Conv2d
    conv_c, conv_t = make_c(3, 4, 3, bias=False), make_t(3, 4, 3, bias=False)
    bn_c, bn_t = nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    rng = np.random.default_rng(2)
    for (_, a), (_, b) in zip(
        list(conv_c.state_dict().items()) + list(bn_c.state_dict().items()),
        list(conv_t.state_dict().items()) + list(bn_t.state_dict().items()),
        strict=True,
    ):
        if b.is_floating_point():
            v = rng.uniform(0.2, 1.0, tuple(b.shape)).astype(np.float32)
            a.copy_(cr.tensor(v))
            b.copy_(torch.tensor(v))
    for m in (conv_c, bn_c, conv_t, bn_t):
        m.eval()
    fused_c = fuse_conv_bn_eval(conv_c, bn_c, transpose=transpose)
    fused_t = torch.nn.utils.fusion.fuse_conv_bn_eval(conv_t, bn_t, transpose=transpose)
    np.testing.assert_allclose(fused_c.weight.numpy(), fused_t.weight.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(fused_c.bias.numpy(), fused_t.bias.detach().numpy(), rtol=1e-6)
    assert list(fused_c.state_dict()) == list(fused_t.state_dict()) == ["weight", "bias"]
    x = _x(1, 3, 5, 5)
    np.testing.assert_allclose(
        fused_c(cr.tensor(x)).detach().numpy(), bn_c(conv_c(cr.tensor(x))).numpy(), atol=1e-5
    )
    conv_c.train()
    with pytest.raises(AssertionError, match="eval"):
        fuse_conv_bn_eval(conv_c, bn_c)


def test_fuse_linear_bn_eval_matches_torch():
    from chainrule.nn.utils.fusion import fuse_linear_bn_eval

    lin_c, lin_t = nn.Linear(3, 4), torch.nn.Linear(3, 4)
    bn_c, bn_t = nn.BatchNorm1d(4), torch.nn.BatchNorm1d(4)
    lin_c.load_state_dict({k: v.numpy() for k, v in lin_t.state_dict().items()})
    bn_t.running_mean.uniform_(-1, 1)
    bn_t.running_var.uniform_(0.5, 2)
    bn_c.load_state_dict({k: v.numpy() for k, v in bn_t.state_dict().items()})
    for m in (lin_c, bn_c, lin_t, bn_t):
        m.eval()
    a = fuse_linear_bn_eval(lin_c, bn_c)
    b = torch.nn.utils.fusion.fuse_linear_bn_eval(lin_t, bn_t)
    np.testing.assert_allclose(a.weight.numpy(), b.weight.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(a.bias.numpy(), b.bias.detach().numpy(), rtol=1e-5, atol=1e-6)
