"""Smoke test of ``python -m benchmarks.distributed --quick`` (no timing is asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_distributed_benchmark_quick(tmp_path):
    pytest.importorskip("mpi4py")
    from chainrule.distributed.launch import find_mpiexec

    if find_mpiexec() is None:
        pytest.skip("mpiexec not found")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + str(ROOT))
    out = tmp_path / "dist.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.distributed", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for label in ("1 proc x 1 thread", "1 proc x 2 threads", "2 ranks x 1 thread"):
        assert label in done.stdout
    results = json.loads(out.read_text())
    rows = {(r["config"], r["split"], r["case"]): r for r in results["summary"]}
    ddp = rows[("2 ranks x 1 thread", "throughput", "784-512-512")]
    assert ddp["world"] == 2 and ddp["steps_per_s"] > 0 and 0 <= ddp["comm_share"] <= 1
    assert (
        rows[("1 proc x 1 thread", "throughput", "20x256")]["params"] == 19 * 256 * 257 + 257 * 10
    )
    assert results["allreduce"]["latency_s"] > 0
    serial = rows[("2 ranks x 1 thread", "serial", "784-512-512")]
    assert serial["early_buckets"] == 0 and ddp["early_buckets"] == ddp["buckets"] >= 2
    assert "2 ranks, no overlap" in done.stdout
    assert done.stdout.count("  overlap: ") == 2  # one line per model
