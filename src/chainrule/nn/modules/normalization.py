"""Normalization layers: ``LayerNorm``, ``BatchNorm1d/2d/3d`` (fused primitives),
``GroupNorm`` and ``RMSNorm``."""

import numpy as np

from ...creation import ones, tensor, zeros
from ...devices import check_device
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter


class LayerNorm(Module):
    """Normalize each sample over its last dims: ``(x - mean) / sqrt(var + eps) * weight + bias``.

    Shapes: input (*, *normalized_shape) -> same; weight and bias ``normalized_shape``
    (ones and zeros at first). Example: ``LayerNorm(64)(x)`` for x (N, T, 64).
    """

    def __init__(
        self,
        normalized_shape,
        eps=1e-5,
        elementwise_affine=True,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        weight = Parameter(ones(self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        self.register_parameter("weight", weight)
        self.register_parameter(
            "bias",
            Parameter(zeros(self.normalized_shape, dtype=dtype))
            if elementwise_affine and bias
            else None,
        )

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d: affine parameters, running statistics and their update."""

    _input_dims = ()
    _layout = ""

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter(
            "weight", Parameter(ones(self.num_features, dtype=dtype)) if affine else None
        )
        self.register_parameter(
            "bias", Parameter(zeros(self.num_features, dtype=dtype)) if affine and bias else None
        )
        if track_running_stats:
            self.register_buffer("running_mean", zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, input):
        if input.ndim not in self._input_dims:
            raise ValueError(
                f"{type(self).__name__}: expected {self._layout} input, got shape "
                f"{tuple(input.shape)}"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): input of shape "
                f"{tuple(input.shape)} has {input.shape[1]} channels in dim 1"
            )

    def _running_factor(self):
        """The running statistics' update factor for this forward; in training with tracked
        statistics, counts the batch first (``momentum=None``: 1 / batches so far)."""
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._bump_version()
            if self.momentum is None:  # cumulative moving average over all batches so far
                factor = 1.0 / float(self.num_batches_tracked._data)
        return factor

    def forward(self, input):
        self._check_input(input)
        factor = self._running_factor()
        use_batch_stats = self.training or self.running_mean is None
        # Running stats are updated only when they are tracked and batch stats are used.
        update = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if update else None,
            self.running_var if update else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs over N (and L), per channel C.

    In training the batch statistics normalize and update ``running_mean``/``running_var``
    (``momentum``; None = cumulative average; unbiased variance), in eval the running ones
    normalize. Example: ``BatchNorm1d(16)(x)`` for x (N, 16).
    """

    _input_dims = (2, 3)
    _layout = "2D (N, C) or 3D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs per channel C (see BatchNorm1d)."""

    _input_dims = (4,)
    _layout = "4D (N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch normalization of (N, C, D, H, W) inputs per channel C (see BatchNorm1d).

    Example::

        y = cr.nn.BatchNorm3d(4)(cr.randn(2, 4, 3, 5, 5))   # (2, 4, 3, 5, 5)
    """

    _input_dims = (5,)
    _layout = "5D (N, C, D, H, W)"


class GroupNorm(Module):
    """Normalize over groups of channels: input (N, C, *) is split into ``num_groups`` groups of
    C / num_groups channels; each (sample, group) is normalized by its own mean and (biased)
    variance, then scaled by the per-channel ``weight`` (ones) and shifted by ``bias`` (zeros).

    Example::

        gn = nn.GroupNorm(4, 32)
        y = gn(cr.randn(8, 32, 16, 16))      # (8, 32, 16, 16)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None):
        super().__init__()
        check_device(device, type(self).__name__)
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        self.register_parameter(
            "weight", Parameter(ones(self.num_channels, dtype=dtype)) if affine else None
        )
        self.register_parameter(
            "bias", Parameter(zeros(self.num_channels, dtype=dtype)) if affine else None
        )

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def forward(self, input):
        shape = tuple(input.shape)
        if input.ndim < 2 or shape[1] != self.num_channels:
            raise RuntimeError(
                f"GroupNorm({self.extra_repr()}): expected input of shape "
                f"(N, {self.num_channels}, *), got {shape}"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class RMSNorm(Module):
    """Root-mean-square normalization over the last dims: ``x / sqrt(mean(x**2) + eps) * weight``
    (Zhang & Sennrich, 2019); ``eps=None`` means ``finfo(x.dtype).eps``. See ``F.rms_norm``.

    Shapes: input (*, *normalized_shape) -> same; weight ``normalized_shape`` (ones at first).

    Example::

        norm = nn.RMSNorm(64)
        y = norm(cr.randn(4, 7, 64))      # (4, 7, 64)
    """

    def __init__(
        self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        weight = Parameter(ones(self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        self.register_parameter("weight", weight)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class LocalResponseNorm(Module):
    """Normalization across neighbouring channels (AlexNet); see ``F.local_response_norm``.

    Shapes: input (N, C, *) -> same.

    Example::

        lrn = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
        y = lrn(cr.randn(8, 96, 27, 27))
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
