"""``InstanceNorm1d`` / ``InstanceNorm2d`` / ``InstanceNorm3d``: each (sample, channel) normalized over its own
positions. PyTorch's defaults: no affine parameters, no running statistics."""

import numpy as np

from ...creation import ones, tensor, zeros
from ...devices import check_device
from .. import init
from ..functional._conv import _DIMS
from ..functional._instance_norm import instance_norm
from ..module import Module
from ..parameter import Parameter


class _InstanceNorm(Module):
    spatial = 2

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=False,
        track_running_stats=False,
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
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        dims = self.spatial + 2
        if input.ndim == dims - 1:  # unbatched (C, *spatial)
            return self.forward(input.unsqueeze(0)).squeeze(0)
        if input.ndim != dims or input.shape[1] != self.num_features:
            raise ValueError(
                f"{self._get_name()}({self.num_features}): expected input of shape "
                f"(N, {self.num_features}, {_DIMS[self.spatial]}), "
                f"got {tuple(input.shape)}"
            )
        use_input_stats = self.training or not self.track_running_stats
        # PyTorch keeps num_batches_tracked at 0 for instance norm (momentum is always used)
        return instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            use_input_stats,
            self.momentum,
            self.eps,
        )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L). Example: ``y = cr.nn.InstanceNorm1d(3)(cr.randn(2, 3, 10))``."""

    spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) (style transfer).

    Example::

        norm = cr.nn.InstanceNorm2d(32, affine=True)
        y = norm(cr.randn(4, 32, 16, 16))
    """

    spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W).

    Example::

        y = cr.nn.InstanceNorm3d(4)(cr.randn(2, 4, 3, 5, 5))   # (2, 4, 3, 5, 5)
    """

    spatial = 3
