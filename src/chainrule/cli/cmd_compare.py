"""``chainrule compare RUN RUN...``: runs side by side on one page.

Reads the run folders ``chainrule train`` writes (``config.json``, ``summary.json``,
``metrics.csv``, ``gradients.csv``) and writes one self-contained HTML page: the settings that
differ, each run's result and verdict, the gradient flow per layer (first and last recorded
step) and the learning curves, all runs in the same axes.
"""

import csv
import html
import json
import os

import click
import numpy as np

from ..diagnostics.html import _named, fmt, kind_words, markdown_html, page
from ..diagnostics.names import labels_from_rows
from .app import cli, debug_option
from .common import matplotlib_available, new_figure, note, percent, table, unique_file, write_text

IGNORED = (
    "name",
    "runs_dir",
    "plots",
    "tensorboard",
    "monitor_every",
    "sharpness_every",
)  # not about the model


class Run:
    """One run folder, read back: ``name``, ``config``, ``summary``, ``epochs`` (list of dicts
    from metrics.csv) and ``flow`` ({'first': {layer: norm}, 'last': {...}})."""

    def __init__(self, folder):
        self.folder = folder
        self.name = os.path.basename(os.path.normpath(folder))
        self.config = _json(folder, "config.json")
        self.summary = _json(folder, "summary.json")
        self.epochs = _metrics(os.path.join(folder, "metrics.csv"))
        self.flow = _flow(os.path.join(folder, "gradients.csv"))

    @property
    def health(self):
        return self.summary.get("health") or {}

    def verdict(self):
        serious = [
            f for f in self.health.get("findings", []) if f.get("severity") in ("error", "warning")
        ]
        return ", ".join(dict.fromkeys(f["kind"] for f in serious)) or "healthy"

    def first_remedy(self):
        for f in self.health.get("findings", []):
            if f.get("severity") in ("error", "warning") and f.get("remedies"):
                return _named(f["remedies"][0], labels_from_rows(self.health.get("layers", [])))
        return ""

    def result(self):
        test = self.summary.get("test") or {}
        if "accuracy" in test:
            return f"test accuracy {percent(test['accuracy'])}"
        if "mse" in test:
            return f"test MSE {fmt(test['mse'])}"
        return "-"

    def layer_order(self):
        return [r["layer"] for r in self.health.get("layers", []) if "layer" in r]


def _json(folder, name):
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        raise click.UsageError(
            f"{folder}: no {name} there (not a run folder written by chainrule train)"
        )
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise click.UsageError(f"{path}: not valid JSON ({e})") from None


def _metrics(path):
    if not os.path.isfile(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _flow(path):
    """|dL/d layer output| per layer at the first and the last recorded step."""
    first, last, steps = {}, {}, {}
    if not os.path.isfile(path):
        return {"first": first, "last": last}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["metric"] != "out_grad_norm":
                continue
            step, name, value = int(row["step"]), row["name"], float(row["value"])
            if name not in first:
                first[name] = value
            if step >= steps.get(name, -1):
                last[name], steps[name] = value, step
    return {"first": first, "last": last}


def differing_settings(runs):
    """``{key: [value per run]}`` of the config keys whose values differ between runs."""
    keys = dict.fromkeys(k for r in runs for k in r.config if k not in IGNORED)
    out = {}
    for k in keys:
        values = [r.config.get(k) for r in runs]
        if any(v != values[0] for v in values[1:]):
            out[k] = values
    return out


@cli.command("compare")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default="compare.html",
    show_default=True,
    help="Where to write the page; an existing file is never overwritten: a number "
    "is added (compare-2.html).",
)
@debug_option
def compare_command(runs, out):
    """Compare run folders of chainrule train on one page.

    Prints the settings that differ and each run's result and verdict, and writes one
    self-contained HTML page with them, the gradient flow per layer and the learning curves of
    all runs in the same axes.

    \b
    Examples:
      chainrule train --name relu
      chainrule train --name sigmoid --activation sigmoid --depth 10
      chainrule compare runs/relu runs/sigmoid
      chainrule compare runs/* --out all.html
    """
    if len(runs) < 2:
        raise click.UsageError("give at least two run folders to compare")
    loaded = [Run(r) for r in runs]
    names = _unique_names(loaded)
    diff = differing_settings(loaded)
    rows = [
        {"setting": k, **{n: fmt(v) for n, v in zip(names, vals, strict=True)}}
        for k, vals in diff.items()
    ]
    click.echo("settings that differ:" if rows else "the runs have the same settings")
    if rows:
        click.echo(table(rows, [("setting", "setting")] + [(n, n) for n in names]))
    click.echo("")
    results = [
        {
            "run": n,
            "status": r.summary.get("status", "-"),
            "result": r.result(),
            "verdict": r.verdict(),
        }
        for n, r in zip(names, loaded, strict=True)
    ]
    click.echo(
        table(
            results,
            [("run", "run"), ("status", "status"), ("result", "result"), ("verdict", "verdict")],
        )
    )
    path = unique_file(out)
    write_text(path, _page(loaded, names, diff))
    click.echo("")
    click.echo(f"page: {path}")


def _unique_names(runs):
    names, seen = [], {}
    for r in runs:
        n = r.name
        seen[n] = seen.get(n, 0) + 1
        names.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return names


def _e(x):
    return html.escape(str(x), quote=True)


def _page(runs, names, diff):
    head = "".join(f"<th>{_e(n)}</th>" for n in names)
    if diff:
        body = "".join(
            f'<tr><td class="text">{_e(k)}</td>'
            + "".join(f"<td>{_e(fmt(v))}</td>" for v in vals)
            + "</tr>"
            for k, vals in diff.items()
        )
        settings = (
            f'<div class="table-wrap"><table><tr><th class="text">setting</th>{head}'
            f"</tr>{body}</table></div>"
        )
    else:
        settings = "<p>The runs have the same settings.</p>"
    verdicts = "".join(
        f'<section class="finding {"info" if r.verdict() == "healthy" else "error"}">'
        f"<p><strong>{_e(n)}</strong>: {_e(r.summary.get('status', '-'))}, {_e(r.result())}</p>"
        f"<p>{_e(', '.join(kind_words(k) for k in r.verdict().split(', ')))}</p>"
        + (
            f"<p>First thing to try:</p>{markdown_html(r.first_remedy())}"
            if r.first_remedy()
            else ""
        )
        + "</section>"
        for n, r in zip(names, runs, strict=True)
    )
    figures = _figures(runs, names)
    title = "chainrule compare: " + " vs ".join(names)
    return page(
        title,
        f"<h2>Settings that differ</h2>{settings}<h2>Results and verdicts</h2>"
        f'<div class="findings">{verdicts}</div><h2>Gradient flow and learning curves'
        f"</h2>{figures}",
    )


def _figures(runs, names):
    from ..diagnostics.html import figures_html

    if not matplotlib_available():
        note("figures need matplotlib: pip install matplotlib")
        return "<p><em>No figures: matplotlib is not installed.</em></p>"
    with np.errstate(all="ignore"):
        figs = [
            (
                "flow",
                "Gradient at each layer's output, first (dotted) and last (solid) recorded step",
                _plot_flow(runs, names),
            ),
            (
                "loss",
                "Loss per epoch: training (solid) and test (dashed)",
                _plot_curves(runs, names, "loss"),
            ),
        ]
        metric = next(
            (
                m
                for m in ("accuracy", "mse")
                if any(f"test_{m}" in (r.epochs[0] if r.epochs else {}) for r in runs)
            ),
            None,
        )
        if metric:
            figs.append((metric, f"Test {metric} per epoch", _plot_curves(runs, names, metric)))
    return figures_html(figs)


def _plot_flow(runs, names):
    fig, ax = new_figure((7, 4.2))
    for k, (r, n) in enumerate(zip(runs, names, strict=True)):
        order = r.layer_order() or list(r.flow["last"])
        for when, style in (("first", ":"), ("last", "-")):
            values = np.array([r.flow[when].get(name, np.nan) for name in order], dtype=float)
            values = np.where(np.isfinite(values) & (values > 0), values, np.nan)
            ax.plot(
                np.arange(1, len(order) + 1),
                values,
                ls=style,
                marker="o",
                ms=3,
                color=f"C{k}",
                label=n if when == "last" else None,
            )
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = input side)")
    ax.set_ylabel("||dL / d layer output|| (L2 norm, log scale)")
    ax.set_title("gradient flow per layer", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _plot_curves(runs, names, what):
    fig, ax = new_figure((7, 4.2))
    for k, (r, n) in enumerate(zip(runs, names, strict=True)):
        epochs = [row["epoch"] for row in r.epochs]
        for prefix, style in (("train", "-"), ("test", "--")):
            key = f"{prefix}_{what}"
            if r.epochs and key in r.epochs[0] and (what == "loss" or prefix == "test"):
                values = np.array([row[key] for row in r.epochs], dtype=float)
                if what == "accuracy":
                    values = 100 * values
                ax.plot(
                    epochs,
                    values,
                    ls=style,
                    marker="o",
                    ms=3,
                    color=f"C{k}",
                    label=n if prefix == ("train" if what == "loss" else "test") else None,
                )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel({"loss": "loss", "accuracy": "test accuracy (%)", "mse": "test MSE"}[what])
    if what == "accuracy":
        ax.set_ylim(0, 100)
    ax.set_title(f"{what} per epoch", fontsize=9)
    ax.legend(fontsize=7)
    return fig
