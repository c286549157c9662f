"""Resizing: ``interpolate`` (nearest, linear, bilinear), ``pixel_shuffle`` and ``pixel_unshuffle``.

Interpolation is built from recorded ops (``index_select``, products, sums), so its gradients of
any order come from theirs. Source positions follow PyTorch's rules exactly:

* nearest: ``src = min(floor(dst * scale), in - 1)``
* (bi)linear, ``align_corners=True``: ``src = dst * (in - 1) / (out - 1)``
* (bi)linear, ``align_corners=False``: ``src = max((dst + 0.5) * scale - 0.5, 0)``

where ``scale = 1 / scale_factor`` when a scale factor is given (and not recomputed), else
``in / out``.
"""

import math

import numpy as np

from ...ops._util import as_tensor

_MODES = {"nearest": None, "linear": 1, "bilinear": 2}


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


def _nearest(x, dim, n_in, n_out, scale):
    src = np.minimum(np.floor(np.arange(n_out) * np.float32(scale)).astype(np.int64), n_in - 1)
    return x.index_select(dim, as_tensor(src))


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

    ``mode`` is 'nearest', 'linear' (3-d input) or 'bilinear' (4-d input); ``align_corners``
    applies to the linear modes only, as in PyTorch.

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
    if align_corners is not None and mode == "nearest":
        raise ValueError("interpolate: align_corners can only be set with the linear modes")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented in chainrule")
    out_sizes, scales = _sizes_and_scales(x.shape[2:], size, scale_factor, recompute_scale_factor)
    if min(out_sizes) < 1:
        raise ValueError(f"interpolate: output size {out_sizes} must be positive")
    for k, (n_in, n_out, scale) in enumerate(zip(x.shape[2:], out_sizes, scales, strict=True)):
        dim = k + 2
        if mode == "nearest":
            x = _nearest(x, dim, n_in, n_out, scale)
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
