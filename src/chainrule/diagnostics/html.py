"""One self-contained HTML page: the findings on top, the layer table, then the plots.

Plots are inline base64 PNGs and the style sheet is inline, so the file opens in any browser
without network access. Without matplotlib the page is still written, with a note instead of
the plots.

Example::

    monitor.save_report("health.html")
"""
import base64
import html
import io

from .report import LAYER_COLUMNS, fmt

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; }
.finding { border-left: 6px solid #999; padding: .4em 1em; margin: 1em 0; background: #fafafa; }
.error { border-color: #c0392b; } .warning { border-color: #e67e22; }
.info { border-color: #2980b9; }
.kind { font-weight: bold; font-family: monospace; }
.sev { text-transform: uppercase; font-size: .8em; }
.healthy { border-left: 6px solid #27ae60; padding: .4em 1em; background: #f3fbf5; }
table { border-collapse: collapse; font-size: .85em; }
td, th { padding: .2em .6em; text-align: right; }
th { background: #eee; } td:first-child, th:first-child { text-align: left; }
.evidence { font-family: monospace; font-size: .85em; color: #444; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; }
figcaption { font-size: .9em; color: #555; }
"""


def _e(x):
    return html.escape(str(x), quote=True)


def finding_html(f, number):
    """One finding as an HTML block (kind, severity, layers, message, evidence, remedies)."""
    layers = ", ".join(_e(n) for n in f.layers) or "-"
    evidence = "".join(f"<li>{_e(k)} = {_e(fmt(v))}</li>" for k, v in f.evidence.items())
    remedies = "".join(f"<li>{_e(r)}</li>" for r in f.remedies)
    return (f'<section class="finding {_e(f.severity)}" id="finding-{number}" '
            f'data-kind="{_e(f.kind)}">'
            f'<p><span class="sev">{_e(f.severity)}</span> <span class="kind">{_e(f.kind)}</span>'
            f' &mdash; layers: {layers}</p><p>{_e(f.message)}</p>'
            + (f'<ul class="evidence">{evidence}</ul>' if evidence else "")
            + (f"<p>Remedies, most promising first:</p><ol>{remedies}</ol>" if remedies else "")
            + "</section>")


def layer_table_html(rows):
    if not rows:
        return ""
    extra = dict.fromkeys(k for r in rows for k in r if k not in dict(LAYER_COLUMNS))
    keys = [k for k, _ in LAYER_COLUMNS] + list(extra)
    keys = [k for k in keys if any(r.get(k) is not None for r in rows)]
    titles = dict(LAYER_COLUMNS)
    head = "".join(f"<th>{_e(titles.get(k, k))}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{_e(fmt(r.get(k)))}</td>" for k in keys) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def report_html(report):
    """The findings and layer table of a HealthReport (an HTML fragment)."""
    if report.findings:
        blocks = "".join(finding_html(f, i) for i, f in enumerate(report.findings, 1))
    else:
        blocks = '<p class="healthy">Healthy: no findings.</p>'
    return (f"<h2>Findings ({len(report.findings)}, {report.steps} recorded steps, "
            f"{_e(report.source)})</h2>{blocks}<h2>Layers</h2>{layer_table_html(report.layers)}")


def png_base64(fig, dpi=90):
    """A matplotlib figure as base64-encoded PNG text."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(key, caption, fig):
    return (f'<figure id="fig-{_e(key)}"><img alt="{_e(caption)}" '
            f'src="data:image/png;base64,{png_base64(fig)}"><figcaption>{_e(caption)}'
            "</figcaption></figure>")


def render_page(report, figures, title="chainrule health report", note=None):
    """The whole page as a string. ``figures``: ``[(key, caption, Figure), ...]``."""
    figs = "".join(figure_html(k, c, f) for k, c, f in figures)
    if note:
        figs += f"<p><em>{_e(note)}</em></p>"
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}'
            f"</title><style>{STYLE}</style></head><body><h1>{_e(title)}</h1>"
            f"{report_html(report)}<h2>Plots</h2>{figs}</body></html>")


def save_html(monitor, path, report=None, title="chainrule health report"):
    """Write ``monitor``'s report and plots to ``path`` (one self-contained file); returns it."""
    report = monitor.report() if report is None else report
    try:
        from .plots import figures
        figs, note = figures(monitor), None
    except ImportError as e:
        figs, note = [], f"No plots: {e}"
    page = render_page(report, figs, title, note)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
