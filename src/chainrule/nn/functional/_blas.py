"""One BLAS thread for a stretch of small products, without the cost of threadpoolctl.

A recurrent layer runs T small GEMMs in a row (one per time step). Spread over several
OpenBLAS threads each becomes a hand-off to worker threads that, on a machine whose cores are
busy, can wait milliseconds to be scheduled; on one thread it is a few tens of microseconds.
``threadpoolctl`` switches the count in about 100 us-1.4 ms (it rescans the loaded libraries);
OpenBLAS's own ``openblas_set_num_threads_local`` (0.3.27+, the calling thread only) costs well
under a few microseconds through ctypes, so it can be switched around every layer.

Where NumPy does not use a bundled OpenBLAS with that function (MKL, Accelerate, an older
OpenBLAS), :func:`serial_blas` does nothing.
"""

import ctypes
import glob
import os
from contextlib import contextmanager

import numpy as np


def _find_set_local():
    """OpenBLAS's ``openblas_set_num_threads_local(n) -> previous n``, or None."""
    root = os.path.dirname(os.path.dirname(np.__file__))
    for pattern in ("numpy.libs/*openblas*.so*", "numpy/.dylibs/*openblas*.dylib"):
        for path in glob.glob(os.path.join(root, pattern)):
            try:
                fn = ctypes.CDLL(path).openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            fn.argtypes, fn.restype = [ctypes.c_int], ctypes.c_int
            return fn
    return None


_SET_LOCAL = _find_set_local()


@contextmanager
def serial_blas(enabled=True):
    """Run the block's BLAS calls on one thread (this thread only); restore the count after.

    Example::

        with serial_blas():
            for t in range(T):
                np.matmul(w, h[t], out=a[t])     # small products: no thread hand-off
    """
    if not enabled or _SET_LOCAL is None:
        yield
        return
    previous = _SET_LOCAL(1)
    try:
        yield
    finally:
        _SET_LOCAL(previous)
