"""``affine_grid`` and ``grid_sample`` (spatial transformer networks, image warping), 2-d.

Both are built from recorded ops, so the gradients with respect to the input, the grid and
``theta`` come from theirs. Coordinates follow PyTorch: a grid value of -1 is the left (top)
edge, +1 the right (bottom) edge, at pixel centres with ``align_corners=True`` and at the outer
borders of the edge pixels with ``align_corners=False`` (the default).
"""

import warnings

import numpy as np

from ...ops import where
from ...ops._util import as_tensor
from ...tensor import Tensor


def _linspace_from_neg_one(steps, align_corners, dtype):
    """PyTorch's grid coordinates, rounded as it rounds them: ``linspace(-1, 1)`` filled from
    both ends with one rounding per point (its kernel compiles ``start + step * i`` to a fused
    multiply-add), then ``* (steps - 1) / steps``. Points at pixel centres must land exactly
    where PyTorch's do: a floor that differs there changes the one-sided gradient."""
    if steps <= 1:
        return np.zeros(max(steps, 0), dtype=dtype)
    wide = np.longdouble  # holds step * i exactly for float32 (and nearly for float64)
    step = wide(dtype.type(2) / dtype.type(steps - 1))
    index = np.arange(steps)
    line = np.where(index < steps // 2, -1 + step * index, 1 - step * (steps - 1 - index)).astype(
        dtype
    )
    if not align_corners:
        line = line * dtype.type(steps - 1) / dtype.type(steps)
    return line


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of the affine maps ``theta`` (N, 2, 3) for an output of ``size``
    (N, C, H, W): (N, H, W, 2), each point ``theta @ (x, y, 1)`` with x, y in [-1, 1].

    Example:
        >>> identity = cr.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
        >>> F.affine_grid(identity, (1, 1, 2, 2), align_corners=True)[0, :, :, 0]
        tensor([[-1.,  1.],
                [-1.,  1.]])
    """
    align_corners = _default_align_corners(align_corners, "affine_grid")
    theta = as_tensor(theta)
    size = tuple(int(s) for s in size)
    if len(size) != 4:
        raise NotImplementedError(
            f"affine_grid: only 4-d sizes (N, C, H, W) are supported in chainrule, got {size}"
        )
    n, _, h, w = size
    if theta.dtype.kind != "f":
        raise ValueError(f"affine_grid: expected theta to be floating point, got {theta.dtype}")
    if tuple(theta.shape) != (n, 2, 3):
        raise ValueError(
            f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {list(size)}. "
            f"Got {list(theta.shape)}."
        )
    dtype = np.dtype(theta.dtype)
    base = np.empty((h, w, 3), dtype=dtype)
    base[..., 0] = _linspace_from_neg_one(w, align_corners, dtype)[None, :]
    base[..., 1] = _linspace_from_neg_one(h, align_corners, dtype)[:, None]
    base[..., 2] = 1
    flat = Tensor._wrap(np.broadcast_to(base.reshape(1, h * w, 3), (n, h * w, 3)).copy())
    return (flat @ theta.transpose(1, 2)).reshape(n, h, w, 2)


def _default_align_corners(align_corners, fn):
    if align_corners is None:
        warnings.warn(
            f"Default {fn} behavior has changed to align_corners=False since 1.3.0. Please "
            "specify align_corners=True if the old behavior is desired. See the documentation "
            f"of {fn} for details.",
            UserWarning,
            stacklevel=3,
        )
        return False
    return bool(align_corners)


def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    flips = np.floor(coord.detach().numpy() / span)
    extra = coord - Tensor._wrap((flips * span).astype(coord.dtype))
    return where(Tensor._wrap(flips % 2 == 0), extra + low, span - extra + low)


def _source_coords(coord, size, padding_mode, align_corners):
    coord = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        coord = coord.clamp(0, size - 1)
    elif padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        coord = coord.clamp(0, size - 1)
    return coord


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Sample ``input`` (N, C, H, W) at the points of ``grid`` (N, Ho, Wo, 2), given as (x, y)
    in [-1, 1]: -> (N, C, Ho, Wo).

    ``mode`` 'bilinear' or 'nearest' (round half to even, as PyTorch; the grid then gets no
    gradient, where PyTorch gives zeros); ``padding_mode`` 'zeros' (points outside read 0),
    'border' (clamped to the edge) or 'reflection'. ``align_corners`` None warns and means
    False, as in PyTorch.

    Example:
        >>> img = cr.arange(4.0).reshape(1, 1, 2, 2)
        >>> F.grid_sample(img, cr.zeros(1, 1, 1, 2), align_corners=True)   # the centre
        tensor([[[[1.5]]]])
    """
    x, grid = as_tensor(input), as_tensor(grid)
    if mode not in ("bilinear", "nearest"):
        raise NotImplementedError(
            f"grid_sample: mode {mode!r} is not implemented in chainrule (bilinear, nearest)"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
            f"'reflection', but got: '{padding_mode}'"
        )
    if x.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != x.shape[0]:
        raise ValueError(
            "grid_sample: expected input (N, C, H, W) and grid (N, Ho, Wo, 2), got "
            f"{tuple(x.shape)} and {tuple(grid.shape)}"
        )
    align_corners = _default_align_corners(align_corners, "grid_sample")
    n, _, h, w = x.shape
    ix = _source_coords(grid[..., 0], w, padding_mode, align_corners)
    iy = _source_coords(grid[..., 1], h, padding_mode, align_corners)
    pixels = x.permute(0, 2, 3, 1)  # (N, H, W, C): one gather picks every channel
    batch = np.arange(n).reshape(n, 1, 1)

    def read(yy, xx):
        inside = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
        values = pixels[batch, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
        return values, inside

    if mode == "nearest":
        xx = np.rint(ix.detach().numpy()).astype(np.int64)
        yy = np.rint(iy.detach().numpy()).astype(np.int64)
        values, inside = read(yy, xx)
        out = values * Tensor._wrap(inside[..., None].astype(x.dtype))
        return out.permute(0, 3, 1, 2)
    x0 = np.floor(ix.detach().numpy())
    y0 = np.floor(iy.detach().numpy())
    x0t, y0t = Tensor._wrap(x0.astype(x.dtype)), Tensor._wrap(y0.astype(x.dtype))
    # weights of the four neighbours, linear in (ix, iy): their gradient is the grid's
    wx1, wy1 = ix - x0t, iy - y0t
    wx0, wy0 = (x0t + 1) - ix, (y0t + 1) - iy
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    out = None
    for yy, xx, weight in (
        (y0, x0, wx0 * wy0),
        (y0, x0 + 1, wx1 * wy0),
        (y0 + 1, x0, wx0 * wy1),
        (y0 + 1, x0 + 1, wx1 * wy1),
    ):
        values, inside = read(yy, xx)
        term = values * (weight * Tensor._wrap(inside.astype(x.dtype))).unsqueeze(-1)
        out = term if out is None else out + term
    return out.permute(0, 3, 1, 2)
