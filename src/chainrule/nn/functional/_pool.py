"""Pooling: max over strided windows, averages as fixed linear maps.

Max pooling copies the windows of the (padded) input once, tap-major, then finds each maximum
and the first tap that holds it (PyTorch's choice on ties) in passes over contiguous rows. Only
that tap index (one byte per output for windows of up to 256 taps) is kept for backward, which
writes each gradient into its tap's strided slice of the input. The recorded op is a gather and
its vjp a scatter, each the other's vjp, so second derivatives come for free.

Adaptive max pooling finds each bin's maximum the same way over gathered bins, then picks it
with the differentiable ``gather`` op (whose vjp is a scatter-add), so its derivatives come from
there.

Average pooling is linear and separable: ``y = P_h @ x @ P_w^T`` with constant pooling matrices
(one nonzero band per row). Non-overlapping windows, the common case, are a reshape and a mean.
Both are built from recorded ops (matmul, reshape, mean), so every derivative order works.
1-d pooling is 2-d pooling with H = 1.
"""

from typing import NamedTuple

import numpy as np

from ...autograd.engine import record
from ...backend import as_strided
from ...ops import dispatch as d
from ...ops._util import as_tensor
from ._conv import _pair, _tap_slices, out_size


def _pool_args(kernel_size, stride, padding, dilation, op):
    k = _pair(kernel_size, "kernel_size", op)
    s = (
        k
        if stride is None or (isinstance(stride, (tuple, list)) and not stride)
        else _pair(stride, "stride", op)
    )
    p, d = _pair(padding, "padding", op), _pair(dilation, "dilation", op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise ValueError(
            f"{op}: kernel_size {k}, stride {s} and dilation {d} must be positive and "
            f"padding {p} non-negative"
        )
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
        raise ValueError(
            f"{op}: input {x_shape} is too small for kernel_size {k} (padding {p}, dilation {d})"
        )
    return hw


# ---------------------------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------------------------


class Window(NamedTuple):
    """A pooling window: (h, w) pairs of kernel size, stride, padding and dilation."""

    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple


def _taps(x, win, out_hw):
    """(T, N, C, Ho, Wo): the T taps of every window, tap-major and contiguous (one copy).

    Tap ``t = i * kw + j`` is the window's element at row ``i``, column ``j``. After this copy
    every pass of the max and the argmax runs over long contiguous rows, which NumPy does several
    times faster than over the input's short strided ones.
    """
    (kh, kw), (s0, s1), (p0, p1), (d0, d1) = win
    xp = x
    if p0 or p1:  # implicit -inf padding
        n, c, h, w = x.shape
        xp = np.full((n, c, h + 2 * p0, w + 2 * p1), -np.inf, x.dtype)
        xp[:, :, p0 : p0 + h, p1 : p1 + w] = x
    sn, sc, sh, sw = xp.strides
    view = as_strided(
        xp,
        (kh, kw) + x.shape[:2] + out_hw,
        (sh * d0, sw * d1, sn, sc, sh * s0, sw * s1),
        writeable=False,
    )
    return np.ascontiguousarray(view).reshape((kh * kw,) + x.shape[:2] + out_hw)


def _max_and_argmax(taps):
    """Max over the taps (axis 0) and the tap that holds it, PyTorch's choice: the first maximum,
    or the last NaN (NaN propagates)."""
    best = taps.max(axis=0)
    still = taps[0] != best  # no maximum seen yet, up to tap t
    arg = still.astype(np.min_scalar_type(len(taps) - 1))
    for tap in taps[1:-1]:  # arg = how many leading taps miss the maximum
        still &= tap != best
        arg += still
    nan = np.isnan(best)
    if nan.any():
        arg[nan] = len(taps) - 1 - np.argmax(np.isnan(taps[::-1, nan]), axis=0)
    return best, arg


def _scatter_taps(g, arg, win, x_shape):
    """Adjoint of the gather: each window's gradient goes to its argmax tap (arrays)."""
    n, c, h, w = x_shape
    p0, p1 = win.padding
    gx = np.zeros((n, c, h + 2 * p0, w + 2 * p1), g.dtype)
    # Windows that do not overlap own disjoint slices: those are written, not added to.
    apart = all(
        (k - 1) * d < s for k, s, d in zip(win.kernel, win.stride, win.dilation, strict=True)
    )
    for t, (_, rows, cols) in enumerate(_tap_slices(*win.kernel, win, arg.shape[2:])):
        if apart:
            np.multiply(arg == t, g, out=gx[:, :, rows, cols])
        else:
            gx[:, :, rows, cols] += (arg == t) * g
    return gx[:, :, p0 : p0 + h, p1 : p1 + w] if p0 or p1 else gx


def _gather_taps(x, arg, win):
    """Each window's element at tap ``arg`` (arrays): max pooling with a known argmax."""
    return np.take_along_axis(_taps(x, win, arg.shape[2:]), arg[None], axis=0)[0]


# The two recorded primitives are each other's vjp, so every derivative order works.
def _gather_vjp(ctx, g):
    arg, win, x_shape = ctx.saved
    return (_scatter(g, arg, win, x_shape),)


def _scatter_vjp(ctx, h):
    arg, win, _ = ctx.saved
    return (_gather(h, arg, win),)


def _gather_recorded(x, arg, win):
    return record(
        _gather_taps(x._data, arg, win),
        (x,),
        _gather_vjp,
        "MaxPool",
        saved=(arg, win, x.shape),
        save_inputs=False,
    )


def _scatter_recorded(g, arg, win, x_shape):
    return record(
        _scatter_taps(g._data, arg, win, x_shape),
        (g,),
        _scatter_vjp,
        "MaxPoolInputGrad",
        saved=(arg, win, x_shape),
        save_inputs=False,
    )


_gather = d.primitive(_gather_taps, _gather_recorded)
_scatter = d.primitive(_scatter_taps, _scatter_recorded)


def _plane_indices(arg, win, width):
    """PyTorch's ``return_indices``: each maximum's flat index within its (H, W) plane."""
    (_, kw), (s0, s1), (p0, p1), (d0, d1) = win
    i, j = np.divmod(arg.astype(np.int64), kw)
    rows = (np.arange(arg.shape[2]) * s0 - p0).reshape(-1, 1) + i * d0
    return rows * width + np.arange(arg.shape[3]) * s1 - p1 + j * d1


def _max_pool(x, k, s, p, d, return_indices, op):
    """Max pooling of a 4-d tensor with 2-d window arguments (see :func:`max_pool2d`)."""
    win = Window(*_pool_args(k, s, p, d, op))
    out_hw = _output_hw(x.shape, *win, op)
    best, arg = _max_and_argmax(_taps(x._data, win, out_hw))
    out = record(
        best,
        (x,),
        _gather_vjp,
        "MaxPool",
        saved=(arg, win, x.shape),
        save_inputs=False,
        save_output=False,
    )
    return (out, _int_tensor(_plane_indices(arg, win, x.shape[3]))) if return_indices else out


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """Maximum over each window: (N, C, H, W) -> (N, C, Ho, Wo) (or unbatched (C, H, W)).

    ``stride`` defaults to ``kernel_size``; padding is implicit -inf. With ``return_indices`` also
    returns each maximum's flat index within its (H, W) plane (int64), as PyTorch does.

    Example:
        >>> x = cr.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])
        >>> F.max_pool2d(x, 2, return_indices=True)
        (tensor([[[[4.]]]]), tensor([[[[2]]]]))
        >>> F.max_pool2d(cr.ones(8, 16, 28, 28), 2).shape
        (8, 16, 14, 14)
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


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """Maximum over each window: (N, C, L) -> (N, C, Lo) (or unbatched (C, L)).

    Example:
        >>> F.max_pool1d(cr.tensor([[[1.0, 3.0, 5.0, 2.0]]]), 2)
        tensor([[[3., 5.]]])
    """
    x = as_tensor(input)
    _check_input(x, "max_pool1d", 1, ceil_mode)
    x4 = x.unsqueeze(-2) if x.ndim == 3 else x.unsqueeze(0).unsqueeze(-2)
    out = _max_pool(
        x4, *_as_2d_args(kernel_size, stride, padding, dilation), return_indices, "max_pool1d"
    )
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
    y = x.reshape(n * c * h, w) @ mw.T  # one GEMM over all rows
    y = mh @ y.reshape(n * c, h, -1)  # (n*c, Ho, Wo)
    return y.reshape(n, c, mh.shape[0], mw.shape[0])


def _block_mean(x, kh, kw, ho, wo):
    """Mean over non-overlapping kh x kw blocks (stride = kernel, no padding)."""
    n, c = x.shape[:2]
    if x.shape[2] != ho * kh or x.shape[3] != wo * kw:
        x = x[:, :, : ho * kh, : wo * kw]  # PyTorch drops the incomplete last window
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
        raise NotImplementedError(
            f"{op}: divisor_override with count_include_pad=False and padding is not supported"
        )
    return out * np.asarray(k[0] * k[1] / divisor_override, dtype=x.dtype)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Mean over each window: (N, C, H, W) -> (N, C, Ho, Wo) (or unbatched (C, H, W)).

    Zero padding is counted in the mean unless ``count_include_pad=False`` (PyTorch's default is
    True). ``divisor_override`` replaces the window size as divisor.

    Example:
        >>> F.avg_pool2d(cr.ones(8, 16, 28, 28), 2).shape
        (8, 16, 14, 14)
        >>> F.avg_pool2d(cr.tensor([[[[1.0, 2.0], [3.0, 6.0]]]]), 2)
        tensor([[[[3.]]]])
    """
    x = as_tensor(input)
    _check_input(x, "avg_pool2d", 2, ceil_mode)
    x4 = x.unsqueeze(0) if x.ndim == 3 else x
    out = _avg_pool(
        x4, kernel_size, stride, padding, count_include_pad, divisor_override, "avg_pool2d"
    )
    return out.squeeze(0) if x.ndim == 3 else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over each window: (N, C, L) -> (N, C, Lo) (or unbatched (C, L)).

    Example:
        >>> F.avg_pool1d(cr.tensor([[[1.0, 3.0, 5.0, 7.0]]]), 2)
        tensor([[[2., 6.]]])
        >>> F.avg_pool1d(cr.ones(4, 3, 10), 3, stride=1, padding=1).shape
        (4, 3, 10)
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
    size = tuple(
        n if o is None else int(o) for o, n in zip(size, in_hw, strict=True)
    )  # None keeps the size
    if min(size) < 1:
        raise ValueError(f"{op}: output_size must be positive, got {size}")
    return size


def adaptive_avg_pool2d(input, output_size):
    """Average into a fixed (Ho, Wo) grid of PyTorch's adaptive bins: (N, C, H, W) -> (N, C, Ho, Wo).

    ``output_size`` is an int or a pair (None keeps that input size).

    Example:
        >>> F.adaptive_avg_pool2d(cr.ones(8, 16, 7, 7), 1).shape
        (8, 16, 1, 1)
    """
    x = as_tensor(input)
    _check_input(x, "adaptive_avg_pool2d", 2, False)
    if x.ndim == 3:
        return adaptive_avg_pool2d(x.unsqueeze(0), output_size).squeeze(0)
    (h, w), (ho, wo) = x.shape[2:], _adaptive_size(output_size, x.shape[2:], "adaptive_avg_pool2d")
    if h % ho == 0 and w % wo == 0:  # equal bins: a plain block mean
        return _block_mean(x, h // ho, w // wo, ho, wo)
    return _apply_separable(x, _adaptive_matrix(h, ho, x.dtype), _adaptive_matrix(w, wo, x.dtype))


def adaptive_avg_pool1d(input, output_size):
    """Average into ``output_size`` adaptive bins: (N, C, L) -> (N, C, output_size).

    Example:
        >>> F.adaptive_avg_pool1d(cr.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 2)
        tensor([[[1.5, 3.5]]])
    """
    x = as_tensor(input)
    _check_input(x, "adaptive_avg_pool1d", 1, False)
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    return adaptive_avg_pool2d(x.unsqueeze(-2), (1, size)).squeeze(-2)


def _adaptive_taps(n_in, n_out):
    """(n_out, k) input positions of PyTorch's adaptive bins [floor(i*n/m), ceil((i+1)*n/m)),
    each padded to the longest bin's k by repeating its last position (a repeat never changes
    a bin's maximum or which tap holds it first)."""
    i = np.arange(n_out)
    start, end = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
    k = int((end - start).max())
    return np.minimum(start.reshape(-1, 1) + np.arange(k), end.reshape(-1, 1) - 1)


def _adaptive_max_pool(x, output_size, return_indices, op):
    """Adaptive max pooling of a 4-d tensor (see :func:`adaptive_max_pool2d`)."""
    from ...ops.indexing import gather

    n, c, h, w = x.shape
    ho, wo = _adaptive_size(output_size, (h, w), op)
    rows, cols = _adaptive_taps(h, ho), _adaptive_taps(w, wo)
    # flat (H, W)-plane position of every tap of every bin: (ho * wo, kh * kw)
    flat = (rows[:, None, :, None] * w + cols[None, :, None, :]).reshape(ho * wo, -1)
    taps = np.moveaxis(x._data.reshape(n, c, h * w)[:, :, flat], -1, 0)  # (T, n, c, ho*wo)
    _, arg = _max_and_argmax(np.ascontiguousarray(taps))
    index = flat[np.arange(ho * wo), arg.astype(np.intp)]  # (n, c, ho * wo)
    out = gather(x.reshape(n, c, h * w), 2, index).reshape(n, c, ho, wo)
    return (out, _int_tensor(index.reshape(n, c, ho, wo))) if return_indices else out


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over a fixed (Ho, Wo) grid of PyTorch's adaptive bins:
    (N, C, H, W) -> (N, C, Ho, Wo) (or unbatched (C, H, W)).

    ``output_size`` is an int or a pair (None keeps that input size). With ``return_indices``
    also returns each maximum's flat index within its (H, W) plane (int64). The gradient goes
    to each bin's (first) maximum.

    Example:
        >>> x = cr.tensor([[[[1.0, 2.0, 0.0], [4.0, 3.0, 5.0]]]])
        >>> F.adaptive_max_pool2d(x, (1, 2), return_indices=True)
        (tensor([[[[4., 5.]]]]), tensor([[[[3, 5]]]]))
        >>> F.adaptive_max_pool2d(cr.ones(8, 16, 7, 7), 1).shape
        (8, 16, 1, 1)
    """
    x = as_tensor(input)
    _check_input(x, "adaptive_max_pool2d", 2, False)
    if x.ndim == 3:
        out = _adaptive_max_pool(x.unsqueeze(0), output_size, return_indices, "adaptive_max_pool2d")
        return (out[0].squeeze(0), out[1][0]) if return_indices else out.squeeze(0)
    return _adaptive_max_pool(x, output_size, return_indices, "adaptive_max_pool2d")


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` adaptive bins: (N, C, L) -> (N, C, output_size) (or
    unbatched (C, L)); ``return_indices`` also gives each maximum's index along L (int64).

    Example:
        >>> F.adaptive_max_pool1d(cr.tensor([[[1.0, 3.0, 2.0, 0.0, 5.0]]]), 2)
        tensor([[[3., 5.]]])
    """
    x = as_tensor(input)
    _check_input(x, "adaptive_max_pool1d", 1, False)
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    out = adaptive_max_pool2d(x.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)
