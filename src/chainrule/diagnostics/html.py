"""One self-contained HTML page: a verdict banner on top, the findings, the layers, the plots.

Plots are inline base64 PNGs and the style sheet is inline (no script, no link, no font or
image fetched), so the file opens in any browser without network access. Without matplotlib
the page is still written, with a note instead of the plots.

The page reads the report it is given (a :class:`~chainrule.diagnostics.HealthReport`: its
``findings``, ``layers``, ``steps``, ``source``, ``thresholds``) and never imports the module
that defines it, so that module may import this one.

Example::

    monitor.save_report("health.html")
    page = render_page(report, figures, "my run", labels=layer_labels(monitor))
"""

import base64
import html
import io
import math
import re

import numpy as np

from .names import is_index_path, labels_from_rows, metric_words

STYLE = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       padding: 1em 2em 3em; max-width: 120em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin: .4em 0; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc;
     margin-top: 1.6em; } h3 { font-size: 1.05em; }
.banner { border-radius: 6px; padding: .8em 1.2em; margin: 1em 0; font-size: 1.05em; }
.banner.ok { background: #e9f7ef; border: 2px solid #27ae60; }
.banner.bad { background: #fdecea; border: 2px solid #c0392b; }
.banner.warn { background: #fef5e7; border: 2px solid #e67e22; }
.banner .head { font-size: 1.2em; font-weight: bold; }
.banner p { margin: .3em 0; }
.findings { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 34em), 1fr));
            gap: 1em; }
.finding { border-left: 6px solid #999; padding: .4em 1em; background: #fafafa;
           min-width: 0; }
.error { border-color: #c0392b; } .warning { border-color: #e67e22; }
.info { border-color: #2980b9; }
.kind { font-weight: bold; }
.sev { text-transform: uppercase; font-size: .75em; letter-spacing: .05em; color: #555; }
.healthy { border-left: 6px solid #27ae60; padding: .4em 1em; background: #f3fbf5; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: .5em 0; }
table { border-collapse: collapse; font-size: .85em; }
td, th { padding: .25em .7em; text-align: right; border-bottom: 1px solid #eee;
         vertical-align: top; }
th { background: #f0f0f0; } td:first-child, th:first-child { text-align: left; }
td.text, th.text { text-align: left; }
table.results th { text-align: left; }
.unit { color: #777; font-size: .9em; }
.plots { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 40em), 1fr));
         gap: 1.2em; }
figure { margin: 0; min-width: 0; } figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: .9em; color: #555; margin-top: .3em; }
pre { overflow-x: auto; font-size: .85em; }
code { background: #f4f4f4; padding: 0 .2em; word-break: break-word; }
.muted { color: #666; font-size: .9em; }
.settings { columns: 2 22em; }
"""

SEVERITY_WORDS = {"error": "problem", "warning": "warning", "info": "note"}
KIND_WORDS = {
    "vanishing": "Vanishing gradients",
    "exploding": "Exploding gradients",
    "saturated": "Saturated units",
    "dead": "Dead ReLU units",
    "lr_too_high": "Learning rate too high",
    "lr_too_low": "Learning rate too low",
    "no_gradient": "Parameters that get no gradient",
    "nonfinite": "NaN/Inf values",
    "clipping": "Gradient clipping",
    "layer_gain": "Layer gain out of range",
}


def _e(x):
    return html.escape(str(x), quote=True)


def kind_words(kind):
    """A finding kind in words (``lr_too_high`` -> ``Learning rate too high``)."""
    return KIND_WORDS.get(kind, str(kind).replace("_", " ").capitalize())


def fmt(x):
    """A number in short form: 3 significant digits, ints as ints, NaN/Inf kept, lists cut."""
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return str(x) if not math.isfinite(x) else f"{x:.3g}"
    if isinstance(x, (list, tuple, np.ndarray)):
        items = list(x)
        shown = ", ".join(fmt(v) for v in items[:8])
        return f"[{shown}{', ...' if len(items) > 8 else ''}]"
    return str(x)


# ---- markdown (the small subset messages use) ----

_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
]


def _inline(text):
    out = _e(text)
    for pattern, repl in _INLINE:
        out = pattern.sub(repl, out)
    return out


def markdown_html(text):
    """Paragraphs (blank-line separated), bullet lists (``* `` or ``- ``), numbered lists,
    ``code`` and **bold** as HTML. Everything else is escaped.

    Example: ``markdown_html("Two cases:\\n\\n* a\\n* b")`` -> ``<p>Two cases:</p><ul>...``
    """
    blocks, lines = [], str(text).splitlines()
    para, items, kind = [], [], None

    def flush():
        nonlocal para, items, kind
        if para:
            blocks.append(f"<p>{_inline(' '.join(para))}</p>")
        if items:
            tag = "ol" if kind == "ol" else "ul"
            blocks.append(
                f"<{tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{tag}>"
            )
        para, items, kind = [], [], None

    for raw in lines:
        line = raw.strip()
        bullet = re.match(r"^[*-]\s+(.*)$", line)
        number = re.match(r"^\d+[.)]\s+(.*)$", line)
        if not line:
            flush()
        elif bullet or number:
            new = "ul" if bullet else "ol"
            if para or (items and kind != new):
                flush()
            kind = new
            items.append((bullet or number).group(1))
        elif items and raw[:1].isspace():  # continuation of a bullet
            items[-1] += " " + line
        else:
            if items:
                flush()
            para.append(line)
    flush()
    return "".join(blocks)


# ---- findings ----


def _unit(key):
    k = str(key).lower()
    if "share" in k or "frac" in k:
        return "share"
    if "ratio" in k:
        return "ratio"
    if "norm" in k:
        return "L2 norm"
    if k.endswith("step") or k.endswith("steps") or k == "step":
        return "steps"
    if k == "lr" or k.endswith("_lr"):
        return "learning rate"
    if "loss" in k:
        return "loss"
    if "improvement" in k:
        return "share"
    return ""


def _value(key, v, unit):
    if unit == "share" and isinstance(v, (float, np.floating)) and math.isfinite(v):
        return f"{100 * float(v):.1f} %" if abs(v) < 10 else f"{100 * float(v):.3g} %"
    return fmt(v)


def evidence_table(evidence, labels=None):
    """Evidence as a small table: quantity (plain words), value, unit. A value that names a
    layer (``first_layer = '0'``) is shown by the layer's readable name."""
    if not evidence:
        return ""
    rows = []
    for k, v in evidence.items():
        unit = _unit(k)
        shown = _value(k, v, unit)
        if labels and "layer" in str(k) and str(v) in labels:
            shown = labels[str(v)]
        rows.append(
            f'<tr><td class="text">{_e(metric_words(k))}</td><td>{_e(shown)}'
            f'</td><td class="text unit">{_e(unit if unit != "share" else "")}</td></tr>'
        )
    return (
        '<div class="table-wrap"><table class="evidence"><tr><th class="text">evidence</th>'
        '<th>value</th><th class="text">unit</th></tr>' + "".join(rows) + "</table></div>"
    )


def _layer_names(names, labels, limit=6):
    shown = [labels.get(n, n) if labels else n for n in names]
    if len(shown) > limit:
        shown = (
            shown[: limit // 2]
            + [f"… {len(shown) - limit + limit // 2 * 2} more …"]
            + shown[-(limit // 2) :]
        )
    return shown


def _named(text, labels):
    """``'0'`` (a Sequential index in a message) replaced by the layer's readable name."""
    if not labels:
        return text
    for name, label in labels.items():
        if is_index_path(name):
            text = text.replace(f"'{name}'", label)
    return text


def finding_html(f, number, labels=None):
    """One finding as an HTML block (kind in words, severity, layers, message, evidence table,
    remedies); ``labels`` maps module names to readable layer names."""
    layers = ", ".join(_e(n) for n in _layer_names(f.layers, labels)) or "the whole model"
    remedies = "".join(f"<li>{_inline(_named(r, labels))}</li>" for r in f.remedies)
    return (
        f'<section class="finding {_e(f.severity)}" id="finding-{number}" '
        f'data-kind="{_e(f.kind)}">'
        f'<p><span class="sev">{_e(SEVERITY_WORDS.get(f.severity, f.severity))}</span> '
        f'<span class="kind">{_e(kind_words(f.kind))}</span> '
        f'<span class="muted">({_e(f.kind)})</span><br><span class="muted">where: {layers}'
        f"</span></p>{markdown_html(_named(f.message, labels))}"
        + evidence_table(f.evidence, labels)
        + (f"<p>What to try, most promising first:</p><ol>{remedies}</ol>" if remedies else "")
        + "</section>"
    )


def verdict_banner(report, labels=None):
    """The verdict in one box: healthy, or the first problem, where, and its first remedy."""
    steps = getattr(report, "steps", 0)
    serious = [f for f in report.findings if f.severity in ("error", "warning")]
    if not serious:
        notes = len(report.findings)
        extra = f" ({notes} note{'s' if notes != 1 else ''} below)" if notes else ""
        return (
            f'<div class="banner ok" id="verdict" data-verdict="healthy"><p class="head">'
            f"Healthy</p><p>No problem found in the gradients over {steps} recorded "
            f"step{'s' if steps != 1 else ''}{extra}.</p></div>"
        )
    f = serious[0]
    cls = "bad" if f.severity == "error" else "warn"
    where = ", ".join(_layer_names(f.layers, labels, limit=4)) or "the whole model"
    more = len(serious) - 1
    fix = (
        f"<p><strong>First thing to try:</strong> {_inline(_named(f.remedies[0], labels))}</p>"
        if f.remedies
        else ""
    )
    return (
        f'<div class="banner {cls}" id="verdict" data-verdict="{_e(f.kind)}">'
        f'<p class="head">{_e(kind_words(f.kind))}</p>'
        f"<p><strong>Where:</strong> {_e(where)}</p>{fix}"
        + (
            f'<p class="muted">{more} more finding{"s" if more != 1 else ""} below.</p>'
            if more
            else ""
        )
        + "</div>"
    )


# ---- layers ----

LAYER_TITLES = {
    "layer": ("layer", ""),
    "type": ("type", ""),
    "activation": ("activation after it", ""),
    "grad_at_output": ("gradient at its output", "L2 norm"),
    "weight_grad": ("weight gradient", "L2 norm"),
    "update_ratio": ("update / weight per step", "ratio"),
    "saturated": ("saturated units", "share"),
    "dead": ("dead units", "share"),
}


def layer_table_html(rows, labels=None):
    """The report's per-layer rows as a table (scrolls sideways rather than overflow)."""
    if not rows:
        return ""
    keys = list(LAYER_TITLES) + [
        k for k in dict.fromkeys(k for r in rows for k in r) if k not in LAYER_TITLES
    ]
    keys = [k for k in keys if any(r.get(k) is not None for r in rows)]
    if labels and "layer" in keys:
        keys.remove("layer")
        keys.insert(0, "layer")

    def title(k):
        words, unit = LAYER_TITLES.get(k, (metric_words(k), _unit(k)))
        return _e(words) + (f'<br><span class="unit">{_e(unit)}</span>' if unit else "")

    def cell(r, k):
        v = r.get(k)
        if k == "layer" and labels:
            return (
                f'<td class="text">{_e(labels.get(v, v))}<br><span class="unit">module '
                f"{_e(v)}</span></td>"
            )
        unit = LAYER_TITLES.get(k, ("", _unit(k)))[1]
        cls = ' class="text"' if isinstance(v, str) else ""
        return f"<td{cls}>{_e(_value(k, v, unit))}</td>"

    head = "".join(
        f'<th class="text">{title(k)}</th>'
        if k in ("layer", "type", "activation")
        else f"<th>{title(k)}</th>"
        for k in keys
    )
    body = "".join("<tr>" + "".join(cell(r, k) for k in keys) + "</tr>" for r in rows)
    return f'<div class="table-wrap"><table class="layers"><tr>{head}</tr>{body}</table></div>'


def findings_html(report, labels=None):
    """The findings and the layer table of a HealthReport (an HTML fragment)."""
    if report.findings:
        blocks = "".join(finding_html(f, i, labels) for i, f in enumerate(report.findings, 1))
        blocks = f'<div class="findings">{blocks}</div>'
    else:
        blocks = '<p class="muted">No findings.</p>'
    steps = report.steps
    return (
        f"<h2>Findings ({len(report.findings)}, from {steps} recorded "
        f"step{'s' if steps != 1 else ''}, {_e(report.source)})</h2>{blocks}"
        f"<h2>Layers</h2>{layer_table_html(report.layers, labels)}"
    )


def report_html(report, labels=None):
    """The verdict banner, findings and layer table of a HealthReport (an HTML fragment).
    Without ``labels`` the layers are named from the report's rows (type, rank, activation)."""
    if labels is None:
        labels = labels_from_rows(report.layers)
    return verdict_banner(report, labels) + findings_html(report, labels)


# ---- figures and the page ----


def png_base64(fig, dpi=100):
    """A matplotlib figure as base64-encoded PNG text."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(key, caption, fig):
    """One figure: the PNG inline (a data: URI) and its caption."""
    return (
        f'<figure id="fig-{_e(key)}"><img alt="{_e(caption)}" '
        f'src="data:image/png;base64,{png_base64(fig)}"><figcaption>{_e(caption)}'
        "</figcaption></figure>"
    )


def figures_html(figures):
    """Figures ``[(key, caption, Figure), ...]`` in a grid that uses the page's width."""
    if not figures:
        return ""
    return '<div class="plots">' + "".join(figure_html(k, c, f) for k, c, f in figures) + "</div>"


def page(title, body):
    """A complete, self-contained page around ``body`` (HTML)."""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>{body}</body></html>"
    )


def render_page(
    report, figures, title="chainrule health report", note=None, run_html="", labels=None
):
    """The whole page as a string: banner, ``run_html`` (settings, learning curves), findings,
    layers, plots. ``figures``: ``[(key, caption, Figure), ...]``; ``labels``: readable layer
    names by module name (:func:`~chainrule.diagnostics.names.layer_labels`)."""
    figs = figures_html(figures)
    if note:
        figs += f"<p><em>{_e(note)}</em></p>"
    return page(
        title,
        verdict_banner(report, labels)
        + run_html
        + findings_html(report, labels)
        + f"<h2>Plots</h2>{figs}",
    )


def save_html(monitor, path, report=None, title="chainrule health report"):
    """Write ``monitor``'s report and plots to ``path`` (one self-contained file); returns it."""
    from .names import layer_labels

    report = monitor.report() if report is None else report
    try:
        from .plots import figures

        figs, note = figures(monitor, report=report), None
    except ImportError as e:
        figs, note = [], f"No plots: {e}"
    text = render_page(report, figs, title, note, labels=layer_labels(monitor))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
