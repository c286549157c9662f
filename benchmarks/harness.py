"""Run one case: build both sides, check they agree, time them interleaved, measure memory.

Timing: each side first warms up (which also sizes its timed block to about ``block_s``
seconds), then ``rounds`` rounds each time one chainrule block and one PyTorch block, the order
alternating (A B, B A, ...) so that a slow moment of the machine hits both sides alike. The
ratio chainrule/PyTorch is taken per round, and its median and min-max spread are reported.

Clock: every block records wall time and the process's CPU time (all its threads). At one
thread the suite rates steps by CPU time, which time spent descheduled by other processes does
not inflate; with more threads only wall time shows the parallel speedup, so it rates by wall.
"""

import statistics
from time import perf_counter, process_time, sleep

import numpy as np

LOSS_RTOL, LOSS_ATOL = 1e-3, 1e-5  # float32, different BLAS summation orders
CHECK_STEPS = 3


class CaseError(Exception):
    """The case cannot be timed (a missing layer, or the two sides disagree)."""


class Side:
    """One framework's half of a case: a step on pre-built batches, cycled."""

    def __init__(self, name, step, batches, before_step, parts=None):
        self.name = name
        self._step = step
        self.batches = batches
        self.before_step = before_step  # zero_grad, so memory is measured from a clean start
        self.parts = parts  # (model, loss_fn, optimizer) of a training side
        self._i = 0

    def next_batch(self):
        batch = self.batches[self._i % len(self.batches)]
        self._i += 1
        return batch

    def step(self):
        return self._step(*self.next_batch())

    def run(self, n, clock=perf_counter):
        """Seconds taken by ``n`` steps, on ``clock`` (wall time by default)."""
        step = self.step
        start = clock()
        for _ in range(n):
            step()
        return clock() - start


# ---- building ----


def build_sides(case, cr, torch, quick, ceiling=False):
    """``(chainrule_side, torch_side)`` with identical weights, data and hyperparameters.

    With ``ceiling=True`` a third item: the hand-written NumPy side (``benchmarks.ceiling``) for
    an MLP case, None for the others.
    """
    torch.manual_seed(0)
    t_model = case.build(torch.nn, quick)
    if case.init is not None:
        case.init(t_model, torch)
    state = {k: v.detach().numpy().copy() for k, v in t_model.state_dict().items()}
    try:
        c_model = case.build(cr.nn, quick)
        c_model.load_state_dict(state)
    except (AttributeError, NotImplementedError, TypeError, RuntimeError) as e:
        raise CaseError(f"chainrule cannot build this model yet: {type(e).__name__}: {e}") from e
    batches = case.data(case.batch, quick)
    sides = (
        _side(
            "chainrule",
            cr,
            c_model,
            case,
            [(cr.from_numpy(x), cr.from_numpy(y)) for x, y in batches],
        ),
        _side(
            "torch",
            torch,
            t_model,
            case,
            [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches],
        ),
    )
    if not ceiling:
        return sides
    from .ceiling import numpy_side

    return sides + (numpy_side(case, state, batches) if case.mlp_sizes else None,)


def _side(name, lib, model, case, batches):
    if case.inference:
        model.eval()
        no_grad = lib.no_grad

        def infer(x, y):
            with no_grad():
                return model(x)

        return Side(name, infer, batches, lambda: None)
    loss_fn = lib.nn.CrossEntropyLoss() if case.loss == "cross_entropy" else lib.nn.MSELoss()
    if case.optimizer == "sgd":
        opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)

    def train(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return Side(name, train, batches, opt.zero_grad, parts=(model, loss_fn, opt))


# ---- checking ----


def check_agreement(cr_side, torch_side, steps=CHECK_STEPS, others=()):
    """Both sides compute the same losses (or inference outputs) for the first ``steps`` steps;
    so does every side in ``others`` (the hand-written NumPy step), compared with PyTorch.

    Returns the largest relative difference seen; raises CaseError when they differ.
    """
    worst = 0.0
    for i in range(steps):
        b = _as_array(torch_side.step())
        for side in (cr_side, *others):
            a = _as_array(side.step())
            if a.shape != b.shape or not np.allclose(a, b, rtol=LOSS_RTOL, atol=LOSS_ATOL):
                diff = (
                    np.max(np.abs(a - b)) if a.shape == b.shape else f"shapes {a.shape} {b.shape}"
                )
                raise CaseError(
                    f"{side.name} and PyTorch disagree at step {i + 1}: "
                    f"{_short(a)} vs {_short(b)} (max abs diff {diff}); not timed"
                )
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12))))
    return worst


def _as_array(out):
    out = out.detach().numpy() if hasattr(out, "detach") else out
    return np.asarray(out, dtype=np.float64)


def _short(a):
    return f"{float(a):.6g}" if a.size == 1 else f"array{a.shape} mean {a.mean():.6g}"


# ---- timing ----


def steps_per_block(side, block_s, min_warmup_s=0.1):
    """Warm up (at least 3 steps and ``min_warmup_s``) and size a block to ``block_s`` seconds."""
    n, elapsed = 0, 0.0
    while n < 3 or elapsed < min_warmup_s:
        elapsed += side.run(1)
        n += 1
    return max(1, round(block_s * n / elapsed))


CLOCKS = {"wall": perf_counter, "cpu": process_time}


def interleaved(
    cr_side, torch_side, rounds, block_s, fixed_steps=None, pause_s=0.0, clock="wall", others=()
):
    """Steps/s of each side per round, A B / B A alternating; and the per-round ratios.

    ``others`` (the hand-written NumPy side) join the rounds (A B C / C B A); their rates are
    in ``rates`` under their names. ``pause_s`` of sleep before each block lets the other
    library's idle worker threads stop spinning (OpenBLAS and OpenMP busy-wait a while after
    each parallel call), so that with several threads one side's leftovers do not steal cores
    from the other side's block.
    """
    sides = [cr_side, torch_side, *others]
    sizes = {s.name: fixed_steps or steps_per_block(s, block_s) for s in sides}
    rates = {s.name: [] for s in sides}
    for r in range(rounds):
        for s in sides if r % 2 == 0 else sides[::-1]:
            if pause_s:
                sleep(pause_s)
            rates[s.name].append(sizes[s.name] / s.run(sizes[s.name], CLOCKS[clock]))
    ratios = [c / t for c, t in zip(rates["chainrule"], rates["torch"], strict=True)]
    return rates, ratios, sizes


def summarize(rates, ratios):
    """Medians and spreads of one interleaved run.

    ``ratio_best`` compares each side's fastest block: on a machine shared with other work the
    least-disturbed block is the best estimate of undisturbed speed, so it is the figure to trust
    when the spread is wide.
    """
    med = statistics.median(ratios)
    return {
        "chainrule_steps_s": statistics.median(rates["chainrule"]),
        "torch_steps_s": statistics.median(rates["torch"]),
        "ratio": med,
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "chainrule_best_steps_s": max(rates["chainrule"]),
        "torch_best_steps_s": max(rates["torch"]),
        "ratio_best": max(rates["chainrule"]) / max(rates["torch"]),
        "spread": (max(ratios) - min(ratios)) / med,
        "ratios": ratios,
        **_ceiling_summary(rates),
    }


def _ceiling_summary(rates):
    """chainrule as a share of the hand-written NumPy step (per round, median), if it ran."""
    if "numpy" not in rates:
        return {}
    shares = [c / n for c, n in zip(rates["chainrule"], rates["numpy"], strict=True)]
    ceiling = [n / t for n, t in zip(rates["numpy"], rates["torch"], strict=True)]
    return {
        "numpy_steps_s": statistics.median(rates["numpy"]),
        "of_ceiling": statistics.median(shares),
        "of_ceiling_min": min(shares),
        "of_ceiling_max": max(shares),
        "ceiling_ratio": statistics.median(ceiling),
    }
