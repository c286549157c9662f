"""What the experiments share: running one setup, measuring it, and writing the results.

Each experiment trains a few setups side by side with the gradient monitor attached, prints a
table, and writes to its output folder ``results.csv``, ``results.json``, ``figures/*.png`` and
``index.html`` (the table, the verdicts, the figures and each setup's findings).

Every setup runs once per seed (``--seeds``); the table shows the median over the seeds with
the range in brackets, and a prediction counts as holding only when it holds for every seed.
Ctrl-C stops the experiment: the rows measured so far are written, the cut setup is marked
``interrupted``, and the command exits with code 130.
"""

import csv
import io
import math
import os
import time
from dataclasses import dataclass, field

import click
import numpy as np

from ...diagnostics.html import figures_html, finding_html, markdown_html, page
from ..common import PLOT_HINT, fmt, matplotlib_available, note, save_png, table, write_text
from ..folder import write_json
from ..run import HealthFlags, Session, StopOnNonFinite


@dataclass
class Outcome:
    """One trained setup: its label, session, history, report, pre-flight report and numbers."""

    label: str
    session: object
    history: object
    report: object
    preflight: object = None
    seconds: float = 0.0
    numbers: dict = field(default_factory=dict)


def run_setup(label, config, bundle=None, preflight=False, echo=True, callbacks=()):
    """Train ``config`` (sharing ``bundle``'s data) with the monitor; stop on a NaN epoch."""
    from ... import diagnostics

    start = time.perf_counter()
    session = Session(config, bundle=bundle)
    before = None
    if preflight:
        x, y = next(iter(session.bundle.train))
        with np.errstate(all="ignore"):
            before = diagnostics.check(session.model, session.loss_fn, (x, y))
    flags = HealthFlags(session.monitor)
    history = session.fit([flags, StopOnNonFinite(), *callbacks])
    outcome = Outcome(
        label, session, history, session.report(), before, time.perf_counter() - start
    )
    session.close()
    if echo:
        click.echo(f"  {label}: {len(history)} epoch(s), {outcome.seconds:.1f} s")
    return outcome


def first_nonfinite_step(monitor):
    """The first recorded step whose loss was NaN/Inf, or None."""
    loss = monitor.history.series("loss")
    bad = np.flatnonzero(~np.isfinite(loss))
    return int(monitor.history.steps[bad[0]]) if bad.size else None


def ratio(a, b):
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return float("nan")
    return a / b


def verdict(report, learned=True):
    """The kinds of a report's warnings and errors, or 'healthy'. ``learned=False`` (the
    setup failed its task) turns a clean report into 'no finding, but did not learn': the
    gradients looked fine, the run is still not healthy."""
    kinds = [f.kind for f in report.findings if f.severity in ("error", "warning")]
    if kinds:
        return ", ".join(dict.fromkeys(kinds))
    return "healthy" if learned else "no finding, but did not learn"


def seed_list(seed, seeds):
    """``seeds`` consecutive seeds from ``seed``."""
    return [seed + k for k in range(seeds)]


def combine(rows, numbers, formats=None):
    """One row from the rows of one setup over several seeds: each key of ``numbers`` becomes
    its median (``key``) with the range in ``key_range``; ``formats[key]`` (a function of
    a number) makes the shown text ``median (min to max)`` under ``key_text``. Strings that
    differ between seeds are joined with ' / '. ``as_expected`` is 'yes' only when it is 'yes'
    for every seed ('k of n seeds' otherwise); interrupted rows are counted apart."""
    formats = formats or {}
    done = [r for r in rows if not r.get("interrupted")]
    out = dict(rows[0])
    out["seeds"] = [r["seed"] for r in done]
    for key in {k for r in done for k in r} - set(numbers) - {"seed", "as_expected", "seeds"}:
        values = list(dict.fromkeys(str(r.get(key)) for r in done if r.get(key) is not None))
        if len(values) > 1 and all(isinstance(r.get(key), str) for r in done):
            out[key] = " / ".join(values)
    for key in numbers:
        values = np.array([_float(r.get(key)) for r in done], dtype=np.float64)
        finite = values[np.isfinite(values)]
        med = (
            float(np.median(finite))
            if finite.size
            else (float(values[0]) if values.size else float("nan"))
        )
        out[key] = med
        out[f"{key}_range"] = (
            [float(finite.min()), float(finite.max())] if finite.size else [med, med]
        )
        out[f"{key}_seeds"] = [float(v) for v in values]
        if key in formats:
            text = formats[key](med)
            if len(done) > 1 and finite.size > 1 and finite.min() != finite.max():
                text += f" ({formats[key](finite.min())} to {formats[key](finite.max())})"
            if 0 < finite.size < values.size:
                text += f", {values.size - finite.size} nan"
            out[f"{key}_text"] = text
    judged = [r.get("as_expected") for r in done]
    if not done:
        out["as_expected"] = "interrupted"
    elif all(j == "-" for j in judged):
        out["as_expected"] = "-"
    else:
        hits = sum(j == "yes" for j in judged)
        out["as_expected"] = (
            "yes" if hits == len(done) else "no" if hits == 0 else f"{hits} of {len(done)} seeds"
        )
    if len(done) < len(rows):
        out["as_expected"] += " (interrupted)"
        out["interrupted"] = True
    return out


def _float(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def agreement(rows):
    """'k of n setups behave as predicted', counting only finished, judged rows."""
    judged = [r for r in rows if r["as_expected"] != "-" and not r.get("interrupted")]
    agree = sum(r["as_expected"] == "yes" for r in judged)
    text = f"{agree} of {len(judged)} setups behave as the literature predicts"
    cut = sum(bool(r.get("interrupted")) for r in rows)
    if cut:
        text += f" ({cut} interrupted: not counted)"
    return text + "."


class Interrupted(Exception):
    """Ctrl-C during a setup: the experiment stops after writing what it has."""


def run_seeds(label, config, seeds, measure_one, bundle=None, **kwargs):
    """Run one setup once per seed; ``measure_one(outcome)`` makes a row. Returns
    ``(outcomes, rows, interrupted)``: a run cut by Ctrl-C gives a row marked
    ``interrupted`` and stops the loop."""
    outcomes, rows = [], []
    for seed in seeds:
        outcome = run_setup(
            f"{label} (seed {seed})" if len(seeds) > 1 else label,
            config.replace(seed=seed),
            bundle,
            **kwargs,
        )
        outcome.label = label
        row = measure_one(outcome)
        row["seed"] = seed
        outcomes.append(outcome)
        if outcome.history.interrupted:
            row["interrupted"] = True
            row["as_expected"] = "interrupted"
            rows.append(row)
            return outcomes, rows, True
        rows.append(row)
    return outcomes, rows, False


def interrupted_exit(folder):
    """After the files are written: say so and exit with code 130 (as Ctrl-C does)."""
    click.echo(
        f"Interrupted: the rows measured so far are in {folder} (the cut setup is "
        "marked interrupted).",
        err=True,
    )
    click.get_current_context().exit(130)


def output_folder(out, name):
    path = out or os.path.join("runs", f"experiment-{name}")
    os.makedirs(os.path.join(path, "figures"), exist_ok=True)
    return path


def results_csv(rows, columns):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([k for k, _ in columns])
    for r in rows:
        w.writerow([r.get(k) for k, _ in columns])
    return buf.getvalue()


@dataclass
class Page:
    """The experiment's HTML page, built up piece by piece (one self-contained file)."""

    title: str
    intro: str
    parts: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    seen: set = field(default_factory=set)

    def add_table(self, rows, columns):
        head = "".join(f"<th>{_escape(t)}</th>" for _, t in columns)

        def td(r, k):
            numeric = isinstance(r.get(k), (int, float)) and not isinstance(r.get(k), bool)
            return f"<td{'' if numeric else ' class=text'}>{_escape(_cell(r, k))}</td>"

        body = "".join("<tr>" + "".join(td(r, k) for k, _ in columns) + "</tr>" for r in rows)
        self.parts.append(
            f'<div class="table-wrap"><table class="results"><tr>{head}</tr>{body}</table></div>'
        )

    def add_paragraph(self, text):
        """A paragraph (markdown); one already on the page is not printed again."""
        if text in self.seen:
            return
        self.seen.add(text)
        self.parts.append(markdown_html(text))

    def add_figure(self, key, caption, fig):
        self.figures.append((key, caption, fig))

    def add_findings(self, outcomes):
        from ...diagnostics.names import layer_labels

        self.findings.append("<h2>Findings per setup</h2>")
        for o in outcomes:
            try:
                labels = layer_labels(o.session.monitor)
            except Exception:  # noqa: BLE001  (names are a nicety: the findings still show)
                labels = None
            blocks = "".join(finding_html(f, i, labels) for i, f in enumerate(o.report.findings, 1))
            self.findings.append(
                f"<h3>{_escape(o.label)}</h3>"
                + (
                    f'<div class="findings">{blocks}</div>'
                    if blocks
                    else '<p class="muted">No findings.</p>'
                )
            )

    def html(self):
        figs = figures_html(self.figures)
        body = markdown_html(self.intro) + "<h2>Results</h2>" + "".join(self.parts)
        if figs:
            body += f"<h2>Figures</h2>{figs}"
        return page(self.title, body + "".join(self.findings))


def _cell(row, key):
    text = row.get(f"{key}_text")
    if text is not None:
        return text
    v = row.get(key)
    return v if isinstance(v, str) else fmt(v)


def _escape(text):
    import html

    return html.escape(str(text), quote=True)


REPRODUCIBLE = (
    "Numbers are medians over the seeds, with their range in brackets. Every run is "
    "seeded: the same command on the same machine with the same NumPy and BLAS "
    "prints the same table; elsewhere the last digits differ and unstable runs can "
    "end elsewhere, which is why a prediction counts only when it holds for every "
    "seed."
)


def text_rows(rows, columns):
    """Rows with each shown cell as text (``key_text`` when the row has one)."""
    return [{k: _cell(r, k) for k, _ in columns} for r in rows]


def finish(folder, page, rows, columns, figures, verdicts, extra=None):
    """Print the table and verdicts, write every file; figures: ``[(key, caption, fn)]`` where
    ``fn()`` draws a Figure (skipped, with a note, without matplotlib). The page shows the
    table first, then the verdicts, the figures and the findings."""
    shown = text_rows(rows, columns)
    click.echo("")
    click.echo(table(shown, columns))
    click.echo("")
    for line in verdicts:
        click.echo(line)
    page.add_table(rows, columns)
    page.add_paragraph(REPRODUCIBLE)
    for line in verdicts:
        page.add_paragraph(line)
    saved = _figures(folder, page, figures)
    write_text(os.path.join(folder, "results.csv"), results_csv(rows, columns))  # medians
    write_json(
        os.path.join(folder, "results.json"),
        {"rows": rows, "verdicts": verdicts, "figures": saved, **(extra or {})},
    )
    return saved


def _figures(folder, page, figures):
    if not matplotlib_available():
        page.add_paragraph(f"No figures: matplotlib is not installed ({PLOT_HINT}).")
        note(f"figures need matplotlib: {PLOT_HINT}")
        return []
    saved = []
    with np.errstate(all="ignore"):
        for key, caption, draw in figures:
            fig = draw()
            saved.append(os.path.join(folder, "figures", f"{key}.png"))
            save_png(fig, saved[-1])
            page.add_figure(key, caption, fig)
    return saved


def write_page(folder, page, outcomes):
    page.add_findings(outcomes)
    path = os.path.join(folder, "index.html")
    write_text(path, page.html())
    click.echo("")
    click.echo(f"page: {path}")
    return path
