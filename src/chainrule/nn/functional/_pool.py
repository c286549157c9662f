"""Pooling: max over strided windows, averages as fixed linear maps.

Max pooling reads the windows through a strided view of the (padded) input, with one pass per
window tap to find each maximum and then the first tap that holds it (PyTorch's choice on ties).
The recorded op is a gather, so the gradient is a scatter-add onto the argmax positions and
second derivatives come for free.

Average pooling is linear and separable: ``y = P_h @ x @ P_w^T`` with constant pooling matrices
(one nonzero band per row). Non-overlapping windows, the common case, are a reshape and a mean.
Both are built from recorded ops (matmul, reshape, mean), so every derivative order works.
1-d pooling is 2-d pooling with H = 1.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ...autograd.engine import record
from ...ops._util import as_tensor
from ...ops.shape import index_add_into_zeros
from ._conv import _pair, out_size


def _pool_args(kernel_size, stride, padding, dilation, op):
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _pair(stride, "stride", op)
    p, d = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise ValueError(f"{op}: kernel_size {k}, stride {s} and dilation {d} must be positive and "
                         f"padding {p} non-negative")
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} should be at most half of kernel_size {k}")
    return k, s, p, d


def _check_input(x, op, spatial, ceil_mode):
    if ceil_mode:
        raise NotImplementedError(f"{op}: ceil_mode=True is not supported")
    dims = "(N, C, H, W) or (C, H, W)" if spatial == 2 else "(N, C, L) or (C, L)"
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected input of shape {dims}, got {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")


def _output_hw(x_shape, k, s, p, d, op):
    hw = tuple(out_size(x_shape[i - 2], k[i], s[i], 2 * p[i], d[i]) for i in (0, 1))
    if min(hw) < 1:
        raise ValueError(f"{op}: input {x_shape} is too small for kernel_size {k} "
                         f"(padding {p}, dilation {d})")
    return hw


# ---------------------------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------------------------

def _gather_vjp(ctx, g):
    shape = ctx.inputs[0].shape
    flat = index_add_into_zeros(g.reshape(-1), ctx.saved.ravel(), (int(np.prod(shape)),))
    return (flat.reshape(shape),)   # a scatter-add: overlapping windows may share an element


def _gather(x, idx, values):
    """``values = x.reshape(-1)[idx]`` as a recorded op whose backward is a scatter-add."""
    return record(values, (x,), _gather_vjp, "MaxPool", saved=idx, save_inputs=False)


def _argmax_positions(x, k, s, p, d, out_hw):
    """Each window's maximum and its index, within its (H, W) plane and into all of ``x``.

    ``x`` is (N, C, H, W); all three results are (N, C, Ho, Wo).
    """
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=-np.inf) \
        if p[0] or p[1] else x
    sn, sc, sh, sw = xp.strides
    win = as_strided(xp, (n, c) + out_hw + k,
                     (sn, sc, sh * s[0], sw * s[1], sh * d[0], sw * d[1]), writeable=False)
    taps = [win[..., t // k[1], t % k[1]] for t in range(k[0] * k[1])]
    best = taps[0].copy()
    for tap in taps[1:]:           # loops over window taps only, each a pass over the output
        np.maximum(best, tap, out=best)                       # NaN propagates, as in PyTorch
    arg, found = np.zeros(best.shape, dtype=np.intp), np.zeros(best.shape, dtype=bool)
    for t, tap in enumerate(taps):  # the first tap holding the maximum (PyTorch's tie rule)
        hit = (tap == best) | (tap != tap)
        hit &= ~found
        found |= hit
        arg += hit * t
    ki, kj = np.divmod(np.arange(k[0] * k[1]), k[1])
    tap_offset = ki * d[0] * w + kj * d[1]                    # per tap, within the plane
    corner = (np.arange(out_hw[0]).reshape(-1, 1) * s[0] - p[0]) * w + np.arange(out_hw[1]) * s[1] - p[1]
    plane = corner + tap_offset[arg]                          # index within an (H, W) plane
    return best, plane, plane + (np.arange(n * c) * (h * w)).reshape(n, c, 1, 1)


def _max_pool(x, k, s, p, d, return_indices, op):
    """Max pooling of a 4-d tensor with 2-d window arguments (see :func:`max_pool2d`)."""
    k, s, p, d = _pool_args(k, s, p, d, op)
    out_hw = _output_hw(x.shape, k, s, p, d, op)
    best, plane, idx = _argmax_positions(x.data, k, s, p, d, out_hw)
    out = _gather(x, idx, best)
    return (out, _int_tensor(plane)) if return_indices else out


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over each window: (N, C, H, W) -> (N, C, Ho, Wo) (or unbatched (C, H, W)).

    ``stride`` defaults to ``kernel_size``; padding is implicit -inf. With ``return_indices`` also
    returns each maximum's flat index within its (H, W) plane (int64), as PyTorch does.

    Example::

        y = F.max_pool2d(cr.randn(8, 16, 28, 28), 2)       # (8, 16, 14, 14)
    """
    x = as_tensor(input)
    _check_input(x, "max_pool2d", 2, ceil_mode)
    x4 = x.unsqueeze(0) if x.ndim == 3 else x
    out = _max_pool(x4, kernel_size, stride, padding, dilation, return_indices, "max_pool2d")
    if x.ndim == 3:
        return (out[0].squeeze(0), out[1][0]) if return_indices else out.squeeze(0)
    return out


def _int_tensor(a):
    from ...tensor import Tensor
    return Tensor._wrap(a.astype(np.int64, copy=False))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over each window: (N, C, L) -> (N, C, Lo) (or unbatched (C, L)).

    Example::

        y = F.max_pool1d(cr.randn(4, 3, 10), 2)            # (4, 3, 5)
    """
    x = as_tensor(input)
    _check_input(x, "max_pool1d", 1, ceil_mode)
    x4 = x.unsqueeze(-2) if x.ndim == 3 else x.unsqueeze(0).unsqueeze(-2)
    out = _max_pool(x4, *_as_2d_args(kernel_size, stride, padding, dilation), return_indices,
                    "max_pool1d")
    lead = (0,) if x.ndim == 2 else (slice(None),)
    if return_indices:
        return out[0][lead + (slice(None), 0)], out[1][lead + (slice(None), 0)]
    return out[lead + (slice(None), 0)]


def _as_2d_args(kernel_size, stride, padding, dilation):
    """1-d pooling arguments as 2-d ones acting on a height of 1."""
    def first(v):
        return v[0] if isinstance(v, (tuple, list)) else v
    k = first(kernel_size)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else first(stride)
    return (1, k), (1, s), (0, first(padding)), (1, first(dilation))


# ---------------------------------------------------------------------------------------------
# average pooling
# ---------------------------------------------------------------------------------------------

def _window_matrix(n_in, n_out, k, s, p, count_include_pad, dtype):
    """(n_out, n_in) matrix averaging each window of ``k`` taps (padding counts as zeros)."""
    taps = np.arange(n_out).reshape(-1, 1) * s - p + np.arange(k)
    inside = (taps >= 0) & (taps < n_in)
    rows = np.broadcast_to(np.arange(n_out).reshape(-1, 1), taps.shape)
    count = np.full(n_out, k) if count_include_pad else inside.sum(axis=1)
    m = np.zeros((n_out, n_in), dtype=dtype)
    m[rows[inside], taps[inside]] = 1
    return m / count.reshape(-1, 1).astype(dtype)


def _adaptive_matrix(n_in, n_out, dtype):
    """(n_out, n_in) matrix averaging PyTorch's adaptive bins [floor(i*n/m), ceil((i+1)*n/m))."""
    i = np.arange(n_out)
    start, end = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
    cols = np.arange(n_in)
    inside = (cols >= start.reshape(-1, 1)) & (cols < end.reshape(-1, 1))
    return (inside / (end - start).reshape(-1, 1)).astype(dtype)


def _apply_separable(x, mh, mw):
    """``mh @ x @ mw.T`` on the last two dims of a 4-d tensor, as recorded matmuls."""
    n, c, h, w = x.shape
    y = x.reshape(n * c * h, w) @ mw.T                 # one GEMM over all rows
    y = mh @ y.reshape(n * c, h, -1)                   # (n*c, Ho, Wo)
    return y.reshape(n, c, mh.shape[0], mw.shape[0])


def _block_mean(x, kh, kw, ho, wo):
    """Mean over non-overlapping kh x kw blocks (stride = kernel, no padding)."""
    n, c = x.shape[:2]
    if x.shape[2] != ho * kh or x.shape[3] != wo * kw:
        x = x[:, :, :ho * kh, :wo * kw]                # PyTorch drops the incomplete last window
    return x.reshape(n, c, ho, kh, wo, kw).mean(axis=(3, 5))


def _avg_pool(x, k, s, p, count_include_pad, divisor_override, op):
    """Average pooling of a 4-d tensor with 2-d window arguments (see :func:`avg_pool2d`)."""
    k, s, p, _ = _pool_args(k, s, p, 1, op)
    ho, wo = _output_hw(x.shape, k, s, p, (1, 1), op)
    if s == k and p == (0, 0):
        out = _block_mean(x, k[0], k[1], ho, wo)
    else:
        mh = _window_matrix(x.shape[2], ho, k[0], s[0], p[0], count_include_pad, x.dtype)
        mw = _window_matrix(x.shape[3], wo, k[1], s[1], p[1], count_include_pad, x.dtype)
        out = _apply_separable(x, mh, mw)
    if divisor_override is None:
        return out
    if not count_include_pad and p != (0, 0):
        raise NotImplementedError(f"{op}: divisor_override with count_include_pad=False and "
                                  "padding is not supported")
    return out * np.asarray(k[0] * k[1] / divisor_override, dtype=x.dtype)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over each window: (N, C, H, W) -> (N, C, Ho, Wo) (or unbatched (C, H, W)).

    Zero padding is counted in the mean unless ``count_include_pad=False`` (PyTorch's default is
    True). ``divisor_override`` replaces the window size as divisor.

    Example::

        y = F.avg_pool2d(cr.randn(8, 16, 28, 28), 2)       # (8, 16, 14, 14)
    """
    x = as_tensor(input)
    _check_input(x, "avg_pool2d", 2, ceil_mode)
    x4 = x.unsqueeze(0) if x.ndim == 3 else x
    out = _avg_pool(x4, kernel_size, stride, padding, count_include_pad, divisor_override,
                    "avg_pool2d")
    return out.squeeze(0) if x.ndim == 3 else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over each window: (N, C, L) -> (N, C, Lo) (or unbatched (C, L)).

    Example::

        y = F.avg_pool1d(cr.randn(4, 3, 10), 3, stride=1, padding=1)   # (4, 3, 10)
    """
    x = as_tensor(input)
    _check_input(x, "avg_pool1d", 1, ceil_mode)
    x4 = x.unsqueeze(-2) if x.ndim == 3 else x.unsqueeze(0).unsqueeze(-2)
    k, s, p, _ = _as_2d_args(kernel_size, stride, padding, 1)
    out = _avg_pool(x4, k, s, p, count_include_pad, None, "avg_pool1d")
    return out[(0, slice(None), 0) if x.ndim == 2 else (slice(None), slice(None), 0)]


def _adaptive_size(output_size, in_hw, op):
    size = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * len(in_hw)
    if len(size) != len(in_hw):
        raise ValueError(f"{op}: output_size {output_size!r} must have {len(in_hw)} entries")
    size = tuple(n if o is None else int(o) for o, n in zip(size, in_hw))   # None keeps the size
    if min(size) < 1:
        raise ValueError(f"{op}: output_size must be positive, got {size}")
    return size


def adaptive_avg_pool2d(input, output_size):
    """Average into a fixed (Ho, Wo) grid of PyTorch's adaptive bins: (N, C, H, W) -> (N, C, Ho, Wo).

    ``output_size`` is an int or a pair (None keeps that input size).

    Example::

        y = F.adaptive_avg_pool2d(cr.randn(8, 16, 7, 7), 1)   # (8, 16, 1, 1): global average
    """
    x = as_tensor(input)
    _check_input(x, "adaptive_avg_pool2d", 2, False)
    if x.ndim == 3:
        return adaptive_avg_pool2d(x.unsqueeze(0), output_size).squeeze(0)
    (h, w), (ho, wo) = x.shape[2:], _adaptive_size(output_size, x.shape[2:], "adaptive_avg_pool2d")
    if h % ho == 0 and w % wo == 0:        # equal bins: a plain block mean
        return _block_mean(x, h // ho, w // wo, ho, wo)
    return _apply_separable(x, _adaptive_matrix(h, ho, x.dtype), _adaptive_matrix(w, wo, x.dtype))


def adaptive_avg_pool1d(input, output_size):
    """Average into ``output_size`` adaptive bins: (N, C, L) -> (N, C, output_size).

    Example::

        y = F.adaptive_avg_pool1d(cr.randn(4, 3, 10), 4)      # (4, 3, 4)
    """
    x = as_tensor(input)
    _check_input(x, "adaptive_avg_pool1d", 1, False)
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return adaptive_avg_pool2d(x.unsqueeze(-2), (1, size)).squeeze(-2)
