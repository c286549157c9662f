"""``Linear``: the fully connected layer ``y = x W^T + b``; ``Bilinear``: ``y = x1^T A x2 + b``."""

import math

from ...creation import empty
from ...devices import check_device
from ...ops import linear
from .. import init
from ..functional._misc import bilinear
from ..module import Module
from ..parameter import Parameter


class Linear(Module):
    """``y = x @ weight.T + bias`` with PyTorch's layout and default initialisation.

    Shapes: input (*, in_features) -> output (*, out_features); ``weight`` (out_features,
    in_features), ``bias`` (out_features,). Weights start as ``kaiming_uniform_(a=sqrt(5))``,
    i.e. U(-1/sqrt(in), 1/sqrt(in)), and so does the bias. Uses the engine's fused ``linear``.

    Example::

        layer = cr.nn.Linear(4, 3)
        y = layer(cr.randn(8, 4))      # (8, 3)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        check_device(device, type(self).__name__)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(empty(self.out_features, self.in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        shape = input._data.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}, out_features="
                f"{self.out_features}): input of shape {tuple(shape)} does not "
                f"end with {self.in_features} features"
            )
        return linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Bilinear(Module):
    """``y[..., o] = x1 @ weight[o] @ x2 + bias[o]`` (see ``F.bilinear``).

    Shapes: input1 (*, in1_features), input2 (*, in2_features) -> (*, out_features); ``weight``
    (out_features, in1_features, in2_features), ``bias`` (out_features,), both U(+-1/sqrt(in1))
    at first, as in PyTorch.

    Example::

        layer = cr.nn.Bilinear(4, 3, 5)
        y = layer(cr.randn(8, 4), cr.randn(8, 3))      # (8, 5)
    """

    def __init__(
        self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        self.weight = Parameter(
            empty(self.out_features, self.in1_features, self.in2_features, dtype=dtype)
        )
        if bias:
            self.bias = Parameter(empty(self.out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
