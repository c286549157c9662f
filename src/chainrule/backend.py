"""The array backend: where the engine and the ops take their array functions from.

Today this is NumPy on the CPU. ``autograd/`` and ``ops/`` import NumPy only through this module
(``from ..backend import xp as np``; a test enforces it), so a second backend with NumPy's API
(CuPy on a GPU) is one change here plus the few functions below that NumPy spells its own way.
Nothing is wrapped: ``xp`` *is* the NumPy module, so the seam costs no time.

Example::

    from chainrule.backend import xp, scatter_add
    out = xp.zeros(3)
    scatter_add(out, xp.array([0, 0, 2]), xp.ones(3))     # out == [2., 0., 1.]
"""

import numpy as xp
from numpy.lib.stride_tricks import as_strided as _as_strided

name = "numpy"


def scatter_add(out, index, values):
    """``out[index] += values`` in place, repeated indices adding up (NumPy's ``add.at``;
    CuPy spells it ``cupyx.scatter_add``). ``index``: anything NumPy accepts as an index."""
    xp.add.at(out, index, values)


def as_strided(x, shape, strides, writeable=False):
    """A view of ``x`` with the given ``shape`` and byte ``strides`` (no copy; read-only unless
    ``writeable``). The sliding windows of convolution and pooling are built with it."""
    return _as_strided(x, shape=shape, strides=strides, writeable=writeable)


def is_array(x):
    """True for the backend's arrays and scalars (what a vjp gets on the plain backward)."""
    return isinstance(x, (xp.ndarray, xp.generic))
