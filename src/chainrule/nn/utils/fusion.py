"""Folding an eval-mode BatchNorm into the convolution or linear layer before it (inference):
``fuse_conv_bn_eval``, ``fuse_linear_bn_eval`` and their ``*_weights`` forms, as in
``torch.nn.utils``.

BatchNorm in eval computes ``(y - mean) / sqrt(var + eps) * gamma + beta``, an affine map per
channel, so it folds into the weight (scaled per output channel) and the bias.
"""

import copy

from ...autograd.grad_mode import no_grad
from ...creation import ones_like, zeros_like
from ..parameter import Parameter


def _check_eval(layer, bn):
    if layer.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """The (weight, bias) Parameters of a convolution followed by an eval-mode BatchNorm.

    ``conv_w`` is (out, in/groups, *kernel), or (in, out/groups, *kernel) with ``transpose``;
    the BatchNorm tensors are (out,) (``bn_w``/``bn_b`` may be None: 1 and 0). The new
    parameters keep the conv's dtypes and ``requires_grad``.

    Example:
        >>> conv, bn = cr.nn.Conv2d(3, 4, 3).eval(), cr.nn.BatchNorm2d(4).eval()
        >>> w, b = cr.nn.utils.fuse_conv_bn_weights(
        ...     conv.weight, conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
        ... )
        >>> w.shape, b.shape
        ((4, 3, 3, 3), (4,))
    """
    w_dtype = conv_w.dtype
    b_dtype = w_dtype if conv_b is None else conv_b.dtype
    conv_b = zeros_like(bn_rm) if conv_b is None else conv_b
    bn_w = ones_like(bn_rm) if bn_w is None else bn_w
    bn_b = zeros_like(bn_rm) if bn_b is None else bn_b
    rstd = (bn_rv + bn_eps).rsqrt()
    shape = ((1, -1) if transpose else (-1, 1)) + (1,) * (conv_w.ndim - 2)
    fused_w = (conv_w * (bn_w * rstd).reshape(shape)).to(dtype=w_dtype)
    fused_b = ((conv_b - bn_rm) * rstd * bn_w + bn_b).to(dtype=b_dtype)
    return (
        Parameter(fused_w.detach(), conv_w.requires_grad),
        Parameter(fused_b.detach(), conv_b.requires_grad),
    )


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A new convolution (a deep copy of ``conv``) computing ``bn(conv(x))``; both in eval mode.

    Example:
        >>> conv, bn = cr.nn.Conv2d(3, 4, 3).eval(), cr.nn.BatchNorm2d(4).eval()
        >>> fused = cr.nn.utils.fuse_conv_bn_eval(conv, bn)
        >>> x = cr.randn(2, 3, 8, 8)
        >>> bool(((fused(x) - bn(conv(x))).abs() < 1e-5).all())
        True
    """
    _check_eval(conv, bn)
    fused = copy.deepcopy(conv)
    with no_grad():
        fused.weight, fused.bias = fuse_conv_bn_weights(
            fused.weight,
            fused.bias,
            bn.running_mean,
            bn.running_var,
            bn.eps,
            bn.weight,
            bn.bias,
            transpose,
        )
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The (weight, bias) Parameters of a Linear (weight (out, in)) followed by an eval-mode
    BatchNorm over its out features (or over 1 feature, broadcast).

    Example:
        >>> lin, bn = cr.nn.Linear(3, 4).eval(), cr.nn.BatchNorm1d(4).eval()
        >>> w, b = cr.nn.utils.fuse_linear_bn_weights(
        ...     lin.weight, lin.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
        ... )
        >>> w.shape, b.shape
        ((4, 3), (4,))
    """
    w_dtype = linear_w.dtype
    b_dtype = w_dtype if linear_b is None else linear_b.dtype
    linear_b = zeros_like(bn_rm) if linear_b is None else linear_b
    scale = bn_w * (bn_rv + bn_eps).rsqrt()
    fused_w = linear_w * scale.unsqueeze(-1).to(dtype=w_dtype)
    fused_b = ((linear_b - bn_rm) * scale + bn_b).to(dtype=b_dtype)
    return (
        Parameter(fused_w.detach(), linear_w.requires_grad),
        Parameter(fused_b.detach(), linear_b.requires_grad),
    )


def fuse_linear_bn_eval(linear, bn):
    """A new Linear (a deep copy of ``linear``) computing ``bn(linear(x))``; both in eval mode,
    ``bn.num_features`` equal to ``linear.out_features`` or 1.

    Example:
        >>> lin, bn = cr.nn.Linear(3, 4).eval(), cr.nn.BatchNorm1d(4).eval()
        >>> fused = cr.nn.utils.fuse_linear_bn_eval(lin, bn)
        >>> x = cr.randn(5, 3)
        >>> bool(((fused(x) - bn(lin(x))).abs() < 1e-5).all())
        True
    """
    _check_eval(linear, bn)
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(
            "To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
            f"got linear.out_features={linear.out_features} and bn.num_features={bn.num_features}"
        )
    fused = copy.deepcopy(linear)
    with no_grad():
        fused.weight, fused.bias = fuse_linear_bn_weights(
            fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
        )
    return fused
