"""The suite at one thread count, in this process (the parent in ``__main__`` spawns it).

Prints one progress line per case and returns a JSON-ready dict with every measurement.
"""

import os
import traceback

from . import _threads, harness, memory, micro
from .cases import all_cases

WIDE_SPREAD = 0.25  # (max - min) / median of the per-round ratios above this: rerun the case
MAX_RERUNS = 2
PAUSE_S = 0.2  # sleep before each timed block when threads > 1 (see harness.interleaved)
GEMM_CASES = ("2", "3")


def settings(quick):
    """rounds, seconds per timed block, fixed steps per block (quick: 2 steps, no sizing)."""
    return (2, 0.0, 2) if quick else (7, 0.25, None)


def run(threads, quick=False, only=None):
    """Every case (or the keys in ``only``), the per-op overhead and the GEMM analysis."""
    known = [c.key for c in all_cases(quick)] + ["op"]
    unknown = sorted(set(only or ()) - set(known))
    if unknown:
        raise SystemExit(f"unknown case key(s) {unknown}; known: {' '.join(known)}")
    import torch

    import chainrule as cr

    _threads.apply(threads, torch)
    info = _threads.describe(torch)
    result = {
        "threads": threads,
        "quick": quick,
        "info": info,
        "info_line": _threads.summary_line(info),
        "cases": [],
    }
    print(f"[{threads} thread(s)] {result['info_line']}", flush=True)
    for case in all_cases(quick):
        if only and case.key not in only:
            continue
        r = run_case(case, cr, torch, quick, threads)
        result["cases"].append(r)
        print(f"[{threads} thread(s)] {progress_line(r)}", flush=True)
    if not only or "op" in only:
        clock = harness.CLOCKS["cpu" if threads == 1 else "wall"]
        result["op_overhead"] = micro.op_overhead(cr, torch, quick, clock)
    result["gemm"] = [r.pop("gemm") for r in result["cases"] if "gemm" in r]
    if result["gemm"]:
        result["peak_sgemm_gflops"] = micro.peak_sgemm_gflops(quick=quick)
    return result


def run_case(case, cr, torch, quick, threads=1):
    """Build, check agreement, time (rerunning a noisy case), measure memory."""
    r = {
        "key": case.key,
        "title": case.title,
        "target": case.target,
        "batch": case.batch,
        "inference": case.inference,
        "optimizer": case.optimizer,
    }
    load_before = os.getloadavg()[0]
    try:
        cr_side, torch_side, np_side = harness.build_sides(case, cr, torch, quick, ceiling=True)
        others = (np_side,) if np_side is not None else ()
        r["max_rel_diff"] = harness.check_agreement(cr_side, torch_side, others=others)
        pause = PAUSE_S if threads > 1 and not quick else 0.0
        r["clock"] = "cpu" if threads == 1 else "wall"
        r.update(time_case(cr_side, torch_side, quick, pause, r["clock"], others))
        if case.key in GEMM_CASES:  # right after the timing, so the machine is in the same state
            r["gemm"] = gemm_analysis(case, r, quick, torch)
        r["chainrule_peak_bytes"] = memory.chainrule_peak(cr_side)
        r["torch_peak_bytes"] = memory.torch_peak(torch_side, torch)
        if np_side is not None:
            r["numpy_peak_bytes"] = memory.chainrule_peak(np_side)  # tracemalloc sees NumPy
    except harness.CaseError as e:
        r["error"] = str(e)
    except Exception as e:  # a broken case must not hide the others: report and go on
        where = traceback.extract_tb(e.__traceback__)[-1]
        r["error"] = f"{type(e).__name__}: {e} (at {where.filename}:{where.lineno})"
    # The 1-minute load average says whether other processes competed for the cores.
    r["load"] = max(load_before, os.getloadavg()[0])
    return r


def time_case(cr_side, torch_side, quick, pause_s=0.0, clock="wall", others=()):
    """Interleaved timing; a run whose ratios spread wider than WIDE_SPREAD is repeated (up to
    MAX_RERUNS times) and the narrowest run is kept, its rerun count reported."""
    rounds, block_s, fixed = settings(quick)
    best = None
    for attempt in range(1 if quick else MAX_RERUNS + 1):
        rates, ratios, _ = harness.interleaved(
            cr_side, torch_side, rounds, block_s, fixed, pause_s, clock, others
        )
        s = harness.summarize(rates, ratios)
        if best is None or s["spread"] < best["spread"]:
            best = dict(s, reruns=attempt)
        if s["spread"] <= WIDE_SPREAD:
            break
    return best


def gemm_analysis(case, r, quick, torch):
    """The GEMM-only limit of an MLP case and the rate its steps achieved.

    Both are best-of figures (fastest GEMM repeat, fastest timed block), so that a busy moment
    of the machine does not make one of them look better than the other.
    """
    g = micro.gemm_limit(case.mlp_sizes, case.batch, case.inference, quick, torch)
    g["key"] = case.key
    g["chainrule_gflops"] = g["flops_per_step"] * r["chainrule_best_steps_s"] / 1e9
    g["torch_gflops"] = g["flops_per_step"] * r["torch_best_steps_s"] / 1e9
    return g


def progress_line(r):
    if "error" in r:
        return f"case {r['key']}: ERROR {r['error']}"
    met = "met" if r["ratio"] >= r["target"] else "MISSED"
    rerun = f", rerun x{r['reruns']}" if r.get("reruns") else ""
    ceiling = (
        f", {r['of_ceiling']:.0%} of hand-written NumPy (NumPy/torch {r['ceiling_ratio']:.2f})"
        if "of_ceiling" in r
        else ""
    )
    return (
        f"case {r['key']} {r['title']}: ratio {r['ratio']:.2f} "
        f"[{r['ratio_min']:.2f}-{r['ratio_max']:.2f}{rerun}] target >= {r['target']} {met}"
        f"{ceiling} (load {r['load']:.1f})"
    )
