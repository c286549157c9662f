"""fuse_conv_bn_* / fuse_linear_bn_* against torch.nn.utils and against the unfused layers."""

import numpy as np
import pytest
from tests.helpers import copy_torch_to_cr

import chainrule as cr
from chainrule import nn
from chainrule.nn import utils

torch = pytest.importorskip("torch")


def _trained_bn(ours, theirs, shape):
    """Both BatchNorms with the same non-trivial affine parameters and running statistics."""
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean"):
            getattr(theirs, name).copy_(torch.tensor(rng.standard_normal(shape)))
        theirs.running_var.copy_(torch.tensor(rng.random(shape) + 0.5))
    copy_torch_to_cr(theirs, ours)
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize(
    "conv,bn,shape,transpose",
    [
        ("Conv2d", "BatchNorm2d", (2, 3, 6, 6), False),
        ("Conv1d", "BatchNorm1d", (2, 3, 7), False),
        ("Conv3d", "BatchNorm3d", (1, 3, 4, 4, 4), False),
        ("ConvTranspose2d", "BatchNorm2d", (2, 3, 4, 4), True),
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval_matches_torch_and_the_unfused_pair(conv, bn, shape, transpose, bias):
    torch.manual_seed(0)
    t_conv = getattr(torch.nn, conv)(3, 4, 3, bias=bias).double().eval()
    c_conv = getattr(nn, conv)(3, 4, 3, bias=bias).double().eval()
    copy_torch_to_cr(t_conv, c_conv)
    c_bn, t_bn = _trained_bn(getattr(nn, bn)(4).double(), getattr(torch.nn, bn)(4).double(), 4)
    fused = utils.fuse_conv_bn_eval(c_conv, c_bn, transpose=transpose)
    t_fused = torch.nn.utils.fuse_conv_bn_eval(t_conv, t_bn, transpose=transpose)
    assert type(fused) is type(c_conv) and fused is not c_conv
    for name in ("weight", "bias"):
        np.testing.assert_allclose(
            getattr(fused, name).numpy(), getattr(t_fused, name).detach().numpy(), rtol=1e-12
        )
        assert isinstance(getattr(fused, name), nn.Parameter)
    assert c_conv.bias is None if not bias else c_conv.bias is not fused.bias  # original kept
    x = cr.randn(*shape, dtype=cr.float64)
    np.testing.assert_allclose(fused(x).numpy(), c_bn(c_conv(x)).numpy(), atol=1e-10)


@pytest.mark.parametrize("features", [4, 1])
def test_fuse_linear_bn_eval_matches_torch(features):
    torch.manual_seed(0)
    t_lin, c_lin = torch.nn.Linear(3, 4).eval(), nn.Linear(3, 4).eval()
    copy_torch_to_cr(t_lin, c_lin)
    c_bn, t_bn = _trained_bn(nn.BatchNorm1d(features), torch.nn.BatchNorm1d(features), features)
    fused, t_fused = (
        utils.fuse_linear_bn_eval(c_lin, c_bn),
        torch.nn.utils.fuse_linear_bn_eval(t_lin, t_bn),
    )
    for name in ("weight", "bias"):
        ours, theirs = getattr(fused, name), getattr(t_fused, name)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-7)
        assert ours.dtype == np.float32 and ours.requires_grad
    if features == 4:  # (a 1-feature BatchNorm does not take the (N, 4) output itself)
        x = cr.randn(5, 3)
        np.testing.assert_allclose(fused(x).numpy(), c_bn(c_lin(x)).numpy(), atol=1e-5)


def test_fusion_errors_like_torch():
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        utils.fuse_conv_bn_eval(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4).eval())
    with pytest.raises(AssertionError, match="running_mean and bn.running_var must not be None"):
        utils.fuse_conv_bn_eval(
            nn.Conv2d(3, 4, 3).eval(), nn.BatchNorm2d(4, track_running_stats=False).eval()
        )
    with pytest.raises(AssertionError, match="linear.out_features=4 and bn.num_features=3"):
        utils.fuse_linear_bn_eval(nn.Linear(3, 4).eval(), nn.BatchNorm1d(3).eval())
