"""Instance normalization: every (sample, channel) plane normalized on its own (style transfer).

The per-plane statistics are those of ``layer_norm`` over the spatial dims, so the fused
layer-norm primitive does the work (and gives exact gradients of any order).
"""

from ...autograd.grad_mode import no_grad
from ...ops._util import as_tensor
from ._norm import layer_norm


def instance_norm(
    input,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats=True,
    momentum=0.1,
    eps=1e-5,
):
    """Normalize each (n, c) plane of (N, C, *spatial) over its spatial dims.

    With ``use_input_stats`` the plane's own (biased) statistics are used and, when given,
    ``running_mean`` / ``running_var`` (C,) are updated in place with the batch averages (the
    variance unbiased), as in PyTorch; otherwise the running statistics normalize.
    ``weight`` / ``bias`` (C,) scale and shift per channel.

    Example:
        >>> y = F.instance_norm(cr.tensor([[[1.0, 3.0], [0.0, 10.0]]]))
        >>> y
        tensor([[[-1.,  1.],
                 [-1.,  1.]]])
    """
    x = as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected (N, C, *spatial) input, got {tuple(x.shape)}")
    spatial = tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * len(spatial)
    if use_input_stats:
        y = layer_norm(x, tuple(x.shape[2:]), eps=eps)
        if running_mean is not None or running_var is not None:
            with no_grad():
                plane = x.detach()
                count = 1
                for d in x.shape[2:]:
                    count *= d
                mean = plane.mean(dim=spatial)
                var = plane.var(dim=spatial, unbiased=False) * (count / max(count - 1, 1))
                if running_mean is not None:
                    running_mean.mul_(1 - momentum).add_(mean.mean(dim=0) * momentum)
                if running_var is not None:
                    running_var.mul_(1 - momentum).add_(var.mean(dim=0) * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "instance_norm: use_input_stats=False needs running_mean and running_var"
            )
        y = (x - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    if weight is not None:
        y = y * as_tensor(weight).reshape(shape)
    if bias is not None:
        y = y + as_tensor(bias).reshape(shape)
    return y
