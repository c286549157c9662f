"""``chainrule check``, ``chainrule lr-find`` and ``chainrule explain``."""

import os

import click
import numpy as np

from .. import diagnostics, nn
from .. import random as crrandom
from ..autograd import no_grad
from ..creation import tensor
from .app import cli, debug_option
from .common import PLOT_HINT, matplotlib_available, new_figure, note, save_png, table, unique_file
from .config import FiniteFloatRange, merge, options, validate
from .models import ACTIVATION_MODULES, describe
from .run import Session

FLOAT64 = np.dtype(np.float64)
CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Read options from a JSON or TOML file (as for chainrule train); the command line "
    "overrides it.",
)


def _session(params, config_path):
    ctx = click.get_current_context()
    config = merge(ctx, params, config_path)
    if config.lr == "auto":
        raise click.UsageError(
            f"--lr auto is for chainrule train (it runs the range test "
            f"first); {ctx.command_path} needs a number"
        )
    notes = validate(config)
    session = Session(config, monitor=False)
    click.echo(f"model: {describe(config)}")
    click.echo(f"data: {session.bundle.description}")
    for n in notes:
        note(n)
    return session


# ---- check ----

GAINS_NOTE = (
    "How to read the gains: fwd_gain, bwd_gain and theory in the table are variance "
    "gains, Var(out)/Var(in) of one layer, forward for the signal and backward for the "
    "gradient (1 keeps the scale; theory = fan_in * Var(W) * E[f'(z)^2]). The "
    "findings speak of norms, which scale as the square root: a variance gain of 8 "
    "per layer is a norm gain of about 2.8x per layer."
)


@cli.command("check")
@options("model", "data", "optim")
@CONFIG_OPTION
@click.option(
    "--strict", is_flag=True, help="Exit with code 1 when the report has a warning or an error."
)
@debug_option
def check_command(config_path, strict, **params):
    """Pre-flight check of a configuration on one batch, without training.

    Builds the model as chainrule train would, runs one forward and one backward pass on one
    training batch, and compares each layer's forward and backward variance gain with the
    theory for its initialisation and activation (Glorot & Bengio 2010, He et al. 2015). Prints
    the health report: vanishing or exploding signal, saturated or dead units, layers that
    shrink or amplify the signal, missing gradients, NaN and where it came from. Nothing is
    written; the model is left as it was.

    \b
    Examples:
      chainrule check
      chainrule check --depth 20 --width 256 --activation sigmoid --init xavier
      chainrule check --depth 20 --activation tanh --init normal --strict
      chainrule check --config my_run.toml
    """
    session = _session(params, config_path)
    x, y = next(iter(session.bundle.train))
    with np.errstate(all="ignore"):
        report = diagnostics.check(session.model, session.loss_fn, (x, y))
    click.echo(f"one batch of {len(y)} examples")
    click.echo("")
    click.echo(str(report))
    if any(r.get("bwd_gain") is not None or r.get("fwd_gain") is not None for r in report.layers):
        click.echo("")
        click.echo(GAINS_NOTE)
    if strict and not report.healthy:
        raise click.ClickException(f"the check found: {', '.join(report.kinds)} (--strict)")


# ---- lr-find ----


@cli.command("lr-find")
@options("model", "data", "optim")
@CONFIG_OPTION
@click.option(
    "--start-lr",
    type=FiniteFloatRange(min=0, min_open=True),
    default=1e-7,
    show_default=True,
    help="First learning rate of the sweep.",
)
@click.option(
    "--end-lr",
    type=FiniteFloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Last learning rate of the sweep.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=3),
    default=100,
    show_default=True,
    help="Steps of the sweep (one batch each).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="lr_find.png",
    show_default=True,
    help="Where to save the plot (PNG). An existing file is never "
    "overwritten: a number is added (lr_find-2.png).",
)
@debug_option
def lr_find_command(config_path, start_lr, end_lr, steps, out, **params):
    """The learning-rate range test: sweep the rate, read off a good one.

    Trains the configured model for --steps batches while the learning rate grows
    exponentially from --start-lr to --end-lr, stopping when the loss diverges (Leslie Smith
    2017). Prints the suggested rate (steepest descent of the smoothed loss), a range, the
    reasoning and the curve, and saves its plot. The model is restored afterwards.

    \b
    Examples:
      chainrule lr-find
      chainrule lr-find --optimizer sgd --momentum 0.9
      chainrule lr-find --model lstm --end-lr 1 --out lstm_lr.png
    """
    if not start_lr < end_lr:
        raise click.UsageError(f"--start-lr ({start_lr:g}) must be below --end-lr ({end_lr:g})")
    session = _session(params, config_path)
    with np.errstate(all="ignore"):
        result = diagnostics.lr_range_test(
            session.model,
            session.loss_fn,
            session.optimizer,
            session.bundle.train,
            start_lr=start_lr,
            end_lr=end_lr,
            num_steps=steps,
        )
    click.echo("")
    click.echo(_curve_table(result))
    click.echo("")
    click.echo(
        f"suggested learning rate: {result.suggested_lr:.3g} (range "
        f"{result.suggested_range[0]:.3g} to {result.suggested_range[1]:.3g})"
    )
    click.echo(result.reasoning)
    if result.suggested_lr <= result.lrs[0] * 1.0001:
        note(
            "the suggestion is the first rate of the sweep, where the loss had barely begun to "
            "move: it is not reliable; run again with a larger --start-lr or more --steps"
        )
    _save_lr_plot(result, out)
    click.echo(f"train with it: chainrule train [the same options] --lr {result.suggested_lr:.3g}")


def _curve_table(result, rows=12):
    """About ``rows`` points of the curve, evenly spaced in log(lr)."""
    n = len(result.lrs)
    picks = sorted(set(np.linspace(0, n - 1, min(rows, n)).round().astype(int)))
    marks = {int(np.argmin(np.abs(result.lrs - result.suggested_lr))): "<- suggested"}
    data = [
        {
            "lr": result.lrs[i],
            "loss": result.losses[i],
            "smoothed": result.smoothed_losses[i],
            "mark": marks.get(i, ""),
        }
        for i in sorted(set(picks) | set(marks))
    ]
    return table(
        data, [("lr", "lr"), ("loss", "loss"), ("smoothed", "smoothed loss"), ("mark", "note")]
    )


def _save_lr_plot(result, out):
    if not matplotlib_available():
        note(f"the plot needs matplotlib: {PLOT_HINT}")
        return
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise click.UsageError(f"--out {out}: folder {folder} does not exist")
    fig, ax = new_figure((7, 4.5))
    diagnostics.plots.plot_lr_test(result, ax=ax)
    path = unique_file(out)
    if path != out:
        note(f"{out} exists: the plot goes to {path} instead")
    save_png(fig, path)
    click.echo(f"plot: {path}")


# ---- explain ----


@cli.command("explain")
@click.option(
    "--activation",
    type=click.Choice(["tanh", "sigmoid", "relu", "gelu", "elu"]),
    default="tanh",
    show_default=True,
    help="Activation between the layers.",
)
@click.option(
    "--depth",
    type=click.IntRange(min=1, max=50),
    default=2,
    show_default=True,
    help="Hidden layers.",
)
@click.option(
    "--width",
    type=click.IntRange(min=1, max=8),
    default=1,
    show_default=True,
    help="Units per hidden layer (1: every factor is a plain number).",
)
@click.option(
    "--layer",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Which Linear layer's weight to follow (1 = the first).",
)
@click.option(
    "--index",
    default="0,0",
    show_default=True,
    metavar="ROW,COL",
    help="Which element of that weight.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed of the tiny network's weights.",
)
@debug_option
def explain_command(activation, depth, width, layer, index, seed):
    """The chain rule on a tiny network: one weight, every factor, checked.

    Builds a tiny network (2 inputs, --depth hidden layers of --width units, 1 output, float64)
    and one example, prints the forward pass, then follows the gradient of the squared-error
    loss back to one weight: each op's local gain, the running product, and the scalar chain
    dL/dw = dL/dy * dy/dh * ... with its numbers. The product is checked against what
    backward computed and against a finite difference; the command fails (exit 1) if they
    disagree.

    \b
    Examples:
      chainrule explain
      chainrule explain --depth 10 --activation sigmoid     # watch the product collapse
      chainrule explain --width 3 --layer 2 --index 1,2
    """
    model, x, target = _tiny_network(activation, depth, width, seed)
    weight, (row, col) = _pick_weight(model, layer, index)
    click.echo(
        f"network: 2 inputs -> {depth} x [Linear({width}) -> {activation}] -> Linear(1); "
        f"loss L = (y - t)^2 with t = {target:g}"
    )
    _print_forward(model, x, target)
    loss = _loss(model, x, target)
    path = _forward_names(
        diagnostics.explain_gradient(loss, weight, index=(row, col)),
        depth,
        layer,
        (row, col),
        target,
    )
    click.echo("")
    click.echo(f"following dL/dW{layer}[{row}, {col}] back from the loss:")
    click.echo(str(path))
    loss.backward()
    _compare(path, weight, (row, col), lambda: _loss(model, x, target).item())


def _tiny_network(activation, depth, width, seed):
    crrandom.manual_seed(seed)
    dims = [2] + [width] * depth + [1]
    layers = []
    for k, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if k < depth:
            layers.append(ACTIVATION_MODULES[activation]())
    model = nn.Sequential(*layers).to(FLOAT64)
    x = tensor(np.array([[0.5, -1.0]]), dtype=FLOAT64)
    return model, x, 1.0


def _pick_weight(model, layer, index):
    linears = [m for m in model if isinstance(m, nn.Linear)]
    if layer > len(linears):
        raise click.UsageError(f"--layer {layer}: the network has {len(linears)} Linear layers")
    w = linears[layer - 1].weight
    try:
        row, col = (int(v) for v in index.split(","))
    except ValueError:
        raise click.UsageError(f"--index {index!r}: give ROW,COL, e.g. 0,1") from None
    if not (0 <= row < w.shape[0] and 0 <= col < w.shape[1]):
        raise click.UsageError(
            f"--index {index}: layer {layer}'s weight has shape {tuple(w.shape)}"
        )
    return w, (row, col)


def _loss(model, x, target):
    return ((model(x) - target) ** 2).mean()


def _print_forward(model, x, target):
    """z_k = W_k h_{k-1} + b_k and h_k = f(z_k), layer by layer, with their values."""
    click.echo("forward pass:")
    click.echo(f"  x   = {_vec(x)}")
    k, h = 0, x
    with no_grad():
        for m in model:
            h = m(h)
            if isinstance(m, nn.Linear):
                k += 1
                click.echo(f"  z{k}  = W{k} {'x' if k == 1 else f'h{k - 1}'} + b{k} = {_vec(h)}")
            else:
                click.echo(f"  h{k}  = {type(m).__name__.lower()}(z{k}) = {_vec(h)}")
    click.echo(f"  L   = (z{k} - {target:g})^2 = {((h.numpy() - target) ** 2).item():.6g}")


def _forward_names(path, depth, layer, index, target):
    """Name the chain's factors and the path's ops as the forward printout does (z3, h2, ...,
    W1[0, 0]) instead of by op (Linear[0, 0], Tanh[0, 0]): one notation on the page.

    Walking down from the loss, Linear outputs are z_{depth+1}, z_depth, ..., z1 and the
    activation below z_k is h_{k-1}; the loss ops are L's own pieces."""
    k, ops = depth + 1, []
    for step in path.steps:
        if step.op == "Linear":
            ops.append(f"Linear → z{k}")
            k -= 1
        elif step.op in ("Mean", "Pow", "Sub"):
            ops.append(step.op)
        else:
            ops.append(f"{step.op} → h{k}")
    path.steps = [s._replace(op=o) for s, o in zip(path.steps, ops, strict=True)]
    if path.chain is None:
        return path
    # Op names repeat (every Linear output is 'Linear[0, 0]'), so name by position: each
    # factor's top is the previous factor's bottom.
    k, above, chain = depth + 1, None, []
    loss_parts = {"Sub": f"(z{depth + 1} - {target:g})", "Pow": f"(z{depth + 1} - {target:g})^2"}
    for f in path.chain:  # top (loss side) first
        op, _, element = f.bottom.partition("[")
        unit = element.rstrip("]").split(",")[-1].strip() if element else ""
        if op == "Linear":
            below = f"z{k}[{unit}]"
            k -= 1
        elif op in loss_parts:
            below = loss_parts[op]
        elif op == "w":
            below = f"W{layer}[{index[0]}, {index[1]}]"
        else:
            below = f"h{k}[{unit}]"
        chain.append(type(f)(above or f.top, below, f.value))
        above = below
    path.chain = chain
    return path


def _vec(t):
    values = t.numpy().ravel()
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"


def _compare(path, weight, index, loss_at, eps=1e-6):
    backward = float(weight.grad.numpy()[index])
    original = float(weight._data[index])
    with no_grad():
        weight._data[index] = original + eps
        up = loss_at()
        weight._data[index] = original - eps
        down = loss_at()
        weight._data[index] = original
    numeric = (up - down) / (2 * eps)
    product = path.chain_product if path.chain_product is not None else float("nan")
    click.echo("")
    click.echo(f"chain-rule product   {product:.10g}")
    click.echo(f"backward (W.grad)    {backward:.10g}")
    click.echo(f"finite difference    {numeric:.10g}  ((L(w+e) - L(w-e)) / 2e, e = {eps:g})")
    agree = path.chain_matches and np.isclose(numeric, backward, rtol=1e-5, atol=1e-8)
    if not agree:
        raise click.ClickException(
            "the chain-rule product, backward and the finite difference disagree"
        )
    click.echo(
        "all three agree (to finite-difference precision): backpropagation is the chain "
        "rule, applied op by op."
    )
