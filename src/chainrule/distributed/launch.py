"""Finding ``mpiexec`` and building the command that starts N ranks of a Python program."""

import os
import shutil
import sys

from .group import THREAD_VARS


def find_mpiexec():
    """Path of ``mpiexec``: next to this Python (the ``mpich`` wheel installs it there), else on
    PATH; None when there is none."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.isfile(here) and os.access(here, os.X_OK):
        return here
    return shutil.which("mpiexec")


def mpiexec_command(nproc, argv):
    """``[mpiexec, -n, N, python, *argv]``: N ranks of this Python running ``argv``.

    Run it with :func:`rank_env` as the environment (mpiexec passes it on to every rank).

    Example::

        subprocess.run(mpiexec_command(2, ["train.py"]), env=rank_env(threads=1))
    """
    mpiexec = find_mpiexec()
    if mpiexec is None:
        raise RuntimeError(
            'mpiexec not found: pip install "chainrule[mpi]" (the mpich wheel '
            "brings it) or load your cluster's MPI"
        )
    return [mpiexec, "-n", str(int(nproc)), sys.executable, *argv]


def rank_env(threads=1, env=None):
    """A copy of ``env`` (default ``os.environ``) asking BLAS / OpenMP for ``threads`` threads.

    On a machine with C cores, N ranks of C / N threads each use it fully; one thread per rank
    (the default) is right when N equals the number of cores: more would oversubscribe them.
    """
    out = dict(os.environ if env is None else env)
    for var in THREAD_VARS:
        out[var] = str(int(threads))
    return out
