"""Pooling layers: max, average, adaptive average and adaptive max, in 1-d, 2-d and 3-d
(PyTorch's arguments)."""

from ..functional import _pool as P
from ..module import Module


class _MaxPoolNd(Module):
    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size  # as PyTorch stores it
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """Maximum over sliding windows: (N, C, H, W) -> (N, C, Ho, Wo); see ``F.max_pool2d``.

    The gradient goes to each window's (first) maximum.

    Example::

        pool = cr.nn.MaxPool2d(2)
        y = pool(cr.randn(8, 16, 28, 28))      # (8, 16, 14, 14)
    """

    def forward(self, input):
        return P.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class MaxPool1d(_MaxPoolNd):
    """Maximum over sliding windows: (N, C, L) -> (N, C, Lo); see ``F.max_pool1d``.

    Example::

        y = cr.nn.MaxPool1d(2)(cr.randn(4, 3, 10))   # (4, 3, 5)
    """

    def forward(self, input):
        return P.max_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class _AvgPoolNd(Module):
    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over sliding windows: (N, C, H, W) -> (N, C, Ho, Wo); see ``F.avg_pool2d``.

    Zero padding counts in the mean (``count_include_pad=True``, PyTorch's default).

    Example::

        y = cr.nn.AvgPool2d(2)(cr.randn(8, 16, 28, 28))   # (8, 16, 14, 14)
    """

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, input):
        return P.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AvgPool1d(_AvgPoolNd):
    """Mean over sliding windows: (N, C, L) -> (N, C, Lo); see ``F.avg_pool1d``.

    Example::

        y = cr.nn.AvgPool1d(3, stride=1, padding=1)(cr.randn(4, 3, 10))   # (4, 3, 10)
    """

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        one = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,)  # stored as 1-tuples
        super().__init__(
            one(kernel_size),
            None if stride is None else one(stride),
            one(padding),
            ceil_mode,
            count_include_pad,
        )

    def forward(self, input):
        return P.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average into a fixed output grid: (N, C, H, W) -> (N, C, *output_size).

    Example::

        y = cr.nn.AdaptiveAvgPool2d(1)(cr.randn(8, 16, 7, 7))   # (8, 16, 1, 1)
    """

    def forward(self, input):
        return P.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average into ``output_size`` bins: (N, C, L) -> (N, C, output_size).

    Example::

        y = cr.nn.AdaptiveAvgPool1d(4)(cr.randn(4, 3, 10))   # (4, 3, 4)
    """

    def forward(self, input):
        return P.adaptive_avg_pool1d(input, self.output_size)


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Maximum over a fixed output grid of bins: (N, C, H, W) -> (N, C, *output_size); see
    ``F.adaptive_max_pool2d``.

    Example::

        y = cr.nn.AdaptiveMaxPool2d((2, 3))(cr.randn(8, 16, 7, 7))   # (8, 16, 2, 3)
    """

    def forward(self, input):
        return P.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Maximum over ``output_size`` bins: (N, C, L) -> (N, C, output_size).

    Example::

        y = cr.nn.AdaptiveMaxPool1d(4)(cr.randn(4, 3, 10))   # (4, 3, 4)
    """

    def forward(self, input):
        return P.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class MaxPool3d(_MaxPoolNd):
    """Maximum over sliding windows: (N, C, D, H, W) -> (N, C, Do, Ho, Wo); see ``F.max_pool3d``.

    Example::

        y = cr.nn.MaxPool3d(2)(cr.randn(2, 4, 8, 8, 8))   # (2, 4, 4, 4, 4)
    """

    def forward(self, input):
        return P.max_pool3d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )


class AvgPool3d(AvgPool2d):
    """Mean over sliding windows: (N, C, D, H, W) -> (N, C, Do, Ho, Wo); see ``F.avg_pool3d``.

    Example::

        y = cr.nn.AvgPool3d(2)(cr.randn(2, 4, 8, 8, 8))   # (2, 4, 4, 4, 4)
    """

    def forward(self, input):
        return P.avg_pool3d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Average into a fixed output grid: (N, C, D, H, W) -> (N, C, *output_size).

    Example::

        y = cr.nn.AdaptiveAvgPool3d(1)(cr.randn(2, 4, 5, 6, 7))   # (2, 4, 1, 1, 1)
    """

    def forward(self, input):
        return P.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Maximum over a fixed output grid of bins: (N, C, D, H, W) -> (N, C, *output_size).

    Example::

        y = cr.nn.AdaptiveMaxPool3d((1, 2, 3))(cr.randn(2, 4, 5, 6, 7))   # (2, 4, 1, 2, 3)
    """

    def forward(self, input):
        return P.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    n = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        one = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * self.n  # noqa: E731
        self.kernel_size = one(kernel_size)
        self.stride = one(stride if stride is not None else kernel_size)
        self.padding = one(padding)

    def forward(self, input, indices, output_size=None):
        fn = {1: P.max_unpool1d, 2: P.max_unpool2d, 3: P.max_unpool3d}[self.n]
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Puts the maxima of a ``MaxPool1d(..., return_indices=True)`` back in place, zeros
    elsewhere: (N, C, L) -> (N, C, Lout); see ``F.max_unpool1d``.

    Example::

        pool, unpool = cr.nn.MaxPool1d(2, return_indices=True), cr.nn.MaxUnpool1d(2)
        y, i = pool(x)
        z = unpool(y, i)                       # x's shape, the maxima kept, zeros elsewhere
    """

    n = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Puts the maxima of a ``MaxPool2d(..., return_indices=True)`` back in place, zeros
    elsewhere: (N, C, H, W) -> (N, C, Ho, Wo); ``output_size`` resolves odd input sizes.

    Example::

        pool, unpool = cr.nn.MaxPool2d(2, return_indices=True), cr.nn.MaxUnpool2d(2)
        y, i = pool(x)
        z = unpool(y, i, output_size=x.shape)
    """

    n = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Puts the maxima of a ``MaxPool3d(..., return_indices=True)`` back in place, zeros
    elsewhere: (N, C, D, H, W) -> (N, C, Do, Ho, Wo).

    Example::

        y, i = cr.nn.MaxPool3d(2, return_indices=True)(x)
        z = cr.nn.MaxUnpool3d(2)(y, i)
    """

    n = 3


class _LPPoolNd(Module):
    n = 2

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input):
        fn = {1: P.lp_pool1d, 2: P.lp_pool2d, 3: P.lp_pool3d}[self.n]
        return fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """Power-average pooling ``(sum_window x**p) ** (1/p)``: (N, C, L) -> (N, C, Lo); see
    ``F.lp_pool1d``. Example: ``cr.nn.LPPool1d(2, 3, stride=2)(x)``."""

    n = 1


class LPPool2d(_LPPoolNd):
    """Power-average pooling over (kh, kw) windows: (N, C, H, W) -> (N, C, Ho, Wo).

    Example: ``cr.nn.LPPool2d(2, 3, stride=2)(x)``.
    """

    n = 2


class LPPool3d(_LPPoolNd):
    """Power-average pooling over (kd, kh, kw) windows: (N, C, D, H, W) -> (N, C, Do, Ho, Wo).

    Example: ``cr.nn.LPPool3d(2, 2)(x)``.
    """

    n = 3


class _FractionalMaxPoolNd(Module):
    n = 2

    def __init__(
        self,
        kernel_size,
        output_size=None,
        output_ratio=None,
        return_indices=False,
        _random_samples=None,
    ):
        super().__init__()
        name, n = type(self).__name__, self.n
        tup = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * n  # noqa: E731
        self.kernel_size, self.return_indices = tup(kernel_size), return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = tup(output_size) if output_size is not None else None
        self.output_ratio = tup(output_ratio) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(
                f"{name} requires specifying either an output size, or a pooling ratio"
            )
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input):
        fn = P.fractional_max_pool2d if self.n == 2 else P.fractional_max_pool3d
        return fn(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            _random_samples=self._random_samples,
        )


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Fractional max pooling of (N, C, H, W) to ``output_size`` or ``output_ratio`` of the
    input, with fresh pseudo-random windows at every call; see ``F.fractional_max_pool2d``.

    Example::

        pool = cr.nn.FractionalMaxPool2d(3, output_ratio=0.5)
        y = pool(cr.randn(8, 16, 32, 32))      # (8, 16, 16, 16)
    """

    n = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """Fractional max pooling of (N, C, D, H, W); see ``F.fractional_max_pool3d``.

    Example::

        y = cr.nn.FractionalMaxPool3d(2, output_size=(4, 5, 6))(cr.randn(1, 2, 8, 9, 10))
    """

    n = 3
