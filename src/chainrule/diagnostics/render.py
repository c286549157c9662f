"""Text rendering of a ``HealthReport``: findings, then one line per layer."""

import math
import textwrap

import numpy as np


def fmt(x):
    """A number in a short form: 3 significant digits, 'nan'/'inf' kept, ints as ints."""
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if not math.isfinite(x):
            return str(x)
        return f"{x:.3g}"
    if isinstance(x, (list, tuple, np.ndarray)):
        items = list(x)
        shown = ", ".join(fmt(v) for v in items[:8])
        return f"[{shown}{', ...' if len(items) > 8 else ''}]"
    return str(x)


def _evidence_text(evidence):
    return "; ".join(f"{k}={fmt(v)}" for k, v in evidence.items())


LAYER_COLUMNS = (
    ("layer", "layer"),
    ("type", "type"),
    ("activation", "act"),
    ("grad_at_output", "|dL/dout|"),
    ("weight_grad", "|grad W|"),
    ("update_ratio", "update/W"),
    ("saturated", "saturated"),
    ("dead", "dead"),
)


def render_text(report):
    """The report as a plain-text table: findings first, then one line per layer."""
    head = (
        f"HealthReport ({report.source}, {report.steps} recorded step"
        f"{'s' if report.steps != 1 else ''}): "
    )
    if not report.findings:
        head += "healthy, no findings"
    else:
        head += f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}"
    lines = [head]
    wrap = textwrap.TextWrapper(width=100, initial_indent="      ", subsequent_indent="      ")
    for i, f in enumerate(report.findings, 1):
        where = _layer_list(f.layers)
        lines.append(f"{i:>2}. {f.severity.upper():<7} {f.kind:<12} {where}")
        lines += wrap.wrap(f.message)
        if f.evidence:
            lines += wrap.wrap("evidence: " + _evidence_text(f.evidence))
        for k, r in enumerate(f.remedies, 1):
            lines += textwrap.wrap(
                f"fix {k}: {r}",
                width=100,
                initial_indent="      ",
                subsequent_indent="             ",
            )
    if report.layers:
        lines.append("")
        lines += _layer_table(report.layers)
    return "\n".join(lines)


def _layer_list(layers, limit=6):
    names = [repr(n) for n in layers]
    if len(names) > limit:
        names = names[: limit // 2] + ["..."] + names[-(limit // 2) :]
    return ", ".join(names)


def _layer_table(rows):
    extra = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in dict(LAYER_COLUMNS)]
    cols = list(LAYER_COLUMNS) + [(k, k) for k in extra]
    cols = [(k, title) for k, title in cols if any(r.get(k) is not None for r in rows)]
    cells = [[title for _, title in cols]] + [[fmt(r.get(k)) for k, _ in cols] for r in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(cols))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
