"""Small PyTorch functions that real programs call, built from the ops above (their gradients
are those ops'): ``is_tensor``, ``numel``, ``type_as``, ``is_floating_point``, ``reciprocal``,
``clamp_min`` / ``clamp_max``, ``lerp``, ``addmm``, ``tile``, ``nonzero``, ``finfo`` / ``iinfo``,
``Size``."""
import numpy as np

from ..tensor import Tensor
from ._util import as_tensor
from .linalg import mm
from .pointwise import clamp, rdiv, to_dtype


class Size(tuple):
    """A shape, as ``torch.Size``: a tuple of ints. Example: ``cr.Size([2, 3]) == (2, 3)``."""

    def numel(self):
        return int(np.prod(self)) if self else 1

    def __repr__(self):
        return f"chainrule.Size({list(self)})"


def is_tensor(obj):
    """True for a chainrule Tensor. Example: ``cr.is_tensor(cr.zeros(2))``."""
    return isinstance(obj, Tensor)


def numel(input):
    """Number of elements. Example: ``cr.numel(cr.zeros(2, 3)) == 6``."""
    return as_tensor(input).numel()


def type_as(self, other):
    """``self`` in ``other``'s dtype. Example: ``mask.type_as(x)``."""
    return to_dtype(self, other.dtype)


def is_floating_point(input):
    """True when the dtype is a float. Example: ``cr.zeros(2).is_floating_point()``."""
    return as_tensor(input).dtype.kind == "f"


def reciprocal(input):
    """``1 / x`` elementwise (integers give the default float dtype, as in PyTorch).

    Example: ``cr.tensor([2.0, 4.0]).reciprocal()``  -> [0.5, 0.25]
    """
    return rdiv(as_tensor(input), 1.0)


def clamp_min(input, min):
    """``max(x, min)``. Example: ``x.clamp_min(1e-8)``."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """``min(x, max)``. Example: ``x.clamp_max(1.0)``."""
    return clamp(input, max=max)


def lerp(input, end, weight):
    """``input + weight * (end - input)``. Example: ``cr.lerp(a, b, 0.5)``."""
    start = as_tensor(input)
    return start + weight * (end - start)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * mat1 @ mat2``. Example: ``cr.addmm(b, x, w)``."""
    prod = mm(mat1, mat2)
    prod = prod if alpha == 1 else prod * alpha
    return prod + (input if beta == 1 else as_tensor(input) * beta)


def tile(input, dims):
    """Repeat ``input`` along each dim; fewer ``dims`` than dims count from the last one.

    Example: ``cr.tile(cr.tensor([1, 2]), (2,))``  -> [1, 2, 1, 2]
    """
    x = as_tensor(input)
    dims = tuple(dims)
    if len(dims) < x.ndim:
        dims = (1,) * (x.ndim - len(dims)) + dims
    return x.repeat(*dims)


def nonzero(input, *, as_tuple=False):
    """Indices of the non-zero entries: (count, ndim) int64, or a tuple of 1-d index tensors.

    Example: ``cr.tensor([0, 3, 0, 5]).nonzero()``  -> [[1], [3]]
    """
    arr = as_tensor(input)._data
    if arr.ndim == 0:                      # PyTorch: shape (1, 0) or (0, 0); as a tuple, 1-d
        if as_tuple:
            return (Tensor(np.zeros(int(arr != 0), np.int64)),)
        return Tensor(np.zeros((int(arr != 0), 0), np.int64))
    idx = np.nonzero(arr)
    if as_tuple:
        return tuple(Tensor(i.astype(np.int64)) for i in idx)
    return Tensor(np.stack(idx, axis=1).astype(np.int64))


def finfo(dtype=None):
    """Machine limits of a float dtype (``eps``, ``max``, ``min``, ``tiny``), as ``torch.finfo``.

    Example: ``cr.finfo(cr.float32).eps``
    """
    from ..tensor import get_default_dtype
    return np.finfo(get_default_dtype() if dtype is None else dtype)


def iinfo(dtype):
    """Limits of an integer dtype (``max``, ``min``, ``bits``). Example: ``cr.iinfo(cr.int64).max``."""
    return np.iinfo(dtype)
