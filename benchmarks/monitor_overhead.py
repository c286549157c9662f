"""Overhead of ``GradientMonitor`` on a training step of the digits MLP (goal: under 15 %).

Times full SGD steps (zero_grad, forward, cross-entropy, backward, step, monitor.step) of the
digits MLP 64-128-128-10 (ReLU) without a monitor, with ``every=1`` and with ``every=10``, and
prints the median time per step and the overhead.

Time is CPU time of this process (``time.process_time``), which a busy machine disturbs less
than wall time; BLAS runs on one thread unless the environment already says otherwise. Blocks
of steps are interleaved in rounds (plain, every=1, every=10, plain, ...): a round's overhead is
its monitored block against its own plain block, so that a machine that slows down or speeds
up between rounds moves both alike, and the overhead shown is the median over rounds. On a
shared machine, use more rounds (``--blocks``) rather than longer blocks.

Run::

    python benchmarks/monitor_overhead.py                 # batch 32 and 256
    python benchmarks/monitor_overhead.py --batch 64 --blocks 15 --steps 50 --deep
"""

import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before NumPy loads: one BLAS thread, stable timings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.nn.functional as F  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.diagnostics import GradientMonitor  # noqa: E402

VARIANTS = (("plain", None), ("every=1", 1), ("every=10", 10))


def digits_mlp(deep=False):
    """64-128-128-10 ReLU, or with ``deep`` the 20 x 256 stack of the known-answer tests."""
    cr.manual_seed(0)
    widths = [64] + ([256] * 19 if deep else [128, 128]) + [10]
    layers = []
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def make_step(model, opt, monitor):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if monitor is not None:
            monitor.step(loss)

    return step


def variants(deep):
    """name -> step function, each with its own model, optimizer and (maybe) monitor."""
    out = {}
    for name, every in VARIANTS:
        model = digits_mlp(deep)
        opt = cr.optim.SGD(model.parameters(), lr=0.01)
        monitor = None if every is None else GradientMonitor(model, every=every, optimizer=opt)
        out[name] = make_step(model, opt, monitor)
    return out


def time_block(step, batches):
    t = time.process_time()
    for x, y in batches:
        step(x, y)
    return (time.process_time() - t) / len(batches)


def measure(batch, steps, blocks, deep):
    """{name: (median seconds per step, median overhead against the same round's plain)}."""
    X, Y = cr.data.load_digits()
    rng = np.random.default_rng(0)
    idx = [rng.integers(0, len(X), batch) for _ in range(steps)]
    batches = [(cr.tensor(X[i]), cr.tensor(Y[i])) for i in idx]
    runs = variants(deep)
    for step in runs.values():  # warm-up: first allocations, caches
        time_block(step, batches[:10])
    times = {name: [] for name in runs}
    for _ in range(blocks):
        for name, step in runs.items():
            times[name].append(time_block(step, batches))
    plain = np.array(times["plain"])
    return {
        name: (float(np.median(t)), float(np.median(np.array(t) / plain - 1)))
        for name, t in times.items()
    }


def _load():
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, nargs="+", default=[32, 256])
    p.add_argument("--steps", type=int, default=100, help="steps per timed block")
    p.add_argument("--blocks", type=int, default=9, help="rounds of timed blocks")
    p.add_argument("--deep", action="store_true", help="also the 20 x 256 MLP")
    args = p.parse_args(argv)
    models = [False, True] if args.deep else [False]
    print(
        f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
        f"medians over {args.blocks} rounds of {args.steps}-step blocks; {_load()}"
    )
    print(
        f"{'model':<22}{'batch':>6}{'plain ms':>10}{'every=1 ms':>12}{'overhead':>10}"
        f"{'every=10 ms':>13}{'overhead':>10}"
    )
    for deep in models:
        for batch in args.batch:
            t = measure(batch, args.steps, args.blocks, deep)
            name = "MLP 20x256" if deep else "MLP 64-128-128-10"
            print(
                f"{name:<22}{batch:>6}{t['plain'][0] * 1e3:>10.3f}"
                f"{t['every=1'][0] * 1e3:>12.3f}{t['every=1'][1]:>10.1%}"
                f"{t['every=10'][0] * 1e3:>13.3f}{t['every=10'][1]:>10.1%}"
            )
    print(_load())


if __name__ == "__main__":
    main()
