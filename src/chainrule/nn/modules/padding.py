"""Padding layers: ``ReflectionPad1d/2d/3d``, ``ReplicationPad1d/2d/3d``, ``ZeroPad1d/2d/3d``,
``ConstantPad1d/2d/3d``, ``CircularPad1d/2d/3d`` — ``F.pad`` with a fixed mode and PyTorch's
argument order."""

from ..functional import pad
from ..module import Module


class _PadNd(Module):
    n = 2
    mode = "constant"

    def __init__(self, padding, value=0.0):
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self.n)
        padding = tuple(int(p) for p in padding)
        if len(padding) != 2 * self.n:
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or a "
                f"{2 * self.n}-tuple, got {padding!r}"
            )
        self.padding, self.value = padding, value

    def forward(self, input):
        if input.ndim not in (self.n + 1, self.n + 2):
            raise ValueError(
                f"{self._get_name()}: expected a {self.n + 1}-d or {self.n + 2}-d "
                f"input, got shape {tuple(input.shape)}"
            )
        if self.mode == "constant":
            return pad(input, self.padding, mode="constant", value=self.value)
        return pad(input, self.padding, mode=self.mode)

    def extra_repr(self):
        # torch: ConstantPadNd names both fields; ZeroPad and the other modes show the padding
        if self.mode == "constant" and not type(self).__name__.startswith("ZeroPad"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Mirror padding of (N, C, L) by (left, right). Example: ``cr.nn.ReflectionPad1d(2)(x)``."""

    n, mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror padding of (N, C, H, W) by (left, right, top, bottom).

    Example::

        y = cr.nn.ReflectionPad2d(1)(cr.randn(1, 3, 8, 8))     # (1, 3, 10, 10)
    """

    n, mode = 2, "reflect"


class ReplicationPad1d(_PadNd):
    """Edge-repeating padding of (N, C, L). Example: ``cr.nn.ReplicationPad1d(2)(x)``."""

    n, mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Edge-repeating padding of (N, C, H, W). Example: ``cr.nn.ReplicationPad2d(1)(x)``."""

    n, mode = 2, "replicate"


class ConstantPad1d(_PadNd):
    """Padding of (N, C, L) with ``value``. Example: ``cr.nn.ConstantPad1d(2, 3.5)(x)``."""

    n = 1

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ConstantPad2d(_PadNd):
    """Padding of (N, C, H, W) with ``value``. Example: ``cr.nn.ConstantPad2d(1, 0.5)(x)``."""

    n = 2

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ZeroPad1d(_PadNd):
    """Zero padding of (N, C, L). Example: ``cr.nn.ZeroPad1d(2)(x)``."""

    n = 1

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ZeroPad2d(_PadNd):
    """Zero padding of (N, C, H, W). Example: ``cr.nn.ZeroPad2d((1, 1, 2, 0))(x)``."""

    n = 2

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class ReflectionPad3d(_PadNd):
    """Mirror padding of (N, C, D, H, W) by (left, right, top, bottom, front, back).

    Example: ``cr.nn.ReflectionPad3d(1)(cr.randn(1, 2, 4, 4, 4))`` has shape (1, 2, 6, 6, 6).
    """

    n, mode = 3, "reflect"


class ReplicationPad3d(_PadNd):
    """Edge-repeating padding of (N, C, D, H, W). Example: ``cr.nn.ReplicationPad3d(1)(x)``."""

    n, mode = 3, "replicate"


class ConstantPad3d(_PadNd):
    """Padding of (N, C, D, H, W) with ``value``. Example: ``cr.nn.ConstantPad3d(1, 0.5)(x)``."""

    n = 3

    def __init__(self, padding, value):
        super().__init__(padding, value)


class ZeroPad3d(_PadNd):
    """Zero padding of (N, C, D, H, W). Example: ``cr.nn.ZeroPad3d((1, 1, 2, 0, 1, 0))(x)``."""

    n = 3

    def __init__(self, padding):
        super().__init__(padding, 0.0)


class CircularPad1d(_PadNd):
    """Wrap-around padding of (N, C, L): the left pad is copied from the right end.

    Example: ``cr.nn.CircularPad1d(2)(x)``.
    """

    n, mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Wrap-around padding of (N, C, H, W). Example: ``cr.nn.CircularPad2d(1)(x)``."""

    n, mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Wrap-around padding of (N, C, D, H, W). Example: ``cr.nn.CircularPad3d(1)(x)``."""

    n, mode = 3, "circular"
