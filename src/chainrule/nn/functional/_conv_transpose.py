"""Transposed convolutions ("fractionally strided", the upsampling layers of DCGAN and friends).

A transposed convolution is the gradient of a convolution with respect to its input, so it is
computed by the same recorded primitive (``conv_input_grad``) whose vjp is a convolution: any
order of gradient works. A 3-d one is a 2-d one over the (H, W) planes of every input depth,
with the kd depth taps as extra output channels, then a constant 0/1 matrix (a recorded matmul)
adds each tap's planes onto the output depth it lands on. Layouts are PyTorch's: input (N, C_in, H, W), weight
(C_in, C_out/groups, kh, kw), output (N, C_out, Ho, Wo) with
``Ho = (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1``.
"""

import numpy as np

from ...ops._util import as_tensor
from ._conv import Geometry, _ntuple, conv_input_grad


def _single(v, name, op):
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    return int(v)


def _transposed_args(x, w, b, stride, padding, output_padding, groups, dilation, op, n):
    """Checked arguments of an n-d transposed convolution: the n-tuples and the output size."""
    stride, padding = _ntuple(stride, n, "stride", op), _ntuple(padding, n, "padding", op)
    output_padding = _ntuple(output_padding, n, "output_padding", op)
    dilation = _ntuple(dilation, n, "dilation", op)
    dims, kernel = ("D, H, W", "kd, kh, kw") if n == 3 else ("H, W", "kh, kw")
    if x.ndim != n + 2:
        raise ValueError(f"{op}: expected input of shape (N, C, {dims}), got {tuple(x.shape)}")
    if w.ndim != n + 2:
        raise ValueError(
            f"{op}: weight must have shape (C_in, C_out/groups, {kernel}), got {tuple(w.shape)}"
        )
    if groups < 1 or w.shape[0] % groups or x.shape[1] != w.shape[0]:
        raise ValueError(
            f"{op}: input has {x.shape[1]} channels but weight {tuple(w.shape)} "
            f"with groups={groups} expects {w.shape[0]}"
        )
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ValueError(f"{op}: stride and dilation must be >= 1 and padding >= 0")
    for op_, s, d in zip(output_padding, stride, dilation, strict=True):
        if op_ < 0 or (op_ >= s and op_ >= d):
            raise ValueError(
                f"{op}: output_padding {output_padding} must be smaller than either "
                f"stride {stride} or dilation {dilation}"
            )
    if x.dtype.kind != "f" or w.dtype != x.dtype:
        raise TypeError(
            f"{op}: input and weight must share a floating dtype, got {x.dtype} and {w.dtype}"
        )
    c_out = w.shape[1] * groups
    if b is not None and tuple(b.shape) != (c_out,):
        raise ValueError(f"{op}: bias must have shape ({c_out},), got {tuple(b.shape)}")
    size = [
        (i - 1) * s - 2 * p + d * (k - 1) + o + 1
        for i, s, p, d, k, o in zip(
            x.shape[2:], stride, padding, dilation, w.shape[2:], output_padding, strict=True
        )
    ]
    if min(size) < 1:
        raise ValueError(
            f"{op}: output size {tuple(size)} is too small (input {tuple(x.shape)}, "
            f"weight {tuple(w.shape)}, padding {padding})"
        )
    return stride, padding, dilation, c_out, tuple(size)


def _transposed(x, w, b, stride, padding, output_padding, groups, dilation, op):
    stride, padding, dilation, c_out, size = _transposed_args(
        x, w, b, stride, padding, output_padding, groups, dilation, op, 2
    )
    geo = Geometry(stride, tuple((p, p) for p in padding), dilation, int(groups))
    out = conv_input_grad(x, w, (x.shape[0], c_out, *size), geo)
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return out


def _depth_scatter(depth, kd, stride, padding, dilation, size, dtype):
    """(size, depth*kd) 0/1 matrix: tap i of input depth d lands on output depth
    ``d*stride + i*dilation - padding`` (dropped when outside [0, size))."""
    m = np.zeros((size, depth * kd), dtype)
    d, i = np.divmod(np.arange(depth * kd), kd)
    row = d * stride + i * dilation - padding
    keep = (row >= 0) & (row < size)
    m[row[keep], np.arange(depth * kd)[keep]] = 1
    return m


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """2-d transposed convolution: (N, C_in, H, W) x (C_in, C_out/groups, kh, kw) -> (N, C_out, Ho, Wo).

    ``Ho = (H - 1)*stride - 2*padding + dilation*(kh - 1) + output_padding + 1``; unbatched
    (C_in, H, W) input is accepted, as in PyTorch.

    Example:
        >>> F.conv_transpose2d(cr.ones(1, 4, 7, 7), cr.ones(4, 2, 2, 2), stride=2).shape
        (1, 2, 14, 14)
    """
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    if x.ndim == 3:
        return conv_transpose2d(
            x.unsqueeze(0), w, b, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    return _transposed(
        x, w, b, stride, padding, output_padding, groups, dilation, "conv_transpose2d"
    )


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """1-d transposed convolution: (N, C_in, L) x (C_in, C_out/groups, k) -> (N, C_out, Lo).

    Example:
        >>> F.conv_transpose1d(cr.ones(4, 2, 10), cr.ones(2, 3, 3), stride=2).shape
        (4, 3, 21)
    """
    op = "conv_transpose1d"
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    if x.ndim == 2:
        return conv_transpose1d(
            x.unsqueeze(0), w, b, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    if x.ndim != 3 or w.ndim != 3:
        raise ValueError(
            f"{op}: expected input (N, C, L) and weight (C_in, C_out/groups, k), got "
            f"{tuple(x.shape)} and {tuple(w.shape)}"
        )
    out = _transposed(
        x.unsqueeze(2),
        w.unsqueeze(2),
        b,
        (1, _single(stride, "stride", op)),
        (0, _single(padding, "padding", op)),
        (0, _single(output_padding, "output_padding", op)),
        groups,
        (1, _single(dilation, "dilation", op)),
        op,
    )
    return out.squeeze(2)


def conv_transpose3d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """3-d transposed convolution: (N, C_in, D, H, W) x (C_in, C_out/groups, kd, kh, kw) ->
    (N, C_out, Do, Ho, Wo), each size as in :func:`conv_transpose2d`; unbatched
    (C_in, D, H, W) input is accepted.

    Example:
        >>> F.conv_transpose3d(cr.ones(1, 4, 3, 5, 5), cr.ones(4, 2, 2, 2, 2), stride=2).shape
        (1, 2, 6, 10, 10)
    """
    op = "conv_transpose3d"
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    if x.ndim == 4:
        return conv_transpose3d(
            x.unsqueeze(0), w, b, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    stride, padding, dilation, c_out, (do, ho, wo) = _transposed_args(
        x, w, b, stride, padding, output_padding, groups, dilation, op, 3
    )
    n, c_in, depth, h, wd = x.shape
    cog, kd, kh, kw = w.shape[1:]
    grp = int(groups)
    # every input depth's planes through every depth tap: (N*D, G*kd*C_out/G, Ho, Wo)
    w2 = w.permute(0, 2, 1, 3, 4).reshape(c_in, kd * cog, kh, kw)
    geo = Geometry(stride[1:], tuple((p, p) for p in padding[1:]), dilation[1:], grp)
    x2 = x.permute(0, 2, 1, 3, 4).reshape(n * depth, c_in, h, wd)
    planes = conv_input_grad(x2, w2, (n * depth, grp * kd * cog, ho, wo), geo)
    planes = planes.reshape(n, depth, grp, kd, cog, ho * wo).permute(0, 1, 3, 2, 4, 5)
    m = _depth_scatter(depth, kd, stride[0], padding[0], dilation[0], do, x.dtype)
    out = as_tensor(m) @ planes.reshape(n, depth * kd, c_out * ho * wo)
    out = out.reshape(n, do, c_out, ho, wo).permute(0, 2, 1, 3, 4)
    return out if b is None else out + b.reshape(1, -1, 1, 1, 1)
