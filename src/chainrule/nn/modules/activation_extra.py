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
        if self.inplace:
            return type(self).fn(input, inplace=True)
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


class CELU(Module):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``. Example: ``cr.nn.CELU(0.5)(x)``."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return A.celu(input, self.alpha, self.inplace)


class GLU(Module):
    """Gated linear unit over ``dim``: (…, 2n, …) -> (…, n, …). Example: ``cr.nn.GLU()(x)``."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return A.glu(input, self.dim)


class Softshrink(Module):
    """Soft thresholding by ``lambd``. Example: ``cr.nn.Softshrink(0.5)(x)``."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return A.softshrink(input, self.lambd)


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0. Example: ``cr.nn.Hardshrink(0.5)(x)``."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return A.hardshrink(input, self.lambd)


class Tanhshrink(_Elementwise):
    """``x - tanh(x)``. Example: ``cr.nn.Tanhshrink()(x)``."""

    fn = staticmethod(A.tanhshrink)


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``. Example: ``cr.nn.Threshold(0.1, 20)(x)``."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return A.threshold(input, self.threshold, self.value, self.inplace)


class RReLU(Module):
    """Randomized leaky ReLU: in training, a slope from U(lower, upper) per element for
    ``x <= 0``; in eval the slope ``(lower + upper) / 2``. See ``F.rrelu``.

    Example::

        act = cr.nn.RReLU(0.1, 0.3)
        y = act(cr.randn(8, 16))
    """

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input):
        return A.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}" + (
            ", inplace=True" if self.inplace else ""
        )


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) input, at every position.

    Example::

        probs = cr.nn.Softmax2d()(cr.randn(2, 4, 8, 8))    # sums to 1 over dim 1
    """

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D instead "
                f"(shape {tuple(input.shape)})"
            )
        return A.softmax(input, -3)
