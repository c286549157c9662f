"""``chainrule gradcheck``: every built-in op's gradient against central finite differences."""

import time

import click
import numpy as np

from ..autograd import grad, no_grad
from ..creation import tensor
from .app import cli, debug_option
from .common import table
from .config import closest_key
from .gradcheck_ops import CASES

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3
MAX_ELEMENTS = 256  # per input; larger inputs are checked on a random subset


def check_case(case, seed=0):
    """Compare backward with central differences for one case; returns a result dict.

    The output is reduced to ``s = sum(out * v)`` with a fixed random ``v``: one backward gives
    ds/dx for every input element, and each element's numerical derivative is
    ``(s(x + eps) - s(x - eps)) / (2 eps)``.
    """
    rng = np.random.default_rng(seed)
    fn, inputs = case.make(rng)
    out = fn()
    v = rng.standard_normal(out.shape)
    analytic = grad((out * tensor(v, dtype=out.dtype)).sum(), inputs, allow_unused=True)
    worst_abs, worst_ratio = 0.0, 0.0
    for x, g in zip(inputs, analytic, strict=True):
        g = np.zeros_like(x._data) if g is None else g.numpy()
        for i in _elements(x._data, rng):
            numeric = _central(fn, x, i, v)
            err = abs(g[i] - numeric)
            worst_abs = max(worst_abs, err)
            worst_ratio = max(worst_ratio, err / (ATOL + RTOL * abs(numeric)))
    return {
        "op": case.name,
        "inputs": _shapes(inputs),
        "max_abs_error": worst_abs,
        "error_over_tolerance": worst_ratio,
        "passed": worst_ratio <= 1.0 and np.isfinite(worst_ratio),
    }


def _shapes(inputs, shown=3):
    text = " ".join("x".join(map(str, t.shape)) or "()" for t in inputs[:shown])
    return text + (f" (+{len(inputs) - shown} more)" if len(inputs) > shown else "")


def _elements(a, rng):
    indices = list(np.ndindex(a.shape))
    if len(indices) <= MAX_ELEMENTS:
        return indices
    return [indices[k] for k in rng.choice(len(indices), MAX_ELEMENTS, replace=False)]


def _central(fn, x, i, v):
    original = x._data[i]
    with no_grad():
        x._data[i] = original + EPS
        up = float(np.sum(fn().numpy() * v))
        x._data[i] = original - EPS
        down = float(np.sum(fn().numpy() * v))
    x._data[i] = original
    return (up - down) / (2 * EPS)


def _selected(names):
    known = {c.name: c for c in CASES}
    for name in names:
        if name not in known:
            raise click.UsageError(
                f"--op {name!r}: no such op (did you mean "
                f"{closest_key(name, tuple(known))!r}? --list shows them all)"
            )
    return [known[n] for n in names] if names else CASES


@cli.command("gradcheck")
@click.option(
    "--op",
    "ops",
    multiple=True,
    metavar="NAME",
    help="Check only this op (repeatable); --list shows the names.",
)
@click.option("--list", "list_only", is_flag=True, help="List the ops and exit.")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the test inputs (a non-negative integer).",
)
@debug_option
def gradcheck_command(ops, list_only, seed):
    """Check every built-in op's gradient against finite differences.

    For each op (arithmetic, math functions, reductions, shape ops, activations, convolution,
    pooling, normalisation, losses, recurrent layers) the gradient computed by backward is
    compared, element by element, with the central difference (f(x+e) - f(x-e)) / 2e in
    float64 on small inputs (e = 1e-6; tolerance 1e-5 + 1e-3 |numeric|). Prints a table and
    exits with code 1 if any op fails: a quick way to verify an install.

    \b
    Examples:
      chainrule gradcheck
      chainrule gradcheck --op conv2d --op LSTM
      chainrule gradcheck --list
    """
    cases = _selected(ops)
    if list_only:
        click.echo("\n".join(c.name for c in cases))
        return
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        rows = [check_case(c, seed) for c in cases]
    for r in rows:
        r["result"] = "ok" if r["passed"] else "FAIL"
    click.echo(
        table(
            rows,
            [
                ("op", "op"),
                ("inputs", "input shapes"),
                ("max_abs_error", "max |backward - numeric|"),
                ("error_over_tolerance", "error / tolerance"),
                ("result", "result"),
            ],
        )
    )
    failed = [r["op"] for r in rows if not r["passed"]]
    click.echo("")
    click.echo(
        f"{len(rows)} ops checked in {time.perf_counter() - start:.1f} s: "
        f"{len(rows) - len(failed)} passed, {len(failed)} failed"
    )
    if failed:
        raise click.ClickException(f"gradient check failed for: {', '.join(failed)}")
