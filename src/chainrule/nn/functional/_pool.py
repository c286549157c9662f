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
1-d pooling is 2-d pooling with H = 1; 3-d pooling runs the same code with three spatial dims.
"""

import math
from typing import NamedTuple

import numpy as np

from ...autograd.engine import record
from ...backend import as_strided
from ...ops import dispatch as d
from ...ops._util import as_tensor
from ...random import default_generator
from ._conv import _ntuple, out_size, tap_windows


def _pool_args(kernel_size, stride, padding, dilation, op, n=2):
    """Kernel, stride, padding and dilation as n-tuples (stride defaults to the kernel)."""
    k = _ntuple(kernel_size, n, "kernel_size", op)
    s = (
        k
        if stride is None or (isinstance(stride, (tuple, list)) and not stride)
        else _ntuple(stride, n, "stride", op)
    )
    p, d = _ntuple(padding, n, "padding", op), _ntuple(dilation, n, "dilation", op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise ValueError(
            f"{op}: kernel_size {k}, stride {s} and dilation {d} must be positive and "
            f"padding {p} non-negative"
        )
    if any(pi > ki // 2 for pi, ki in zip(p, k, strict=True)):
        raise ValueError(f"{op}: padding {p} should be at most half of kernel_size {k}")
    return k, s, p, d


_LAYOUTS = {
    1: "(N, C, L) or (C, L)",
    2: "(N, C, H, W) or (C, H, W)",
    3: "(N, C, D, H, W) or (C, D, H, W)",
}


def _check_input(x, op, spatial):
    if x.ndim not in (spatial + 1, spatial + 2):
        raise ValueError(f"{op}: expected input of shape {_LAYOUTS[spatial]}, got {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}")


def _pooled_size(n, k, s, p, d, ceil_mode):
    """Windows along one dim; ``ceil_mode`` adds a last partial window that starts inside the
    input or its left padding (torch's rule)."""
    if not ceil_mode:
        return out_size(n, k, s, 2 * p, d)
    o = -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1
    return o - 1 if (o - 1) * s >= n + p else o


def _output_hw(x_shape, k, s, p, d, op, ceil_mode=False):
    """Output size of every spatial dim (the dims after N, C)."""
    hw = tuple(
        _pooled_size(n, ki, si, pi, di, ceil_mode)
        for n, ki, si, pi, di in zip(x_shape[2:], k, s, p, d, strict=True)
    )
    if min(hw) < 1:
        raise ValueError(
            f"{op}: input {x_shape} is too small for kernel_size {k} (padding {p}, dilation {d})"
        )
    return hw


# ---------------------------------------------------------------------------------------------
# max pooling
# ---------------------------------------------------------------------------------------------


class Window(NamedTuple):
    """A pooling window: kernel size, stride, padding and dilation, one entry per spatial dim;
    ``extra``: more padding after the end, where ``ceil_mode``'s last windows reach past it."""

    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    extra: tuple = ()


def _padded(x_shape, win):
    """(N, C, *spatial) with the window's padding on both sides and its extra one after."""
    extra = win.extra or (0,) * len(win.padding)
    return x_shape[:2] + tuple(
        n + 2 * p + e for n, p, e in zip(x_shape[2:], win.padding, extra, strict=True)
    )


def _inner(x_shape, padding):
    """Slices of the padded spatial dims that hold the input."""
    return (slice(None), slice(None)) + tuple(
        slice(p, p + n) for p, n in zip(padding, x_shape[2:], strict=True)
    )


def _taps(x, win, out_hw):
    """(T, N, C, *out): the T taps of every window, tap-major and contiguous (one copy).

    Tap ``t = i * kw + j`` is the window's element at row ``i``, column ``j`` (row-major over the
    kernel in any number of dims). After this copy every pass of the max and the argmax runs over
    long contiguous rows, which NumPy does several times faster than over the input's short
    strided ones.
    """
    xp = x
    if any(win.padding) or any(win.extra):  # implicit -inf padding
        xp = np.full(_padded(x.shape, win), -np.inf, x.dtype)
        xp[_inner(x.shape, win.padding)] = x
    spatial = xp.strides[2:]
    view = as_strided(
        xp,
        win.kernel + x.shape[:2] + out_hw,
        tuple(st * d for st, d in zip(spatial, win.dilation, strict=True))
        + xp.strides[:2]
        + tuple(st * s for st, s in zip(spatial, win.stride, strict=True)),
        writeable=False,
    )
    return np.ascontiguousarray(view).reshape((math.prod(win.kernel),) + x.shape[:2] + out_hw)


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
    gx = np.zeros(_padded(x_shape, win), g.dtype)
    # Windows that do not overlap own disjoint slices: those are written, not added to.
    apart = all(
        (k - 1) * d < s for k, s, d in zip(win.kernel, win.stride, win.dilation, strict=True)
    )
    taps = tap_windows(win.kernel, win.stride, win.dilation, arg.shape[2:])
    for t, (_, where) in enumerate(taps):
        at = (slice(None), slice(None)) + where
        if apart:
            np.multiply(arg == t, g, out=gx[at])
        else:
            gx[at] += (arg == t) * g
    return gx[_inner(x_shape, win.padding)] if any(win.padding) or any(win.extra) else gx


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


def _plane_indices(arg, win, sizes):
    """PyTorch's ``return_indices``: each maximum's flat index within its spatial plane (or
    volume) of ``sizes``."""
    taps = np.unravel_index(arg.astype(np.int64), win.kernel)
    flat = np.zeros(arg.shape, np.int64)
    nd = len(sizes)
    for a, (t, n, st, pad, dil) in enumerate(
        zip(taps, sizes, win.stride, win.padding, win.dilation, strict=True)
    ):
        start = (np.arange(arg.shape[2 + a]) * st - pad).reshape((-1,) + (1,) * (nd - 1 - a))
        flat = flat * n + start + t * dil
    return flat


def _max_pool(x, k, s, p, d, ceil_mode, return_indices, op):
    """Max pooling of a (N, C, *spatial) tensor (see :func:`max_pool2d`)."""
    win = Window(*_pool_args(k, s, p, d, op, x.ndim - 2))
    out_hw = _output_hw(x.shape, *win[:4], op, ceil_mode)
    extra = tuple(  # ceil_mode: how far the last window reaches past the padded input
        max(0, (o - 1) * st + dl * (kk - 1) + 1 - (n + 2 * pd))
        for o, st, dl, kk, n, pd in zip(
            out_hw, win.stride, win.dilation, win.kernel, x.shape[2:], win.padding, strict=True
        )
    )
    if any(extra):
        win = win._replace(extra=extra)
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
    return (out, _int_tensor(_plane_indices(arg, win, x.shape[2:]))) if return_indices else out


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """Maximum over each window: (N, C, H, W) -> (N, C, Ho, Wo) (or unbatched (C, H, W)).

    ``stride`` defaults to ``kernel_size``; padding is implicit -inf. With ``return_indices`` also
    returns each maximum's flat index within its (H, W) plane (int64), as PyTorch does.
    ``ceil_mode`` rounds the output size up: a last partial window, if it starts inside the
    input or its left padding.

    Example:
        >>> x = cr.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])
        >>> F.max_pool2d(x, 2, return_indices=True)
        (tensor([[[[4.]]]]), tensor([[[[2]]]]))
        >>> F.max_pool2d(cr.ones(8, 16, 28, 28), 2).shape
        (8, 16, 14, 14)
    """
    x = as_tensor(input)
    _check_input(x, "max_pool2d", 2)
    x4 = x.unsqueeze(0) if x.ndim == 3 else x
    out = _max_pool(
        x4, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d"
    )
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
    _check_input(x, "max_pool1d", 1)
    x4 = x.unsqueeze(-2) if x.ndim == 3 else x.unsqueeze(0).unsqueeze(-2)
    out = _max_pool(
        x4,
        *_as_2d_args(kernel_size, stride, padding, dilation),
        ceil_mode,
        return_indices,
        "max_pool1d",
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


def _window_matrix(n_in, n_out, k, s, p, count_include_pad, dtype, sum_only=False):
    """(n_out, n_in) matrix averaging each window of ``k`` taps (padding counts as zeros; a
    ``ceil_mode`` window reaching past the padding counts only up to its end, as torch).
    ``sum_only``: the window sums."""
    start = np.arange(n_out) * s - p
    taps = start.reshape(-1, 1) + np.arange(k)
    inside = (taps >= 0) & (taps < n_in)
    rows = np.broadcast_to(np.arange(n_out).reshape(-1, 1), taps.shape)
    if sum_only:
        count = np.ones(n_out)
    elif count_include_pad:
        count = np.minimum(start + k, n_in + p) - start
    else:
        count = inside.sum(axis=1)
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


def _apply_separable(x, *mats):
    """Each (n_out, n_in) matrix applied along its spatial dim of (N, C, *spatial), as recorded
    matmuls: ``mh @ x @ mw.T`` in 2-d."""
    lead, sizes = x.shape[:2], list(x.shape[2:])
    y = x.reshape(-1, sizes[-1]) @ mats[-1].T  # the last dim: one GEMM over all rows
    sizes[-1] = mats[-1].shape[0]
    for a in range(len(mats) - 2, -1, -1):  # the others: (n_out, n_in) @ (before, n_in, after)
        before, after = math.prod(lead) * math.prod(sizes[:a]), math.prod(sizes[a + 1 :])
        y = mats[a] @ y.reshape(before, sizes[a], after)
        sizes[a] = mats[a].shape[0]
    return y.reshape(lead + tuple(sizes))


def _block_mean(x, kernel, out):
    """Mean over non-overlapping blocks of ``kernel`` (stride = kernel, no padding)."""
    used = tuple(o * k for o, k in zip(out, kernel, strict=True))
    if x.shape[2:] != used:  # PyTorch drops the incomplete last window
        x = x[(slice(None), slice(None)) + tuple(slice(0, u) for u in used)]
    blocks = tuple(v for o, k in zip(out, kernel, strict=True) for v in (o, k))
    return x.reshape(x.shape[:2] + blocks).mean(axis=tuple(range(3, 3 + 2 * len(out), 2)))


def _avg_pool(x, k, s, p, ceil_mode, count_include_pad, divisor_override, op):
    """Average pooling of a (N, C, *spatial) tensor (see :func:`avg_pool2d`)."""
    nd = x.ndim - 2
    k, s, p, _ = _pool_args(k, s, p, 1, op, nd)
    out_size = _output_hw(x.shape, k, s, p, (1,) * nd, op, ceil_mode)
    whole = all(o * ki <= n for o, ki, n in zip(out_size, k, x.shape[2:], strict=True))
    if s == k and not any(p) and whole:
        out = _block_mean(x, k, out_size)
        scale = None if divisor_override is None else math.prod(k) / divisor_override
    else:  # with divisor_override: window sums, then divided
        mats = [
            _window_matrix(
                n, o, ki, si, pi, count_include_pad, x.dtype, divisor_override is not None
            )
            for n, o, ki, si, pi in zip(x.shape[2:], out_size, k, s, p, strict=True)
        ]
        out = _apply_separable(x, *mats)
        scale = None if divisor_override is None else 1.0 / divisor_override
    return out if scale is None else out * np.asarray(scale, dtype=x.dtype)


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
    True). ``divisor_override`` replaces the window size as divisor. ``ceil_mode`` adds a last
    partial window, as in :func:`max_pool2d` (its divisor stops at the padding's end, as torch).

    Example:
        >>> F.avg_pool2d(cr.ones(8, 16, 28, 28), 2).shape
        (8, 16, 14, 14)
        >>> F.avg_pool2d(cr.tensor([[[[1.0, 2.0], [3.0, 6.0]]]]), 2)
        tensor([[[[3.]]]])
    """
    x = as_tensor(input)
    _check_input(x, "avg_pool2d", 2)
    x4 = x.unsqueeze(0) if x.ndim == 3 else x
    out = _avg_pool(
        x4,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
        "avg_pool2d",
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
    _check_input(x, "avg_pool1d", 1)
    x4 = x.unsqueeze(-2) if x.ndim == 3 else x.unsqueeze(0).unsqueeze(-2)
    k, s, p, _ = _as_2d_args(kernel_size, stride, padding, 1)
    out = _avg_pool(x4, k, s, p, ceil_mode, count_include_pad, None, "avg_pool1d")
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
    _check_input(x, "adaptive_avg_pool2d", 2)
    if x.ndim == 3:
        return adaptive_avg_pool2d(x.unsqueeze(0), output_size).squeeze(0)
    return _adaptive_avg_pool(x, output_size, "adaptive_avg_pool2d")


def _adaptive_avg_pool(x, output_size, op):
    """Adaptive average pooling of a (N, C, *spatial) tensor."""
    sizes = x.shape[2:]
    out = _adaptive_size(output_size, sizes, op)
    if all(n % o == 0 for n, o in zip(sizes, out, strict=True)):  # equal bins: a block mean
        return _block_mean(x, tuple(n // o for n, o in zip(sizes, out, strict=True)), out)
    return _apply_separable(
        x, *(_adaptive_matrix(n, o, x.dtype) for n, o in zip(sizes, out, strict=True))
    )


def adaptive_avg_pool1d(input, output_size):
    """Average into ``output_size`` adaptive bins: (N, C, L) -> (N, C, output_size).

    Example:
        >>> F.adaptive_avg_pool1d(cr.tensor([[[1.0, 2.0, 3.0, 4.0]]]), 2)
        tensor([[[1.5, 3.5]]])
    """
    x = as_tensor(input)
    _check_input(x, "adaptive_avg_pool1d", 1)
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
    """Adaptive max pooling of a (N, C, *spatial) tensor (see :func:`adaptive_max_pool2d`)."""
    from ...ops.indexing import gather

    (n, c), sizes = x.shape[:2], x.shape[2:]
    out = _adaptive_size(output_size, sizes, op)
    nd, plane, bins = len(sizes), math.prod(sizes), math.prod(out)
    # flat position within the plane of every tap of every bin: (*out, *taps) -> (bins, T)
    flat = 0
    for a, (size, o) in enumerate(zip(sizes, out, strict=True)):
        taps = _adaptive_taps(size, o)
        shape = [1] * (2 * nd)
        shape[a], shape[nd + a] = taps.shape
        flat = flat * size + taps.reshape(shape)
    flat = np.asarray(flat).reshape(bins, -1)
    taps = np.moveaxis(x._data.reshape(n, c, plane)[:, :, flat], -1, 0)  # (T, n, c, bins)
    _, arg = _max_and_argmax(np.ascontiguousarray(taps))
    index = flat[np.arange(bins), arg.astype(np.intp)]  # (n, c, bins)
    res = gather(x.reshape(n, c, plane), 2, index).reshape((n, c) + out)
    return (res, _int_tensor(index.reshape((n, c) + out))) if return_indices else res


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
    _check_input(x, "adaptive_max_pool2d", 2)
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
    _check_input(x, "adaptive_max_pool1d", 1)
    size = output_size[0] if isinstance(output_size, (tuple, list)) else output_size
    out = adaptive_max_pool2d(x.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


# ---------------------------------------------------------------------------------------------
# 3-d pooling: the code above with three spatial dims
# ---------------------------------------------------------------------------------------------


def _batched_3d(x, op):
    """The input as (N, C, D, H, W) and whether it was unbatched (C, D, H, W)."""
    _check_input(x, op, 3)
    return (x.unsqueeze(0), True) if x.ndim == 4 else (x, False)


def _unbatch(out, unbatched, return_indices):
    if not unbatched:
        return out
    return (out[0].squeeze(0), out[1][0]) if return_indices else out.squeeze(0)


def max_pool3d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """Maximum over each window: (N, C, D, H, W) -> (N, C, Do, Ho, Wo) (or unbatched
    (C, D, H, W)); arguments as in :func:`max_pool2d`. ``return_indices`` gives each maximum's
    flat index within its (D, H, W) volume (int64).

    Example:
        >>> F.max_pool3d(cr.ones(2, 4, 8, 8, 8), 2).shape
        (2, 4, 4, 4, 4)
        >>> F.max_pool3d(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 2, return_indices=True)
        (tensor([[[[[7.]]]]]), tensor([[[[[7]]]]]))
    """
    x, unbatched = _batched_3d(as_tensor(input), "max_pool3d")
    out = _max_pool(
        x, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d"
    )
    return _unbatch(out, unbatched, return_indices)


def avg_pool3d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Mean over each window: (N, C, D, H, W) -> (N, C, Do, Ho, Wo) (or unbatched
    (C, D, H, W)); arguments as in :func:`avg_pool2d`.

    Example:
        >>> F.avg_pool3d(cr.ones(2, 4, 8, 8, 8), 2).shape
        (2, 4, 4, 4, 4)
        >>> F.avg_pool3d(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
        tensor([[[[[3.5]]]]])
    """
    x, unbatched = _batched_3d(as_tensor(input), "avg_pool3d")
    out = _avg_pool(
        x,
        kernel_size,
        stride,
        padding,
        ceil_mode,
        count_include_pad,
        divisor_override,
        "avg_pool3d",
    )
    return _unbatch(out, unbatched, False)


def adaptive_avg_pool3d(input, output_size):
    """Average into a fixed (Do, Ho, Wo) grid of PyTorch's adaptive bins:
    (N, C, D, H, W) -> (N, C, Do, Ho, Wo). ``output_size`` is an int or a triple (None keeps
    that input size).

    Example:
        >>> F.adaptive_avg_pool3d(cr.ones(2, 4, 5, 6, 7), 1).shape
        (2, 4, 1, 1, 1)
    """
    x, unbatched = _batched_3d(as_tensor(input), "adaptive_avg_pool3d")
    return _unbatch(_adaptive_avg_pool(x, output_size, "adaptive_avg_pool3d"), unbatched, False)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over a fixed (Do, Ho, Wo) grid of PyTorch's adaptive bins:
    (N, C, D, H, W) -> (N, C, Do, Ho, Wo); ``return_indices`` also gives each maximum's flat
    index within its (D, H, W) volume (int64).

    Example:
        >>> F.adaptive_max_pool3d(cr.ones(2, 4, 5, 6, 7), (1, 2, 3)).shape
        (2, 4, 1, 2, 3)
    """
    x, unbatched = _batched_3d(as_tensor(input), "adaptive_max_pool3d")
    out = _adaptive_max_pool(x, output_size, return_indices, "adaptive_max_pool3d")
    return _unbatch(out, unbatched, return_indices)


# ---------------------------------------------------------------------------------------------
# torch's ``*_with_indices`` names, max unpooling and power-average (LP) pooling
# ---------------------------------------------------------------------------------------------


def max_pool1d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True
):
    """:func:`max_pool1d` returning (values, indices), torch's name for it.

    Example:
        >>> F.max_pool1d_with_indices(cr.tensor([[[1.0, 3.0, 5.0, 2.0]]]), 2)
        (tensor([[[3., 5.]]]), tensor([[[1, 2]]]))
    """
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True
):
    """:func:`max_pool2d` returning (values, indices), torch's name for it.

    Example:
        >>> F.max_pool2d_with_indices(cr.tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2)
        (tensor([[[[4.]]]]), tensor([[[[2]]]]))
    """
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool3d_with_indices(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=True
):
    """:func:`max_pool3d` returning (values, indices), torch's name for it.

    Example:
        >>> F.max_pool3d_with_indices(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 2)[1]
        tensor([[[[[7]]]]])
    """
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def _max_unpool(x, indices, kernel_size, stride, padding, output_size, nd, op):
    """Each value of ``x`` (N, C, *in) written at its flat ``indices`` position in a zero
    (N, C, *out) output: the recorded ``scatter`` op, whose vjp gathers the gradient back."""
    from ...creation import zeros

    x, indices = as_tensor(x), as_tensor(indices)
    if x.ndim not in (nd + 1, nd + 2) or tuple(indices.shape) != tuple(x.shape):
        raise ValueError(
            f"{op}: expected input {_LAYOUTS[nd]} and indices of the same shape, got input "
            f"{tuple(x.shape)} and indices {tuple(indices.shape)}"
        )
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: indices must be integers (from return_indices), got {indices.dtype}"
        )
    unbatched = x.ndim == nd + 1
    if unbatched:
        x, indices = x.unsqueeze(0), indices.unsqueeze(0)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, op, nd)
    default = tuple(
        (n - 1) * si - 2 * pi + ki for n, si, pi, ki in zip(x.shape[2:], s, p, k, strict=True)
    )
    if output_size is None:
        out = default
    else:
        out = tuple(int(o) for o in output_size)[-nd:]
        if len(out) != nd or any(
            not d - si < o < d + si for o, d, si in zip(out, default, s, strict=True)
        ):
            raise ValueError(
                f"{op}: output_size {tuple(output_size)} must be {nd} sizes within a stride of "
                f"the default {default}"
            )
    n, c, plane = x.shape[0], x.shape[1], math.prod(out)
    flat = indices.numpy().reshape(n, c, -1)
    if flat.size and (flat.min() < 0 or flat.max() >= plane):
        raise IndexError(f"{op}: found an invalid max index {int(flat.max())} for output {out}")
    y = zeros((n, c, plane), dtype=x.dtype).scatter(2, as_tensor(flat), x.reshape(n, c, -1))
    y = y.reshape((n, c) + out)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of :func:`max_pool1d` with ``return_indices``: (N, C, L) values put back at
    their indices in a zero (N, C, Lout), ``Lout = (L - 1)*stride - 2*padding + kernel`` (or
    ``output_size``).

    Example:
        >>> y, i = F.max_pool1d(cr.tensor([[[1.0, 3.0, 5.0, 2.0]]]), 2, return_indices=True)
        >>> F.max_unpool1d(y, i, 2)
        tensor([[[0., 3., 5., 0.]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of :func:`max_pool2d` with ``return_indices``: (N, C, H, W) values put back
    at their indices in a zero (N, C, Ho, Wo); sizes as in :func:`max_unpool1d`.

    Example:
        >>> y, i = F.max_pool2d(cr.tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 2, return_indices=True)
        >>> F.max_unpool2d(y, i, 2)
        tensor([[[[0., 0.],
                  [4., 0.]]]])
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2, "max_unpool2d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of :func:`max_pool3d` with ``return_indices``: (N, C, D, H, W) values put
    back at their indices in a zero (N, C, Do, Ho, Wo); sizes as in :func:`max_unpool1d`.

    Example:
        >>> y, i = F.max_pool3d(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 2, return_indices=True)
        >>> F.max_unpool3d(y, i, 2).sum()
        tensor(7.)
    """
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")


def _lp_pool(x, norm_type, kernel_size, stride, ceil_mode, nd, op):
    """``(sum over each window of x**p) ** (1/p)``, as torch computes it: an average of x**p
    times the window size; ``sign * relu(|.|)`` keeps a negative sum (odd p) at 0."""
    from ._activation import relu

    x = as_tensor(x)
    _check_input(x, op, nd)
    k = _ntuple(kernel_size, nd, "kernel_size", op)
    pool = {1: avg_pool1d, 2: avg_pool2d, 3: avg_pool3d}[nd]
    pooled = pool(x**norm_type, k, stride, 0, ceil_mode)
    return (pooled.sign() * relu(pooled.abs()) * math.prod(k)) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling ``(sum_window x**p) ** (1/p)``: (N, C, L) -> (N, C, Lo). p = 1 is
    sum pooling, p = inf would be max pooling.

    Example:
        >>> F.lp_pool1d(cr.tensor([[[3.0, 4.0, 1.0, 1.0]]]), 2, 2)
        tensor([[[5.    , 1.4142]]])
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1, "lp_pool1d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (kh, kw) windows: (N, C, H, W) -> (N, C, Ho, Wo).

    Example:
        >>> F.lp_pool2d(cr.ones(1, 1, 4, 4), 2, 2)
        tensor([[[[2., 2.],
                  [2., 2.]]]])
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2, "lp_pool2d")


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (kd, kh, kw) windows: (N, C, D, H, W) -> (N, C, Do, Ho, Wo).

    Example:
        >>> F.lp_pool3d(cr.ones(1, 1, 2, 2, 2), 1, 2)
        tensor([[[[[8.]]]]])
    """
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3, "lp_pool3d")


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    """:func:`adaptive_max_pool1d` returning (values, indices), torch's name for it.

    Example:
        >>> F.adaptive_max_pool1d_with_indices(cr.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2)
        (tensor([[[3., 2.]]]), tensor([[[1, 2]]]))
    """
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    """:func:`adaptive_max_pool2d` returning (values, indices), torch's name for it.

    Example:
        >>> F.adaptive_max_pool2d_with_indices(cr.tensor([[[[1.0, 2.0], [4.0, 3.0]]]]), 1)
        (tensor([[[[4.]]]]), tensor([[[[2]]]]))
    """
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    """:func:`adaptive_max_pool3d` returning (values, indices), torch's name for it.

    Example:
        >>> F.adaptive_max_pool3d_with_indices(cr.arange(8.0).reshape(1, 1, 2, 2, 2), 1)[1]
        tensor([[[[[7]]]]])
    """
    return adaptive_max_pool3d(input, output_size, True)


# ---------------------------------------------------------------------------------------------
# fractional max pooling (Graham, 2014): windows at pseudo-random, increasing starts
# ---------------------------------------------------------------------------------------------


def _fractional_starts(sample, n_in, n_out, k, dtype):
    """Window starts along one dim for each (sample, channel): torch's interval sequence,
    ``int((i + u) * alpha) - int(u * alpha)`` with ``alpha = (n_in - k) / (n_out - 1)`` computed
    in the input's dtype, and the last window flush with the end. ``sample``: (N, C) in [0, 1)."""
    u = sample.astype(dtype)[..., None]
    starts = np.empty(sample.shape + (n_out,), np.int64)
    if n_out > 1:
        alpha = dtype.type(n_in - k) / dtype.type(n_out - 1)
        i = np.arange(n_out - 1, dtype=dtype)
        starts[..., :-1] = ((i + u) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)
    starts[..., -1] = n_in - k
    return starts


def _fractional_max_pool(x, kernel_size, output_size, output_ratio, return_indices, samples, nd):
    from ...ops.indexing import gather

    op = f"fractional_max_pool{nd}d"
    x = as_tensor(x)
    _check_input(x, op, nd)
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x.unsqueeze(0)
    k = _ntuple(kernel_size, nd, "kernel_size", op)
    sizes = x.shape[2:]
    if output_size is None and output_ratio is None:
        raise ValueError(f"{op} requires specifying either an output_size or an output_ratio")
    if output_size is None:
        ratio = output_ratio if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * nd
        output_size = tuple(int(n * r) for n, r in zip(sizes, ratio, strict=True))
    out = _ntuple(output_size, nd, "output_size", op)
    # torch's limits: output + kernel - 1 <= input in 2-d, < input in 3-d
    for n, o, kk in zip(sizes, out, k, strict=True):
        if o < 1 or o + kk - 1 > n - (nd == 3):
            raise ValueError(
                f"{op}: output_size {out} with kernel_size {k} does not fit input {tuple(sizes)} "
                f"(need output + kernel - 1 {'<=' if nd == 2 else '<'} input)"
            )
    n, c = x.shape[:2]
    if samples is None:
        samples = default_generator().random((n, c, nd)).astype(x.dtype)
    samples = np.asarray(samples.numpy() if hasattr(samples, "numpy") else samples)
    if samples.shape != (n, c, nd):
        raise ValueError(f"{op}: _random_samples must have shape {(n, c, nd)}, got {samples.shape}")
    # torch reads the samples from the last dim backwards in 2-d (w, h) and forwards in 3-d
    order = (1, 0) if nd == 2 else tuple(range(nd))
    # flat position of every tap of every window: (N, C, *out, *kernel) -> (N, C, bins, T)
    flat = np.zeros((n, c) + (1,) * (2 * nd), np.int64)
    for a in range(nd):
        starts = _fractional_starts(samples[:, :, order[a]], sizes[a], out[a], k[a], x.dtype)
        shape = [n, c] + [1] * (2 * nd)
        shape[2 + a], shape[2 + nd + a] = out[a], 1
        pos = starts.reshape(shape) + np.arange(k[a]).reshape(
            [1] * (2 + nd + a) + [k[a]] + [1] * (nd - a - 1)
        )
        flat = flat * sizes[a] + pos
    bins = math.prod(out)
    flat = np.broadcast_to(flat, (n, c) + out + k).reshape(n, c, bins, -1)
    plane = x._data.reshape(n, c, -1)
    taps = np.take_along_axis(plane, flat.reshape(n, c, -1), axis=2).reshape(flat.shape)
    _, arg = _max_and_argmax(np.ascontiguousarray(np.moveaxis(taps, -1, 0)))
    index = np.take_along_axis(flat, arg.astype(np.int64)[..., None], axis=3)[..., 0]
    res = gather(x.reshape(n, c, -1), 2, index).reshape((n, c) + out)
    idx = _int_tensor(index.reshape((n, c) + out))
    if unbatched:
        res, idx = res.squeeze(0), idx[0]
    return (res, idx) if return_indices else res


def fractional_max_pool2d(
    input,
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices=False,
    _random_samples=None,
):
    """Fractional max pooling (Graham, 2014): maxima over ``kernel_size`` windows whose starts
    step pseudo-randomly by 1 or 2, shrinking (N, C, H, W) to ``output_size`` (or
    ``output_ratio`` of the input). ``_random_samples`` (N, C, 2) in [0, 1) fixes the draw (as
    torch's, with which the windows are the same); by default it is drawn from the generator.
    With ``return_indices`` also returns the flat index of each maximum in its plane.

    Example:
        >>> y = F.fractional_max_pool2d(cr.randn(2, 3, 10, 10), 3, output_ratio=0.5)
        >>> y.shape
        (2, 3, 5, 5)
    """
    return _fractional_max_pool(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 2
    )


def fractional_max_pool3d(
    input,
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices=False,
    _random_samples=None,
):
    """Fractional max pooling of (N, C, D, H, W); see :func:`fractional_max_pool2d`
    (``_random_samples`` (N, C, 3)).

    Example:
        >>> F.fractional_max_pool3d(cr.randn(1, 2, 8, 8, 8), 2, output_size=5).shape
        (1, 2, 5, 5, 5)
    """
    return _fractional_max_pool(
        input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 3
    )


def fractional_max_pool2d_with_indices(
    input,
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices=False,
    _random_samples=None,
):
    """:func:`fractional_max_pool2d` returning (values, indices), torch's name for it.

    Example:
        >>> y, i = F.fractional_max_pool2d_with_indices(cr.randn(1, 1, 6, 6), 2, output_size=4)
        >>> i.shape
        (1, 1, 4, 4)
    """
    return _fractional_max_pool(
        input, kernel_size, output_size, output_ratio, True, _random_samples, 2
    )


def fractional_max_pool3d_with_indices(
    input,
    kernel_size,
    output_size=None,
    output_ratio=None,
    return_indices=False,
    _random_samples=None,
):
    """:func:`fractional_max_pool3d` returning (values, indices), torch's name for it.

    Example:
        >>> y, i = F.fractional_max_pool3d_with_indices(cr.randn(1, 1, 5, 5, 5), 2, output_size=3)
        >>> i.shape
        (1, 1, 3, 3, 3)
    """
    return _fractional_max_pool(
        input, kernel_size, output_size, output_ratio, True, _random_samples, 3
    )
