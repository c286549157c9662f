"""Test setup: ``tests/`` is importable (``from helpers import ...``), and BLAS runs one thread.

One BLAS thread (and one PyTorch thread) because the suite's matrices are tiny: on a busy 2-core machine a second
OpenBLAS thread spin-waits and turns microsecond products into milliseconds. Set before NumPy is
imported; an explicit OPENBLAS_NUM_THREADS in the environment wins.
"""

import os
import sys

import pytest

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """PyTorch's multi-threaded kernels spin for ~0.1 s per call on a busy machine."""
    torch = sys.modules.get("torch")  # only when the test module imported it
    if torch is not None:
        torch.set_num_threads(1)
    yield
