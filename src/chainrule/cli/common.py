"""Helpers shared by the commands: text tables, files written whole, figures, interrupts."""

import contextlib
import math
import os
import signal
import threading

import click
import numpy as np

from ..serialization import replacing

PLOT_HINT = "pip install chainrule[plot]"


def fmt(x, digits=3):
    """A number in short form: 3 significant digits; ints as ints; None as '-'."""
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x) or math.isinf(x):
            return str(x)
        return f"{x:.{digits}g}"
    return str(x)


def seconds_text(s):
    return "under 0.1 s" if s < 0.1 else f"{s:.1f} s"


def percent(x):
    return "-" if x is None or not math.isfinite(x) else f"{100 * x:.1f} %"


def table(rows, columns):
    """A plain-text table. ``columns``: ``[(key, title), ...]``; cells formatted by :func:`fmt`."""
    cells = [[title for _, title in columns]]
    cells += [
        [r[k] if isinstance(r.get(k), str) else fmt(r.get(k)) for k, _ in columns] for r in rows
    ]
    widths = [max(len(row[j]) for row in cells) for j in range(len(columns))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_text(path, text):
    """Write ``text`` to ``path`` whole or not at all."""
    with replacing(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    return path


@contextlib.contextmanager
def interrupts_deferred():
    """Hold back Ctrl-C while a file is written; raise it afterwards (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def matplotlib_available():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def new_figure(size=(7, 4)):
    """A matplotlib Figure (no pyplot, no window) and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def save_png(fig, path, dpi=100):
    """Save a figure as PNG, whole or not at all."""
    with replacing(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return path


def note(message):
    """A remark on stdout, prefixed so it stands out from results."""
    click.echo(f"note: {message}")


def unique_file(path):
    """``path``, or ``stem-2.ext``, ``stem-3.ext``... when taken: never overwrite a file the user
    may want to keep."""
    stem, ext = os.path.splitext(path)
    k = 2
    while os.path.exists(path):
        path, k = f"{stem}-{k}{ext}", k + 1
    return path
