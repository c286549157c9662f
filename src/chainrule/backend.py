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

import ctypes
import functools
import glob
import os
import warnings
from time import perf_counter

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


# ---- BLAS threads per product ----


def _find_openblas():
    """OpenBLAS's ``openblas_set_num_threads_local(n) -> previous n`` (0.3.27+: the calling
    thread only, a few microseconds through ctypes) and ``openblas_get_num_threads()``, from
    the OpenBLAS bundled with NumPy; (None, None) with another BLAS (MKL, Accelerate)."""
    root = os.path.dirname(os.path.dirname(xp.__file__))
    for pattern in ("numpy.libs/*openblas*.so*", "numpy/.dylibs/*openblas*.dylib"):
        for path in glob.glob(os.path.join(root, pattern)):
            try:
                lib = ctypes.CDLL(path)
                set_local = lib.openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            set_local.argtypes, set_local.restype = [ctypes.c_int], ctypes.c_int
            # the getter's name depends on the build (NumPy's wheels prefix and suffix it)
            for name in _GET_THREADS_NAMES:
                get = getattr(lib, name, None)
                if get is not None:
                    get.argtypes, get.restype = [], ctypes.c_int
                    return set_local, get
            return set_local, functools.partial(_count_by_setting, set_local)
    return None, None


_GET_THREADS_NAMES = (
    "openblas_get_num_threads",
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
)


def _count_by_setting(set_local):
    """This thread's BLAS thread count, read by setting it (the setter returns the old one)."""
    previous = set_local(1)
    set_local(previous)
    return previous


_SET_LOCAL, _GET_THREADS = _find_openblas()

# Products with fewer multiply-adds than this run on one BLAS thread. Measured on a 2-core
# machine (float32, OpenBLAS): below about a million the hand-off to a second thread costs
# more than it saves (up to 1.4x slower; far worse when the cores are busy), above a few
# million two threads win (51M: 2.9x faster).
SERIAL_GEMM_MACS = 1 << 20
# OpenBLAS itself runs a product of at most 65536 * 4 multiply-adds on one thread (its
# GEMM_MULTITHREAD_THRESHOLD): switching for those would only add the two calls' cost.
_OPENBLAS_SERIAL = 1 << 18
_THREADS = [1, -1.0]  # [BLAS thread count, when read]: re-read at most every half second


def _blas_threads():
    now = perf_counter()
    if now - _THREADS[1] > 0.5:  # the count may change (threadpoolctl): read it again
        _THREADS[0], _THREADS[1] = _GET_THREADS(), now
    return _THREADS[0]


def set_blas_threads(n):
    """Let BLAS products on this thread use ``n`` threads (OpenBLAS's per-thread setting; with
    another BLAS, ``threadpoolctl`` when installed). ``cr.set_num_threads`` calls it."""
    if _SET_LOCAL is not None:
        _SET_LOCAL(n)
    else:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            warnings.warn(
                "set_num_threads: this BLAS is not OpenBLAS and threadpoolctl is not installed; "
                "set OMP_NUM_THREADS before starting Python instead",
                RuntimeWarning,
                stacklevel=3,
            )
            return
        threadpool_limits(n, user_api="blas")
    _THREADS[1] = -1.0  # read the count again at the next product


def get_blas_threads():
    """The number of threads BLAS products on this thread may use (1 if unknown)."""
    if _GET_THREADS is not None:
        return _GET_THREADS()
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return 1
    return max(
        (info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"), default=1
    )


def gemm(a, b):
    """``a @ b``, on one BLAS thread when the product is small (see ``SERIAL_GEMM_MACS``) and
    on all of BLAS's threads otherwise. Shapes as ``matmul``; ``b`` has at least 2 dims.

    Example::

        y = gemm(x, w.T)        # (32, 64) @ (64, 128): 262k multiply-adds, one thread
    """
    macs = a.size * b.shape[-1]
    if _SET_LOCAL is None or not _OPENBLAS_SERIAL < macs < SERIAL_GEMM_MACS or _blas_threads() < 2:
        return a @ b
    previous = _SET_LOCAL(1)
    try:
        return a @ b
    finally:
        _SET_LOCAL(previous)


# ---- the C heap: keep freed array memory instead of faulting it back in every step ----

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
HEAP_KEEP_BYTES = 64 << 20  # free memory at the top of the heap kept for reuse
MMAP_FROM_BYTES = 32 << 20  # allocations at least this large get their own mapping


def tune_malloc():
    """Make glibc's malloc keep the memory of freed arrays for the next step.

    A training step frees and allocates the same arrays again. By default glibc returns the
    free top of its heap to the OS as soon as it passes twice its (adaptive) mmap threshold,
    about 256 KB, and serves arrays above that threshold from fresh mappings; either way each
    step touches new pages, and each page costs a fault that zeroes it (``python -m
    benchmarks.levers`` counts them: three 1 MiB temporaries a step fault 736 times untuned).
    With arrays under 32 MiB on the heap and up to 64 MiB of it kept, steady training makes no
    page faults. Memory that the process keeps this way shows in its RSS, not in what the arrays
    use.

    Applied once at import on Linux with glibc; ``CHAINRULE_MALLOC_TUNING=0`` leaves malloc
    alone. Returns True when applied.
    """
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0" or not _is_glibc():
        return False
    mallopt = ctypes.CDLL(None).mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # both, or neither: a fixed trim threshold alone stops the mmap threshold from adapting,
    # and every array above 128 KB would then get a fresh mapping (worse than the default)
    return bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_FROM_BYTES) and mallopt(_M_TRIM_THRESHOLD, HEAP_KEEP_BYTES)
    )


def _is_glibc():
    import platform
    import sys

    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


MALLOC_TUNED = tune_malloc()
