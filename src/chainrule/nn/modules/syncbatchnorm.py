"""``SyncBatchNorm``: batch normalization whose statistics are those of the global batch, the
union of every rank's share (data-parallel training with ``chainrule.distributed``).

In training, each rank sums its share per channel (sum, sum of squares, count) and one
all-reduce gives every rank the global mean and (biased) variance, which normalize as
BatchNorm would on the concatenated batch. The backward needs two global sums per channel
(of ``dy`` and of ``dy * xhat``): a second all-reduce. Written as one fused op with that closed
form, as ``F.batch_norm`` is:

    dx = rstd * weight * (dy - sum(dy) / n - xhat * sum(dy * xhat) / n)

with the sums and ``n`` over all ranks. Each rank backpropagates its own loss, so the input
gradient is that of the *sum* of the ranks' losses, the weight and bias gradients are each
rank's own share; DistributedDataParallel's average of the parameter gradients then gives the
gradient of the mean of the ranks' losses everywhere, as in PyTorch.
"""

import numpy as np

from ...autograd.engine import record
from ...ops._util import as_tensor
from ...ops.dispatch import is_recorded
from ...tensor import Tensor
from ..functional._norm import _update_running
from .normalization import _BatchNorm


def _world_size():
    """Ranks in the default process group; 1 without one (or without mpi4py)."""
    from ... import distributed as dist

    return dist.get_world_size() if dist.is_initialized() else 1


def _sum_over_ranks(array):
    """All-reduce (sum) a float64 array in place over the default process group."""
    from ... import distributed as dist

    dist.all_reduce(Tensor._wrap(array), op=dist.ReduceOp.SUM)
    return array


class SyncBatchNorm(_BatchNorm):
    """Batch normalization over the global batch of all ranks (inputs (N, C, *), any rank >= 2).

    Same arguments and buffers as ``BatchNorm1d``/``BatchNorm2d``, plus ``process_group``
    (only the default group, None, exists). In training under a process group of more than one
    rank the mean and variance are those of all ranks' inputs together (one all-reduce
    forward, one backward), and the running statistics are updated with the unbiased global
    variance, so they are the same on every rank. Every rank must call forward and backward
    (the collectives wait for all). In eval, or with one rank, or without
    ``init_process_group``, it is exactly ``BatchNorm``. Double backward
    (``create_graph=True``) through the synchronised statistics is not supported.

    Example::

        dist.init_process_group("mpi")
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)   # every BatchNorm*d
        ddp = nn.parallel.DistributedDataParallel(model)
        ddp(x_share).mean().backward()      # x_share: this rank's (N_r, C, H, W)
    """

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        process_group=None,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )
        if process_group is not None:
            raise ValueError(
                "SyncBatchNorm: only the default process group exists in chainrule "
                "(process_group=None)"
            )
        self.process_group = None

    def _check_input(self, input):
        if input.ndim < 2:
            raise ValueError(
                f"SyncBatchNorm: expected at least 2D input (N, C, *), got shape "
                f"{tuple(input.shape)}"
            )
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"SyncBatchNorm({self.num_features}): input of shape {tuple(input.shape)} has "
                f"{input.shape[1]} channels in dim 1"
            )

    def forward(self, input):
        if not self.training or _world_size() == 1:
            return super().forward(input)  # eval, or one rank: BatchNorm itself
        self._check_input(input)
        factor = self._running_factor()
        running = (self.running_mean, self.running_var) if self.track_running_stats else None
        return _sync_batch_norm(as_tensor(input), self.weight, self.bias, running, factor, self.eps)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every ``BatchNorm1d``/``BatchNorm2d`` in ``module`` (recursively) by a
        ``SyncBatchNorm`` that shares its parameters and buffers (same Tensors) and training
        mode. Returns the converted module (a new one when ``module`` itself is a BatchNorm).

        Example::

            net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
            net = nn.SyncBatchNorm.convert_sync_batchnorm(net)   # net[1] is a SyncBatchNorm
        """
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
                bias=module.bias is not None,
            )
            if module.affine:  # the same Parameter objects: an optimizer built before still works
                out.weight = module.weight
                out.bias = module.bias
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                out._buffers[name] = module._buffers[name]
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out


def _sync_batch_norm(x, weight, bias, running, momentum, eps):
    """Training-mode batch norm of x (N_r, C, *) with the statistics of all ranks' inputs."""
    data = x._data
    channels = data.shape[1]
    axes = (0,) + tuple(range(2, data.ndim))
    shape = (1, channels) + (1,) * (data.ndim - 2)
    # sum, sum of squares and count in float64: one all-reduce; float64 keeps
    # E[x^2] - E[x]^2 accurate far beyond float32 inputs' precision
    wide = data.astype(np.float64)
    stats = np.empty(2 * channels + 1)
    stats[:channels] = wide.sum(axis=axes)
    stats[channels:-1] = np.square(wide).sum(axis=axes)
    stats[-1] = data.size // channels if channels else 0
    _sum_over_ranks(stats)
    n = int(stats[-1])
    if n <= 1:
        raise ValueError(
            f"SyncBatchNorm: expected more than 1 value per channel when training, got "
            f"{n} over all ranks (this rank's input {tuple(data.shape)})"
        )
    mean = stats[:channels] / n
    var = np.maximum(stats[channels:-1] / n - mean * mean, 0.0)
    rstd = 1.0 / np.sqrt(var + eps)
    if running is not None:
        _update_running(running[0], mean, momentum)
        _update_running(running[1], var * (n / (n - 1)), momentum)
    xhat = ((wide - mean.reshape(shape)) * rstd.reshape(shape)).astype(data.dtype)
    out = xhat
    inputs = [x]
    if weight is not None:
        out = out * weight._data.reshape(shape)
        inputs.append(weight)
    if bias is not None:
        out = out + bias._data.reshape(shape)
        inputs.append(bias)
    saved = (xhat, rstd.astype(data.dtype).reshape(shape), n, axes, shape, weight is not None)
    return record(
        out.astype(data.dtype, copy=False),
        tuple(inputs),
        _sync_batch_norm_vjp,
        "SyncBatchNorm",
        saved=saved,
        save_output=False,
    )


def _sync_batch_norm_vjp(ctx, g):
    xhat, rstd, n, axes, shape, has_weight = ctx.saved
    if is_recorded(g):
        raise RuntimeError(
            "SyncBatchNorm: double backward (create_graph=True) through the statistics "
            "synchronised across ranks is not supported"
        )
    channels = shape[1]
    sums = np.empty(2 * channels)
    sums[:channels] = g.sum(axis=axes, dtype=np.float64)
    sums[channels:] = (g * xhat).sum(axis=axes, dtype=np.float64)
    grads = [None] * len(ctx.inputs)
    if has_weight and ctx.needs[1]:
        grads[1] = sums[channels:].astype(g.dtype)
    if len(ctx.inputs) == 2 + has_weight and ctx.needs[-1]:  # a bias
        grads[-1] = sums[:channels].astype(g.dtype)
    if ctx.needs[0]:
        _sum_over_ranks(sums)  # every rank's dy takes part in every rank's input gradient
        scale = rstd * ctx.input(1).reshape(shape) if has_weight else rstd
        mean_g = (sums[:channels] / n).astype(g.dtype).reshape(shape)
        mean_gx = (sums[channels:] / n).astype(g.dtype).reshape(shape)
        grads[0] = scale * (g - mean_g - xhat * mean_gx)
    return tuple(grads)
