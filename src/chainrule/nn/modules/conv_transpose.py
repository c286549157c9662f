"""``ConvTranspose1d``, ``ConvTranspose2d`` and ``ConvTranspose3d``: learnable upsampling with PyTorch's parameters,
initialisation and state-dict layout (weight (C_in, C_out/groups, *kernel))."""

from ...creation import empty
from ...devices import check_device
from .. import init
from ..functional import _conv_transpose as T
from ..module import Module
from ..parameter import Parameter
from .conv import _ntuple


class _ConvTransposeNd(Module):
    n = 2

    def __init__(
        self,
        in_channels,
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
        super().__init__()
        layer = type(self).__name__
        check_device(device, layer)
        if padding_mode != "zeros":
            raise ValueError(
                f"{layer}: only padding_mode='zeros' is supported (as in PyTorch), "
                f"got {padding_mode!r}"
            )
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{layer}: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must be divisible by groups ({groups})"
            )
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _ntuple(kernel_size, self.n, "kernel_size", layer)
        self.stride = _ntuple(stride, self.n, "stride", layer)
        self.padding = _ntuple(padding, self.n, "padding", layer)
        self.output_padding = _ntuple(output_padding, self.n, "output_padding", layer)
        self.dilation = _ntuple(dilation, self.n, "dilation", layer)
        self.groups, self.padding_mode = int(groups), padding_mode
        self.weight = Parameter(
            empty(in_channels, out_channels // groups, *self.kernel_size, dtype=dtype)
        )
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) on the weight, whose fan-in is computed
        from dim 1 (C_out/groups * kernel), and U(+-1/sqrt(fan_in)) bias."""
        init.default_layer_init_(self.weight, self.bias)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        size = tuple(output_size)[-self.n :]
        pads = []
        for k in range(self.n):
            smallest = (
                (input.shape[-self.n + k] - 1) * self.stride[k]
                - 2 * self.padding[k]
                + self.dilation[k] * (self.kernel_size[k] - 1)
                + 1
            )
            extra = size[k] - smallest
            if not 0 <= extra < max(self.stride[k], self.dilation[k]):
                raise ValueError(
                    f"{self._get_name()}: output_size {tuple(output_size)} is not "
                    f"reachable from input {tuple(input.shape)}"
                )
            pads.append(extra)
        return tuple(pads)

    def forward(self, input, output_size=None):
        if (
            input.ndim not in (self.n + 1, self.n + 2)
            or input.shape[-self.n - 1] != self.in_channels
        ):
            raise ValueError(
                f"{self._get_name()}({self.extra_repr()}): expected input with "
                f"{self.in_channels} channels and {self.n} spatial dims, got "
                f"{tuple(input.shape)}"
            )
        fn = {1: T.conv_transpose1d, 2: T.conv_transpose2d, 3: T.conv_transpose3d}[self.n]
        return fn(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )

    def extra_repr(self):
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self.n:
            s += f", padding={self.padding}"
        if self.output_padding != (0,) * self.n:
            s += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * self.n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution: (N, C_in, H, W) -> (N, C_out, Ho, Wo), with
    ``Ho = (H - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1``.

    Example::

        up = cr.nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
        y = up(cr.randn(8, 64, 7, 7))          # (8, 32, 14, 14)
    """

    n = 2


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution: (N, C_in, L) -> (N, C_out, Lo).

    Example::

        up = cr.nn.ConvTranspose1d(4, 2, 3, stride=2)
        y = up(cr.randn(8, 4, 10))             # (8, 2, 21)
    """

    n = 1


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution: (N, C_in, D, H, W) -> (N, C_out, Do, Ho, Wo); see
    ``F.conv_transpose3d``.

    Example::

        up = cr.nn.ConvTranspose3d(8, 4, 2, stride=2)
        y = up(cr.randn(2, 8, 4, 4, 4))        # (2, 4, 8, 8, 8)
    """

    n = 3
