"""``unfold`` (im2col: sliding blocks as columns) and ``fold`` (col2im: columns summed back into
an image). Each is the other's adjoint, so the two recorded primitives are each other's vjp and
every derivative order works.

Layouts are PyTorch's: ``unfold`` (N, C, H, W) -> (N, C * kh * kw, L), row ``c * kh * kw +
i * kw + j`` holding tap (i, j) of channel c, and L = Ho * Wo blocks in row-major order.
"""

from typing import NamedTuple

import numpy as np

from ...autograd.engine import record
from ...ops import dispatch as d
from ...ops._util import as_tensor
from ._conv import _pair, _tap_slices, out_size


class _Blocks(NamedTuple):
    """Kernel size, dilation, padding and stride, each an (h, w) pair."""

    kernel: tuple
    dilation: tuple
    padding: tuple
    stride: tuple


def _blocks(kernel_size, dilation, padding, stride, op):
    b = _Blocks(
        *(
            _pair(v, name, op)
            for v, name in (
                (kernel_size, "kernel_size"),
                (dilation, "dilation"),
                (padding, "padding"),
                (stride, "stride"),
            )
        )
    )
    if min(b.kernel) < 1 or min(b.dilation) < 1 or min(b.stride) < 1 or min(b.padding) < 0:
        raise RuntimeError(
            f"{op}: kernel_size {b.kernel}, dilation {b.dilation} and stride {b.stride} must be "
            f"positive and padding {b.padding} non-negative"
        )
    return b


def _grid(hw, b, op):
    """(Ho, Wo): how many blocks fit along H and W."""
    grid = tuple(
        out_size(hw[i], b.kernel[i], b.stride[i], 2 * b.padding[i], b.dilation[i]) for i in (0, 1)
    )
    if min(grid) < 1:
        raise RuntimeError(
            f"{op}: a spatial size of {tuple(hw)} is too small for kernel_size {b.kernel} "
            f"(padding {b.padding}, dilation {b.dilation}): no block fits"
        )
    return grid


def _unfold_array(x, b):
    n, c, h, w = x.shape
    (p0, p1), grid = b.padding, _grid((h, w), b, "unfold")
    xp = np.pad(x, ((0, 0), (0, 0), (p0, p0), (p1, p1))) if p0 or p1 else x
    cols = np.empty((n, c, b.kernel[0] * b.kernel[1]) + grid, x.dtype)
    for t, (_, rows, cs) in enumerate(_tap_slices(*b.kernel, b, grid)):
        cols[:, :, t] = xp[:, :, rows, cs]
    return cols.reshape(n, -1, grid[0] * grid[1])


def _fold_array(cols, hw, b):
    n, ck, _ = cols.shape
    (p0, p1), grid, taps = b.padding, _grid(hw, b, "fold"), b.kernel[0] * b.kernel[1]
    c = ck // taps
    cols = cols.reshape(n, c, taps, *grid)
    out = np.zeros((n, c, hw[0] + 2 * p0, hw[1] + 2 * p1), cols.dtype)
    for t, (_, rows, cs) in enumerate(_tap_slices(*b.kernel, b, grid)):
        out[:, :, rows, cs] += cols[:, :, t]
    return out[:, :, p0 : p0 + hw[0], p1 : p1 + hw[1]] if p0 or p1 else out


def _unfold_vjp(ctx, g):
    b, hw = ctx.saved
    return (_fold(g, hw, b),)


def _fold_vjp(ctx, g):
    b, _ = ctx.saved
    return (_unfold(g, b),)


def _unfold_recorded(x, b):
    return record(
        _unfold_array(x._data, b),
        (x,),
        _unfold_vjp,
        "Im2Col",
        saved=(b, x.shape[2:]),
        save_inputs=False,
        save_output=False,
    )


def _fold_recorded(cols, hw, b):
    return record(
        _fold_array(cols._data, hw, b),
        (cols,),
        _fold_vjp,
        "Col2Im",
        saved=(b, hw),
        save_inputs=False,
        save_output=False,
    )


_unfold = d.primitive(_unfold_array, _unfold_recorded)
_fold = d.primitive(_fold_array, _fold_recorded)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Every sliding ``kernel_size`` block of the (zero-padded) input as a column (im2col).

    Shapes: (N, C, H, W) -> (N, C * kh * kw, L) (or unbatched (C, H, W) -> (C * kh * kw, L)),
    L the number of blocks; row ``c * kh * kw + i * kw + j`` holds tap (i, j) of channel c.

    Example:
        >>> F.unfold(cr.arange(9.0).reshape(1, 1, 3, 3), 2)
        tensor([[[0., 1., 3., 4.],
                 [1., 2., 4., 5.],
                 [3., 4., 6., 7.],
                 [4., 5., 7., 8.]]])
        >>> F.unfold(cr.ones(8, 3, 32, 32), 3, padding=1).shape
        (8, 27, 1024)
    """
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        raise RuntimeError(
            f"unfold: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {tuple(x.shape)}"
        )
    b = _blocks(kernel_size, dilation, padding, stride, "unfold")
    if x.ndim == 3:
        return _unfold(x.unsqueeze(0), b).squeeze(0)
    return _unfold(x, b)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum columns of sliding blocks back into an image (col2im), the adjoint of ``unfold``:
    overlapping taps add up.

    Shapes: (N, C * kh * kw, L) -> (N, C, *output_size) (or unbatched (C * kh * kw, L) ->
    (C, *output_size)); L must be the number of blocks that fit in ``output_size``.

    Example:
        >>> F.fold(cr.ones(1, 4, 4), (3, 3), 2)
        tensor([[[[1., 2., 1.],
                  [2., 4., 2.],
                  [1., 2., 1.]]]])
    """
    cols = as_tensor(input)
    if cols.ndim not in (2, 3):
        raise RuntimeError(
            f"fold: expected a 2-D (C * kh * kw, L) or 3-D (N, C * kh * kw, L) input, got shape "
            f"{tuple(cols.shape)}"
        )
    b = _blocks(kernel_size, dilation, padding, stride, "fold")
    hw = _pair(output_size, "output_size", "fold")
    grid = _grid(hw, b, "fold")
    taps = b.kernel[0] * b.kernel[1]
    rows, blocks = cols.shape[-2:]
    if rows % taps:
        raise RuntimeError(
            f"fold: expected size of input's dimension {cols.ndim - 2} to be divisible by the "
            f"product of kernel_size ({taps}), but got input.size({cols.ndim - 2}) = {rows}"
        )
    if blocks != grid[0] * grid[1]:
        raise RuntimeError(
            f"fold: given output_size {hw}, kernel_size {b.kernel}, dilation {b.dilation}, "
            f"padding {b.padding} and stride {b.stride}, expected input.size({cols.ndim - 1}) "
            f"to be {grid[0] * grid[1]} ({grid[0]} x {grid[1]} blocks), but got {blocks}"
        )
    if cols.ndim == 2:
        return _fold(cols.unsqueeze(0), hw, b).squeeze(0)
    return _fold(cols, hw, b)
