"""Smoke test of the benchmark suite: ``python -m benchmarks --quick`` runs and reports.

No timing is asserted (CI machines are noisy); only that every case runs, both libraries agree
on the first losses, and the table and the --out files are written.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "results"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--threads", "1", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, out


def test_quick_suite_exits_cleanly(quick_run):
    done, _ = quick_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_quick_suite_prints_the_table(quick_run):
    done, _ = quick_run
    assert "ratio cr/torch" in done.stdout
    for key in ("1-b32", "1-b256", "2", "3", "4", "5", "6-1-b32", "6-2"):
        assert any(line.startswith(key + " ") for line in done.stdout.splitlines()), key
    assert "Per-op overhead" in done.stdout
    assert "cr % of ceiling" in done.stdout
    assert "ERROR" not in done.stdout


def test_quick_suite_writes_json_and_markdown(quick_run):
    _, out = quick_run
    results = json.loads(out.with_name("results.json").read_text())
    run = results["runs"][0]
    assert run["threads"] == 1
    cases = {c["key"]: c for c in run["cases"]}
    assert cases["2"]["chainrule_steps_s"] > 0 and cases["2"]["torch_steps_s"] > 0
    assert cases["3"]["chainrule_peak_bytes"] > 0
    # the hand-written NumPy ceiling ran (and agreed with PyTorch) on every MLP case only
    for key in ("1-b32", "1-b256", "2", "3", "6-1-b32", "6-1-b256", "6-2"):
        assert cases[key]["numpy_steps_s"] > 0 and 0 < cases[key]["of_ceiling"], key
        assert cases[key]["numpy_peak_bytes"] > 0, key
    assert "of_ceiling" not in cases["4"] and "of_ceiling" not in cases["5"]
    assert "| case |" in out.with_name("results.md").read_text()


def test_perf_report_lines_are_parsed_and_classified():
    from benchmarks.profiling import classify, parse_perf

    text = (
        "# comment\n"
        "    52.70%  libscipy_openblas64_-32a4b2a6.so  [.] sgemm_kernel_SKYLAKEX\n"
        "     7.34%  _multiarray_umath.cpython-311-x86_64-linux-gnu.so  [.] FLOAT_multiply_X86_V3\n"
        "     3.08%  libpython3.11.so.1.0  [.] _PyEval_EvalFrameDefault\n"
        "     2.29%  libc.so.6  [.] __memset_avx512_unaligned_erms\n"
        "     1.00%  [kernel.kallsyms]  [k] exc_page_fault\n"
    )
    rows = parse_perf(text)
    assert [r[0] for r in rows] == [52.70, 7.34, 3.08, 2.29, 1.00]
    assert [classify(dso, sym).split()[0] for _, dso, sym in rows] == [
        "BLAS",
        "NumPy",
        "Python",
        "copies:",
        "OS",
    ]


def test_levers_quick_run_prints_every_lever():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.levers", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for start in ("select (256, 128)", "cross-entropy (256, 10)", "malloc tuned, mlp"):
        assert start in done.stdout
    # the tuned child made no page faults on the temporaries that fault untuned every step
    assert "malloc tuned, temporaries: 0 faults" in done.stdout
