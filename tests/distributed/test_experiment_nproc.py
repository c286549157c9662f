"""``chainrule experiment vanishing --nproc 2``: setups spread over two ranks, one table equal to
the single-process run's."""

import json
import os
import subprocess
import sys

import pytest
from mpi_helpers import SRC, require_mpi

pytestmark = pytest.mark.slow


def run(tmp_path, out, *extra):
    env = dict(
        os.environ,
        PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        OPENBLAS_NUM_THREADS="1",
    )
    env.pop("CHAINRULE_NPROC", None)
    try:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "chainrule",
                "experiment",
                "vanishing",
                "--quick",
                "--out",
                str(tmp_path / out),
                *extra,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("experiment vanishing --nproc 2 hung")


def test_vanishing_on_two_ranks_matches_one_process(tmp_path):
    require_mpi()
    two = run(tmp_path, "two", "--nproc", "2")
    assert two.returncode == 0, two.stderr
    one = run(tmp_path, "one")
    assert one.returncode == 0, one.stderr
    rows2 = json.loads((tmp_path / "two" / "results.json").read_text())["rows"]
    rows1 = json.loads((tmp_path / "one" / "results.json").read_text())["rows"]
    assert [r["setup"] for r in rows2] == [r["setup"] for r in rows1]  # table order kept
    for a, b in zip(rows2, rows1, strict=True):  # same numbers: each setup is seeded on its own
        for key in ("grad_ratio_init", "grad_ratio_end", "test_accuracy", "at_init", "after"):
            assert a[key] == b[key], (a["setup"], key)
    assert two.stdout.count("setups behave as") == 1  # one table
    assert sorted(os.listdir(tmp_path)) == ["one", "two"]
    assert (tmp_path / "two" / "index.html").read_text().count("<figure") == 2
