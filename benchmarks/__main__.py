"""``python -m benchmarks``: chainrule vs PyTorch CPU, side by side (see ``benchmarks/__init__``).

The parent process imports neither NumPy nor PyTorch: for each ``--threads`` value it starts a
child with the thread variables already set, collects the child's JSON, prints the tables and
writes ``--out``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from . import _threads

NOTE = (
    "Same model, data, batch, initial weights, float32 and optimizer on both sides; "
    "timed blocks interleaved A B / B A in rounds. ratio = chainrule steps/s / PyTorch "
    "steps/s (> 1: chainrule faster), median [min-max] over rounds; best/best compares each "
    "side's fastest block. MLP cases also time the same step written by hand in NumPy "
    "(no autodiff, benchmarks/ceiling.py) in the same rounds: numpy/torch is that "
    "ceiling's ratio; cr % of ceiling = chainrule steps/s / its steps/s. At 1 thread steps are timed in process CPU time, at more threads "
    "in wall time. Peak memory of one step above its start: chainrule via tracemalloc, "
    "PyTorch via its profiler's allocation events (see benchmarks/memory.py). load = the "
    "1-minute load average during the case (other processes on the machine)."
)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="chainrule vs PyTorch CPU, side by side: training "
        "and inference speed, per-op overhead, GEMM rate, peak memory.",
    )
    p.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1, 2],
        help="thread counts, one child process each (default: 1 2)",
    )
    p.add_argument("--quick", action="store_true", help="tiny version of every case (CI smoke)")
    p.add_argument("--out", help="write <OUT>.json and <OUT>.md")
    p.add_argument(
        "--cases",
        nargs="+",
        metavar="KEY",
        help="only these cases: 1-b32 1-b256 2 3 4 5 6-1-b32 6-1-b256 6-2 op",
    )
    p.add_argument("--child-json", help=argparse.SUPPRESS)  # internal: run here, write JSON
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.child_json:
        return child(args)
    runs = []
    for n in args.threads:
        run = spawn(n, args)
        if run is None:
            return 1
        runs.append(run)
    from . import report

    for run in runs:
        print("\n" + report.text(run))
    results = {"note": NOTE, "runs": runs}
    if args.out:
        paths = report.write(results, args.out)
        print("\nwrote " + " and ".join(str(p) for p in paths))
    failed = [
        f"{r['key']} ({n['threads']} thread(s))" for n in runs for r in n["cases"] if "error" in r
    ]
    if failed:
        print("\nFAILED cases: " + ", ".join(failed))
    return 1 if failed else 0


def spawn(n, args):
    """Run the suite at ``n`` threads in a fresh interpreter; its parsed JSON, or None."""
    fd, path = tempfile.mkstemp(suffix=".json", prefix="chainrule-bench-")
    os.close(fd)
    cmd = [sys.executable, "-m", "benchmarks", "--threads", str(n), "--child-json", path]
    cmd += ["--quick"] if args.quick else []
    cmd += ["--cases", *args.cases] if args.cases else []
    try:
        done = subprocess.run(cmd, env=_threads.child_env(n))
        if done.returncode != 0:
            print(
                f"benchmark child at {n} thread(s) exited with {done.returncode}", file=sys.stderr
            )
            return None
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)


def child(args):
    try:
        import torch  # noqa: F401
    except ImportError:
        print("the benchmarks compare against PyTorch: pip install torch (CPU)", file=sys.stderr)
        return 2
    from . import suite

    result = suite.run(args.threads[0], quick=args.quick, only=args.cases)
    with open(args.child_json, "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
