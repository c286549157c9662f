"""Convolutions: im2col on a strided view of the input, then GEMMs (see "array kernels").

Three primitives make a convolution: the forward ``y = conv(x, w)`` and its two adjoints,
``conv_input_grad(g, w)`` (a transposed convolution, computed by col2im) and
``conv_weight_grad(x, g)``. Each one's vjp is made of the other two, so gradients of any order
work (``create_graph=True`` through a convolution is supported).

Layouts are PyTorch's: input (N, C, H, W), weight (out, in/groups, kh, kw), output (N, out, Ho, Wo).
1-d convolutions are 2-d ones with H = 1. A 3-d convolution is one 2-d convolution over the
(H, W) planes of every output depth, with the kd depth taps stacked as extra input channels.
"""

import itertools
from typing import NamedTuple

import numpy as np

from ...autograd.engine import record
from ...backend import as_strided
from ...ops import dispatch as d
from ...ops._util import as_tensor
from ...ops.shape import pad as _pad_op
from ...ops.shape import stack


class Geometry(NamedTuple):
    """Everything about a convolution but its operands: ((top, bottom), (left, right)) padding."""

    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int


_TUPLE_WORD = {1: "1-tuple", 2: "pair", 3: "triple"}


def _ntuple(v, n, name, op):
    """``v`` as an n-tuple of ints (an int is repeated n times)."""
    v = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(v) != n or not all(isinstance(i, (int, np.integer)) for i in v):
        raise ValueError(f"{op}: {name} must be an int or a {_TUPLE_WORD[n]} of ints, got {v!r}")
    return tuple(int(i) for i in v)


def _pair(v, name, op):
    return _ntuple(v, 2, name, op)


def out_size(n, k, stride, pad, dilation):
    """Output length of a window of ``k`` taps sliding over ``n + pad`` positions."""
    return (n + pad - dilation * (k - 1) - 1) // stride + 1


# ---------------------------------------------------------------------------------------------
# array kernels
#
# Two layouts, picked by the size of the output planes (``_batch_last``):
# * planes (N, C, H, W), for large planes: im2col columns (N, G, Cg*kh*kw, Ho*Wo) and one small
#   GEMM per sample, which OpenBLAS runs faster than one long GEMM. The columns are kh*kw times
#   the input's size, so they are built a few samples at a time (``CHUNK_BYTES``) and never
#   kept: the weight gradient rebuilds them. Peak memory stays near the activations' size and a
#   chunk's columns are still in cache when its GEMM reads them.
# * batch-last (C, H, W, N), for small planes: with Wo of 8, the copies and adds above would run
#   over rows of 8 numbers, where NumPy's per-row overhead dominates. With the batch innermost a
#   tap's rows hold Wo*N contiguous numbers. The gradients loop over the kh*kw kernel taps (one
#   GEMM per tap, no columns at all); the forward uses chunked columns as above.
# ---------------------------------------------------------------------------------------------

CHUNK_BYTES = 1 << 20
# Ho*Wo up to which the batch-last layout is used. Measured with OpenBLAS on one thread: 8x8 output
# planes run about twice as fast batch-last, 12x12 ones at the same speed, larger ones slower.
SMALL_PLANE = 100


def _out_hw(x_shape, w_shape, geo):
    (t, b), (l, r) = geo.padding
    return (
        out_size(x_shape[2], w_shape[2], geo.stride[0], t + b, geo.dilation[0]),
        out_size(x_shape[3], w_shape[3], geo.stride[1], l + r, geo.dilation[1]),
    )


def _batch_last(out_hw):
    return out_hw[0] * out_hw[1] <= SMALL_PLANE


def _chunks(n, bytes_per_sample):
    """Equal slices of the batch, each of about ``CHUNK_BYTES`` (at least one sample)."""
    count = max(1, -(-n * bytes_per_sample // CHUNK_BYTES))
    step = max(1, -(-n // count))
    return [slice(i, i + step) for i in range(0, n, step)]


def tap_windows(kernel, stride, dilation, out_size):
    """Per kernel tap, in row-major order: (the tap's index per dim, the slice per spatial dim of
    the padded input that the tap reads for every output position). Any number of dims."""
    return [
        (
            tap,
            tuple(
                slice(t * d, t * d + s * (o - 1) + 1, s)
                for t, s, d, o in zip(tap, stride, dilation, out_size, strict=True)
            ),
        )
        for tap in itertools.product(*(range(k) for k in kernel))
    ]


def _tap_slices(kh, kw, geo, out_hw):
    """Per kernel tap (i, j): the (rows, cols) slices of the padded input that it reads.

    ``geo`` is anything with ``stride`` and ``dilation`` pairs (max pooling passes its window).
    """
    return [
        (tap, rows, cols)
        for tap, (rows, cols) in tap_windows((kh, kw), geo.stride, geo.dilation, out_hw)
    ]


def _pad_planes(x, geo):
    """Zero-padded copy of (N, C, H, W) (no copy without padding); np.pad costs more per call."""
    (t, b), (l, r) = geo.padding
    if not (t or b or l or r):
        return x
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + t + b, w + l + r), x.dtype)
    xp[:, :, t : t + h, l : l + w] = x
    return xp


def _pad_batch_last(x, geo):
    """(N, C, H, W) -> zero-padded (C, H + t + b, W + l + r, N)."""
    (t, b), (l, r) = geo.padding
    n, c, h, w = x.shape
    xb = np.zeros((c, h + t + b, w + l + r, n), x.dtype)
    xb[:, t : t + h, l : l + w] = x.transpose(1, 2, 3, 0)
    return xb


def _im2col(x, kh, kw, geo, out_hw):
    """Columns (N, G, Cg*kh*kw, Ho*Wo) of a (N, C, H, W) input: a copy of a strided view."""
    xp = _pad_planes(x, geo)
    n, c = x.shape[:2]
    sn, sc, sh, sw = xp.strides
    cg = c // geo.groups
    (st_h, st_w), (d_h, d_w) = geo.stride, geo.dilation
    win = as_strided(
        xp,
        (n, geo.groups, cg, kh, kw) + out_hw,
        (sn, sc * cg, sc, sh * d_h, sw * d_w, sh * st_h, sw * st_w),
        writeable=False,
    )
    return win.reshape(n, geo.groups, cg * kh * kw, out_hw[0] * out_hw[1])


def _im2col_batch_last(x, kh, kw, geo, out_hw):
    """Columns (G, Cg*kh*kw, Ho*Wo*N) of a (N, C, H, W) input, batch innermost."""
    xb = _pad_batch_last(x, geo)
    c, n = xb.shape[0], xb.shape[3]
    sc, sh, sw, sn = xb.strides
    cg = c // geo.groups
    (st_h, st_w), (d_h, d_w) = geo.stride, geo.dilation
    win = as_strided(
        xb,
        (geo.groups, cg, kh, kw) + out_hw + (n,),
        (sc * cg, sc, sh * d_h, sw * d_w, sh * st_h, sw * st_w, sn),
        writeable=False,
    )
    return win.reshape(geo.groups, cg * kh * kw, -1)


def _conv_forward(x, w, geo):
    """(N, C, H, W) x (O, C/G, kh, kw) -> (N, O, Ho, Wo)."""
    o, cg, kh, kw = w.shape
    out_hw = _out_hw(x.shape, w.shape, geo)
    n, grp, plane = x.shape[0], geo.groups, out_hw[0] * out_hw[1]
    wg = w.reshape(grp, o // grp, cg * kh * kw)
    out = np.empty((n, o) + out_hw, np.result_type(x, w))
    batch_last = _batch_last(out_hw)
    for s in _chunks(n, x.shape[1] * kh * kw * plane * x.itemsize):
        if batch_last:
            res = np.matmul(wg, _im2col_batch_last(x[s], kh, kw, geo, out_hw))  # (G, O/G, L*n)
            out[s] = res.reshape((o,) + out_hw + (-1,)).transpose(3, 0, 1, 2)
        else:  # (n, G, O/G, L)
            np.matmul(
                wg, _im2col(x[s], kh, kw, geo, out_hw), out=out[s].reshape(-1, grp, o // grp, plane)
            )
    return out


def _to_batch_last(g, groups):
    """(N, O, Ho, Wo) -> (G, O/G, Ho*Wo*N)."""
    n, o, ho, wo = g.shape
    return np.ascontiguousarray(g.transpose(1, 2, 3, 0)).reshape(groups, o // groups, ho * wo * n)


def _weight_grad(x, g, w_shape, geo):
    """d loss / d w from the input (N, C, H, W) and the output gradient (N, O, Ho, Wo)."""
    if _batch_last(g.shape[2:]):
        return _weight_grad_batch_last(x, g, w_shape, geo)
    o, cg, kh, kw = w_shape
    n, grp, out_hw = g.shape[0], geo.groups, g.shape[2:]
    gg = g.reshape(n, grp, o // grp, out_hw[0] * out_hw[1])  # (N, G, O/G, L)
    gwt = np.zeros((grp, cg * kh * kw, o // grp), g.dtype)
    for s in _chunks(n, x.shape[1] * kh * kw * gg.shape[3] * x.itemsize):
        # Per sample (K, L) @ (L, O/G), summed: faster in OpenBLAS than (O/G, L) @ (L, K).
        gwt += np.matmul(_im2col(x[s], kh, kw, geo, out_hw), gg[s].swapaxes(2, 3)).sum(axis=0)
    return gwt.swapaxes(1, 2).reshape(w_shape)


def _weight_grad_batch_last(x, g, w_shape, geo):
    """One GEMM per kernel tap: (O/G, Ho*Wo*N) @ (Ho*Wo*N, Cg), per group."""
    o, cg, kh, kw = w_shape
    xb, gb = _pad_batch_last(x, geo), _to_batch_last(g, geo.groups)
    gw = np.empty((geo.groups, o // geo.groups, cg, kh, kw), g.dtype)
    for (i, j), rows, cols in _tap_slices(kh, kw, geo, g.shape[2:]):
        tap = np.ascontiguousarray(xb[:, rows, cols]).reshape(geo.groups, cg, gb.shape[2])
        gw[..., i, j] = np.matmul(gb, tap.swapaxes(1, 2))
    return gw.reshape(w_shape)


def _input_grad(g, w, x_shape, geo):
    """d loss / d x: the transposed convolution of ``g`` with ``w``. Each kernel tap's share is
    added back onto the (padded) input positions it was read from (col2im)."""
    if _batch_last(g.shape[2:]):
        return _input_grad_batch_last(g, w, x_shape, geo)
    o, cg, kh, kw = w.shape
    (n, c, h, wd), grp, out_hw = x_shape, geo.groups, g.shape[2:]
    (t, b), (l, r) = geo.padding
    wk = w.reshape(grp, o // grp, cg * kh * kw).swapaxes(1, 2)  # (G, K, O/G)
    gg = g.reshape(n, grp, o // grp, out_hw[0] * out_hw[1])
    padded = t or b or l or r
    gx = (np.empty if padded else np.zeros)(x_shape, g.dtype)
    for s in _chunks(n, c * kh * kw * gg.shape[3] * g.itemsize):
        gcols = np.matmul(wk, gg[s]).reshape((-1, c, kh, kw) + out_hw)
        gxp = np.zeros((gcols.shape[0], c, h + t + b, wd + l + r), g.dtype) if padded else gx[s]
        for (i, j), rows, cols in _tap_slices(kh, kw, geo, out_hw):
            gxp[:, :, rows, cols] += gcols[:, :, i, j]
        if padded:
            gx[s] = gxp[:, :, t : t + h, l : l + wd]
    return gx


def _input_grad_batch_last(g, w, x_shape, geo):
    """One GEMM per kernel tap, (Cg, O/G) @ (O/G, Ho*Wo*N) per group, added onto its slice."""
    o, cg, kh, kw = w.shape
    (n, c, h, wd), grp, out_hw = x_shape, geo.groups, g.shape[2:]
    (t, b), (l, r) = geo.padding
    wt = w.reshape(grp, o // grp, cg, kh, kw).swapaxes(1, 2)  # (G, Cg, O/G, kh, kw)
    gb = _to_batch_last(g, grp)
    gxb = np.zeros((c, h + t + b, wd + l + r, n), g.dtype)
    for (i, j), rows, cols in _tap_slices(kh, kw, geo, out_hw):
        gxb[:, rows, cols] += np.matmul(wt[..., i, j], gb).reshape((c,) + out_hw + (n,))
    return np.ascontiguousarray(gxb[:, t : t + h, l : l + wd].transpose(3, 0, 1, 2))


# ---------------------------------------------------------------------------------------------
# recorded primitives (arrays on the fast path, Tensors when a backward is itself recorded)
# ---------------------------------------------------------------------------------------------


def _conv_vjp(ctx, g):
    geo = ctx.saved
    x_shape, w_shape = ctx.inputs[0].shape, ctx.inputs[1].shape
    gx = conv_input_grad(g, ctx.input(1), x_shape, geo) if ctx.needs[0] else None
    gw = conv_weight_grad(ctx.input(0), g, w_shape, geo) if ctx.needs[1] else None
    gb = g.sum(axis=(0, 2, 3)) if len(ctx.needs) > 2 and ctx.needs[2] else None
    return gx, gw, gb


def _conv_core(x, w, b, geo):
    """Recorded convolution of 4-d tensors; ``b`` may be None."""
    out = _conv_forward(x._data, w._data, geo)
    if b is not None:
        out += b._data.reshape(1, -1, 1, 1)
    inputs = (x, w) if b is None else (x, w, b)
    return record(out, inputs, _conv_vjp, "Convolution", saved=geo, save_output=False)


def _conv_recorded(x, w, geo):
    return _conv_core(x, w, None, geo)


# The convolution itself, on arrays or (recorded) on Tensors.
_conv_any = d.primitive(_conv_forward, _conv_recorded)


def _input_grad_vjp(ctx, h):
    geo, _ = ctx.saved
    gg = _conv_any(h, ctx.input(1), geo) if ctx.needs[0] else None
    gw = conv_weight_grad(h, ctx.input(0), ctx.inputs[1].shape, geo) if ctx.needs[1] else None
    return gg, gw


def _input_grad_recorded(g, w, x_shape, geo):
    g, w = as_tensor(g), as_tensor(w)
    return record(
        _input_grad(g._data, w._data, x_shape, geo),
        (g, w),
        _input_grad_vjp,
        "ConvInputGrad",
        saved=(geo, x_shape),
    )


def _weight_grad_vjp(ctx, k):
    geo, _ = ctx.saved
    x_shape = ctx.inputs[0].shape
    gx = conv_input_grad(ctx.input(1), k, x_shape, geo) if ctx.needs[0] else None
    gg = _conv_any(ctx.input(0), k, geo) if ctx.needs[1] else None
    return gx, gg


def _weight_grad_recorded(x, g, w_shape, geo):
    x, g = as_tensor(x), as_tensor(g)
    return record(
        _weight_grad(x._data, g._data, w_shape, geo),
        (x, g),
        _weight_grad_vjp,
        "ConvWeightGrad",
        saved=(geo, w_shape),
    )


# Gradients of a convolution with respect to its input (shape ``x_shape``) and its weight
# (shape ``w_shape``); recorded, hence differentiable again, when an argument is a Tensor.
conv_input_grad = d.primitive(_input_grad, _input_grad_recorded)
conv_weight_grad = d.primitive(_weight_grad, _weight_grad_recorded)


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------


def _same_padding(k, dilation):
    total = dilation * (k - 1)
    return (total // 2, total - total // 2)  # the odd extra pixel goes last, as in PyTorch


def _geometry(padding, kernel_hw, stride, dilation, groups, op):
    """Geometry of a convolution with ``len(kernel_hw)`` spatial dims."""
    n = len(kernel_hw)
    stride, dilation = _ntuple(stride, n, "stride", op), _ntuple(dilation, n, "dilation", op)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: stride and dilation must be >= 1, got {stride} and {dilation}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * n
        elif padding == "same":
            if stride != (1,) * n:
                raise ValueError(
                    f"{op}: padding='same' is not supported for strided convolutions "
                    f"(stride={stride})"
                )
            pads = tuple(_same_padding(k, d) for k, d in zip(kernel_hw, dilation, strict=True))
        else:
            raise ValueError(
                f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}"
            )
    else:
        p = _ntuple(padding, n, "padding", op)
        if min(p) < 0:
            raise ValueError(f"{op}: padding must be >= 0, got {p}")
        pads = tuple((i, i) for i in p)
    return Geometry(stride, pads, dilation, int(groups))


_DIMS = {1: "L", 2: "H, W", 3: "D, H, W"}
_KERNEL = {1: "k", 2: "kh, kw", 3: "kd, kh, kw"}


def _check(x, w, b, geo, op, spatial):
    """Shape checks with messages that say what was expected and what was given."""
    if x.ndim != spatial + 2:
        raise ValueError(f"{op}: expected input of shape (N, C, {_DIMS[spatial]}), got {x.shape}")
    if w.ndim != spatial + 2:
        raise ValueError(
            f"{op}: weight must have {spatial + 2} dims (out, in/groups, {_KERNEL[spatial]}), "
            f"got {w.shape}"
        )
    if geo.groups < 1 or w.shape[0] % geo.groups:
        raise ValueError(f"{op}: out_channels {w.shape[0]} is not divisible by groups={geo.groups}")
    if x.shape[1] != w.shape[1] * geo.groups:
        raise ValueError(
            f"{op}: input has {x.shape[1]} channels but weight {w.shape} with "
            f"groups={geo.groups} expects {w.shape[1] * geo.groups} (input {x.shape})"
        )
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"{op}: bias must have shape ({w.shape[0]},), got {b.shape}")
    if x.dtype.kind != "f" or w.dtype != x.dtype:
        raise TypeError(
            f"{op}: input and weight must share a floating dtype, got {x.dtype} and {w.dtype}"
        )


def _check_size(x_shape, w_shape, geo, op):
    ho, wo = _out_hw(x_shape, w_shape, geo)
    if ho < 1 or wo < 1:
        raise ValueError(
            f"{op}: kernel {w_shape[2:]} (dilation {geo.dilation}) is larger than the "
            f"padded input {x_shape[2:]} (padding {geo.padding})"
        )


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation, as in PyTorch).

    Shapes: input (N, C, H, W) or (C, H, W); weight (out, C/groups, kh, kw); bias (out,) ->
    (N, out, Ho, Wo) with Ho = (H + 2*pad - dilation*(kh-1) - 1) // stride + 1.
    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output size = input size).

    Example:
        >>> x, w = cr.ones(8, 3, 32, 32), cr.ones(16, 3, 3, 3)
        >>> F.conv2d(x, w, padding=1).shape
        (8, 16, 32, 32)
        >>> F.conv2d(x, w, stride=2).shape
        (8, 16, 15, 15)
    """
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    if x.ndim == 3:  # unbatched (C, H, W), as PyTorch allows
        return conv2d(x.unsqueeze(0), w, b, stride, padding, dilation, groups).squeeze(0)
    kernel = w.shape[2:] if w.ndim == 4 else (1, 1)
    geo = _geometry(padding, kernel, stride, dilation, groups, "conv2d")
    _check(x, w, b, geo, "conv2d", 2)
    _check_size(x.shape, w.shape, geo, "conv2d")
    return _conv_core(x, w, b, geo)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution: input (N, C, L) or (C, L), weight (out, C/groups, k) -> (N, out, Lo).

    Example:
        >>> F.conv1d(cr.ones(4, 2, 50), cr.ones(6, 2, 5), padding="same").shape
        (4, 6, 50)
        >>> F.conv1d(cr.tensor([[[1.0, 2.0, 3.0]]]), cr.tensor([[[1.0, -1.0]]]))
        tensor([[[-1., -1.]]])
    """
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    if x.ndim == 2:
        return conv1d(x.unsqueeze(0), w, b, stride, padding, dilation, groups).squeeze(0)
    pad2 = padding if isinstance(padding, str) else (0, _single(padding, "padding"))
    geo = _geometry(
        pad2,
        (1, w.shape[-1]),
        (1, _single(stride, "stride")),
        (1, _single(dilation, "dilation")),
        groups,
        "conv1d",
    )
    _check(x, w, b, geo, "conv1d", 1)
    x4, w4 = x.unsqueeze(2), w.unsqueeze(2)
    _check_size(x4.shape, w4.shape, geo, "conv1d")
    return _conv_core(x4, w4, b, geo).squeeze(2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution: input (N, C, D, H, W) or (C, D, H, W), weight (out, C/groups, kd, kh, kw),
    bias (out,) -> (N, out, Do, Ho, Wo), each size as in :func:`conv2d`.

    Computed as one 2-d convolution over the (H, W) planes of every output depth, the kd depth
    taps read by that depth stacked as input channels (weight (out, kd*C/groups, kh, kw)), so
    gradients of every order come from the 2-d primitive.

    Example:
        >>> F.conv3d(cr.ones(2, 3, 8, 8, 8), cr.ones(4, 3, 3, 3, 3), padding=1).shape
        (2, 4, 8, 8, 8)
        >>> F.conv3d(cr.ones(1, 1, 2, 2, 2), cr.ones(1, 1, 2, 2, 2))
        tensor([[[[[8.]]]]])
    """
    op = "conv3d"
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    if x.ndim == 4:  # unbatched (C, D, H, W)
        return conv3d(x.unsqueeze(0), w, b, stride, padding, dilation, groups).squeeze(0)
    kernel = w.shape[2:] if w.ndim == 5 else (1, 1, 1)
    geo = _geometry(padding, kernel, stride, dilation, groups, op)
    _check(x, w, b, geo, op, 3)
    (sd, *s_hw), ((p0, p1), *p_hw), (dd, *d_hw) = geo.stride, geo.padding, geo.dilation
    plane = Geometry(tuple(s_hw), tuple(p_hw), tuple(d_hw), geo.groups)
    n, c, depth = x.shape[:3]
    o, cg, kd, kh, kw = w.shape
    do = out_size(depth, kd, sd, p0 + p1, dd)
    ho, wo = _out_hw((n, c) + x.shape[3:], (o, cg, kh, kw), plane)
    if min(do, ho, wo) < 1:
        raise ValueError(
            f"{op}: kernel {w.shape[2:]} (dilation {geo.dilation}) is larger than the padded "
            f"input {x.shape[2:]} (padding {geo.padding})"
        )
    if p0 or p1:
        x = _pad_op(x, (0, 0, 0, 0, p0, p1))
    h, wd, grp = x.shape[3], x.shape[4], geo.groups
    # (N, C, kd, Do, H, W): tap i reads depths i*dd, i*dd + sd, ... (one strided slice per tap)
    taps = stack([x[:, :, i * dd : i * dd + sd * (do - 1) + 1 : sd] for i in range(kd)], dim=2)
    taps = taps.reshape(n, grp, cg, kd, do, h, wd).permute(0, 4, 1, 3, 2, 5, 6)
    w2 = w.reshape(grp, o // grp, cg, kd, kh, kw).permute(0, 1, 3, 2, 4, 5)
    out = _conv_core(
        taps.reshape(n * do, grp * kd * cg, h, wd), w2.reshape(o, kd * cg, kh, kw), None, plane
    )
    out = out.reshape(n, do, o, ho, wo).permute(0, 2, 1, 3, 4)
    return out if b is None else out + b.reshape(1, -1, 1, 1, 1)


def _single(v, name):
    if isinstance(v, (tuple, list)):
        if len(v) != 1:
            raise ValueError(f"conv1d: {name} must be an int or a 1-tuple, got {v!r}")
        v = v[0]
    return int(v)


def pad_input(x, padding, mode):
    """Non-zero padding modes of the Conv modules ('reflect', 'replicate', 'circular').

    ``padding`` is ((top, bottom), (left, right)) for 2-d or ((left, right),) for 1-d.
    """
    flat = tuple(p for pair in reversed(padding) for p in pair)  # F.pad order: last dim first
    return _pad_op(x, flat, mode=mode)
