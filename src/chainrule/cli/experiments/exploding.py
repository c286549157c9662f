"""``chainrule experiment exploding``: gradients that blow up through time, and what stops them.

A plain tanh RNN reads the adding problem (Hochreiter & Schmidhuber 1997: sum the two marked
numbers of a long sequence) with its recurrent matrix set orthogonal times a gain above 1, so
its largest singular value exceeds 1 and gradients can grow step after step (Pascanu et al.
2013). Trained with plain SGD:

* without clipping, the gradient norm blows up and the weights become NaN;
* with the gradient norm clipped to 1 (Pascanu et al. 2013), training stays finite;
* an LSTM (Hochreiter & Schmidhuber 1997) and a GRU (Cho et al. 2014), at the same learning rate
  and without clipping, keep the gradient bounded: their gates add paths through time whose
  gain stays near or below 1.
"""
import click
import numpy as np

from ... import train as crtrain
from ..common import fmt, new_figure
from ..config import TrainConfig
from ..datasets import load_data
from .common import (Page, finish, first_nonfinite_step, output_folder, run_setup,
                     verdict, write_page)

BASELINE_MSE = 0.167          # always predicting 1.0 (the mean of the sum of two U(0,1))
COLUMNS = [("setup", "setup"), ("clipping", "clip"), ("max_grad_norm", "max |grad|"),
           ("first_nan_step", "first NaN step"), ("time_ratio", "|dL/dh_1|/|dL/dh_T|"),
           ("test_mse", "test MSE"), ("after", "report"), ("expected", "expected"),
           ("as_expected", "as expected")]
QUICK = {"seq_len": 20, "samples": 400, "width": 32, "epochs": 3}


def setups(gain):
    g = f"{gain:g}"
    return [(f"RNN, recurrent gain {g}", {"model": "rnn", "recurrent_gain": gain},
             "NaN without clipping"),
            (f"RNN, recurrent gain {g}, clip 1", {"model": "rnn", "recurrent_gain": gain,
                                                   "clip_norm": 1.0}, "finite"),
            ("LSTM", {"model": "lstm"}, "finite"),
            ("GRU", {"model": "gru"}, "finite")]


def total_grad_norms(monitor):
    """Per recorded step: the total gradient norm before clipping (NaN/Inf kept)."""
    h = monitor.history
    before_clip = h.series("clip_total_norm")
    if np.isfinite(before_clip).any():
        return before_clip
    g = h.series("grad_norm")
    with np.errstate(all="ignore"):
        return np.sqrt(np.sum(g ** 2, axis=1))


def time_ratio(monitor, row=0):
    """||dL/dh_1|| / ||dL/dh_T|| of the recurrent layer at history row ``row``."""
    series = monitor.history.series("time_ratio")
    return float(series[row][0]) if series.shape[1] else float("nan")


def measure(outcome, expected, clip):
    m = outcome.session.monitor
    norms = total_grad_norms(m)
    nan_step = first_nonfinite_step(m)
    mse = outcome.session.evaluate()["mse"]
    ok = (nan_step is not None) if expected.startswith("NaN") else (nan_step is None)
    finite = norms[np.isfinite(norms)]
    return {"setup": outcome.label, "clipping": fmt(clip) if clip else "no",
            "max_grad_norm": float(finite.max()) if finite.size else float("nan"),
            "any_nonfinite_grad": bool((~np.isfinite(norms)).any()),
            "first_nan_step": nan_step, "time_ratio": time_ratio(m),
            "test_mse": mse, "after": verdict(outcome.report), "expected": expected,
            "as_expected": "yes" if ok else "no", "seconds": round(outcome.seconds, 1)}


@click.command("exploding")
@click.option("--seq-len", type=click.IntRange(min=2), default=50, show_default=True,
              help="Length of the adding problem's sequences.")
@click.option("--samples", type=click.IntRange(min=10), default=2000, show_default=True,
              help="Training sequences.")
@click.option("--width", type=click.IntRange(min=2), default=64, show_default=True,
              help="Hidden size.")
@click.option("--gain", type=click.FloatRange(min=0, min_open=True), default=1.5,
              show_default=True, help="The plain RNN's recurrent matrix: orthogonal x gain.")
@click.option("--epochs", type=click.IntRange(min=1), default=8, show_default=True,
              help="Epochs per setup.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.1,
              show_default=True, help="SGD learning rate, the same for all.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed (weights, shuffling, data).")
@click.option("--quick", is_flag=True, help="A small version (length 20, 400 sequences, "
              "hidden 32, 3 epochs).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder [default: runs/experiment-exploding].")
def exploding(seq_len, samples, width, gain, epochs, lr, seed, quick, out):
    """Exploding gradients: a plain RNN on the adding problem, with and without clipping.

    Trains a tanh RNN whose recurrent matrix is orthogonal x GAIN (largest singular value
    above 1) without and with gradient-norm clipping, and an LSTM and a GRU, all with plain
    SGD at the same learning rate. Prints a table (largest gradient norm, the first step with
    a NaN loss, the gradient ratio through time, the test MSE, the verdicts), saves the figures
    and an HTML page. About a minute on 2 CPU cores at the default size.

    \b
    Examples:
      chainrule experiment exploding
      chainrule experiment exploding --seq-len 100 --gain 2
      chainrule experiment exploding --quick --out /tmp/exploding
    """
    if quick:
        seq_len, samples, width, epochs = (QUICK[k] for k in ("seq_len", "samples", "width",
                                                              "epochs"))
    folder = output_folder(out, "exploding")
    base = TrainConfig(model="rnn", data="adding", seq_len=seq_len, samples=samples,
                       width=width, depth=1, optimizer="sgd", lr=lr, epochs=epochs,
                       batch_size=32, seed=seed, plots=False)
    bundle = load_data(base)
    click.echo(f"exploding gradients: {bundle.description}; hidden size {width}, SGD lr "
               f"{lr:g}, {epochs} epochs (always predicting 1.0 scores MSE {BASELINE_MSE})")
    outcomes, rows = [], []
    for label, changes, expected in setups(gain):
        keep = FirstProfile()
        outcome = run_setup(label, base.replace(**changes), bundle, callbacks=[keep])
        outcome.numbers["time_profile"] = keep.profile
        outcomes.append(outcome)
        rows.append(measure(outcome, expected, changes.get("clip_norm")))
    page = Page("Exploding gradients through time", __doc__.split("\n\n", 1)[1].strip())
    finish(folder, page, rows, COLUMNS, _figures(outcomes), _verdicts(rows),
           extra={"seq_len": seq_len, "samples": samples, "width": width, "gain": gain,
                  "epochs": epochs, "lr": lr, "seed": seed, "baseline_mse": BASELINE_MSE})
    write_page(folder, page, outcomes)


def _verdicts(rows):
    lines = []
    for r in rows:
        nan = (f"NaN loss from step {r['first_nan_step']}" if r["first_nan_step"] is not None
               else "finite throughout")
        lines.append(f"{r['setup']}: largest gradient norm {fmt(r['max_grad_norm'])}"
                     f"{' then Inf/NaN' if r['any_nonfinite_grad'] else ''}, {nan}; test MSE "
                     f"{fmt(r['test_mse'])} (baseline {BASELINE_MSE}); {r['after']}")
    agree = sum(r["as_expected"] == "yes" for r in rows)
    lines.append(f"{agree} of {len(rows)} setups behave as the literature predicts.")
    return lines


def _figures(outcomes):
    return [("grad_norms", "Total gradient norm per training step, before clipping (log "
             "scale; x: the step where it became NaN/Inf)", lambda: _plot_norms(outcomes)),
            ("through_time", "Gradient norm ||dL/dh_t|| through time at the first step",
             lambda: _plot_time(outcomes)),
            ("loss", "Training loss per step", lambda: _plot_loss(outcomes))]


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
    ax.set_xlabel("step")
    ax.set_ylabel("total gradient norm")
    ax.legend(fontsize=7)
    return fig


def _plot_time(outcomes):
    fig, ax = new_figure()
    for o in outcomes:
        profile = first_profile(o)
        if profile is not None:
            t = np.arange(1, len(profile) + 1)
            ax.plot(t, np.where(np.isfinite(profile) & (profile > 0), profile, np.nan),
                    label=o.label)
    ax.set_yscale("log")
    ax.set_xlabel("time step t")
    ax.set_ylabel("||dL/dh_t||")
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
    ax.axhline(BASELINE_MSE, color="black", ls=":", lw=1, label="predict 1.0")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training MSE")
    ax.legend(fontsize=7)
    return fig
