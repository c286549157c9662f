"""Test setup: ``tests/`` is importable (``from helpers import ...``), and BLAS runs one thread.

One BLAS thread because the suite's matrices are tiny: on a busy 2-core machine a second
OpenBLAS thread spin-waits and turns microsecond products into milliseconds. Set before NumPy is
imported; an explicit OPENBLAS_NUM_THREADS in the environment wins.
"""
import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
