"""The levers of the last performance round, each timed against what it replaced:
``python -m benchmarks.levers`` (``--quick`` for a smoke run).

* **select**: the zeroing select of a ReLU backward, ``np.where(blocked, 0, g)`` against
  ``ops.dispatch.where`` (an AND of the gradient's bits), on ReLU-like masks.
* **cross-entropy**: the softmax cross-entropy arithmetic over (N, 10) logits reduced row-wise
  (the old fast path) against class-major (the current one), and ``F.cross_entropy`` itself.
* **malloc**: page faults and time per step, in child processes with glibc's malloc tuned
  (the default) and untuned (``CHAINRULE_MALLOC_TUNING=0``): three 1 MiB temporaries a step,
  and the batch-256 MLP training step. Whether the untuned heap faults on the MLP depends on its
  layout, which shifts with any allocation made at import: 0 is a possible untuned result.

Times are medians of repeated blocks (microseconds), one BLAS thread.
"""

import argparse
import os
import subprocess
import sys
import timeit

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
from chainrule.ops import dispatch  # noqa: E402


def _us(fn, number, repeat=7):
    return float(np.median(timeit.repeat(fn, number=number, repeat=repeat))) / number * 1e6


def select(quick):
    rng = np.random.default_rng(0)
    for shape in [(256, 128), (128, 512)]:
        out = np.maximum(0, rng.standard_normal(shape).astype(np.float32))  # a ReLU output
        g = rng.standard_normal(shape).astype(np.float32)
        n = 20 if quick else 500
        old = _us(lambda out=out, g=g: np.where(out <= 0, 0, g), n)
        new = _us(lambda out=out, g=g: dispatch.where(out <= 0, 0, g), n)
        print(f"select {shape}: np.where {old:.1f} us, bit mask {new:.1f} us")


def _row_major(x, t, rows):
    shifted = x - x.max(axis=1, keepdims=True)
    p = np.exp(shifted)
    total = p.sum(axis=1, keepdims=True)
    loss = (np.log(total).sum() - shifted[rows, t].sum()) / len(t)
    p /= total
    return loss, p


def _class_major(x, t, rows):
    shifted = np.ascontiguousarray(x.T)
    shifted -= shifted.max(axis=0)
    target = shifted[t, rows].sum()
    p = np.exp(shifted, out=shifted)
    total = p.sum(axis=0)
    loss = (np.log(total).sum() - target) / len(t)
    p /= total
    return loss, p.T


def cross_entropy(quick):
    rng = np.random.default_rng(0)
    for n_rows in (32, 256):
        x = rng.standard_normal((n_rows, 10)).astype(np.float32)
        t = rng.integers(0, 10, n_rows)
        rows = np.arange(n_rows)
        xt, tt = cr.tensor(x, requires_grad=True), cr.tensor(t)
        n = 50 if quick else 3000
        row = _us(lambda x=x, t=t, rows=rows: _row_major(x, t, rows), n)
        cls = _us(lambda x=x, t=t, rows=rows: _class_major(x, t, rows), n)
        whole = _us(lambda xt=xt, tt=tt: cr.nn.functional.cross_entropy(xt, tt), n)
        print(
            f"cross-entropy ({n_rows}, 10): row-wise {row:.1f} us, class-major {cls:.1f} us, "
            f"F.cross_entropy {whole:.1f} us"
        )


_FAULTS = """
import resource, sys, time
import numpy as np
import chainrule as cr
steps = int(sys.argv[1])
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def temporaries():
    a, b, c = (np.ones(1 << 18, np.float32) for _ in range(3))
model = cr.nn.Sequential(cr.nn.Linear(64, 128), cr.nn.ReLU(), cr.nn.Linear(128, 128), cr.nn.ReLU(),
                         cr.nn.Linear(128, 10))
opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
rng = np.random.default_rng(0)
x = cr.tensor(rng.standard_normal((256, 64)).astype(np.float32))
y = cr.tensor(rng.integers(0, 10, 256))
def mlp_step():
    opt.zero_grad()
    cr.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
for name, step in (("temporaries", temporaries), ("mlp", mlp_step)):
    for _ in range(steps // 5):
        step()
    before, start = faults(), time.perf_counter()
    for _ in range(steps):
        step()
    print(name, (faults() - before) / steps, (time.perf_counter() - start) / steps * 1e6)
"""


def malloc(quick):
    steps = "30" if quick else "1000"
    for setting in ("1", "0"):
        env = dict(os.environ, CHAINRULE_MALLOC_TUNING=setting)
        out = subprocess.run(
            [sys.executable, "-c", _FAULTS, steps], env=env, capture_output=True, text=True
        )
        label = "tuned" if setting == "1" else "untuned"
        for line in out.stdout.split("\n"):
            if line:
                name, faults, us = line.split()
                print(
                    f"malloc {label}, {name}: {float(faults):.0f} faults, {float(us):.0f} us a step"
                )


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.levers", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a few repetitions (smoke run)")
    args = p.parse_args(argv)
    print(f"NumPy {np.__version__}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    for lever in (select, cross_entropy, malloc):
        lever(args.quick)


if __name__ == "__main__":
    main()
