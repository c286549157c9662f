"""More activation layers: ``PReLU`` (learnable slope), ``Mish``, ``Hardswish``, ``Hardsigmoid``,
``Softmin``."""
from ...creation import full
from ...devices import check_device
from ..functional import _activation_extra as A
from ..module import Module
from ..parameter import Parameter


class PReLU(Module):
    """``x`` where positive, else ``weight * x``; ``weight`` (num_parameters,) starts at ``init``.

    With ``num_parameters > 1`` there is one slope per channel (dim 1 of the input).

    Example::

        act = cr.nn.PReLU(16)
        y = act(cr.randn(8, 16, 5, 5))
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        check_device(device, "PReLU")
        self.num_parameters, self.init = int(num_parameters), float(init)
        self.weight = Parameter(full((self.num_parameters,), self.init, dtype=dtype))

    def reset_parameters(self):
        self.weight.data.fill_(self.init)

    def forward(self, input):
        return A.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class _Elementwise(Module):
    fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).fn(input)


class Mish(_Elementwise):
    """``x * tanh(softplus(x))``. Example: ``y = cr.nn.Mish()(cr.randn(4))``."""

    fn = staticmethod(A.mish)


class Hardswish(_Elementwise):
    """``x * relu6(x + 3) / 6``. Example: ``y = cr.nn.Hardswish()(cr.randn(4))``."""

    fn = staticmethod(A.hardswish)


class Hardsigmoid(_Elementwise):
    """``relu6(x + 3) / 6``. Example: ``y = cr.nn.Hardsigmoid()(cr.randn(4))``."""

    fn = staticmethod(A.hardsigmoid)


class Softmin(Module):
    """``softmax(-x, dim)``. Example: ``p = cr.nn.Softmin(dim=1)(cr.randn(2, 5))``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return A.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
