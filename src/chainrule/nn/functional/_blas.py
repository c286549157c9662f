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

from contextlib import contextmanager

from ...backend import _SET_LOCAL  # OpenBLAS's per-thread count switch, or None


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
