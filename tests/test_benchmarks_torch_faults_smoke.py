"""Smoke test of benchmarks/diagnostics/torch_faults.py on two of its runs (a NaN and a softmax before cross_entropy): they run, are
labelled from physics as the frozen labels say, and the table is printed."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


def test_two_torch_runs_are_labelled_and_scored(tmp_path):
    out = tmp_path / "runs.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.diagnostics.torch_faults", "--only", "softmax"]
        + ["--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "overall precision" in done.stdout and "healthy runs flagged" in done.stdout
    runs = {r["name"]: r for r in json.loads(out.read_text())}
    assert set(runs) == {"t_log_softmax_nll", "t_softmax_before_ce"}
    frozen = json.loads((ROOT / "benchmarks/diagnostics/labels_torch.json").read_text())
    assert all(r["label"] == frozen[name] for name, r in runs.items())
    assert "output_loss_mismatch" in runs["t_softmax_before_ce"]["monitor"]
    assert "nonfinite" in runs["t_log_softmax_nll"]["monitor"]
