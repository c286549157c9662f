"""``chainrule train --nproc 2``: launches mpiexec itself; rank 0 writes one run folder; resume
from its checkpoint equals the uninterrupted run."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from mpi_helpers import SRC, require_mpi

pytestmark = pytest.mark.slow


MODEL = ("--no-plots", "--width", "32", "--depth", "1", "--samples", "400")


def train(*args, model=MODEL):
    env = dict(os.environ, PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("CHAINRULE_NPROC", None)
    try:
        return subprocess.run(
            [sys.executable, "-m", "chainrule", "train", *model, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"chainrule train {args} hung")


def weights(folder):
    import chainrule as cr

    return cr.load(os.path.join(folder, "checkpoint.npz"))["model"]


def test_train_nproc_2_and_exact_resume(tmp_path):
    require_mpi()
    runs = str(tmp_path)
    full = train("--nproc", "2", "--epochs", "3", "--runs-dir", runs, "--name", "full")
    assert full.returncode == 0, full.stderr
    assert full.stdout.count("epoch 3/3") == 1  # one rank prints
    assert "distributed: 2 MPI ranks" in full.stdout
    summary = json.loads((tmp_path / "full" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_done"] == 3
    assert sorted(os.listdir(tmp_path)) == ["full"]
    lines = (tmp_path / "full" / "metrics.csv").read_text().splitlines()
    assert len(lines) == 4  # header + 3 epochs, written once

    part = train("--nproc", "2", "--epochs", "2", "--runs-dir", runs, "--name", "part")
    assert part.returncode == 0, part.stderr
    alone = train("--resume", str(tmp_path / "part"), "--epochs", "3", model=())  # 1 process
    assert alone.returncode != 0
    assert "trained on 2 MPI ranks (--nproc 2), this resume would run on 1 process" in " ".join(
        alone.stderr.split()
    )
    three = train("--nproc", "3", "--resume", str(tmp_path / "part"), "--epochs", "3", model=())
    assert three.returncode != 0
    assert "this resume would run on 3 MPI ranks (--nproc 3)" in " ".join(three.stderr.split())
    resumed = train("--nproc", "2", "--resume", str(tmp_path / "part"), "--epochs", "3", model=())
    assert resumed.returncode == 0, resumed.stderr
    a, b = weights(tmp_path / "full"), weights(tmp_path / "part")
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


def test_taken_run_name_is_refused_on_every_rank(tmp_path):
    require_mpi()
    (tmp_path / "taken").mkdir()
    done = train("--nproc", "2", "--epochs", "1", "--runs-dir", str(tmp_path), "--name", "taken")
    assert done.returncode != 0
    assert "taken" in done.stderr
