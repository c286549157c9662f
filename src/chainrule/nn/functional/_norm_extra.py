"""``rms_norm`` and ``group_norm``, built on recorded ops (so every derivative order works).

``group_norm`` is ``layer_norm`` of each (sample, group) row of the input seen as (N, G, -1):
the fused layer-norm primitive does the statistics and their backward.
"""

import numpy as np

from ...ops._util import as_tensor
from ._norm import layer_norm


def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(n) for n in normalized_shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the last ``len(normalized_shape)`` dims::

        y = x / sqrt(mean(x ** 2) + eps) * weight

    ``eps=None`` means ``finfo(input.dtype).eps``, as in PyTorch.
    Shapes: input (*, *normalized_shape); weight ``normalized_shape``; out as input.

    Example:
        >>> F.rms_norm(cr.tensor([[3.0, 4.0], [1.0, -1.0]]), (2,), eps=0.0)
        tensor([[ 0.8485,  1.1314],
                [ 1.    , -1.    ]])
        >>> F.rms_norm(cr.ones(4, 7, 64), [64]).shape
        (4, 7, 64)
    """
    x = as_tensor(input)
    shape = _shape_tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k :]) != shape:
        raise RuntimeError(
            f"rms_norm: input shape {tuple(x.shape)} does not end with normalized_shape {shape}"
        )
    if weight is not None and tuple(weight.shape) != shape:
        raise RuntimeError(
            f"rms_norm: weight shape {tuple(weight.shape)} must equal normalized_shape {shape}"
        )
    if eps is None:
        eps = float(np.finfo(x.dtype).eps) if x.dtype.kind == "f" else float(np.finfo(float).eps)
    dims = tuple(range(x.ndim - k, x.ndim))
    y = x * ((x * x).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * as_tensor(weight)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalize each sample's channels in ``num_groups`` groups (each group by its own mean
    and biased variance), then scale and shift per channel by ``weight`` and ``bias``.

    Shapes: input (N, C, *) with C divisible by ``num_groups``; weight, bias (C,); out as input.

    Example:
        >>> x = cr.tensor([[1.0, 3.0, 10.0, 30.0]])
        >>> F.group_norm(x, 2)
        tensor([[-1.,  1., -1.,  1.]])
        >>> F.group_norm(cr.ones(8, 32, 16, 16), 4).shape
        (8, 32, 16, 16)
    """
    x = as_tensor(input)
    shape = tuple(x.shape)
    if x.ndim < 2:
        raise RuntimeError(f"group_norm: expected input of shape (N, C, *), got {shape}")
    channels = shape[1]
    if num_groups < 1 or channels % num_groups:
        raise RuntimeError(
            f"group_norm: expected the number of channels in the input ({channels}) to be "
            f"divisible by num_groups ({num_groups}), input shape {shape}"
        )
    for what, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (channels,):
            raise RuntimeError(
                f"group_norm: {what} shape {tuple(p.shape)} must be ({channels},) for input {shape}"
            )
    per_group = x.numel() // (shape[0] * num_groups) if shape[0] else 0
    y = layer_norm(x.reshape(shape[0], num_groups, per_group), (per_group,), eps=eps)
    y = y.reshape(shape)
    per_channel = (1, channels) + (1,) * (len(shape) - 2)
    if weight is not None:
        y = y * as_tensor(weight).reshape(per_channel)
    if bias is not None:
        y = y + as_tensor(bias).reshape(per_channel)
    return y


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Normalize each value by its neighbours across channels (AlexNet)::

        y[:, c] = x[:, c] / (k + alpha / size * sum_{c' in window(c)} x[:, c']**2) ** beta

    The window holds ``size`` channels, ``size // 2`` before c and ``(size - 1) // 2`` after,
    zero beyond the ends (as torch: the average over the window is taken with the zeros).
    Shapes: input (N, C, *) with at least 3 dims -> same.

    Example:
        >>> F.local_response_norm(cr.ones(1, 3, 1), size=3, alpha=3.0, beta=1.0, k=0.0)
        tensor([[[0.5   ],
                 [0.3333],
                 [0.5   ]]])
    """
    from ...ops import pad
    from ._pool import avg_pool2d

    x = as_tensor(input)
    if x.ndim < 3:
        raise ValueError(
            f"local_response_norm: expected 3D or higher dimensionality input (got {x.ndim} "
            f"dimensions, shape {tuple(x.shape)})"
        )
    if x.numel() == 0:
        return x
    n, c = x.shape[:2]
    # the channel window as a (size, 1) average pool over (C + pads, rest), zero padded
    sq = (x * x).reshape(n, 1, c, -1)
    sq = pad(sq, (0, 0, size // 2, (size - 1) // 2))
    div = avg_pool2d(sq, (size, 1), stride=1).reshape(x.shape)
    return x / (div * alpha + k) ** beta
