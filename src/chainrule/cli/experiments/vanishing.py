"""``chainrule experiment vanishing``: one deep network, six ways to initialise and wire it.

The same 20-layer, 256-unit MLP is trained on the digits with plain SGD (momentum 0.9) six times:

* sigmoid with N(0, 1) weights: the units saturate (Glorot & Bengio 2010): it barely learns;
* sigmoid with Xavier init: the gradient shrinks ~4x per layer (sigmoid' <= 1/4): vanishing;
* tanh with Xavier init (Glorot & Bengio 2010) and ReLU with He init (He et al. 2015) keep the
  gradient's scale through depth: both train;
* sigmoid with Xavier + BatchNorm (Ioffe & Szegedy 2015) and + residual connections (He et al.
  2016) repair the vanishing sigmoid network.
"""

import click
import numpy as np

from .. import distributed
from ..common import fmt, new_figure, percent
from ..config import TrainConfig
from ..datasets import load_data
from .common import (
    Page,
    agreement,
    combine,
    finish,
    interrupted_exit,
    output_folder,
    ratio,
    run_seeds,
    seed_list,
    verdict,
    write_page,
)

# One rule for every setup (this experiment's convention, stated on its page): on the digits
# (10 classes, chance 10 %) a network "trains" when its test accuracy reaches 80 %: eight times
# chance and within about 15 points of what the healthy setups reach here (94-97 %). It "does
# not learn" below 20 % (twice chance). "Learns slowly" is below the 80 % of "trains".
TRAINS = 0.8
STUCK = 0.2
RULE = (
    "Rule for every setup: 'trains' means test accuracy of at least 80 % (8x chance on 10 "
    "classes, within ~15 points of the healthy setups' 94-97 %); 'does not learn' means "
    "below 20 % (2x chance); 'learns slowly' means below 80 %. 'Vanishing' is the pre-flight "
    "check's verdict: the gradient at the first layer below 1/100 of the one at the last "
    "(cr.diagnostics.THRESHOLDS['vanishing_ratio'], Glorot & Bengio 2010). A prediction "
    "holds when it holds for every seed."
)


def _flow_ok(row):
    return not any(k in row["at_init"] for k in ("vanishing", "exploding"))


# (label, options, what the literature predicts, the test of that prediction on a result row)
SETUPS = [
    (
        "sigmoid, N(0,1)",
        {"activation": "sigmoid", "init": "normal"},
        "saturates, learns slowly",
        lambda r: "saturated" in r["at_init"] and r["acc"] < TRAINS,
    ),
    (
        "sigmoid, Xavier",
        {"activation": "sigmoid", "init": "xavier"},
        "vanishes, does not learn",
        lambda r: "vanishing" in r["at_init"] and r["acc"] < STUCK,
    ),
    (
        "tanh, Xavier",
        {"activation": "tanh", "init": "xavier"},
        "healthy, trains",
        lambda r: _flow_ok(r) and r["acc"] >= TRAINS,
    ),
    (
        "ReLU, He",
        {"activation": "relu", "init": "he"},
        "healthy, trains",
        lambda r: _flow_ok(r) and r["acc"] >= TRAINS,
    ),
    (
        "sigmoid, Xavier + BatchNorm",
        {"activation": "sigmoid", "init": "xavier", "norm": "batch"},
        "no vanishing, trains",
        lambda r: _flow_ok(r) and r["acc"] >= TRAINS,
    ),
    (
        "sigmoid, Xavier + residual",
        {"activation": "sigmoid", "init": "xavier", "residual": True},
        "no vanishing, trains",
        lambda r: _flow_ok(r) and r["acc"] >= TRAINS,
    ),
]
COLUMNS = [
    ("setup", "setup"),
    ("grad_ratio_init", "|g1|/|gL| init"),
    ("grad_ratio_end", "|g1|/|gL| end"),
    ("acc", "test acc"),
    ("at_init", "check at init"),
    ("after", "report after training"),
    ("expected", "expected"),
    ("as_expected", "as expected"),
]
QUICK = {"depth": 6, "width": 32, "epochs": 2, "seeds": 1}
FORMATS = {"grad_ratio_init": lambda v: fmt(v), "grad_ratio_end": lambda v: fmt(v), "acc": percent}


def weight_layers(monitor):
    """Forward-order indices (into the layer series) of the Linear/Conv layers."""
    ctx = monitor.context()
    return [i for i in ctx["layer_order"] if ctx["layers"][i]["type"] in ("Linear", "Conv2d")]


def profile(monitor, row):
    """|dL/d output| of each weight layer, input side first, at history row ``row``."""
    return monitor.history.series("out_grad_norm")[row][weight_layers(monitor)]


def measure(outcome, expected, prediction):
    m = outcome.session.monitor
    start, end = profile(m, 0), profile(m, -1)
    acc = outcome.session.evaluate()["accuracy"]
    row = {
        "setup": outcome.label,
        "grad_ratio_init": ratio(start[0], start[-1]),
        "grad_ratio_end": ratio(end[0], end[-1]),
        "acc": acc,
        "test_accuracy": percent(acc),
        "at_init": verdict(outcome.preflight),
        "after": verdict(outcome.report, learned=acc >= STUCK),
        "expected": expected,
        "seconds": round(outcome.seconds, 1),
    }
    row["as_expected"] = "yes" if prediction(row) else "no"
    return row


@click.command("vanishing")
@click.option(
    "--depth", type=click.IntRange(min=2), default=20, show_default=True, help="Hidden layers."
)
@click.option(
    "--width",
    type=click.IntRange(min=2),
    default=256,
    show_default=True,
    help="Units per hidden layer.",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), default=10, show_default=True, help="Epochs per setup."
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=0.003,
    show_default=True,
    help="SGD learning rate (momentum 0.9), the same for all.",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="First random seed (weights, shuffling, data).",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Runs per setup, seeds --seed, --seed+1, ...: the table shows medians and "
    "ranges, and a prediction holds only when it holds for every seed.",
)
@click.option(
    "--quick", is_flag=True, help="A small version (depth 6, width 32, 2 epochs, 1 seed)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Output folder [default: runs/experiment-vanishing].",
)
@click.option(
    "--nproc",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Spread the setups over N MPI ranks (mpiexec -n N, one setup per rank "
    'at a time); rank 0 gathers one table. Needs pip install "chainrule[mpi]".',
)
def vanishing(depth, width, epochs, lr, seed, seeds, quick, out, nproc):
    """Vanishing gradients: sigmoid vs tanh vs ReLU vs BatchNorm vs residual, side by side.

    Trains the same deep MLP on the digits six times per seed (sigmoid with N(0,1) and with
    Xavier init, tanh with Xavier, ReLU with He, sigmoid + BatchNorm, sigmoid + residual
    connections) and measures the back-propagated gradient at every layer. Prints a table (the
    ratio of the gradient at the first layer to the last, test accuracy: medians over the
    seeds with their range; the verdicts), saves the figures and an HTML page. One rule
    judges every setup (see the page). About 5 minutes on 2 CPU cores at the default size
    (3 seeds).

    \b
    Examples:
      chainrule experiment vanishing
      chainrule experiment vanishing --depth 30 --epochs 5 --seeds 5
      chainrule experiment vanishing --quick --out /tmp/vanishing
      chainrule experiment vanishing --nproc 2
    """
    if nproc > 1 and not distributed.under_mpi():
        click.get_current_context().exit(distributed.relaunch(nproc))
    rank, world = distributed.join(nproc) if distributed.under_mpi() else (0, 1)
    if quick:
        depth, width, epochs, seeds = (QUICK[k] for k in ("depth", "width", "epochs", "seeds"))
    folder = output_folder(out, "vanishing") if rank == 0 else None
    base = TrainConfig(
        depth=depth,
        width=width,
        epochs=epochs,
        optimizer="sgd",
        lr=lr,
        momentum=0.9,
        seed=seed,
        plots=False,
    )
    bundle = load_data(base)
    seeds = seed_list(seed, seeds)
    click.echo(
        f"vanishing gradients: MLP with {depth} hidden layers of {width}, SGD lr {lr:g} "
        f"momentum 0.9, {epochs} epochs on {bundle.description}; seeds "
        f"{', '.join(map(str, seeds))}"
    )
    done, cut = [], False
    # each rank trains its own setups: no data-parallel collective between them
    with distributed.alone(world):
        for i, (label, changes, expected, prediction) in enumerate(SETUPS):
            if not distributed.mine(i, world, rank):  # setup i runs on rank i % world
                continue
            runs, per_seed, cut = run_seeds(
                label,
                base.replace(**changes),
                seeds,
                lambda o, e=expected, p=prediction: measure(o, e, p),
                bundle,
                preflight=True,
            )
            row = combine(per_seed, ["grad_ratio_init", "grad_ratio_end", "acc"], FORMATS)
            done.append((i, (runs[0], row)))
            if cut:
                break
    gathered = distributed.gather_results(done, world)
    if gathered is None:  # not rank 0: rank 0 writes
        return
    outcomes, rows = [o for o, _ in gathered], [r for _, r in gathered]
    page = Page("Vanishing gradients through depth", __doc__.split("\n\n", 1)[1].strip())
    page.add_paragraph(RULE)
    finish(
        folder,
        page,
        rows,
        COLUMNS,
        _figures(outcomes),
        _verdicts(rows),
        extra={
            "depth": depth,
            "width": width,
            "epochs": epochs,
            "lr": lr,
            "seeds": seeds,
            "rule": RULE,
        },
    )
    write_page(folder, page, outcomes)
    if cut:
        interrupted_exit(folder)


def _verdicts(rows):
    lines = [
        f"{r['setup']}: gradient at layer 1 / at the last layer = "
        f"{r['grad_ratio_init_text']} at init; {r['at_init']} -> {r['after']}; test "
        f"accuracy {r['acc_text']} (expected: {r['expected']}; holds: {r['as_expected']})"
        for r in rows
    ]
    lines.append(agreement(rows))
    return lines


def _figures(outcomes):
    return [
        (
            "gradient_flow",
            "Back-propagated gradient norm at each layer's output, first "
            "training step (log scale): it collapses towards the input for sigmoid",
            lambda: _plot_profiles(outcomes),
        ),
        ("accuracy", "Test accuracy per epoch", lambda: _plot_accuracy(outcomes)),
    ]


def _plot_profiles(outcomes):
    from matplotlib.ticker import MaxNLocator

    fig, ax = new_figure((8, 4.5))
    for o in outcomes:
        values = profile(o.session.monitor, 0)
        shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)
        ax.plot(np.arange(1, len(values) + 1), shown, marker="o", ms=3, label=o.label)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer (1 = input side)")
    ax.set_ylabel("||dL / d layer output||")
    ax.set_title("gradient flow at the first step")
    ax.legend(fontsize=7)
    return fig


def _plot_accuracy(outcomes):
    fig, ax = new_figure()
    for o in outcomes:
        acc = o.history.metrics.get("val_accuracy", [])
        ax.plot(np.arange(1, len(acc) + 1), acc, marker="o", ms=3, label=o.label)
    ax.set_ylim(0, 1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.legend(fontsize=7)
    return fig
