"""``dropout1d`` / ``dropout2d`` / ``dropout3d``: zero whole channels (feature maps) at random, as torch."""

import warnings

import numpy as np

from ...random import default_generator
from ...tensor import Tensor
from ._activation import _in_place


def _channel_dropout(input, p, training, batched_ndim, name, inplace=False, strict=True):
    """``strict=False``: other dims are read as unbatched (channels in dim 0), as dropout3d."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if strict and input.ndim not in (batched_ndim - 1, batched_ndim):
        raise RuntimeError(
            f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but "
            f"received a {input.ndim}D input of shape {tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    # One draw per (sample, channel), broadcast over the spatial dims.
    lead = 2 if input.ndim == batched_ndim else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    if p == 1.0:
        mask = np.zeros(shape, input.dtype)
    else:
        keep = default_generator().random(shape) >= p
        mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    if inplace:  # PyTorch's: the result is written into input, which is returned
        return _in_place(input, name + "_", lambda x: x * Tensor._wrap(mask))
    return input * Tensor._wrap(mask)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero each channel of (N, C, L) or (C, L) with probability ``p``; scale kept ones by
    1 / (1 - p). Identity when ``training`` is False. Shape: same as the input.

    Example:
        >>> y = F.dropout1d(cr.ones(2, 3, 4), 0.5)
        >>> bool(((y == 0) | (y == 2)).all())  # kept entries scaled by 1 / (1 - p)
        True
        >>> bool((y.numpy() == y.numpy()[:, :, :1]).all())  # whole channels
        True
    """
    return _channel_dropout(input, p, training, 3, "dropout1d", inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero each channel of (N, C, H, W) or (C, H, W) with probability ``p``; scale kept ones
    by 1 / (1 - p). Identity when ``training`` is False. Shape: same as the input.

    A 3-D input is read as (N, C, L), with a warning, as torch does.

    Example:
        >>> F.dropout2d(cr.ones(2, 3, 4, 4), 0.5, training=False).sum()
        tensor(96.)
        >>> y = F.dropout2d(cr.ones(2, 3, 4, 4), 0.5)
        >>> bool((y.numpy() == y.numpy()[:, :, :1, :1]).all())  # whole channels
        True
    """
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
            "1D dropout behavior is desired - input is interpreted as shape (N, C, L). "
            "Use dropout1d for that.",
            stacklevel=2,
        )
        return _channel_dropout(input, p, training, 3, "dropout2d", inplace)
    return _channel_dropout(input, p, training, 4, "dropout2d", inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero each channel (a 3-d feature map) of (N, C, D, H, W) or (C, D, H, W) with probability
    ``p``; scale kept ones by 1 / (1 - p). Identity when ``training`` is False.
    Shape: same as the input. Other inputs are read as unbatched (channels in dim 0), with a
    warning, as torch does.

    Example:
        >>> y = F.dropout3d(cr.ones(2, 3, 2, 2, 2), 0.5)
        >>> bool((y.numpy() == y.numpy()[:, :, :1, :1, :1]).all())  # whole channels
        True
    """
    if input.ndim not in (4, 5):  # torch: deprecated, channels in dim 0, with this warning
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated "
            "and will result in an error in a future release. To retain the behavior "
            "and silence this warning, please use dropout instead. Note that dropout3d "
            "exists to provide channel-wise dropout on inputs with 3 spatial dimensions, "
            "a channel dimension, and an optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
    return _channel_dropout(input, p, training, 5, "dropout3d", inplace, strict=False)
