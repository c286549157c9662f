"""Thread counts: set before NumPy and PyTorch load, then stated in the report.

BLAS libraries read their thread count once, when they are loaded, so the robust way to run at
``n`` threads is a fresh process whose environment already says ``n``: the parent of the suite
spawns one child per thread count with :func:`child_env`. Inside the child, :func:`apply` also
sets PyTorch's intra-op threads and, when ``threadpoolctl`` is installed, limits every BLAS /
OpenMP pool it finds (a belt-and-braces check that the variables took effect).
"""

import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_LIMITS = []  # keeps the threadpoolctl limiter alive for the life of the process


def child_env(n):
    """A copy of ``os.environ`` that asks every thread pool for ``n`` threads."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = str(n)
    return env


def apply(n, torch=None):
    """Use ``n`` threads in this process: PyTorch (if given) and, via threadpoolctl, NumPy's BLAS."""
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _LIMITS.append(threadpool_limits(limits=n))


def describe(torch=None):
    """What runs the numbers: BLAS name, version, kernel (architecture) and thread counts."""
    import numpy as np

    info = {
        "numpy": np.__version__,
        "blas": _numpy_blas_name(np),
        "env": {v: os.environ.get(v) for v in THREAD_VARS + ("OPENBLAS_CORETYPE",)},
    }
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            {
                k: p.get(k)
                for k in (
                    "internal_api",
                    "version",
                    "architecture",
                    "num_threads",
                    "threading_layer",
                    "prefix",
                )
            }
            for p in threadpool_info()
        ]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed (pip install threadpoolctl)"
    if torch is not None:
        info["torch"] = {
            "version": torch.__version__,
            "num_threads": torch.get_num_threads(),
            "mkl": torch.backends.mkl.is_available(),
            "onednn": torch.backends.mkldnn.is_available(),
        }
    return info


def summary_line(info):
    """One line for the table header, e.g. 'NumPy 2.4 / openblas 0.3.31 SkylakeX x1 | torch ...'."""
    pools = info.get("threadpools")
    if isinstance(pools, list) and pools:
        blas = ", ".join(
            f"{p['internal_api']} {p['version']} {p['architecture'] or ''} "
            f"x{p['num_threads']}".replace("  ", " ")
            for p in pools
        )
    else:
        blas = f"{info['blas']} (threads per environment variables)"
    line = f"NumPy {info['numpy']} / {blas}"
    if info["env"].get("OPENBLAS_CORETYPE"):
        line += f" (OPENBLAS_CORETYPE={info['env']['OPENBLAS_CORETYPE']})"
    if "torch" in info:
        t = info["torch"]
        line += (
            f" | torch {t['version']} x{t['num_threads']} (MKL {t['mkl']}, oneDNN {t['onednn']})"
        )
    return line


def _numpy_blas_name(np):
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older NumPy has no mode="dicts"; the name is only informative
        return "unknown"
