"""What the experiments share: running one setup, measuring it, and writing the results.

Each experiment trains a few setups side by side with the gradient monitor attached, prints a
table, and writes to its output folder ``results.csv``, ``results.json``, ``figures/*.png`` and
``index.html`` (the table, the verdicts, the figures and each setup's findings).
"""
import csv
import io
import math
import os
import time
from dataclasses import dataclass, field

import click
import numpy as np

from ...diagnostics.html import STYLE, finding_html, png_base64
from ..common import PLOT_HINT, matplotlib_available, note, save_png, table, write_text
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
    outcome = Outcome(label, session, history, session.report(), before,
                      time.perf_counter() - start)
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


def verdict(report):
    """The kinds of a report's warnings and errors, or 'healthy'."""
    kinds = [f.kind for f in report.findings if f.severity in ("error", "warning")]
    return ", ".join(dict.fromkeys(kinds)) or "healthy"


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
    """The experiment's HTML page, built up piece by piece."""
    title: str
    intro: str
    parts: list = field(default_factory=list)

    def add_table(self, rows, columns):
        text = table(rows, columns)
        self.parts.append(f"<pre>{_escape(text)}</pre>")

    def add_paragraph(self, text):
        self.parts.append(f"<p>{_escape(text)}</p>")

    def add_figure(self, key, caption, fig):
        self.parts.append(f'<figure id="fig-{_escape(key)}"><img alt="{_escape(caption)}" '
                          f'src="data:image/png;base64,{png_base64(fig)}"><figcaption>'
                          f"{_escape(caption)}</figcaption></figure>")

    def add_findings(self, outcomes):
        self.parts.append("<h2>Findings per setup</h2>")
        for o in outcomes:
            blocks = "".join(finding_html(f, i) for i, f in enumerate(o.report.findings, 1))
            self.parts.append(f"<h3>{_escape(o.label)}</h3>"
                              + (blocks or '<p class="healthy">Healthy: no findings.</p>'))

    def html(self):
        return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
                f"{_escape(self.title)}</title><style>{STYLE} pre {{ font-size: .85em; }}"
                f"</style></head><body><h1>{_escape(self.title)}</h1><p>{_escape(self.intro)}"
                f"</p>{''.join(self.parts)}</body></html>")


def _escape(text):
    import html
    return html.escape(str(text), quote=True)


def finish(folder, page, rows, columns, figures, verdicts, extra=None):
    """Print the table and verdicts, write every file; figures: ``[(key, caption, fn)]`` where
    ``fn()`` draws a Figure (skipped, with a note, without matplotlib)."""
    click.echo("")
    click.echo(table(rows, columns))
    click.echo("")
    for line in verdicts:
        click.echo(line)
    page.add_table(rows, columns)
    for line in verdicts:
        page.add_paragraph(line)
    saved = _figures(folder, page, figures)
    write_text(os.path.join(folder, "results.csv"), results_csv(rows, columns))
    write_json(os.path.join(folder, "results.json"), {"rows": rows, "verdicts": verdicts,
                                                       "figures": saved, **(extra or {})})
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
