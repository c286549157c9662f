"""``chainrule experiment learning-rate``: one model, a sweep of learning rates, and the LR test.

The digits MLP is trained with plain SGD at learning rates a decade apart. Too large a rate makes
the loss rise and diverge; too small a rate makes it crawl (updates around 1e-5 of the weights
per step instead of Karpathy's ~1e-3); in between it trains. Leslie Smith's learning-rate
range test (2017) finds a good rate from one short sweep, without training to the end: the
model is also trained at its suggestion and at the low end of its suggested range.
"""

import click
import numpy as np

from ... import diagnostics
from .. import distributed
from ..common import fmt, new_figure, percent
from ..config import TrainConfig
from ..datasets import load_data
from ..run import Session
from .common import (
    Page,
    agreement,
    combine,
    finish,
    first_nonfinite_step,
    interrupted_exit,
    output_folder,
    run_seeds,
    seed_list,
    verdict,
    write_page,
)

LRS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
COLUMNS = [
    ("setup", "setup"),
    ("lr", "lr"),
    ("first_loss", "loss, epoch 1"),
    ("last_loss", "loss, last epoch"),
    ("accuracy", "test acc"),
    ("update_ratio", "|dW|/|W|"),
    ("after", "report"),
    ("expected", "expected"),
    ("as_expected", "as expected"),
]
QUICK = {"lrs": (1e-4, 1e-1, 10.0), "epochs": 2, "steps": 30, "seeds": 1}
FORMATS = {"first_loss": fmt, "last_loss": fmt, "accuracy": percent, "update_ratio": fmt}
TRAINS = 0.8  # test accuracy that counts as "trains" on digits (chance: 10 %)
LEARNS = 0.5  # well above chance


def parse_lrs(text):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: give learning rates separated by commas, e.g. 1e-3,1e-2,0.1"
        ) from None
    if not values or any(not v > 0 for v in values):
        raise click.BadParameter(f"{text!r}: learning rates must be positive")
    return values


def update_ratio(monitor, window=20):
    """Median ||dW||/||W|| of the weight matrices over the last ``window`` recorded steps."""
    ctx = monitor.context()
    cols = [k for k, p in enumerate(ctx["params"]) if p["ndim"] >= 2]
    data = monitor.history.series("update_ratio")[-window:, cols]
    finite = data[np.isfinite(data)]
    return float(np.median(finite)) if finite.size else float("nan")


def predictions(rates, result):
    """``(label, lr, expected)`` per setup: the sweep's top rate diverges and its bottom rate
    crawls; the range test's suggestion trains and the low end of its range learns. The rates
    in between show the transition (no prediction)."""
    rows = []
    for lr in rates:
        expected = "diverges" if lr == max(rates) else "crawls" if lr == min(rates) else "-"
        rows.append((f"lr {lr:g}", lr, expected))
    low = result.suggested_range[0]
    rows.append((f"LR test: suggested {result.suggested_lr:.2g}", result.suggested_lr, "trains"))
    rows.append((f"LR test: low end of range {low:.2g}", low, "learns"))
    return rows


def holds(expected, acc, diverged, kinds):
    """Whether a prediction held ('-' when there was none)."""
    if expected == "-":
        return "-"
    ok = {
        "diverges": diverged,
        "crawls": "lr_too_low" in kinds or acc < LEARNS,
        "trains": acc >= TRAINS,
        "learns": acc >= LEARNS,
    }[expected]
    return "yes" if ok else "no"


def measure(outcome, lr, expected):
    h, m = outcome.history, outcome.session.monitor
    acc = outcome.session.evaluate()["accuracy"]
    kinds = outcome.report.kinds
    diverged = (
        first_nonfinite_step(m) is not None
        or h.train_loss[-1] > h.train_loss[0]
        or acc < LEARNS
        and "lr_too_high" in kinds
    )
    return {
        "setup": outcome.label,
        "lr": lr,
        "first_loss": h.train_loss[0],
        "last_loss": h.train_loss[-1],
        "test_accuracy": percent(acc),
        "accuracy": acc,
        "update_ratio": update_ratio(m),
        "after": verdict(outcome.report, learned=acc >= LEARNS),
        "expected": expected,
        "as_expected": holds(expected, acc, diverged, kinds),
        "seconds": round(outcome.seconds, 1),
    }


@click.command("learning-rate")
@click.option(
    "--lrs",
    default=",".join(f"{v:g}" for v in LRS),
    show_default=True,
    help="Learning rates to train at, separated by commas.",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), default=10, show_default=True, help="Epochs per setup."
)
@click.option(
    "--width",
    type=click.IntRange(min=2),
    default=128,
    show_default=True,
    help="Units per hidden layer of the MLP.",
)
@click.option(
    "--depth",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Hidden layers of the MLP.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=3),
    default=100,
    show_default=True,
    help="Steps of the learning-rate range test.",
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
    help="Runs per learning rate, seeds --seed, --seed+1, ...: medians and ranges; a "
    "prediction holds only when it holds for every seed.",
)
@click.option(
    "--quick", is_flag=True, help="A small version (3 rates, 2 epochs, 30 test steps, 1 seed)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Output folder [default: runs/experiment-learning-rate].",
)
@click.option(
    "--nproc",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Spread the trainings over N MPI ranks (mpiexec -n N, one learning rate per rank "
    "at a time; rank 0 runs the range test first); rank 0 gathers one table. Needs pip "
    'install "chainrule[mpi]".',
)
def learning_rate(lrs, epochs, width, depth, steps, seed, seeds, quick, out, nproc):
    """Learning rate too large, too small, and the LR range test's suggestion in between.

    Runs the learning-rate range test on the digits MLP, then trains it with plain SGD at each
    rate of --lrs, at the test's suggestion and at the low end of its range, once per seed.
    Prints a table (loss in the first and last epoch, test accuracy, update-to-weight ratio:
    medians over the seeds with their range; the verdicts), saves the figures and an HTML
    page. About 3 minutes on 2 CPU cores at the default size (3 seeds).

    \b
    Examples:
      chainrule experiment learning-rate
      chainrule experiment learning-rate --lrs 0.01,0.1,1 --epochs 5
      chainrule experiment learning-rate --quick --out /tmp/lr
      chainrule experiment learning-rate --nproc 2
    """
    rates = QUICK["lrs"] if quick else parse_lrs(lrs)
    if nproc > 1 and not distributed.under_mpi():
        click.get_current_context().exit(distributed.relaunch(nproc))
    rank, world = distributed.join(nproc) if distributed.under_mpi() else (0, 1)
    if quick:
        epochs, steps, seeds = QUICK["epochs"], QUICK["steps"], QUICK["seeds"]
    folder = output_folder(out, "learning-rate") if rank == 0 else None
    base = TrainConfig(
        depth=depth, width=width, epochs=epochs, optimizer="sgd", lr=0.1, seed=seed, plots=False
    )
    bundle = load_data(base)
    seeds = seed_list(seed, seeds)
    click.echo(
        f"learning rate: MLP with {depth} hidden layers of {width}, plain SGD, {epochs} "
        f"epochs on {bundle.description}; seeds {', '.join(map(str, seeds))}"
    )
    # the rates trained at depend on the range test: rank 0 runs it, every rank gets its result
    result = distributed.from_rank0(lambda: _range_test(base, bundle, steps), world)
    click.echo(
        f"LR range test: suggested lr {result.suggested_lr:.3g}, range "
        f"{result.suggested_range[0]:.3g} to {result.suggested_range[1]:.3g}"
    )
    done, cut = [], False
    # each rank trains its own setups: no data-parallel collective between them
    with distributed.alone(world):
        for i, (label, lr, expected) in enumerate(predictions(rates, result)):
            if not distributed.mine(i, world, rank):  # setup i runs on rank i % world
                continue
            runs, per_seed, cut = run_seeds(
                label,
                base.replace(lr=float(lr)),
                seeds,
                lambda o, r=float(lr), e=expected: measure(o, r, e),
                bundle,
            )
            row = combine(
                per_seed, ["first_loss", "last_loss", "accuracy", "update_ratio"], FORMATS
            )
            done.append((i, (runs[0], row)))
            if cut:
                break
    gathered = distributed.gather_results(done, world)
    if gathered is None:  # not rank 0: rank 0 writes
        return
    outcomes, rows = [o for o, _ in gathered], [r for _, r in gathered]
    page = Page(
        "Learning rate: too large, too small, and the range test",
        __doc__.split("\n\n", 1)[1].strip(),
    )
    finish(
        folder,
        page,
        rows,
        COLUMNS,
        _figures(outcomes, result, rows),
        _verdicts(rows, result),
        extra={
            "suggested_lr": result.suggested_lr,
            "suggested_range": list(result.suggested_range),
            "diverged_at": result.diverged_at,
            "epochs": epochs,
            "seeds": seeds,
        },
    )
    write_page(folder, page, outcomes)
    if cut:
        interrupted_exit(folder)


def _range_test(base, bundle, steps):
    session = Session(base, bundle=bundle, monitor=False)
    with np.errstate(all="ignore"):
        return diagnostics.lr_range_test(
            session.model,
            session.loss_fn,
            session.optimizer,
            bundle.train,
            start_lr=1e-5,
            end_lr=100,
            num_steps=steps,
        )


def _verdicts(rows, result):
    lines = [result.reasoning]
    for r in rows:
        lines.append(
            f"{r['setup']}: loss {r['first_loss_text']} -> {r['last_loss_text']}, "
            f"test accuracy {r['accuracy_text']}, update/weight "
            f"{r['update_ratio_text']}; {r['after']} (expected: {r['expected']}; "
            f"holds: {r['as_expected']})"
        )
    lines.append(
        agreement(rows).replace("setups behave as the literature predicts", "predictions hold")
        + " Predictions: the top rate diverges, the bottom one crawls, the range "
        "test's suggestion trains, its range's low end learns; 'trains' means at least "
        f"{TRAINS:.0%} test accuracy, 'learns' at least {LEARNS:.0%} (chance: 10 %), "
        "for every seed."
    )
    return lines


def _figures(outcomes, result, rows):
    return [
        (
            "loss_curves",
            "Training loss per step at each learning rate (first seed; log scale)",
            lambda: _plot_losses(outcomes),
        ),
        (
            "lr_range_test",
            "The learning-rate range test and its suggestion",
            lambda: _plot_range(result, outcomes),
        ),
        (
            "accuracy_vs_lr",
            "Test accuracy after training, per learning rate (median over "
            "the seeds; bars: their range)",
            lambda: _plot_accuracy(rows),
        ),
    ]


def _plot_losses(outcomes):
    fig, ax = new_figure((8, 4.5))
    for o in outcomes:
        h = o.session.monitor.history
        loss = h.series("loss")
        ax.plot(
            h.steps, np.where(np.isfinite(loss) & (loss > 0), loss, np.nan), lw=1, label=o.label
        )
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss (log scale)")
    ax.legend(fontsize=7)
    return fig


def _plot_range(result, outcomes):
    fig, ax = new_figure()
    diagnostics.plots.plot_lr_test(result, ax=ax)
    return fig


def _plot_accuracy(rows):
    fig, ax = new_figure()
    lrs = np.array([r["lr"] for r in rows])
    acc = 100 * np.array([r["accuracy"] for r in rows])
    spread = 100 * np.array([r["accuracy_range"] for r in rows]).T
    err = np.abs(spread - acc)
    styles = [
        ("sweep", slice(0, -2), "o", "C0"),
        ("range test's suggestion", slice(-2, -1), "*", "green"),
        ("low end of its range", slice(-1, None), "*", "olive"),
    ]
    for label, part, mark, colour in styles:
        ax.errorbar(
            lrs[part],
            acc[part],
            yerr=err[:, part],
            marker=mark,
            ms=8 if mark == "o" else 14,
            ls="-" if mark == "o" else "",
            color=colour,
            capsize=3,
            label=label,
        )
    ax.axhline(100 * TRAINS, color="black", ls="--", lw=1, label=f"'trains' {TRAINS:.0%}")
    ax.axhline(100 * LEARNS, color="grey", ls=":", lw=1, label=f"'learns' {LEARNS:.0%}")
    ax.set_xscale("log")
    ax.set_ylim(0, 100)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=7)
    return fig
