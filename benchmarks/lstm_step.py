"""Focused A/B benchmark of the LSTM case (h128, T 50, batch 32, Adam) and of optimizer steps.

Runs alternating subprocesses, each importing chainrule from one of the given source trees, so
two versions of the library are compared under the same machine load; each subprocess also
times PyTorch (1 thread, CPU clock), so the ratio to torch comes from the same rounds.

Usage::

    python -m benchmarks.lstm_step OLD_SRC NEW_SRC [--rounds 5] [--case lstm|mlp]

Each round prints, per tree: ms per training step (chainrule, torch; the fastest of several
interleaved blocks, CPU time), their ratio, and the split of a chainrule step into forward,
backward and optimizer (zero_grad + step) time (fastest of its steps).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from time import process_time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child(case_name, steps, blocks):
    import numpy as np
    import torch

    import chainrule as cr

    from . import _threads, harness
    from .cases import all_cases

    _threads.apply(1, torch)
    key = {"lstm": "5", "mlp": "1-b32"}[case_name]
    case = next(c for c in all_cases() if c.key == key)
    cr_side, torch_side = harness.build_sides(case, cr, torch, quick=False)
    harness.check_agreement(cr_side, torch_side)
    for side in (cr_side, torch_side):
        side.run(3)
    rates = {"chainrule": [], "torch": []}
    for r in range(blocks):
        for side in (cr_side, torch_side) if r % 2 == 0 else (torch_side, cr_side):
            rates[side.name].append(side.run(steps, process_time) / steps)
    # split of the chainrule step
    model, loss_fn, opt = cr_side.parts
    parts = {"forward": [], "backward": [], "optimizer": []}
    for _ in range(steps * blocks):
        x, y = cr_side.next_batch()
        t0 = process_time()
        opt.zero_grad()
        t1 = process_time()
        loss = loss_fn(model(x), y)
        t2 = process_time()
        loss.backward()
        t3 = process_time()
        opt.step()
        t4 = process_time()
        parts["forward"].append(t2 - t1)
        parts["backward"].append(t3 - t2)
        parts["optimizer"].append(t4 - t3 + t1 - t0)
    # the least-disturbed block of each side: on a machine shared with other work the minimum
    # is the best estimate of undisturbed speed (medians swing with the load)
    out = {k: min(v) for k, v in rates.items()}
    out.update({k: min(v) for k, v in parts.items()})
    out["load"] = os.getloadavg()[0]
    out["file"] = cr.__file__
    del np
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("trees", nargs="*", help="src folders to compare (default: this checkout)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=3, help="steps per timed block")
    p.add_argument("--blocks", type=int, default=12, help="timed blocks per side and process")
    p.add_argument("--case", default="lstm", choices=("lstm", "mlp"))
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.child:
        return _child(a.case, a.steps, a.blocks)
    trees = a.trees or [os.path.join(ROOT, "src")]
    results = {t: [] for t in trees}
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for r in range(a.rounds):
        for tree in trees if r % 2 == 0 else trees[::-1]:
            env["PYTHONPATH"] = os.pathsep.join([tree, ROOT])
            cmd = [sys.executable, "-m", "benchmarks.lstm_step", "--child"]
            cmd += ["--case", a.case, "--steps", str(a.steps), "--blocks", str(a.blocks)]
            out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(out.stderr)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            results[tree].append(res)
            print(f"round {r} {tree}: {_line(res)}", flush=True)
    print("medians:")
    for tree, rs in results.items():
        med = {k: statistics.median(x[k] for x in rs) for k in rs[0] if k != "file"}
        med["ratio"] = statistics.median(x["torch"] / x["chainrule"] for x in rs)
        print(f"  {tree}: {_line(med)}")


def _line(r):
    ratio = r.get("ratio", r["torch"] / r["chainrule"])
    return (
        f"chainrule {r['chainrule'] * 1e3:.2f} ms, torch {r['torch'] * 1e3:.2f} ms, "
        f"ratio {ratio:.3f} | fwd {r['forward'] * 1e3:.2f} bwd {r['backward'] * 1e3:.2f} "
        f"opt {r['optimizer'] * 1e3:.3f} ms (load {r['load']:.1f})"
    )


if __name__ == "__main__":
    main()
