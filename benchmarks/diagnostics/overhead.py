"""Overhead of ``GradientMonitor`` at ``every=1`` and ``every=10`` on four training cases:
the digits MLP at batch 32 and 256, a small CNN and an LSTM.

CPU time (``time.process_time``) of full steps (zero_grad, forward, loss, backward, step,
monitor.step), blocks of steps interleaved in rounds (plain, every=1, every=10, plain...); a
round's overhead is its monitored block against its own plain block, the figure is the median
over rounds. One BLAS thread. It prints the machine, the load average before and after, and the
table of ``docs/diagnostics.md`` (markdown).

Run::

    python -m benchmarks.diagnostics.overhead [--steps 40 --blocks 7]
"""

import argparse
import os
import platform
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src"))

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.nn.functional as F  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.diagnostics import GradientMonitor  # noqa: E402

from .fault_injection import CNN, SeqNet, mlp  # noqa: E402

CASES = {
    "MLP 64-128-128-10, batch 32": (lambda: mlp((64, 128, 128, 10)), 32, False),
    "MLP 64-128-128-10, batch 256": (lambda: mlp((64, 128, 128, 10)), 256, False),
    "CNN 2 conv, batch 64": (CNN, 64, False),
    "LSTM 8x8 -> 32, batch 64": (lambda: SeqNet(nn.LSTM), 64, True),
}
VARIANTS = (("plain", None), ("every=1", 1), ("every=10", 10))


def stepper(build, every):
    model = build()
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    monitor = None if every is None else GradientMonitor(model, every=every, optimizer=opt)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if monitor is not None:
            monitor.step(loss)

    return step


def measure(build, batch, seq, steps, blocks):
    X, Y = cr.data.load_digits()
    rng = np.random.default_rng(0)
    data = []
    for _ in range(steps):
        i = rng.integers(0, len(X), batch)
        x = X[i].reshape(-1, 8, 8) if seq else X[i]
        data.append((cr.tensor(x), cr.tensor(Y[i])))
    runs = {name: stepper(build, every) for name, every in VARIANTS}
    for step in runs.values():
        for x, y in data[:5]:
            step(x, y)
    times = {name: [] for name in runs}
    for _ in range(blocks):
        for name, step in runs.items():
            t = time.process_time()
            for x, y in data:
                step(x, y)
            times[name].append((time.process_time() - t) / steps)
    plain = np.array(times["plain"])
    return {
        name: (float(np.median(t)), float(np.median(np.array(t) / plain - 1)))
        for name, t in times.items()
    }


def machine():
    """One line naming the machine: CPU model, cores, NumPy, BLAS threads."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}"
    )


def load():
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40, help="steps per timed block")
    p.add_argument("--blocks", type=int, default=7, help="rounds of timed blocks")
    args = p.parse_args(argv)
    print(f"machine: {machine()}")
    print(f"start: {load()}; medians over {args.blocks} rounds of {args.steps}-step blocks")
    print("| case | plain step | `every=1` | `every=10` |")
    print("|---|---|---|---|")
    rows = {}
    for name, (build, batch, seq) in CASES.items():
        t = measure(build, batch, seq, args.steps, args.blocks)
        rows[name] = t
        print(
            f"| {name} | {t['plain'][0] * 1e3:.2f} ms | {t['every=1'][1]:+.0%} "
            f"| {t['every=10'][1]:+.0%} |",
            flush=True,
        )
    print(f"end: {load()}")
    return rows


if __name__ == "__main__":
    main()
