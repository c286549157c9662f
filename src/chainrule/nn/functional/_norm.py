"""Layer and batch normalization as fused primitives: one forward and one analytic backward.

Both compute ``xhat = (x - mean) / sqrt(var + eps)`` over some axes (the last dims for layer
norm, every dim but the channel dim 1 for batch norm) and ``y = xhat * weight + bias``. The
backward uses the closed form

    dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),   dxhat = dy * weight

on the saved ``xhat`` and ``rstd``. When the backward pass is recorded (``create_graph=True``)
the statistics are recomputed from the input Tensor with chainrule ops, so the same formula
becomes differentiable and second derivatives are exact (slower, but only then).
"""

import math

import numpy as np

from ...autograd.engine import record
from ...ops import dispatch as d
from ...ops._util import as_tensor
from ...tensor import Tensor


def _normalize(x, axes, eps):
    """``(xhat, rstd, mean, var)`` over ``axes``, biased variance (array or Tensor)."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    rstd = d.rsqrt(var + eps)
    return centred * rstd, rstd, mean, var


def _normalize_backward(gxhat, xhat, rstd, axes):
    mean_g = gxhat.mean(axis=axes, keepdims=True)
    mean_gx = (gxhat * xhat).mean(axis=axes, keepdims=True)
    return rstd * (gxhat - mean_g - xhat * mean_gx)


class _NormSpec:
    """What the shared vjp needs to know about one normalization call."""

    def __init__(self, axes, eps, param_shape, has_weight, has_bias, running=None):
        self.axes = axes  # the axes statistics are taken over
        self.eps = eps
        self.param_shape = param_shape  # weight/bias reshaped to broadcast against x
        self.has_weight, self.has_bias = has_weight, has_bias
        self.running = running  # (mean, rstd) arrays in eval-mode batch norm
        self.stats = None  # (xhat, rstd) arrays from the forward

    def param_axes(self, ndim):
        lead = ndim - len(self.param_shape)
        return tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.param_shape) if n == 1
        )


def _norm_vjp(ctx, g):
    spec = ctx.saved
    x = ctx.input(0)
    if not d.is_recorded(x):  # plain backward: the forward's statistics, as arrays
        xhat, rstd = spec.stats
    elif spec.running is None:
        xhat, rstd = _normalize(x, spec.axes, spec.eps)[:2]
    else:
        xhat, rstd = (x - spec.running[0]) * spec.running[1], spec.running[1]
    weight = ctx.input(1).reshape(spec.param_shape) if spec.has_weight else None
    param_axes = spec.param_axes(len(ctx.inputs[0].shape))
    g_sum = g.sum(axis=param_axes, keepdims=True)
    gxhat_sum = (g * xhat).sum(axis=param_axes, keepdims=True)
    grads = [None] * len(ctx.inputs)
    if ctx.needs[0]:
        scale = rstd if weight is None else rstd * weight
        if spec.running is not None:  # eval-mode batch norm: an affine map of x
            grads[0] = g * scale
        elif spec.axes == param_axes:  # batch norm: reuse the parameter sums
            n = math.prod(ctx.inputs[0].shape[a] for a in spec.axes)
            grads[0] = scale * (g - g_sum * (1 / n) - xhat * (gxhat_sum * (1 / n)))
        else:
            gxhat = g if weight is None else g * weight
            grads[0] = _normalize_backward(gxhat, xhat, rstd, spec.axes)
    if spec.has_weight and ctx.needs[1]:
        grads[1] = gxhat_sum.reshape(ctx.inputs[1].shape)
    if spec.has_bias and ctx.needs[-1]:
        grads[-1] = g_sum.reshape(ctx.inputs[-1].shape)
    return tuple(grads)


def _affine_record(x, xhat, rstd, weight, bias, spec, name):
    """``xhat * weight + bias`` wrapped as one recorded op of x (and weight, bias)."""
    out = xhat
    inputs = [x]
    if weight is not None:
        out = out * weight._data.reshape(spec.param_shape)
        inputs.append(weight)
    if bias is not None:
        out = out + bias._data.reshape(spec.param_shape)
        inputs.append(bias)
    spec.stats = (xhat, rstd)
    return record(
        out.astype(x.dtype, copy=False),
        tuple(inputs),
        _norm_vjp,
        name,
        saved=spec,
        save_output=False,
    )


def _optional(t):
    return None if t is None else as_tensor(t)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the last ``len(normalized_shape)`` dims of each sample.

    Shapes: input (*, *normalized_shape); weight and bias ``normalized_shape``; out as input.

    Example:
        >>> F.layer_norm(cr.tensor([[1.0, 3.0], [10.0, 30.0]]), (2,))
        tensor([[-1.,  1.],
                [-1.,  1.]])
        >>> F.layer_norm(cr.ones(4, 7, 64), (64,)).shape
        (4, 7, 64)
    """
    x = as_tensor(input)
    normalized_shape = (
        (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    )
    k = len(normalized_shape)
    if k == 0 or x.shape[x.ndim - k :] != normalized_shape or x.ndim < k:
        raise ValueError(
            f"layer_norm: input shape {x.shape} does not end with normalized_shape "
            f"{normalized_shape}"
        )
    weight, bias = _optional(weight), _optional(bias)
    for what, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != normalized_shape:
            raise ValueError(
                f"layer_norm: {what} shape {p.shape} must equal normalized_shape {normalized_shape}"
            )
    axes = tuple(range(x.ndim - k, x.ndim))
    xhat, rstd, _, _ = _normalize(x._data, axes, eps)
    spec = _NormSpec(axes, eps, normalized_shape, weight is not None, bias is not None)
    return _affine_record(x, xhat, rstd, weight, bias, spec, "LayerNorm")


def _update_running(buffer, value, momentum):
    """``buffer = (1 - momentum) * buffer + momentum * value``, in place, buffer dtype kept."""
    data = buffer._data if isinstance(buffer, Tensor) else buffer
    data *= data.dtype.type(1 - momentum)
    data += (momentum * value).astype(data.dtype)
    if isinstance(buffer, Tensor):
        buffer._bump_version()


def batch_norm(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    """Normalize each channel (dim 1) over the batch and spatial dims.

    Shapes: input (N, C) or (N, C, *); running stats, weight, bias (C,). With ``training``
    the batch statistics are used and the running stats (when given) are updated in place
    with ``momentum``, the variance unbiased (n / (n - 1)) as in PyTorch; otherwise the running
    stats are used.

    Example:
        >>> x = cr.tensor([[1.0, 10.0], [3.0, 30.0]])
        >>> F.batch_norm(x, None, None, training=True)
        tensor([[-1., -1.],
                [ 1.,  1.]])
        >>> F.batch_norm(x, cr.zeros(2), cr.ones(2))
        tensor([[ 1.    , 10.    ],
                [ 3.    , 29.9998]])
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C) or (N, C, *), got shape {x.shape}")
    channels = x.shape[1]
    weight, bias = _optional(weight), _optional(bias)
    for what, t in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(
                f"batch_norm: {what} has shape {tuple(t.shape)} but the input "
                f"{x.shape} has {channels} channels"
            )
    axes = (0,) + tuple(range(2, x.ndim))
    param_shape = (1, channels) + (1,) * (x.ndim - 2)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm: running_mean and running_var are required when not training"
            )
        mean = np.asarray(running_mean._data if isinstance(running_mean, Tensor) else running_mean)
        var = np.asarray(running_var._data if isinstance(running_var, Tensor) else running_var)
        mean = mean.astype(x.dtype).reshape(param_shape)
        rstd = (1 / np.sqrt(var.astype(x.dtype) + x.dtype.type(eps))).reshape(param_shape)
        spec = _NormSpec(axes, eps, param_shape, weight is not None, bias is not None, (mean, rstd))
        return _affine_record(x, (x._data - mean) * rstd, rstd, weight, bias, spec, "BatchNorm")
    n = x._data.size // channels
    if n <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, "
            f"got input size {x.shape}"
        )
    xhat, rstd, mean, var = _normalize(x._data, axes, eps)
    if running_mean is not None:
        _update_running(running_mean, mean.reshape(channels), momentum)
    if running_var is not None:
        _update_running(running_var, var.reshape(channels) * (n / (n - 1)), momentum)
    spec = _NormSpec(axes, eps, param_shape, weight is not None, bias is not None)
    return _affine_record(x, xhat, rstd, weight, bias, spec, "BatchNorm")
