"""Regenerate the numbers the README and docs/experiments.md quote, and record the machine.

Runs, at their default sizes, what the docs show: ``chainrule train`` (the main job) and
``chainrule experiment vanishing``, ``exploding`` and ``learning-rate``, each in a fresh
folder, then writes ``docs/experiment-results.md``: the machine (CPU, cores, load, Python,
NumPy and its BLAS), every results table as printed (medians over the seeds with their range)
and the verdict lines, and the one-line summaries the README's table quotes.

What is reproducible: every run is seeded, so on the same machine with the same NumPy and BLAS
the tables come out the same (the timings vary with load). Another BLAS, or another CPU with
different vector instructions, sums in another order: the last digits of every number change,
and a long training run can drift further. That is why each experiment runs several seeds and
a prediction only counts when it holds for every one of them.

Usage::

    python scripts/docs_tables.py                  # everything, about 15-30 minutes on 2 cores
    python scripts/docs_tables.py --only train     # the main job only
    python scripts/docs_tables.py --seeds 1        # a faster, less robust pass
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "experiment-results.md")
EXPERIMENTS = ("vanishing", "exploding", "learning-rate")


def machine():
    """The facts that decide whether someone else gets the same digits."""
    import numpy as np
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        deps = cfg.get("Build Dependencies", {})
        blas = ", ".join(f"{k} {v.get('name', '?')} {v.get('version', '')}".strip()
                         for k, v in deps.items() if k in ("blas", "lapack"))
    except Exception:  # noqa: BLE001  (older NumPy: no dict form)
        pass
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = model.group(1) if model else cpu
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "?"
    return {"date (UTC)": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
            "commit": commit, "cpu": cpu, "cores": os.cpu_count(),
            "load average at start": ", ".join(f"{x:.1f}" if isinstance(x, float) else str(x)
                                              for x in load),
            "os": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "blas": blas}


def run(args, cwd):
    """``python -m chainrule ARGS`` in ``cwd``; returns (stdout, seconds). Fails loudly."""
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "chainrule", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"chainrule {' '.join(args)} failed ({done.returncode}):\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout, seconds


def train_section(cwd):
    out, seconds = run(["train", "--name", "main", "--no-progress"], cwd)
    result = next(line for line in out.splitlines() if line.startswith("test accuracy"))
    return ("## The main job: `chainrule train`\n\n```\n" + out.strip() + "\n```\n\n"
            f"Wall time of the whole command (start-up, data, training, report): {seconds:.1f} s."
            f"\n\nREADME line: `chainrule train` reaches {result.split(' (')[0].split()[-2]} % "
            f"({seconds:.0f} s on this machine).\n")


def experiment_section(name, cwd, seeds):
    folder = os.path.join(cwd, name)
    args = ["experiment", name, "--out", folder]
    if seeds is not None:
        args += ["--seeds", str(seeds)]
    out, seconds = run(args, cwd)
    with open(os.path.join(folder, "results.json")) as f:
        data = json.load(f)
    start = out.index("\nsetup ") + 1 if "\nsetup " in out else 0
    table = out[start:].split("\npage:")[0].strip()
    return (f"## `chainrule experiment {name}`\n\n```\n{out[:out.index(chr(10))]}\n\n{table}\n"
            f"```\n\nWall time: {seconds:.0f} s. Seeds: {data.get('seeds')}.\n\n"
            f"README summary: {data['verdicts'][-1]}\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("train",) + EXPERIMENTS, action="append",
                        help="Run only these (repeatable); the file keeps only what ran.")
    parser.add_argument("--seeds", type=int, default=None,
                        help="Seeds per experiment setup [default: each experiment's own].")
    parser.add_argument("--out", default=OUT, help=f"Markdown file to write [default: {OUT}].")
    args = parser.parse_args(argv)
    wanted = args.only or ["train", *EXPERIMENTS]
    facts = machine()
    parts = ["# Measured results (generated)\n",
             "Written by `python scripts/docs_tables.py`; do not edit by hand. The README and "
             "docs/experiments.md quote these numbers.\n",
             "Reproducible on the same machine with the same NumPy and BLAS (every run is "
             "seeded); elsewhere the last digits differ and long runs can drift, which is why "
             "every claim is judged over several seeds.\n",
             "## Machine\n", "| | |\n|---|---|\n"
             + "".join(f"| {k} | {v} |\n" for k, v in facts.items())]
    with tempfile.TemporaryDirectory() as cwd:
        for what in wanted:
            print(f"running {what} ...", flush=True)
            parts.append(train_section(cwd) if what == "train"
                         else experiment_section(what, cwd, args.seeds))
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
