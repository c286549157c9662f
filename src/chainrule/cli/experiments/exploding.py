"""``chainrule experiment exploding``: gradients that blow up through time, and what stops them.

A plain tanh RNN reads the adding problem (Hochreiter & Schmidhuber 1997: sum the two marked
numbers of a long sequence) with its recurrent matrix set orthogonal times a gain above 1, so
its largest singular value exceeds 1 and gradients can grow step after step (Pascanu et al.
2013). Two phases, each setup once per seed:

1. **Gradients** (plain SGD, the same learning rate for all, as in Pascanu et al. 2013):
   without clipping the plain RNN's gradient norm explodes (grows past 100x its first value,
   the report's `exploding_ratio`, often on to NaN); with the gradient norm clipped to 1
   training stays finite; an LSTM (Hochreiter & Schmidhuber 1997) and a GRU (Cho et al. 2014)
   stay bounded without clipping (under 100x): their gates add paths through time whose gain
   stays near or below 1.
2. **Learning** (a budget that lets gated cells learn: Adam, lr 0.01, clipping at 1, more
   epochs): the LSTM and the GRU learn the task, i.e. their test MSE falls below half of what
   always predicting 1.0 scores (the trivial baseline). The clipped plain RNN gets the same
   budget; the literature expects it to fail at long lags (Bengio et al. 1994; Hochreiter &
   Schmidhuber 1997): clipping stops the explosion, not the vanishing.

A setup's prediction holds only when every part of it holds, for every seed.
"""

import click
import numpy as np

from ... import train as crtrain
from .. import distributed
from ..common import fmt, new_figure
from ..config import TrainConfig
from ..datasets import load_data
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

BASELINE_MSE = 1 / 6  # always predicting 1.0: the variance of the sum of two U(0,1)
LEARNED = 0.5  # "learns": test MSE below half the baseline's
GROWTH = 100  # "explodes": the gradient norm grows past 100x its first value
#                            (the report's exploding_ratio, cr.diagnostics.THRESHOLDS) or NaN
COLUMNS = [
    ("setup", "setup"),
    ("max_grad_norm", "max |grad| (SGD)"),
    ("growth", "max / first |grad|"),
    ("first_nan_step", "first NaN step (SGD)"),
    ("time_ratio", "|dL/dh_1|/|dL/dh_T|"),
    ("test_mse", "test MSE (learning phase)"),
    ("after", "report (SGD)"),
    ("expected", "expected"),
    ("as_expected", "as expected"),
]
QUICK = {"seq_len": 20, "samples": 400, "width": 32, "epochs": 3, "learn_epochs": 3, "seeds": 1}
FORMATS = {
    "max_grad_norm": fmt,
    "time_ratio": fmt,
    "growth": fmt,
    "test_mse": lambda v: fmt(v) if np.isfinite(v) else "-",
    "first_nan_step": lambda v: str(int(v)) if np.isfinite(v) else "-",
}


def setups(gain):
    """(label, changes, expected, learning phase?, must learn?)"""
    g = f"{gain:g}"
    return [
        (
            f"RNN, recurrent gain {g}",
            {"model": "rnn", "recurrent_gain": gain},
            "explodes (NaN, or |grad| grows > 100x)",
            False,
            False,
        ),
        (
            f"RNN, recurrent gain {g}, clip 1",
            {"model": "rnn", "recurrent_gain": gain, "clip_norm": 1.0},
            "finite; does not learn the long lag",
            True,
            False,
        ),
        ("LSTM", {"model": "lstm"}, "bounded; learns", True, True),
        ("GRU", {"model": "gru"}, "bounded; learns", True, True),
    ]


def total_grad_norms(monitor):
    """Per recorded step: the total gradient norm before clipping (NaN/Inf kept)."""
    h = monitor.history
    before_clip = h.series("clip_total_norm")
    if np.isfinite(before_clip).any():
        return before_clip
    g = h.series("grad_norm")
    with np.errstate(all="ignore"):
        return np.sqrt(np.sum(g**2, axis=1))


def time_ratio(monitor, row=0):
    """||dL/dh_1|| / ||dL/dh_T|| of the recurrent layer at history row ``row``."""
    series = monitor.history.series("time_ratio")
    return float(series[row][0]) if series.shape[1] else float("nan")


def measure(outcome, expected, clip):
    """The gradient phase's numbers of one run (SGD)."""
    m = outcome.session.monitor
    norms = total_grad_norms(m)
    nan_step = first_nonfinite_step(m)
    finite = norms[np.isfinite(norms)]
    return {
        "setup": outcome.label,
        "clipping": fmt(clip) if clip else "no",
        "max_grad_norm": float(finite.max()) if finite.size else float("nan"),
        "growth": float(finite.max() / finite[0])
        if finite.size and finite[0] > 0
        else float("nan"),
        "any_nonfinite_grad": bool((~np.isfinite(norms)).any()),
        "first_nan_step": nan_step,
        "time_ratio": time_ratio(m),
        "sgd_mse": outcome.session.evaluate()["mse"],
        "after": verdict(outcome.report),
        "expected": expected,
        "seconds": round(outcome.seconds, 1),
    }


def judge(row, learned_mse, learns, learn_phase):
    """Whether the prediction held for one seed: every part of it."""
    went_nan = row["first_nan_step"] is not None
    exploded = went_nan or row["growth"] > GROWTH
    if not learn_phase:  # the unclipped RNN
        return "yes" if exploded else "no"
    beat = (
        learned_mse is not None
        and np.isfinite(learned_mse)
        and learned_mse < LEARNED * BASELINE_MSE
    )
    bounded = not exploded if learns else not went_nan  # gated: bounded; clipped: finite
    return "yes" if (bounded and beat == learns) else "no"


@click.command("exploding")
@click.option(
    "--seq-len",
    type=click.IntRange(min=2),
    default=30,
    show_default=True,
    help="Length of the adding problem's sequences.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=10),
    default=2000,
    show_default=True,
    help="Training sequences.",
)
@click.option(
    "--width", type=click.IntRange(min=2), default=32, show_default=True, help="Hidden size."
)
@click.option(
    "--gain",
    type=click.FloatRange(min=0, min_open=True),
    default=1.5,
    show_default=True,
    help="The plain RNN's recurrent matrix: orthogonal x gain.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=6,
    show_default=True,
    help="Epochs per setup in the gradient phase (SGD).",
)
@click.option(
    "--learn-epochs",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Epochs per setup in the learning phase (Adam).",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=0.1,
    show_default=True,
    help="SGD learning rate of the gradient phase, the same for all.",
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
    help="Runs per setup and phase, seeds --seed, --seed+1, ...: medians and ranges; "
    "a prediction holds only when it holds for every seed.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="A small version (length 20, 400 sequences, hidden 32, 3 + 3 epochs, 1 seed).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Output folder [default: runs/experiment-exploding].",
)
@click.option(
    "--nproc",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Spread the setups over N MPI ranks (mpiexec -n N, one setup and its learning "
    'phase per rank at a time); rank 0 gathers one table. Needs pip install "chainrule[mpi]".',
)
def exploding(
    seq_len, samples, width, gain, epochs, learn_epochs, lr, seed, seeds, quick, out, nproc
):
    """Exploding gradients: a plain RNN on the adding problem, with and without clipping.

    Gradient phase: trains a tanh RNN whose recurrent matrix is orthogonal x GAIN (largest
    singular value above 1) without and with gradient-norm clipping, and an LSTM and a GRU,
    all with plain SGD at the same learning rate (largest gradient norm, first NaN step,
    gradient ratio through time). Learning phase: the clipped RNN, the LSTM and the GRU again
    with a budget that lets gated cells learn (Adam lr 0.01, clipping 1, --learn-epochs): test
    MSE against the trivial baseline. Prints a table (medians over the seeds with their range),
    saves the figures and an HTML page. A few minutes on 2 CPU cores at the default size.

    \b
    Examples:
      chainrule experiment exploding
      chainrule experiment exploding --seq-len 50 --gain 2 --learn-epochs 25
      chainrule experiment exploding --quick --out /tmp/exploding
      chainrule experiment exploding --nproc 2
    """
    if nproc > 1 and not distributed.under_mpi():
        click.get_current_context().exit(distributed.relaunch(nproc))
    rank, world = distributed.join(nproc) if distributed.under_mpi() else (0, 1)
    if quick:
        seq_len, samples, width, epochs, learn_epochs, seeds = (
            QUICK[k] for k in ("seq_len", "samples", "width", "epochs", "learn_epochs", "seeds")
        )
    folder = output_folder(out, "exploding") if rank == 0 else None
    base = TrainConfig(
        model="rnn",
        data="adding",
        seq_len=seq_len,
        samples=samples,
        width=width,
        depth=1,
        optimizer="sgd",
        lr=lr,
        epochs=epochs,
        batch_size=32,
        seed=seed,
        plots=False,
    )
    learn = base.replace(
        optimizer="adam", lr=0.01, clip_norm=1.0, epochs=learn_epochs, monitor_every=10
    )
    bundle = load_data(base)
    seeds = seed_list(seed, seeds)
    click.echo(
        f"exploding gradients: {bundle.description}; hidden size {width}; gradient "
        f"phase SGD lr {lr:g}, {epochs} epochs; learning phase Adam lr 0.01, clip 1, "
        f"{learn_epochs} epochs; seeds {', '.join(map(str, seeds))} (always predicting "
        f"1.0 scores MSE {BASELINE_MSE:.3f}; 'learns' means below {LEARNED:g} of that)"
    )
    done, cut = [], False
    # each rank trains its own setups: no data-parallel collective between them
    with distributed.alone(world):
        for i, (label, changes, expected, learn_phase, learns) in enumerate(setups(gain)):
            if not distributed.mine(i, world, rank):  # setup i (both phases) runs on rank i % world
                continue
            keep = FirstProfile()
            runs, per_seed, cut = run_seeds(
                label,
                base.replace(**changes),
                seeds,
                lambda o, e=expected, c=changes.get("clip_norm"): measure(o, e, c),
                bundle,
                callbacks=[keep],
            )
            runs[0].numbers["time_profile"] = keep.profile  # measured at its first step
            if not cut and learn_phase:
                trained, learned, cut = run_seeds(
                    f"{label}, learning phase",
                    learn.replace(**changes),
                    seeds,
                    lambda o: {
                        "test_mse": o.session.evaluate()["mse"],
                        "after_learning": verdict(o.report),
                    },
                    bundle,
                )
                for row, lrow in zip(per_seed, learned, strict=True):
                    row.update(test_mse=lrow["test_mse"], after_learning=lrow["after_learning"])
                    if lrow.get("interrupted"):
                        row["interrupted"] = True
            for row in per_seed:
                if not row.get("interrupted"):
                    row["as_expected"] = judge(row, row.get("test_mse"), learns, learn_phase)
                else:
                    row["as_expected"] = "interrupted"
            row = combine(
                per_seed,
                ["max_grad_norm", "growth", "first_nan_step", "time_ratio", "test_mse", "sgd_mse"],
                FORMATS,
            )
            done.append((i, (runs[0], row)))
            if cut:
                break
    gathered = distributed.gather_results(done, world)
    if gathered is None:  # not rank 0: rank 0 writes
        return
    outcomes, rows = [o for o, _ in gathered], [r for _, r in gathered]
    page = Page("Exploding gradients through time", __doc__.split("\n\n", 1)[1].strip())
    finish(
        folder,
        page,
        rows,
        COLUMNS,
        _figures(outcomes),
        _verdicts(rows),
        extra={
            "seq_len": seq_len,
            "samples": samples,
            "width": width,
            "gain": gain,
            "epochs": epochs,
            "learn_epochs": learn_epochs,
            "lr": lr,
            "seeds": seeds,
            "baseline_mse": BASELINE_MSE,
            "learned_below": LEARNED * BASELINE_MSE,
        },
    )
    write_page(folder, page, outcomes)
    if cut:
        interrupted_exit(folder)


def _verdicts(rows):
    lines = []
    for r in rows:
        nan = (
            "NaN loss from step " + r["first_nan_step_text"]
            if np.isfinite(r["first_nan_step"])
            else "finite throughout"
        )
        learned = (
            "; not trained in the learning phase"
            if not np.isfinite(r["test_mse"])
            else f"; learning phase: test MSE {r['test_mse_text']} (baseline "
            f"{BASELINE_MSE:.3f}, 'learns' below {LEARNED * BASELINE_MSE:.3f})"
        )
        lines.append(
            f"{r['setup']}: largest gradient norm with SGD {r['max_grad_norm_text']}"
            f"{' then Inf/NaN' if r['any_nonfinite_grad'] else ''}, {nan}{learned}; "
            f"report: {r['after']} (expected: {r['expected']}; holds: "
            f"{r['as_expected']})"
        )
    lines.append(agreement(rows))
    return lines


def _figures(outcomes):
    return [
        (
            "grad_norms",
            "Total gradient norm per training step, before clipping (log "
            "scale; x: the step where it became NaN/Inf)",
            lambda: _plot_norms(outcomes),
        ),
        (
            "through_time",
            "Gradient norm ||dL/dh_t|| through time at the first step",
            lambda: _plot_time(outcomes),
        ),
        ("loss", "Training loss per step", lambda: _plot_loss(outcomes)),
    ]


def _plot_norms(outcomes):
    fig, ax = new_figure((8, 4.5))
    for k, o in enumerate(outcomes):
        m = o.session.monitor
        steps, norms = m.history.steps, total_grad_norms(m)
        ok = np.isfinite(norms) & (norms > 0)
        ax.plot(steps[ok], norms[ok], lw=1, label=o.label, color=f"C{k}")
        if (~np.isfinite(norms)).any():
            first = steps[~np.isfinite(norms)][0]
            top = norms[ok].max() if ok.any() else 1.0
            ax.plot([first], [top], "x", ms=10, mew=2, color=f"C{k}")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("total gradient norm (log scale)")
    ax.legend(fontsize=7)
    return fig


def _plot_time(outcomes):
    fig, ax = new_figure()
    for o in outcomes:
        profile = first_profile(o)
        if profile is not None:
            t = np.arange(1, len(profile) + 1)
            ax.plot(
                t, np.where(np.isfinite(profile) & (profile > 0), profile, np.nan), label=o.label
            )
    ax.set_yscale("log")
    ax.set_xlabel("time step t of the sequence")
    ax.set_ylabel("||dL/dh_t|| (log scale)")
    ax.legend(fontsize=7)
    return fig


def first_profile(outcome):
    return outcome.numbers.get("time_profile")


class FirstProfile(crtrain.Callback):
    """Keeps ||dL/dh_t|| over t as measured at the first training step (the monitor keeps only
    the latest)."""

    profile = None

    def on_step_end(self, info):
        if self.profile is None:
            profiles = self.trainer.monitor.history.time_profiles
            self.profile = np.array(next(iter(profiles.values()), []), dtype=np.float64)


def _plot_loss(outcomes):
    fig, ax = new_figure()
    for o in outcomes:
        h = o.session.monitor.history
        loss = h.series("loss")
        ax.plot(h.steps, np.where(np.isfinite(loss), loss, np.nan), lw=1, label=o.label)
    ax.axhline(BASELINE_MSE, color="black", ls=":", lw=1, label="baseline: always predict 1.0")
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("training MSE (log scale)")
    ax.legend(fontsize=7)
    return fig
