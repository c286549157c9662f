"""Convolutions: im2col on a strided view of the input, then one batched GEMM.

Three primitives make a convolution: the forward ``y = conv(x, w)`` and its two adjoints,
``conv_input_grad(g, w)`` (a transposed convolution, computed by col2im) and
``conv_weight_grad(x, g)``. Each one's vjp is made of the other two, so gradients of any order
work (``create_graph=True`` through a convolution is supported).

Layouts are PyTorch's: input (N, C, H, W), weight (out, in/groups, kh, kw), output (N, out, Ho, Wo).
1-d convolutions are 2-d ones with H = 1.
"""
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ...autograd.engine import record
from ...ops._util import as_tensor, is_array
from ...ops.shape import pad as _pad_op


class Geometry(NamedTuple):
    """Everything about a convolution but its operands: ((top, bottom), (left, right)) padding."""
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int


def _pair(v, name, op):
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(v) != 2 or not all(isinstance(i, (int, np.integer)) for i in v):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    return tuple(int(i) for i in v)


def out_size(n, k, stride, pad, dilation):
    """Output length of a window of ``k`` taps sliding over ``n + pad`` positions."""
    return (n + pad - dilation * (k - 1) - 1) // stride + 1


# ---------------------------------------------------------------------------------------------
# array kernels
# ---------------------------------------------------------------------------------------------

def _windows(xp, kh, kw, geo, out_hw):
    """View (N, G, Cg, kh, kw, Ho, Wo) of the padded input: every tap of every window, no copy."""
    n, c, _, _ = xp.shape
    sn, sc, sh, sw = xp.strides
    g = geo.groups
    (st_h, st_w), (d_h, d_w) = geo.stride, geo.dilation
    return as_strided(xp, (n, g, c // g, kh, kw) + out_hw,
                      (sn, sc * (c // g), sc, sh * d_h, sw * d_w, sh * st_h, sw * st_w),
                      writeable=False)


def _padded(x, geo):
    (t, b), (l, r) = geo.padding
    return np.pad(x, ((0, 0), (0, 0), (t, b), (l, r))) if t or b or l or r else x


def _out_hw(x_shape, w_shape, geo):
    (t, b), (l, r) = geo.padding
    return (out_size(x_shape[2], w_shape[2], geo.stride[0], t + b, geo.dilation[0]),
            out_size(x_shape[3], w_shape[3], geo.stride[1], l + r, geo.dilation[1]))


def _im2col(x, kh, kw, geo, out_hw):
    """Columns (N, G, Cg*kh*kw, Ho*Wo): the one copy a convolution makes of its input."""
    win = _windows(_padded(x, geo), kh, kw, geo, out_hw)
    n, g, cg = win.shape[:3]
    return win.reshape(n, g, cg * kh * kw, out_hw[0] * out_hw[1])


def _conv_forward(x, w, geo):
    """(N, C, H, W) x (O, C/G, kh, kw) -> (N, O, Ho, Wo) and the columns (kept for backward)."""
    o, _, kh, kw = w.shape
    out_hw = _out_hw(x.shape, w.shape, geo)
    cols = _im2col(x, kh, kw, geo, out_hw)
    wg = w.reshape(geo.groups, o // geo.groups, -1)
    out = np.matmul(wg, cols)                       # (N, G, O/G, Ho*Wo): batched over N and G
    return out.reshape((x.shape[0], o) + out_hw), cols


def _weight_grad(cols, g, w_shape, geo):
    """d loss / d w from the columns (N, G, K, L) and the output gradient (N, O, Ho, Wo)."""
    n, grp = g.shape[0], geo.groups
    gg = g.reshape(n, grp, w_shape[0] // grp, -1)                  # (N, G, Og, L)
    # One GEMM per sample then a sum over the batch: faster than transposing the columns.
    return np.matmul(gg, cols.transpose(0, 1, 3, 2)).sum(axis=0).reshape(w_shape)


def _col2im(gcols, x_shape, kh, kw, geo, out_hw):
    """Adjoint of im2col: add every tap's gradient back onto the (padded) input it was read from."""
    n, c, h, w = x_shape
    (t, b), (l, r) = geo.padding
    (st_h, st_w), (d_h, d_w) = geo.stride, geo.dilation
    ho, wo = out_hw
    gcols = gcols.reshape(n, c, kh, kw, ho, wo)
    gx = np.zeros((n, c, h + t + b, w + l + r), dtype=gcols.dtype)
    for i in range(kh):          # a loop over kernel taps only; each step is one strided add
        for j in range(kw):
            gx[:, :, i * d_h:i * d_h + st_h * (ho - 1) + 1:st_h,
               j * d_w:j * d_w + st_w * (wo - 1) + 1:st_w] += gcols[:, :, i, j]
    return gx[:, :, t:t + h, l:l + w]


def _input_grad(g, w, x_shape, geo):
    """d loss / d x: the transposed convolution of ``g`` with ``w``."""
    o, cg, kh, kw = w.shape
    grp, n = geo.groups, g.shape[0]
    out_hw = g.shape[2:]
    wg = w.reshape(grp, o // grp, cg * kh * kw).transpose(0, 2, 1)      # (G, K, Og)
    gcols = np.matmul(wg, g.reshape(n, grp, o // grp, -1))               # (N, G, K, L)
    return _col2im(gcols, x_shape, kh, kw, geo, out_hw)


# ---------------------------------------------------------------------------------------------
# recorded primitives (arrays on the fast path, Tensors when a backward is itself recorded)
# ---------------------------------------------------------------------------------------------

def _conv_vjp(ctx, g):
    geo, cols = ctx.saved
    x_shape, w_shape = ctx.inputs[0].shape, ctx.inputs[1].shape
    gx = conv_input_grad(g, ctx.input(1), x_shape, geo) if ctx.needs[0] else None
    gw = None
    if ctx.needs[1]:
        gw = (_weight_grad(cols, g, w_shape, geo) if is_array(g) and cols is not None
              else conv_weight_grad(ctx.input(0), g, w_shape, geo))
    gb = g.sum(axis=(0, 2, 3)) if len(ctx.needs) > 2 and ctx.needs[2] else None
    return gx, gw, gb


def _conv_core(x, w, b, geo):
    """Recorded convolution of 4-d tensors; ``b`` may be None."""
    out, cols = _conv_forward(x.data, w.data, geo)
    if b is not None:
        out += b.data.reshape(1, -1, 1, 1)
    inputs = (x, w) if b is None else (x, w, b)
    keep = cols if w.requires_grad else None     # the columns are only needed for d loss / d w
    return record(out, inputs, _conv_vjp, "Convolution", saved=(geo, keep))


def _conv_any(x, w, geo):
    """The convolution itself: an array on the fast path, a recorded Tensor otherwise."""
    return _conv_forward(x, w, geo)[0] if is_array(x) else _conv_core(x, w, None, geo)


def _input_grad_vjp(ctx, h):
    geo, _ = ctx.saved
    gg = _conv_any(h, ctx.input(1), geo) if ctx.needs[0] else None
    gw = conv_weight_grad(h, ctx.input(0), ctx.inputs[1].shape, geo) if ctx.needs[1] else None
    return gg, gw


def conv_input_grad(g, w, x_shape, geo):
    """Gradient of a convolution with respect to its input (shape ``x_shape``)."""
    if is_array(g):
        return _input_grad(g, w, x_shape, geo)
    return record(_input_grad(g.data, w.data, x_shape, geo), (g, w), _input_grad_vjp,
                  "ConvInputGrad", saved=(geo, x_shape))


def _weight_grad_vjp(ctx, k):
    geo, _ = ctx.saved
    x_shape = ctx.inputs[0].shape
    gx = conv_input_grad(ctx.input(1), k, x_shape, geo) if ctx.needs[0] else None
    gg = _conv_any(ctx.input(0), k, geo) if ctx.needs[1] else None
    return gx, gg


def conv_weight_grad(x, g, w_shape, geo):
    """Gradient of a convolution with respect to its weight (shape ``w_shape``)."""
    if is_array(x) and is_array(g):
        cols = _im2col(x, w_shape[2], w_shape[3], geo, g.shape[2:])
        return _weight_grad(cols, g, w_shape, geo)
    x, g = as_tensor(x), as_tensor(g)
    cols = _im2col(x.data, w_shape[2], w_shape[3], geo, g.shape[2:])
    return record(_weight_grad(cols, g.data, w_shape, geo), (x, g), _weight_grad_vjp,
                  "ConvWeightGrad", saved=(geo, w_shape))


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------

def _same_padding(k, dilation):
    total = dilation * (k - 1)
    return (total // 2, total - total // 2)      # the odd extra pixel goes last, as in PyTorch


def _geometry(padding, kernel_hw, stride, dilation, groups, op):
    stride, dilation = _pair(stride, "stride", op), _pair(dilation, "dilation", op)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: stride and dilation must be >= 1, got {stride} and {dilation}")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                                 f"(stride={stride})")
            pads = tuple(_same_padding(k, d) for k, d in zip(kernel_hw, dilation))
        else:
            raise ValueError(f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
    else:
        p = _pair(padding, "padding", op)
        if min(p) < 0:
            raise ValueError(f"{op}: padding must be >= 0, got {p}")
        pads = ((p[0], p[0]), (p[1], p[1]))
    return Geometry(stride, pads, dilation, int(groups))


def _check(x, w, b, geo, op, spatial):
    """Shape checks with messages that say what was expected and what was given."""
    dims = "(N, C, H, W)" if spatial == 2 else "(N, C, L)"
    if x.ndim != spatial + 2:
        raise ValueError(f"{op}: expected input of shape {dims}, got {x.shape}")
    if w.ndim != spatial + 2:
        raise ValueError(f"{op}: weight must have {spatial + 2} dims (out, in/groups, "
                         f"{'kh, kw' if spatial == 2 else 'k'}), got {w.shape}")
    if geo.groups < 1 or w.shape[0] % geo.groups:
        raise ValueError(f"{op}: out_channels {w.shape[0]} is not divisible by groups={geo.groups}")
    if x.shape[1] != w.shape[1] * geo.groups:
        raise ValueError(f"{op}: input has {x.shape[1]} channels but weight {w.shape} with "
                         f"groups={geo.groups} expects {w.shape[1] * geo.groups} (input {x.shape})")
    if b is not None and b.shape != (w.shape[0],):
        raise ValueError(f"{op}: bias must have shape ({w.shape[0]},), got {b.shape}")
    if x.dtype.kind != "f" or w.dtype != x.dtype:
        raise TypeError(f"{op}: input and weight must share a floating dtype, got {x.dtype} and {w.dtype}")


def _check_size(x_shape, w_shape, geo, op):
    ho, wo = _out_hw(x_shape, w_shape, geo)
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: kernel {w_shape[2:]} (dilation {geo.dilation}) is larger than the "
                         f"padded input {x_shape[2:]} (padding {geo.padding})")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation, as in PyTorch).

    Shapes: input (N, C, H, W) or (C, H, W); weight (out, C/groups, kh, kw); bias (out,) ->
    (N, out, Ho, Wo) with Ho = (H + 2*pad - dilation*(kh-1) - 1) // stride + 1.
    ``padding`` is an int, a pair, ``'valid'`` (none) or ``'same'`` (output size = input size).

    Example::

        x = cr.randn(8, 3, 32, 32)
        w = cr.randn(16, 3, 3, 3, requires_grad=True)
        y = F.conv2d(x, w, padding=1)       # (8, 16, 32, 32)
    """
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    if x.ndim == 3:                               # unbatched (C, H, W), as PyTorch allows
        return conv2d(x.unsqueeze(0), w, b, stride, padding, dilation, groups).squeeze(0)
    kernel = w.shape[2:] if w.ndim == 4 else (1, 1)
    geo = _geometry(padding, kernel, stride, dilation, groups, "conv2d")
    _check(x, w, b, geo, "conv2d", 2)
    _check_size(x.shape, w.shape, geo, "conv2d")
    return _conv_core(x, w, b, geo)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution: input (N, C, L) or (C, L), weight (out, C/groups, k) -> (N, out, Lo).

    Example::

        y = F.conv1d(cr.randn(4, 2, 50), cr.randn(6, 2, 5), padding="same")   # (4, 6, 50)
    """
    x, w = as_tensor(input), as_tensor(weight)
    b = None if bias is None else as_tensor(bias)
    if x.ndim == 2:
        return conv1d(x.unsqueeze(0), w, b, stride, padding, dilation, groups).squeeze(0)
    pad2 = padding if isinstance(padding, str) else (0, _single(padding, "padding"))
    geo = _geometry(pad2, (1, w.shape[-1]), (1, _single(stride, "stride")),
                    (1, _single(dilation, "dilation")), groups, "conv1d")
    _check(x, w, b, geo, "conv1d", 1)
    x4, w4 = x.unsqueeze(2), w.unsqueeze(2)
    _check_size(x4.shape, w4.shape, geo, "conv1d")
    return _conv_core(x4, w4, b, geo).squeeze(2)


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
    flat = tuple(p for pair in reversed(padding) for p in pair)   # F.pad order: last dim first
    return _pad_op(x, flat, mode=mode)
