"""Resizing layers: ``Upsample`` (and its two fixed-mode aliases), ``PixelShuffle``,
``PixelUnshuffle``."""

from ..functional import _upsample as U
from ..module import Module


class Upsample(Module):
    """Resize (N, C, L) or (N, C, H, W) to ``size`` or by ``scale_factor`` (see ``F.interpolate``).

    Example::

        up = cr.nn.Upsample(scale_factor=2, mode="nearest")
        y = up(cr.randn(1, 3, 8, 8))           # (1, 3, 16, 16)
    """

    def __init__(
        self,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
    ):
        super().__init__()
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = (
            float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        )
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return U.interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self):
        what = (
            f"scale_factor={self.scale_factor}"
            if self.scale_factor is not None
            else f"size={self.size}"
        )
        return f"{what}, mode='{self.mode}'"


class UpsamplingNearest2d(Upsample):
    """``Upsample(mode='nearest')`` for (N, C, H, W) input.

    Example::

        y = cr.nn.UpsamplingNearest2d(scale_factor=2)(cr.randn(1, 3, 4, 4))   # (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(mode='bilinear', align_corners=True)`` for (N, C, H, W) input.

    Example::

        y = cr.nn.UpsamplingBilinear2d(scale_factor=2)(cr.randn(1, 3, 4, 4))  # (1, 3, 8, 8)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """(N, C*r*r, H, W) -> (N, C, H*r, W*r) (sub-pixel convolution, Shi et al. 2016).

    Example::

        y = cr.nn.PixelShuffle(3)(cr.randn(1, 9, 4, 4))      # (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = int(upscale_factor)

    def forward(self, input):
        return U.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(N, C, H*r, W*r) -> (N, C*r*r, H, W), the inverse of ``PixelShuffle``.

    Example::

        y = cr.nn.PixelUnshuffle(3)(cr.randn(1, 1, 12, 12))  # (1, 9, 4, 4)
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = int(downscale_factor)

    def forward(self, input):
        return U.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
