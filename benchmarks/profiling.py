"""Where chainrule's time goes, case by case: ``python -m benchmarks.profiling --cases 3 5``.

Three views of the same training (or inference) steps, each in a fresh child process with the
thread variables set (CPU time is used at one thread, wall time otherwise):

* **cProfile**: the engine's Python functions by self time per step (microseconds, calls per
  step). Caveat: NumPy operators written inline (``a @ b``, ``a + b``) are not function calls,
  so their cost lands in the self time of the Python function that wrote them.
* **phases**: forward, loss, backward, ``optimizer.step`` and ``zero_grad`` timed apart, in
  chainrule and in PyTorch (interleaved rounds, medians): which phase loses or wins.
* **perf** (Linux ``perf record``, when available and permitted): samples of the whole process
  split by the library they fall in: BLAS (GEMM), NumPy's C kernels, the Python interpreter
  (engine overhead), memory management (malloc/free, page faults in the kernel). Only the timed
  steps are recorded (``--control`` fifo), not imports or model building.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from time import perf_counter, process_time

from . import _threads

VIEWS = ("phases", "cprofile", "perf")
DEFAULT_CASES = ("1-b32", "1-b256", "2", "3", "4", "5", "6-1-b32", "6-2")


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.profiling",
        description="Where chainrule's time goes, case by case "
        "(phases vs PyTorch, cProfile, perf).",
    )
    p.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES), metavar="KEY")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seconds", type=float, default=3.0, help="profiled seconds per case")
    p.add_argument("--top", type=int, default=15, help="functions / symbols listed")
    p.add_argument(
        "--views",
        nargs="+",
        choices=VIEWS,
        default=list(VIEWS),
        help="which views to print (default: all)",
    )
    p.add_argument("--quick", action="store_true", help="tiny cases (for testing this tool)")
    p.add_argument("--child", choices=("cprofile", "perf", "phases"), help=argparse.SUPPRESS)
    p.add_argument("--fifos", nargs=2, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return child(args)
    for key in args.cases:
        print(f"\n######## case {key}, {args.threads} thread(s)", flush=True)
        for view in args.views:
            if view == "perf":
                perf_view(args, key)
            else:
                subprocess.run(_child_cmd(args, key, view), env=_threads.child_env(args.threads))
    return 0


def _child_cmd(args, key, mode):
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.profiling",
        "--child",
        mode,
        "--cases",
        key,
        "--threads",
        str(args.threads),
        "--seconds",
        str(args.seconds),
        "--top",
        str(args.top),
    ]
    return cmd + (["--quick"] if args.quick else [])


# ---- in the child ----


def _sides(key, threads, quick):
    import torch

    import chainrule as cr

    from . import harness
    from .cases import all_cases

    _threads.apply(threads, torch)
    case = next((c for c in all_cases(quick) if c.key == key), None)
    if case is None:
        raise SystemExit(f"unknown case {key!r}; known: {[c.key for c in all_cases(quick)]}")
    cr_side, torch_side = harness.build_sides(case, cr, torch, quick)
    n = harness.steps_per_block(cr_side, 0.3)
    step_s = cr_side.run(n) / n
    return case, cr_side, torch_side, step_s


def child(args):
    case, side, torch_side, step_s = _sides(args.cases[0], args.threads, args.quick)
    clock = process_time if args.threads == 1 else perf_counter
    if args.child == "phases":
        return phases_view(side, torch_side, args.seconds, clock)
    n = max(3, int(args.seconds / step_s))
    print(
        f"{case.title}: {step_s * 1e6:.0f} us per step unprofiled; profiling {n} steps", flush=True
    )
    if args.child == "cprofile":
        cprofile_view(side, n, step_s, args.top)
    else:
        _perf_child(side, n, args.fifos, clock)
    return 0


def _perf_child(side, n, fifos, clock):
    """Run ``n`` steps with perf recording only them; print the time per step for the parent."""
    with open(fifos[0], "w") as ctl, open(fifos[1]) as ack:
        _perf_control(ctl, ack, "enable")
        elapsed = side.run(n, clock)
        _perf_control(ctl, ack, "disable")
    print(f"PERF_STEP_US {elapsed / n * 1e6:.3f}", flush=True)


def _perf_control(ctl, ack, command):
    ctl.write(command + "\n")
    ctl.flush()
    ack.readline()


# ---- phases ----

PHASES = ("forward", "loss", "backward", "optimizer.step", "zero_grad")


def _phase_times(side, n, now):
    """Mean seconds of each phase over ``n`` training steps (forward only for inference)."""
    totals = [0.0] * len(PHASES)
    if side.parts is None:  # inference: the step is the forward
        totals[0] = side.run(n, now)
        return [t / n for t in totals]
    model, loss_fn, opt = side.parts
    for _ in range(n):
        x, y = side.next_batch()
        t0 = now()
        out = model(x)
        t1 = now()
        loss = loss_fn(out, y)
        t2 = now()
        loss.backward()
        t3 = now()
        opt.step()
        t4 = now()
        opt.zero_grad()
        t5 = now()
        for i, (a, b) in enumerate(((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5))):
            totals[i] += b - a
    return [t / n for t in totals]


def phases_view(cr_side, torch_side, seconds, now, rounds=5):
    """Print the median time of each phase in both libraries, timed on the clock ``now``."""
    import statistics

    n = max(3, int(seconds / rounds / 2 / max(cr_side.run(3) / 3, 1e-6)))
    got = {"chainrule": [], "torch": []}
    for r in range(rounds):
        for side in (cr_side, torch_side) if r % 2 == 0 else (torch_side, cr_side):
            got[side.name].append(_phase_times(side, n, now))
    med = {k: [statistics.median(col) for col in zip(*v, strict=True)] for k, v in got.items()}
    clock = "CPU" if now is process_time else "wall"
    print(f"phases (median {clock} us per step; ratio > 1: chainrule faster):")
    print(f"  {'phase':16s} {'chainrule':>10s} {'torch':>10s} {'ratio':>6s}")
    for i, phase in enumerate(PHASES):
        c, t = med["chainrule"][i] * 1e6, med["torch"][i] * 1e6
        if c or t:
            print(f"  {phase:16s} {c:10.1f} {t:10.1f} {t / c if c else float('nan'):6.2f}")
    c, t = sum(med["chainrule"]) * 1e6, sum(med["torch"]) * 1e6
    print(f"  {'total':16s} {c:10.1f} {t:10.1f} {t / c:6.2f}", flush=True)
    return 0


# ---- cProfile ----


def _group(filename):
    f = filename.replace("\\", "/")
    if "/chainrule/" in f:
        part = f.split("/chainrule/", 1)[1]
        if part.startswith(("nn/", "optim/")):
            return "chainrule nn/optim (Python)"
        return "chainrule engine (Python)"
    if "/numpy/" in f:
        return "NumPy Python wrappers"
    if f == "~":
        return "C calls seen by cProfile (NumPy methods, builtins)"
    if "/benchmarks/" in f:
        return "benchmark harness"
    return "other Python"


def cprofile_view(side, n, step_s, top):
    import cProfile
    import pstats

    prof = cProfile.Profile()
    start = perf_counter()
    prof.enable()
    side.run(n)
    prof.disable()
    profiled_s = (perf_counter() - start) / n
    stats = pstats.Stats(prof).stats
    rows, groups = [], {}
    for (filename, line, name), (_, ncalls, tottime, _, _) in stats.items():
        group = _group(filename)
        groups[group] = groups.get(group, 0.0) + tottime
        short = filename.split("/src/")[-1] if "/chainrule/" in filename else filename
        rows.append((tottime, ncalls, f"{short}:{line}({name})" if filename != "~" else name))
    total = sum(groups.values())
    print(
        f"cProfile: {profiled_s * 1e6:.0f} us per step profiled ({profiled_s / step_s:.1f}x "
        "the unprofiled step); self time per step by group (share of profiled time):"
    )
    for group, t in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {t / n * 1e6:10.1f} us  {t / total:6.1%}  {group}")
    print(
        f"top {top} functions by self time (NumPy operators written inline count in their "
        "caller):\n  us/step  calls/step  us/call  function"
    )
    for tottime, ncalls, label in sorted(rows, reverse=True)[:top]:
        print(
            f"  {tottime / n * 1e6:8.1f}  {ncalls / n:9.1f}  {tottime / ncalls * 1e6:7.2f}  {label}"
        )


# ---- perf ----

_COPY = re.compile(
    r"memmove|memcpy|memset|_contig_to_contig|raw_array_assign|Transfer|_cast_"
    r"|_strided_to|_to_contig|copy"
)
_KERNEL = re.compile(
    r"^(FLOAT|DOUBLE|HALF|U?LONGLONG|U?LONG|U?INT|U?SHORT|U?BYTE|BOOL|C?FLOAT|"
    r"C?DOUBLE)_|simd_|pairwise|reduce_loop|bincount|ArgMinMax|mapiter|npy_"
)


def classify(dso, sym):
    """Category of one perf sample location (shared object, symbol)."""
    dso = dso.lower()
    if "blas" in dso or "mkl" in dso:
        return "BLAS (GEMM)"
    if dso.startswith("[kernel"):
        return "OS kernel: page faults of fresh buffers, scheduling"
    if _COPY.search(sym) and ("numpy" in dso or "_multiarray" in dso or dso.startswith("libc")):
        return "copies: memmove/memset, NumPy copy and cast loops"
    if "_multiarray_umath" in dso or "numpy" in dso or dso.startswith("libm"):
        if _KERNEL.search(sym):
            return "NumPy compute kernels (elementwise, reductions, indexing)"
        return "NumPy per-call dispatch (array creation, ufunc setup)"
    if dso.startswith(("python", "libpython")) or dso.startswith("libc"):
        return "Python interpreter + malloc (engine/nn Python overhead)"
    return "other"


def perf_view(args, key):
    """Record the child's timed steps with perf; print the split by category and top symbols."""
    with tempfile.TemporaryDirectory() as tmp:
        ctl, ack, data = (os.path.join(tmp, n) for n in ("ctl", "ack", "perf.data"))
        os.mkfifo(ctl)
        os.mkfifo(ack)
        prefix = [
            "perf",
            "record",
            "-F",
            "1999",
            "-D",
            "-1",
            "--control",
            f"fifo:{ctl},{ack}",
            "-o",
            data,
            "--",
        ]
        try:
            done = subprocess.run(
                prefix + _child_cmd(args, key, "perf") + ["--fifos", ctl, ack],
                env=_threads.child_env(args.threads),
                capture_output=True,
                text=True,
                timeout=600,
            )
        except (FileNotFoundError, subprocess.TimeoutExpired) as e:
            print(f"perf view skipped: {e}")
            return
        step_us = [
            float(line.split()[1])
            for line in done.stdout.splitlines()
            if line.startswith("PERF_STEP_US")
        ]
        if done.returncode != 0 or not step_us:
            print(f"perf view skipped (perf exit {done.returncode}): {done.stderr.strip()[-300:]}")
            return
        report = subprocess.run(
            [
                "perf",
                "report",
                "-i",
                data,
                "--no-children",
                "--sort",
                "dso,sym",
                "--stdio",
                "-F",
                "overhead,dso,sym",
            ],
            capture_output=True,
            text=True,
        )
    print_perf(parse_perf(report.stdout), step_us[0], args.top)


def parse_perf(text):
    """``[(percent, dso, symbol)]`` from ``perf report --stdio -F overhead,dso,sym``."""
    rows = []
    for line in text.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].endswith("%") and not line.startswith("#"):
            sym = parts[2].split("] ", 1)[-1].strip()
            rows.append((float(parts[0][:-1]), parts[1], sym))
    return rows


def print_perf(rows, step_us, top):
    cats = {}
    for pct, dso, sym in rows:
        cat = classify(dso, sym)
        cats[cat] = cats.get(cat, 0.0) + pct
    print(f"perf: {step_us:.0f} us per step; share of samples by category:")
    for cat, pct in sorted(cats.items(), key=lambda kv: -kv[1]):
        print(f"  {pct:6.1f}%  {pct / 100 * step_us:10.1f} us/step  {cat}")
    print(f"top {top} symbols:")
    for pct, dso, sym in sorted(rows, reverse=True)[:top]:
        print(f"  {pct:6.2f}%  {dso[:34]:34s}  {sym[:70]}")


if __name__ == "__main__":
    sys.exit(main())
