"""Lazy layers: ``LazyLinear``, ``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d/3d``,
``LazyBatchNorm1d/2d/3d`` and ``LazyInstanceNorm1d/2d/3d`` infer their input size from the first
batch, then become the plain layer (``type(layer) is Linear`` afterwards), as in torch.

Until that first call the weight is an empty placeholder Parameter; it is filled *in place*, so
an optimizer built before the first call still holds the real parameters. Run one batch before
``load_state_dict`` (PyTorch recommends the same dry run).
"""

from ...creation import empty, ones_like, zeros_like
from .conv import Conv1d, Conv2d, Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d


class _LazyMixin:
    cls_to_become = None
    _uninitialized = True  # class default; the materialized layer stops being lazy

    def has_uninitialized_params(self):
        return self._uninitialized

    def reset_parameters(self):
        if not self._uninitialized:
            super().reset_parameters()

    def _fill(self, param, shape):
        param.data = empty(*shape, dtype=param.dtype)

    def forward(self, input, *args, **kwargs):
        plain = self.cls_to_become
        if self._uninitialized:
            self._materialize(input)
            self._uninitialized = False
            self.reset_parameters()
            self.__class__ = plain
        return plain.forward(self, input, *args, **kwargs)


class LazyLinear(_LazyMixin, Linear):
    """A Linear layer whose ``in_features`` is read from the last dim of the first input.

    Example::

        layer = nn.LazyLinear(10)
        y = layer(cr.randn(4, 37))        # now Linear(in_features=37, out_features=10)
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, out_features, bias=bias, device=device, dtype=dtype)

    def _materialize(self, input):
        if input.ndim == 0:
            raise ValueError("LazyLinear: input must have at least one dimension")
        self.in_features = int(input.shape[-1])
        self._fill(self.weight, (self.out_features, self.in_features))
        if self.bias is not None:
            self._fill(self.bias, (self.out_features,))


class _LazyConv(_LazyMixin):
    def __init__(
        self,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        super().__init__(
            0,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device=device,
            dtype=dtype,
        )

    def _in_channels(self, input):
        if input.ndim not in (self.n + 1, self.n + 2):
            raise ValueError(
                f"{type(self).__name__}: expected a {self.n + 1}-D or {self.n + 2}-D "
                f"input, got shape {tuple(input.shape)}"
            )
        in_channels = int(input.shape[-self.n - 1])
        if in_channels % self.groups:
            raise ValueError(
                f"{type(self).__name__}: in_channels ({in_channels}) must be "
                f"divisible by groups ({self.groups})"
            )
        return in_channels

    def _materialize(self, input):
        in_channels = self._in_channels(input)
        self.in_channels = in_channels
        self._fill(self.weight, (self.out_channels, in_channels // self.groups) + self.kernel_size)
        if self.bias is not None:
            self._fill(self.bias, (self.out_channels,))


class LazyConv1d(_LazyConv, Conv1d):
    """A Conv1d whose ``in_channels`` is read from the first input (N, C, L).

    Example::

        conv = nn.LazyConv1d(8, kernel_size=3)
        y = conv(cr.randn(2, 5, 20))       # now Conv1d(5, 8, kernel_size=(3,))
    """

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """A Conv2d whose ``in_channels`` is read from the first input (N, C, H, W).

    Example::

        conv = nn.LazyConv2d(16, kernel_size=3, padding=1)
        y = conv(cr.randn(2, 3, 8, 8))     # now Conv2d(3, 16, kernel_size=(3, 3))
    """

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """A Conv3d whose ``in_channels`` is read from the first input (N, C, D, H, W).

    Example::

        conv = nn.LazyConv3d(8, kernel_size=3)
        y = conv(cr.randn(2, 4, 6, 6, 6))  # now Conv3d(4, 8, kernel_size=(3, 3, 3))
    """

    cls_to_become = Conv3d


class _LazyConvTranspose(_LazyConv):
    def __init__(
        self,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        device=None,
        dtype=None,
    ):
        # _LazyConv's __init__ has the Conv argument order; go to the transposed layer's
        super(_LazyConv, self).__init__(
            0,
            out_channels,
            kernel_size,
            stride,
            padding,
            output_padding,
            groups,
            bias,
            dilation,
            padding_mode,
            device=device,
            dtype=dtype,
        )

    def _materialize(self, input):
        in_channels = self._in_channels(input)
        self.in_channels = in_channels
        # weight (C_in, C_out/groups, *kernel)
        self._fill(self.weight, (in_channels, self.out_channels // self.groups) + self.kernel_size)
        if self.bias is not None:
            self._fill(self.bias, (self.out_channels,))


class LazyConvTranspose1d(_LazyConvTranspose, ConvTranspose1d):
    """A ConvTranspose1d whose ``in_channels`` is read from the first input (N, C, L).

    Example::

        up = nn.LazyConvTranspose1d(2, 3, stride=2)
        y = up(cr.randn(4, 5, 10))         # now ConvTranspose1d(5, 2, ...), y (4, 2, 21)
    """

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTranspose, ConvTranspose2d):
    """A ConvTranspose2d whose ``in_channels`` is read from the first input (N, C, H, W).

    Example::

        up = nn.LazyConvTranspose2d(16, 4, stride=2, padding=1)
        y = up(cr.randn(2, 32, 7, 7))      # now ConvTranspose2d(32, 16, ...), y (2, 16, 14, 14)
    """

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTranspose, ConvTranspose3d):
    """A ConvTranspose3d whose ``in_channels`` is read from the first input (N, C, D, H, W).

    Example::

        up = nn.LazyConvTranspose3d(4, 2, stride=2)
        y = up(cr.randn(1, 8, 3, 3, 3))    # now ConvTranspose3d(8, 4, ...), y (1, 4, 6, 6, 6)
    """

    cls_to_become = ConvTranspose3d


class _LazyNorm(_LazyMixin):
    """Lazy BatchNorm / InstanceNorm: ``num_features`` is read from dim 1 of the first input (the
    channel dim of an unbatched instance-norm input). Torch's defaults for the lazy forms:
    ``affine=True`` and ``track_running_stats=True``, the instance norms included. (Without
    parameters or running statistics torch leaves ``num_features`` at 0; it is set here.)"""

    def __init__(
        self,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def _materialize(self, input):
        spatial = getattr(self, "spatial", None)
        unbatched = spatial is not None and input.ndim == spatial + 1
        if input.ndim < 2:
            raise ValueError(
                f"{type(self).__name__}: expected an input with a channel dim, got shape "
                f"{tuple(input.shape)}"
            )
        self.num_features = int(input.shape[0 if unbatched else 1])
        shape = (self.num_features,)
        for name in ("weight", "bias", "running_mean", "running_var"):
            if getattr(self, name) is not None:
                self._fill(getattr(self, name), shape)
        # InstanceNorm's reset_parameters leaves the running statistics alone: start them here
        if self.running_mean is not None:
            self.running_mean.data = zeros_like(self.running_mean)
            self.running_var.data = ones_like(self.running_var)


class LazyBatchNorm1d(_LazyNorm, BatchNorm1d):
    """A BatchNorm1d whose ``num_features`` is read from the first input (N, C) or (N, C, L).

    Example::

        bn = nn.LazyBatchNorm1d()
        y = bn(cr.randn(8, 16))            # now BatchNorm1d(16)
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNorm, BatchNorm2d):
    """A BatchNorm2d whose ``num_features`` is read from the first input (N, C, H, W).

    Example::

        bn = nn.LazyBatchNorm2d()
        y = bn(cr.randn(8, 16, 5, 5))      # now BatchNorm2d(16)
    """

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNorm, BatchNorm3d):
    """A BatchNorm3d whose ``num_features`` is read from the first input (N, C, D, H, W).

    Example::

        bn = nn.LazyBatchNorm3d()
        y = bn(cr.randn(2, 4, 3, 5, 5))    # now BatchNorm3d(4)
    """

    cls_to_become = BatchNorm3d


class LazyInstanceNorm1d(_LazyNorm, InstanceNorm1d):
    """An InstanceNorm1d whose ``num_features`` is read from the first input (N, C, L).

    Example::

        norm = nn.LazyInstanceNorm1d()
        y = norm(cr.randn(2, 3, 10))       # now InstanceNorm1d(3, affine=True, ...)
    """

    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNorm, InstanceNorm2d):
    """An InstanceNorm2d whose ``num_features`` is read from the first input (N, C, H, W).

    Example::

        norm = nn.LazyInstanceNorm2d()
        y = norm(cr.randn(2, 3, 8, 8))     # now InstanceNorm2d(3, affine=True, ...)
    """

    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNorm, InstanceNorm3d):
    """An InstanceNorm3d whose ``num_features`` is read from the first input (N, C, D, H, W).

    Example::

        norm = nn.LazyInstanceNorm3d()
        y = norm(cr.randn(2, 3, 4, 4, 4))  # now InstanceNorm3d(3, affine=True, ...)
    """

    cls_to_become = InstanceNorm3d


__all__ = [
    "LazyLinear",
    "LazyConv1d",
    "LazyConv2d",
    "LazyConv3d",
    "LazyConvTranspose1d",
    "LazyConvTranspose2d",
    "LazyConvTranspose3d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyBatchNorm3d",
    "LazyInstanceNorm1d",
    "LazyInstanceNorm2d",
    "LazyInstanceNorm3d",
]
