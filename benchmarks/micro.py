"""Micro-benchmarks: the fixed cost of one small op, and the GEMM rate the machine allows.

Per-op overhead: ``a * b`` on 16 float32 numbers, so that the arithmetic is negligible and what
is timed is each framework's per-call cost: without grad, with grad recorded (forward only),
and forward + backward (``y.backward(g)``, then the leaves' grads dropped, as training would).
Plain NumPy is the floor.

GEMM: an MLP step does, per Linear layer ``(in -> out)`` at batch ``B``, the forward product
``X @ W.T`` and the backward products ``G @ W`` (not for the first layer: the data needs no
gradient) and ``G.T @ X``. Timing exactly those products (same shapes, same transposes) with
NumPy gives the step time if nothing but BLAS ran: the practical limit for that case.
"""

import statistics
import time
import timeit

import numpy as np

OP_SIZE = 16


OP_STMTS = {
    "no grad": "a * b",
    "grad, forward": "ag * bg",
    "grad, forward + backward": "y = ag * bg; y.backward(g); ag.grad = None; bg.grad = None",
}


def _per_call_us(stmt, env, number, clock):
    return timeit.Timer(stmt, globals=env, timer=clock).timeit(number) / number * 1e6


def _op_envs(cr, torch):
    """The operands of each library: plain, requiring grad, and the backward seed ``g``."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(OP_SIZE).astype(np.float32) for _ in range(2))
    envs = {"numpy": {"a": a, "b": b}}
    for name, make in (("chainrule", cr.tensor), ("torch", torch.tensor)):
        envs[name] = {
            "a": make(a),
            "b": make(b),
            "ag": make(a, requires_grad=True),
            "bg": make(b, requires_grad=True),
            "g": make(np.ones(OP_SIZE, np.float32)),
        }
    return envs


def op_overhead(cr, torch, quick=False, clock=time.perf_counter):
    """Median microseconds per call of ``a * b`` in NumPy, chainrule and PyTorch, three ways.

    ``clock``: ``time.process_time`` at one thread (robust to other processes), else wall time.
    Returns one dict per way: ``op``, ``numpy_us`` (no grad only), ``chainrule_us``,
    ``torch_us`` and ``ratio`` = torch / chainrule (> 1: chainrule faster).
    """
    number, repeats = (200, 2) if quick else (20000, 7)
    envs = _op_envs(cr, torch)
    times = {}
    for rep in range(repeats + 1):  # libraries interleaved inside each repeat; 0 warms up
        for op, stmt in OP_STMTS.items():
            for name, env in envs.items():
                if name != "numpy" or op == "no grad":
                    us = _per_call_us(stmt, env, number, clock)
                    times.setdefault((op, name), []).extend([us] if rep else [])
    rows = []
    for op in OP_STMTS:
        row = {"op": f"a * b ({OP_SIZE} float32), {op}"}
        row.update(
            {
                f"{name}_us": statistics.median(times[(op, name)])
                for name in envs
                if (op, name) in times
            }
        )
        row["ratio"] = row["torch_us"] / row["chainrule_us"]
        rows.append(row)
    return rows


# ---- GEMM ----


def mlp_gemms(sizes, batch):
    """``(label, a_shape, b_shape, transpose_a, transpose_b)`` for every product of one step."""
    gemms = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        gemms.append(
            (
                f"fwd {batch}x{fan_in} @ ({fan_out}x{fan_in}).T",
                (batch, fan_in),
                (fan_out, fan_in),
                False,
                True,
            )
        )
        if i:
            gemms.append(
                (
                    f"dX {batch}x{fan_out} @ {fan_out}x{fan_in}",
                    (batch, fan_out),
                    (fan_out, fan_in),
                    False,
                    False,
                )
            )
        gemms.append(
            (
                f"dW ({batch}x{fan_out}).T @ {batch}x{fan_in}",
                (batch, fan_out),
                (batch, fan_in),
                True,
                False,
            )
        )
    return gemms


def gemm_flops(a_shape, b_shape, ta, tb):
    m, k = a_shape[::-1] if ta else a_shape
    n = b_shape[0] if tb else b_shape[1]
    return 2 * m * k * n


def time_gemm(a_shape, b_shape, ta, tb, min_s=0.02, repeats=5, torch=None):
    """Best seconds per call of the float32 product, operands laid out as in the MLP step.

    NumPy's ``@`` by default; ``torch.mm`` on the same (shared) arrays when ``torch`` is given.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    if torch is not None:
        a, b = torch.from_numpy(a), torch.from_numpy(b)
        a, b = (a.t() if ta else a), (b.t() if tb else b)
        timer = timeit.Timer(lambda: torch.mm(a, b))
    else:
        a, b = (a.T if ta else a), (b.T if tb else b)
        timer = timeit.Timer(lambda: a @ b)
    number = max(1, int(min_s / max(timer.timeit(1), 1e-7)))
    return min(timer.repeat(repeats, number)) / number


def gemm_limit(sizes, batch, inference=False, quick=False, torch=None):
    """Flops per step and the step time if only sgemm ran (best of repeats): NumPy's, and
    PyTorch's (``torch.mm``, its BLAS) when ``torch`` is given."""
    gemms = mlp_gemms(sizes, batch)
    if inference:
        gemms = [g for g in gemms if g[0].startswith("fwd")]
    flops = sum(gemm_flops(*g[1:]) for g in gemms)
    kwargs = {"min_s": 0.005, "repeats": 2} if quick else {}
    seconds = sum(time_gemm(*g[1:], **kwargs) for g in gemms)
    out = {
        "flops_per_step": flops,
        "gemm_s_per_step": seconds,
        "numpy_sgemm_gflops": flops / seconds / 1e9,
    }
    if torch is not None:
        t_seconds = sum(time_gemm(*g[1:], torch=torch, **kwargs) for g in gemms)
        out["torch_gemm_s_per_step"] = t_seconds
        out["torch_sgemm_gflops"] = flops / t_seconds / 1e9
    return out


def peak_sgemm_gflops(n=1024, quick=False):
    """NumPy's float32 GEMM rate on a large square product (the machine's BLAS ceiling)."""
    n = 256 if quick else n
    return 2 * n**3 / time_gemm((n, n), (n, n), False, False) / 1e9
