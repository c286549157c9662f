"""Resizing: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic, area),
``pixel_shuffle`` and ``pixel_unshuffle``.

Interpolation is built from recorded ops (``index_select``, products, sums), so its gradients of
any order come from theirs. Source positions follow PyTorch's rules exactly:

* nearest: ``src = min(floor(dst * scale), in - 1)``
* nearest-exact: ``src = min(floor((dst + 0.5) * scale), in - 1)``
* (bi)linear, ``align_corners=True``: ``src = dst * (in - 1) / (out - 1)``
* (bi)linear, ``align_corners=False``: ``src = max((dst + 0.5) * scale - 0.5, 0)``
* bicubic: as (bi)linear without the clamp at 0, then Keys' cubic convolution (A = -0.75) over
  the four neighbours ``floor(src) - 1 .. floor(src) + 2``, clamped to the border
* area: adaptive average pooling to the output size

where ``scale = 1 / scale_factor`` when a scale factor is given (and not recomputed), else
``in / out``.
"""

import math

import numpy as np

from ...ops._util import as_tensor

_MODES = {
    "nearest": None,
    "nearest-exact": None,
    "area": None,
    "linear": 1,
    "bilinear": 2,
    "bicubic": 2,
}
_CUBIC_A = -0.75


def _per_dim(value, n, name):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(
                f"interpolate: {name} must have {n} entries for this input, got {value!r}"
            )
        return tuple(value)
    return (value,) * n


def _sizes_and_scales(in_sizes, size, scale_factor, recompute):
    n = len(in_sizes)
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if size is not None:
        out = tuple(int(s) for s in _per_dim(size, n, "size"))
        return out, tuple(i / o for i, o in zip(in_sizes, out, strict=True))
    factors = tuple(float(f) for f in _per_dim(scale_factor, n, "scale_factor"))
    if min(factors) <= 0:
        raise ValueError(f"interpolate: scale_factor must be positive, got {scale_factor!r}")
    out = tuple(int(math.floor(i * f)) for i, f in zip(in_sizes, factors, strict=True))
    if recompute:
        return out, tuple(i / o for i, o in zip(in_sizes, out, strict=True))
    return out, tuple(1.0 / f for f in factors)


def _nearest(x, dim, n_in, n_out, scale, exact=False):
    dst = np.arange(n_out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    src = np.minimum(np.floor(dst * np.float32(scale)).astype(np.int64), n_in - 1)
    return x.index_select(dim, as_tensor(src))


def _cubic_weights(t):
    """Keys' cubic convolution weights of the four neighbours at fractional offset ``t``."""
    a = _CUBIC_A

    def near(d):  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _cubic(x, dim, n_in, n_out, scale, align_corners):
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = (dst + 0.5) * scale - 0.5
    base = np.floor(src).astype(np.int64)
    shape = [1] * x.ndim
    shape[dim] = n_out
    out = None
    for k, w in enumerate(_cubic_weights(src - base)):
        index = np.clip(base - 1 + k, 0, n_in - 1)
        term = x.index_select(dim, as_tensor(index)) * as_tensor(w.astype(x.dtype).reshape(shape))
        out = term if out is None else out + term
    return out


def _linear(x, dim, n_in, n_out, scale, align_corners):
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = (src - i0).astype(x.dtype)
    shape = [1] * x.ndim
    shape[dim] = n_out
    lam = lam.reshape(shape)
    lo, hi = x.index_select(dim, as_tensor(i0)), x.index_select(dim, as_tensor(i1))
    return lo * as_tensor(1 - lam) + hi * as_tensor(lam)


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """Resize the spatial dims of (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor``.

    ``mode`` is 'nearest', 'nearest-exact', 'area', 'linear' (3-d input), 'bilinear' or
    'bicubic' (4-d input); ``align_corners`` applies to the linear and cubic modes only, as in
    PyTorch.

    Example:
        >>> F.interpolate(cr.tensor([[[1.0, 2.0]]]), scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
        >>> F.interpolate(cr.ones(1, 3, 4, 4), size=(8, 6), mode="bilinear").shape
        (1, 3, 8, 6)
    """
    x = as_tensor(input)
    if mode not in _MODES:
        raise NotImplementedError(
            f"interpolate: mode {mode!r} is not implemented in chainrule "
            f"(available: {sorted(_MODES)})"
        )
    spatial = x.ndim - 2
    if spatial not in (1, 2):
        raise ValueError(
            f"interpolate: expected a 3-d (N, C, L) or 4-d (N, C, H, W) input, "
            f"got shape {tuple(x.shape)}"
        )
    if _MODES[mode] is not None and _MODES[mode] != spatial:
        raise ValueError(
            f"interpolate: mode {mode!r} needs a {_MODES[mode] + 2}-d input, "
            f"got shape {tuple(x.shape)}"
        )
    if align_corners is not None and mode in ("nearest", "nearest-exact", "area"):
        raise ValueError(
            "interpolate: align_corners can only be set with the linear and cubic modes"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented in chainrule")
    out_sizes, scales = _sizes_and_scales(x.shape[2:], size, scale_factor, recompute_scale_factor)
    if min(out_sizes) < 1:
        raise ValueError(f"interpolate: output size {out_sizes} must be positive")
    if mode == "area":
        from ._pool import adaptive_avg_pool1d, adaptive_avg_pool2d

        pool = adaptive_avg_pool1d if spatial == 1 else adaptive_avg_pool2d
        return pool(x, out_sizes if spatial == 2 else out_sizes[0])
    for k, (n_in, n_out, scale) in enumerate(zip(x.shape[2:], out_sizes, scales, strict=True)):
        dim = k + 2
        if mode in ("nearest", "nearest-exact"):
            x = _nearest(x, dim, n_in, n_out, scale, exact=mode == "nearest-exact")
        elif mode == "bicubic":
            x = _cubic(x, dim, n_in, n_out, scale, bool(align_corners))
        else:
            x = _linear(x, dim, n_in, n_out, scale, bool(align_corners))
    return x


def pixel_shuffle(input, upscale_factor):
    """(..., C*r*r, H, W) -> (..., C, H*r, W*r), the sub-pixel convolution's rearrangement.

    Example:
        >>> F.pixel_shuffle(cr.ones(1, 8, 3, 3), 2).shape
        (1, 2, 6, 6)
    """
    x, r = as_tensor(input), int(upscale_factor)
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ValueError(f"pixel_shuffle: expected (..., C*{r * r}, H, W), got {tuple(x.shape)}")
    *lead, c, h, w = x.shape
    x = x.reshape(-1, c // (r * r), r, r, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(..., C, H*r, W*r) -> (..., C*r*r, H, W), the inverse of ``pixel_shuffle``.

    Example:
        >>> F.pixel_unshuffle(cr.ones(1, 2, 6, 6), 2).shape
        (1, 8, 3, 3)
    """
    x, r = as_tensor(input), int(downscale_factor)
    if x.ndim < 3 or x.shape[-1] % r or x.shape[-2] % r:
        raise ValueError(f"pixel_unshuffle: H and W of {tuple(x.shape)} must be divisible by {r}")
    *lead, c, h, w = x.shape
    x = x.reshape(-1, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(*lead, c * r * r, h // r, w // r)
