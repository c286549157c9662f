"""``python -m benchmarks.distributed``: what a second process buys, against a second thread.

Three ways to use the cores of one machine, measured in one run on two MLPs:

* ``1 proc x 1 thread``  -- one process, BLAS at one thread;
* ``1 proc x 2 threads`` -- one process, BLAS at two threads;
* ``2 ranks x 1 thread`` -- ``mpiexec -n 2``, DistributedDataParallel, one BLAS thread each.

Data parallelism is measured two ways. *Throughput* (weak scaling, how DDP is used): every
rank keeps the per-process batch, so a step of 2 ranks trains on twice the samples; the speedup
is samples/s over the 1 x 1 process. *Same global batch* (strong scaling): the batch is split
over the ranks; the speedup is steps/s. ``comm`` is the share of a rank's step time spent in
MPI for the gradients (starting, progressing and waiting for the bucket all-reduces);
``exposed`` the part of it spent blocked at the end of backward. *Overlap*: the throughput run
again with every bucket's all-reduce started only at the end of backward (``2 ranks, no
overlap``); the step time it adds is what starting buckets during backward saves.

It also times a blocking all-reduce of several sizes on 2 ranks and fits
``t = latency + bytes / bandwidth`` for the cost model of docs/distributed.md.

Every configuration is a fresh process (BLAS reads its thread count at load), started with the
thread variables set and ``threadpoolctl`` limiting the pools; configurations are interleaved
in rounds and the median of the rounds reported. Wall-clock time.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from . import _threads

CASES = {
    "784-512-512": {
        "title": "MLP 784-512-512-10, batch 128, SGD momentum",
        "sizes": (784, 512, 512, 10),
        "batch": 128,
        "optimizer": "sgd",
    },
    "20x256": {
        "title": "deep MLP 20 x 256, batch 64, Adam",
        "sizes": (256,) * 20 + (10,),
        "batch": 64,
        "optimizer": "adam",
    },
}
CONFIGS = [("1 proc x 1 thread", 1, 1), ("1 proc x 2 threads", 1, 2), ("2 ranks x 1 thread", 2, 1)]
SIZES = (1, 1_000, 10_000, 100_000, 1_000_000, 2_000_000)  # float32 elements, all-reduce


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.distributed",
        description="steps/s of 1 process x 1 thread, 1 process x 2 "
        "threads and 2 MPI ranks x 1 thread (DistributedDataParallel)",
    )
    p.add_argument("--quick", action="store_true", help="a few steps only (CI smoke test)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument("--seconds", type=float, default=3.0, help="timed seconds per measurement")
    p.add_argument("--out", help="also write the results as JSON here")
    p.add_argument("--child", help=argparse.SUPPRESS)  # internal: "<split>,<json path>"
    return p.parse_args(argv)


# ---- parent: start each configuration, collect, print ----


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return child(args)
    from chainrule.distributed.launch import find_mpiexec

    if find_mpiexec() is None:
        print(
            'benchmarks.distributed: mpiexec not found (pip install "chainrule[mpi]")',
            file=sys.stderr,
        )
        return 1
    rounds = 1 if args.quick else args.rounds
    runs = {}  # (label, split) -> list of per-round results
    allreduce = None
    loads = []
    for r in range(rounds):
        loads.append(os.getloadavg()[0])
        for label, nproc, threads in CONFIGS:
            splits = ("throughput",)
            if nproc > 1:
                splits = (
                    ("throughput", "serial") if args.quick else ("throughput", "split", "serial")
                )
            for split in splits:
                result = spawn(nproc, threads, split, args)
                runs.setdefault((label, split), []).append(result)
                if nproc > 1 and split == "throughput" and allreduce is None:
                    allreduce = result.get("allreduce")
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    summary = summarise(runs)
    text = report(
        summary,
        allreduce,
        machine()
        + ", 1-min load average during the run "
        + "/".join(f"{x:.1f}" for x in loads)
        + " (other processes)",
    )
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(
                {"summary": summary, "allreduce": allreduce, "machine": machine()}, f, indent=1
            )
    return 0


def spawn(nproc, threads, split, args):
    from chainrule.distributed.launch import mpiexec_command, rank_env

    fd, path = tempfile.mkstemp(suffix=".json", prefix="chainrule-dist-bench-")
    os.close(fd)
    argv = [
        "-m",
        "benchmarks.distributed",
        "--child",
        f"{split},{path}",
        "--seconds",
        str(args.seconds),
    ] + (["--quick"] if args.quick else [])
    cmd = mpiexec_command(nproc, argv) if nproc > 1 else [sys.executable, *argv]
    try:
        subprocess.run(cmd, env=rank_env(threads), check=True, timeout=600)
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)


def summarise(runs):
    out = []
    for (label, split), results in runs.items():
        for key in CASES:
            rows = [r["cases"][key] for r in results]
            med = {
                f: statistics.median(row[f] for row in rows)
                for f in rows[0]
                if isinstance(rows[0][f], (int, float))
            }
            out.append(
                {
                    "config": label,
                    "split": split,
                    "case": key,
                    **med,
                    "best_steps_per_s": max(row["steps_per_s"] for row in rows),
                    "rounds": [row["steps_per_s"] for row in rows],
                }
            )
    return out


def report(summary, allreduce, machine_text):
    lines = [f"machine: {machine_text}", ""]
    for key, case in CASES.items():
        rows = [s for s in summary if s["case"] == key]
        base = next(s for s in rows if s["config"] == CONFIGS[0][0])
        lines.append(
            f"{case['title']}  ({base['params']:,} parameters, "
            f"{base['params'] * 4 / 1e6:.2f} MB of gradients)"
        )
        lines.append(
            f"  {'configuration':<22}{'batch/rank':>11}{'steps/s':>9}{'samples/s':>11}"
            f"{'speedup':>9}{'best':>7}{'comm':>7}{'exposed':>9}{'cpu est':>9}"
        )
        for s in rows:
            ratio = s["best_steps_per_s"] / base["best_steps_per_s"]
            if s["split"] in ("throughput", "serial"):
                speed = s["samples_per_s"] / base["samples_per_s"]
                best = ratio * s["batch"] * s.get("world", 1) / base["batch"]
                name = s["config"] if s["split"] == "throughput" else "2 ranks, no overlap"
            else:
                speed = s["steps_per_s"] / base["steps_per_s"]
                best = ratio
                name = s["config"] + " *"
            comm = f"{100 * s['comm_share']:.0f}%" if s.get("world", 1) > 1 else "-"
            exposed = f"{100 * s['wait_share']:.0f}%" if s.get("world", 1) > 1 else "-"
            lines.append(
                f"  {name:<22}{int(s['batch']):>11}{s['steps_per_s']:>9.1f}"
                f"{s['samples_per_s']:>11.0f}{speed:>8.2f}x{best:>6.2f}x{comm:>7}"
                f"{exposed:>9}{cpu_estimate(s, base):>8.2f}x"
            )
        lines += overlap(rows)
        lines.append("")
    lines.append(
        "speedup: samples/s over 1 proc x 1 thread (each rank keeps the batch, so 2 "
        "ranks train on twice the samples per step);"
    )
    lines.append(
        "  * same global batch split over the ranks: speedup in steps/s. Medians over "
        "rounds; best: the same ratio of each configuration's fastest round."
    )
    lines.append(
        "  comm: share of step time in MPI for gradients; exposed: of which blocked at "
        "the end of backward (includes waiting for a slower rank)."
    )
    lines.append(
        "  no overlap: the 2-rank throughput run with every all-reduce started after "
        "backward instead of as its bucket fills."
    )
    lines.append(
        "  cpu est: the speedup an otherwise idle machine with a core per process would "
        "give if each process's CPU time per step stayed as measured (slowest rank; "
        "MPICH polls while it waits, so waiting counts as CPU time: pessimistic)."
    )
    if allreduce:
        lines.append("")
        lines.append(
            "blocking all-reduce on 2 ranks (float32, median): "
            + ", ".join(f"{n:,} -> {t * 1e3:.3f} ms" for n, t in allreduce["times"])
        )
        lines.append(
            "fastest repetition (closest to an idle machine): "
            + ", ".join(f"{n:,} -> {t * 1e3:.3f} ms" for n, t in allreduce["fastest_times"])
        )
        for what, prefix in (("median", ""), ("fastest", "fastest_")):
            bw = allreduce[prefix + "bandwidth_Bps"]
            lines.append(
                f"cost model ({what}) t = latency + bytes / bandwidth: latency "
                f"{allreduce[prefix + 'latency_s'] * 1e6:.1f} us (messages <= 1,000 "
                "floats), bandwidth "
                + (
                    f"{bw / 1e9:.2f} GB/s (slope over >= 100,000 floats)"
                    if bw
                    else "n/a (too few sizes)"
                )
            )
        lines += [""] + projection(summary, allreduce)
    return "\n".join(lines)


def overlap(rows):
    """What starting buckets during backward saves: the step time of the 2-rank run with it
    and without it (every all-reduce after backward), against the MPI time without it."""
    on = next((s for s in rows if s["split"] == "throughput" and s.get("world", 1) > 1), None)
    off = next((s for s in rows if s["split"] == "serial"), None)
    if on is None or off is None:
        return []
    t_on, t_off = 1.0 / on["steps_per_s"], 1.0 / off["steps_per_s"]
    mpi_off = off["comm_share"] * t_off
    saved = t_off - t_on
    share = f" ({100 * saved / mpi_off:.0f}% of the {mpi_off * 1e3:.2f} ms in MPI without it)"
    return [
        f"  overlap: {on['early_buckets']:.0f} of {on['buckets']:.0f} buckets start as they "
        f"fill; step {t_on * 1e3:.2f} ms with, {t_off * 1e3:.2f} ms without: it saves "
        f"{saved * 1e3:.2f} ms per step" + (share if mpi_off > 0 else "")
    ]


# Across machines the loopback numbers above are optimistic: also project for a common link.
NETWORK = ("10 Gb/s Ethernet (assumed: 25 us, 1.1 GB/s)", 25e-6, 1.1e9)


def ring_allreduce_seconds(nbytes, ranks, alpha, beta):
    """Ring all-reduce: 2 (p - 1) messages of latency alpha, 2 (p - 1) / p of the data each way."""
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes / beta


def projection(summary, allreduce, ranks=(2, 8, 64)):
    """Scaling efficiency = compute / (compute + all-reduce), no overlap (a lower bound)."""
    bw = allreduce.get("bandwidth_Bps")
    if not bw:
        return ["projection: n/a (no bandwidth fit; run without --quick)"]
    # at p = 2 the ring sends 2 messages and n bytes: t2 = 2 alpha + n / beta
    links = [("this machine, median all-reduce", allreduce["latency_s"] / 2, bw)]
    if allreduce.get("fastest_bandwidth_Bps"):
        links.append(
            (
                "this machine, fastest all-reduce",
                allreduce["fastest_latency_s"] / 2,
                allreduce["fastest_bandwidth_Bps"],
            )
        )
    links.append(NETWORK)
    lines = [
        "PROJECTION (not measured): per-step efficiency of data parallelism with a ring "
        "all-reduce,",
        "  E(p) = t_step / (t_step + t_allreduce(p)), t_step = 1 proc x 1 "
        "thread step time at the per-rank batch, no overlap:",
    ]
    for key in CASES:
        base = next(s for s in summary if s["case"] == key and s["config"] == CONFIGS[0][0])
        step, nbytes = 1.0 / base["steps_per_s"], 4.0 * base["params"]
        for name, alpha, beta in links:
            cells = []
            for p in ranks:
                t = ring_allreduce_seconds(nbytes, p, alpha, beta)
                cells.append(f"p={p}: {t * 1e3:.2f} ms, E {100 * step / (step + t):.0f}%")
            lines.append(
                f"  {key} (step {step * 1e3:.1f} ms, {nbytes / 1e6:.2f} MB), {name}: "
                + "; ".join(cells)
            )
    return lines


def cpu_estimate(s, base):
    """Speedup from CPU time per step, assuming one idle core per process (see report)."""
    world = s.get("world", 1)
    per_step = s["cpu_s_per_step"]
    if s["config"] == CONFIGS[1][0]:  # 2 threads: wall time = CPU time / 2 at best
        per_step /= 2
    samples = s["batch"] * world if s["split"] in ("throughput", "serial") else base["batch"]
    return (samples / per_step) / (base["batch"] / base["cpu_s_per_step"])


def machine():
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                "unknown CPU",
            )
    except OSError:
        model = "unknown CPU"
    return f"{model}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"


# ---- child: one configuration ----


def child(args):
    split, path = args.child.split(",", 1)
    n_threads = int(os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    _threads.apply(n_threads)
    import numpy as np

    import chainrule as cr
    import chainrule.distributed as dist
    from chainrule import nn

    from .cases import mlp

    world, rank = 1, 0
    if "PMI_RANK" in os.environ or "OMPI_COMM_WORLD_RANK" in os.environ or "PMI_SIZE" in os.environ:
        dist.init_process_group("mpi")
        world, rank = dist.get_world_size(), dist.get_rank()
    results = {"threads": n_threads, "world": world, "cases": {}}
    for key, case in CASES.items():
        batch = case["batch"] // world if split == "split" else case["batch"]
        results["cases"][key] = time_case(case, batch, world, split, args, np, cr, dist, nn, mlp)
    if world > 1:
        results["allreduce"] = time_allreduce(np, dist, cr, args.quick)
    if rank == 0:
        with open(path, "w") as f:
            json.dump(results, f)
    if world > 1:
        dist.destroy_process_group()
    return 0


def time_case(case, batch, world, split, args, np, cr, dist, nn, mlp):
    cr.manual_seed(0)
    model = mlp(nn, case["sizes"])
    params = sum(p._data.size for p in model.parameters())
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    if split == "serial":
        net._overlap = False  # every bucket's all-reduce after backward
    opt = (
        cr.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        if case["optimizer"] == "sgd"
        else cr.optim.Adam(net.parameters(), lr=1e-3)
    )
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((batch, case["sizes"][0])).astype(np.float32))
    y = cr.tensor(rng.integers(0, 10, batch))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    for _ in range(2 if args.quick else 5):
        step()
    seconds = 0.2 if args.quick else args.seconds
    # Every rank runs the same number of steps (a collective per step): agree on it first.
    probe = time.perf_counter()
    for _ in range(3):
        step()
    n_steps = max(3, int(seconds / max((time.perf_counter() - probe) / 3, 1e-6)))
    if world > 1:
        counts = cr.tensor([float(n_steps)])
        dist.all_reduce(counts, op=dist.ReduceOp.MIN)
        n_steps = int(counts.numpy()[0])
        dist.barrier()
        comm0, wait0 = net.comm_seconds, net.wait_seconds
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(n_steps):
        step()
    elapsed = time.perf_counter() - start
    # CPU seconds per step of this process (all its threads; MPI's polling included)
    cpu = (time.process_time() - cpu_start) / n_steps
    out = {"batch": batch, "params": params, "steps": n_steps}
    if world > 1:
        shares = cr.tensor(
            [(net.comm_seconds - comm0) / elapsed, (net.wait_seconds - wait0) / elapsed],
            dtype=cr.float64,
        )
        dist.all_reduce(shares, op=dist.ReduceOp.AVG)
        slowest = cr.tensor([elapsed], dtype=cr.float64)
        dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
        elapsed = float(slowest.numpy()[0])
        out["comm_share"], out["wait_share"] = (float(v) for v in shares.numpy())
        out["buckets"], out["early_buckets"] = len(net._buckets), net.buckets_started_early
        worst = cr.tensor([cpu], dtype=cr.float64)
        dist.all_reduce(worst, op=dist.ReduceOp.MAX)
        cpu = float(worst.numpy()[0])
    out["cpu_s_per_step"] = cpu
    out["world"] = world
    out["steps_per_s"] = n_steps / elapsed
    out["samples_per_s"] = n_steps * batch * world / elapsed
    return out


def time_allreduce(np, dist, cr, quick):
    """Blocking all-reduce per size: median and fastest repetition (slowest rank), and for each
    a fit of latency (small messages) and bandwidth (slope over >= 100k floats)."""
    median, fastest = [], []
    for n in SIZES[:3] if quick else SIZES:
        t = cr.zeros(n)
        reps = 3 if quick else max(10, min(200, int(2e7 / max(n, 1))))
        samples = []
        for _ in range(reps):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(t)
            samples.append(time.perf_counter() - start)
        both = cr.tensor([statistics.median(samples), min(samples)], dtype=cr.float64)
        dist.all_reduce(both, op=dist.ReduceOp.MAX)
        median.append((n, float(both.numpy()[0])))
        fastest.append((n, float(both.numpy()[1])))
    out = {"times": median, "fastest_times": fastest}
    out.update(_fit(np, median))
    out.update({f"fastest_{k}": v for k, v in _fit(np, fastest).items()})
    return out


def _fit(np, times):
    latency = statistics.median(t for n, t in times if n <= 1_000)
    large = [(4.0 * n, t) for n, t in times if n >= 100_000]
    bandwidth = None
    if len(large) >= 2:
        slope = np.polyfit([b for b, _ in large], [t for _, t in large], 1)[0]
        bandwidth = float(1.0 / slope) if slope > 0 else None
    return {"latency_s": float(latency), "bandwidth_Bps": bandwidth}


if __name__ == "__main__":
    sys.exit(main())
