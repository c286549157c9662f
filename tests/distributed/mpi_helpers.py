"""Running a script under ``mpiexec -n N`` from a test, with a timeout so a hang fails."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "scripts"
SRC = Path(__file__).resolve().parents[2] / "src"


def require_mpi():
    """Skip unless mpi4py and mpiexec are installed (pip install "chainrule[mpi]")."""
    pytest.importorskip("mpi4py")
    from chainrule.distributed.launch import find_mpiexec

    if find_mpiexec() is None:
        pytest.skip("mpiexec not found")


def env(threads=1):
    from chainrule.distributed.launch import THREAD_VARS, rank_env

    out = rank_env(threads=1)
    if threads is None:  # no thread variable at all: init_process_group decides
        for var in THREAD_VARS:
            out.pop(var, None)
    out["PYTHONPATH"] = str(SRC) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def command(script, *args, n=2):
    from chainrule.distributed.launch import mpiexec_command

    return mpiexec_command(n, [str(SCRIPTS / script), *map(str, args)])


def run_mpi(script, *args, n=2, timeout=120, check=True, threads=1, extra_env=None):
    """Run ``scripts/<script>`` on n ranks; fail (not hang) after ``timeout`` seconds."""
    try:
        done = subprocess.run(
            command(script, *args, n=n),
            env={**env(threads), **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{script} {args} hung: no exit after {timeout} s\n{e.stdout}\n{e.stderr}")
    if check and done.returncode != 0:
        pytest.fail(
            f"{script} {args} exited with {done.returncode}\n--- stdout\n{done.stdout}"
            f"\n--- stderr\n{done.stderr}"
        )
    return done


def ok_ranks(stdout):
    """The ranks that printed '<OK rank R>' (mpiexec may interleave the ranks' lines)."""
    return sorted(int(r) for r in re.findall(r"<OK rank (\d+)>", stdout))


__all__ = ["require_mpi", "run_mpi", "ok_ranks", "command", "env", "sys"]
