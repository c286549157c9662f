"""Histograms: ``histc`` (counts in equal bins) and ``histogram`` (counts and bin edges).

Results carry no gradient (counts are piecewise constant), as in PyTorch.
"""

from __future__ import annotations

from collections import namedtuple

from .._typing import TensorLike
from ..backend import xp as np
from ..tensor import Tensor
from ._util import as_tensor

HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])  # type: ignore[name-match]


def _float_data(x: TensorLike, op: str) -> np.ndarray:
    x = as_tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating point tensor, got {x.dtype}")
    return x._data


def histc(x: TensorLike, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts of ``x`` in ``bins`` equal bins over [min, max] (x's own range when both are 0);
    values outside are ignored, the last bin includes ``max``. Shape (bins,), x's dtype.

    Example:
        >>> cr.histc(cr.tensor([1.0, 2.0, 1.0]), bins=4, min=0, max=3)
        tensor([0., 2., 1., 0.])
    """
    data = _float_data(x, "histc").ravel()
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:  # one value (or none): PyTorch widens the range by 1
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"histc: max ({hi}) must be larger than min ({lo})")
    counts, _ = np.histogram(data, bins=int(bins), range=(lo, hi))
    return Tensor._wrap(counts.astype(data.dtype))


def histogram(
    x: TensorLike,
    bins: int | Tensor = 100,
    range: tuple[float, float] | None = None,
    weight: TensorLike | None = None,
    density: bool = False,
) -> HistogramResult:
    """``(hist, bin_edges)``: counts (or weighted sums, or a density) of ``x`` in ``bins`` (a
    number of equal bins, or a 1-d tensor of increasing edges), as torch.histogram.

    Example:
        >>> hist, edges = cr.histogram(cr.tensor([1.0, 2.0, 1.0, 4.0]), bins=3)
        >>> hist
        tensor([2., 1., 1.])
        >>> edges
        tensor([1., 2., 3., 4.])
    """
    data = _float_data(x, "histogram").ravel()
    edges = bins._data if isinstance(bins, Tensor) else int(bins)
    w = None if weight is None else as_tensor(weight)._data.ravel()
    if range is None and not isinstance(edges, np.ndarray) and data.size:
        lo, hi = float(data.min()), float(data.max())
        range = (lo, hi) if lo < hi else (lo - 0.5, hi + 0.5)
    hist, bin_edges = np.histogram(data, bins=edges, range=range, weights=w, density=density)
    return HistogramResult(
        Tensor._wrap(hist.astype(data.dtype)), Tensor._wrap(bin_edges.astype(data.dtype))
    )


__all__ = ["histc", "histogram"]
