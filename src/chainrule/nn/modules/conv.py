"""``Conv1d``, ``Conv2d`` and ``Conv3d``: convolution layers with PyTorch's parameters and initialisation."""

from ...creation import empty
from ...devices import check_device
from .. import init
from ..functional import _conv as C
from ..module import Module
from ..parameter import Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(v, n, name, layer):
    v = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(v) != n or not all(isinstance(i, int) and i >= 0 for i in v):
        raise ValueError(f"{layer}: {name} must be a non-negative int or a {n}-tuple, got {v!r}")
    return v


class _ConvNd(Module):
    """Shared parts of Conv1d/Conv2d; ``n`` is the number of spatial dims."""

    n = 2

    def __init__(
        self,
        in_channels,
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
        super().__init__()
        check_device(device, type(self).__name__)
        layer = type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{layer}: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"{layer}: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(
                f"{layer}: padding must be 'same', 'valid', an int or a tuple, got {padding!r}"
            )
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(kernel_size, self.n, "kernel_size", layer)
        self.stride = _ntuple(stride, self.n, "stride", layer)
        self.padding = (
            padding if isinstance(padding, str) else _ntuple(padding, self.n, "padding", layer)
        )
        self.dilation = _ntuple(dilation, self.n, "dilation", layer)
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError(f"{layer}: padding='same' is not supported for strided convolutions")
        self.groups, self.padding_mode = int(groups), padding_mode
        self.weight = Parameter(
            empty(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype)
        )
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) weights, U(+-1/sqrt(fan_in)) bias."""
        init.default_layer_init_(self.weight, self.bias)

    def _check_input(self, input):
        dims = f"{self.in_channels}, {C._DIMS[self.n]}"
        if (
            input.ndim not in (self.n + 1, self.n + 2)
            or input.shape[-self.n - 1] != self.in_channels
        ):
            raise ValueError(
                f"{self._get_name()}({self.extra_repr()}): expected input of shape "
                f"(N, {dims}) or ({dims}), got {tuple(input.shape)}"
            )

    def _explicit_padding(self):
        """Per spatial dim (before, after) padding: what F.pad adds for non-zero padding modes."""
        if self.padding == "same":
            return [
                C._same_padding(k, d) for k, d in zip(self.kernel_size, self.dilation, strict=True)
            ]
        if self.padding == "valid":
            return [(0, 0)] * self.n
        return [(p, p) for p in self.padding]

    def forward(self, input):
        self._check_input(input)
        fn = {1: C.conv1d, 2: C.conv2d, 3: C.conv3d}[self.n]
        padding = self.padding
        if self.padding_mode != "zeros":
            input = C.pad_input(input, self._explicit_padding(), self.padding_mode)
            padding = 0
        return fn(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self):
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self.n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self.n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-d convolution layer: (N, C_in, H, W) -> (N, C_out, Ho, Wo).

    Parameters ``weight`` (C_out, C_in/groups, kh, kw) and ``bias`` (C_out,), initialised as in
    PyTorch. ``padding`` is an int, a pair, 'same' or 'valid'; ``padding_mode`` one of 'zeros',
    'reflect', 'replicate', 'circular'.

    Example::

        conv = cr.nn.Conv2d(3, 16, kernel_size=3, padding=1)
        y = conv(cr.randn(8, 3, 32, 32))       # (8, 16, 32, 32)
    """

    n = 2


class Conv1d(_ConvNd):
    """1-d convolution layer: (N, C_in, L) -> (N, C_out, Lo).

    Parameters ``weight`` (C_out, C_in/groups, k) and ``bias`` (C_out,), initialised as in PyTorch.

    Example::

        conv = cr.nn.Conv1d(2, 6, kernel_size=5, padding="same")
        y = conv(cr.randn(4, 2, 50))           # (4, 6, 50)
    """

    n = 1


class Conv3d(_ConvNd):
    """3-d convolution layer: (N, C_in, D, H, W) -> (N, C_out, Do, Ho, Wo); see ``F.conv3d``.

    Parameters ``weight`` (C_out, C_in/groups, kd, kh, kw) and ``bias`` (C_out,), initialised as
    in PyTorch.

    Example::

        conv = cr.nn.Conv3d(1, 8, kernel_size=3, padding=1)
        y = conv(cr.randn(2, 1, 16, 16, 16))   # (2, 8, 16, 16, 16)
    """

    n = 3
