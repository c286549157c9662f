"""Lazy layers: ``LazyLinear``, ``LazyConv1d``, ``LazyConv2d`` infer their input size from the
first batch, then become the plain layer (``type(layer) is Linear`` afterwards), as in torch.

Until that first call the weight is an empty placeholder Parameter; it is filled *in place*, so
an optimizer built before the first call still holds the real parameters. Run one batch before
``load_state_dict`` (PyTorch recommends the same dry run).
"""

from ...creation import empty
from .conv import Conv1d, Conv2d
from .linear import Linear


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

    def forward(self, input):
        plain = self.cls_to_become
        if self._uninitialized:
            self._materialize(input)
            self._uninitialized = False
            self.reset_parameters()
            self.__class__ = plain
        return plain.forward(self, input)


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

    def _materialize(self, input):
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


__all__ = ["LazyLinear", "LazyConv1d", "LazyConv2d"]
