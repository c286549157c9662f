"""The array-backend seam: autograd/ and ops/ take NumPy only from chainrule.backend."""

import ast
import os
import pathlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend

SRC = pathlib.Path(cr.__file__).parent


def _numpy_imports(path):
    """(line, text) of every import of numpy (or a numpy submodule) in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(n == "numpy" or n.startswith("numpy.") for n in names):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_autograd_and_ops_import_numpy_only_through_the_backend():
    files = (
        sorted((SRC / "autograd").glob("*.py"))
        + sorted((SRC / "ops").glob("*.py"))
        + [SRC / "tensor.py"]
    )
    assert len(files) > 10
    offenders = [
        f"{p.relative_to(SRC)}:{line}: {text}" for p in files for line, text in _numpy_imports(p)
    ]
    assert not offenders, (
        "import the array module from chainrule.backend "
        "(from ..backend import xp as np):\n" + "\n".join(offenders)
    )


def test_gemm_is_a_matmul_that_leaves_the_thread_count_as_it_was():
    rng = np.random.default_rng(0)
    for m, k, n in ((3, 4, 5), (32, 64, 128), (128, 256, 64)):  # under and over the threshold
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((n, k)).astype(np.float32)
        np.testing.assert_array_equal(backend.gemm(a, b.T), a @ b.T)
    if backend._SET_LOCAL is None:
        return  # not NumPy's OpenBLAS: gemm is a plain a @ b
    start = backend._SET_LOCAL(2)  # this thread asks for 2
    try:
        backend._THREADS[1] = -1.0  # read the count again
        a, b = np.ones((32, 128), np.float32), np.ones((128, 128), np.float32)
        np.testing.assert_array_equal(backend.gemm(a, b), a @ b)  # 524k: one thread inside
        assert backend._SET_LOCAL(2) == 2
    finally:
        backend._SET_LOCAL(start)


def test_the_checker_sees_numpy_imports(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import numpy as np\nfrom numpy.lib import stride_tricks\nfrom ..backend import xp\n"
    )
    assert [line for line, _ in _numpy_imports(bad)] == [1, 2]


def test_backend_functions():
    out = backend.xp.zeros(3)
    backend.scatter_add(out, np.array([0, 0, 2]), np.array([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(out, [3.0, 0.0, 5.0])
    x = np.arange(6.0)
    windows = backend.as_strided(x, (4, 3), (8, 8))
    np.testing.assert_array_equal(windows[2], [2.0, 3.0, 4.0])
    assert not windows.flags.writeable
    assert backend.is_array(x) and backend.is_array(x.sum()) and not backend.is_array(cr.tensor(x))


def test_numpys_bundled_openblas_is_found():
    # NumPy's wheels bundle OpenBLAS with prefixed symbol names: the thread switch and the
    # count must still be found there, or gemm and serial_blas silently do nothing
    import glob
    import os

    root = os.path.dirname(os.path.dirname(np.__file__))
    if not glob.glob(os.path.join(root, "numpy.libs", "*openblas*.so*")):
        pytest.skip("NumPy here does not bundle OpenBLAS")
    assert backend._SET_LOCAL is not None
    count = backend._GET_THREADS()
    assert isinstance(count, int) and count >= 1
    assert backend._SET_LOCAL(count) == count  # the getter reads what the setter set


_FAULTS_PER_STEP = """
import resource, numpy as np
import chainrule
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def step():  # three 1 MiB temporaries, then all freed, as a training step does
    a, b, c = (np.ones(1 << 18, np.float32) for _ in range(3))
for _ in range(3):
    step()
before = faults()
for _ in range(20):
    step()
print(chainrule.backend.MALLOC_TUNED, (faults() - before) / 20)
"""


@pytest.mark.skipif(not backend._is_glibc(), reason="malloc tuning is for glibc on Linux")
def test_tuned_malloc_keeps_freed_arrays_instead_of_faulting_them_in_every_step():
    import subprocess
    import sys

    def run(setting):
        env = dict(os.environ, CHAINRULE_MALLOC_TUNING=setting)
        out = subprocess.run(
            [sys.executable, "-c", _FAULTS_PER_STEP], env=env, capture_output=True, text=True
        )
        tuned, faults = out.stdout.split()
        return tuned == "True", float(faults)

    tuned, faults = run("1")
    assert tuned and faults < 10  # (0 measured)
    untuned, faults_default = run("0")
    assert not untuned and faults_default > 100  # glibc's default: ~740 page faults a step
