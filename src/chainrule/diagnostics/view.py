"""What the rules read: the recorded series, the model's context, the window to judge, and
whether the model is learning (the evidence that decides how much a symptom matters).

Example::

    view = View(monitor.history, monitor.context(), THRESHOLDS)
    view.median("update_ratio")       # per parameter, over the window
    view.progress()["improvement"]    # relative loss improvement over the whole run
"""

import math
import warnings

import numpy as np

from .activations import RELU_LIKE, SATURATING


def nanmedian(a, axis=0):
    """Median ignoring NaN (and +-Inf); NaN where nothing is left. No warnings."""
    a = np.asarray(a, dtype=np.float64)
    a = np.where(np.isfinite(a), a, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis) if a.size else np.full(a.shape[1:], np.nan)


class View:
    """The history, its context and the window of rows to judge.

    ``context`` (a dict) describes the model: ``layers`` (one dict per history layer column:
    name, type, activation, init_gain, recurrent, sigma_max, feeder...), ``layer_order``
    (column indices in forward order), ``params`` (name, layer, ndim, requires_grad,
    in_optimizer), ``lr``, ``optimizer``, ``first_nonfinite``, ``clipping``, and from a
    ``GradientMonitor`` also ``losses`` (every step's loss), ``val_losses``, ``baseline``,
    ``stale``, ``inputs``, ``output``, ``sharpness``, ``normalised``.
    """

    def __init__(self, history, context, thresholds):
        self.h, self.c, self.th = history, context, thresholds
        n = len(history)
        rows = np.arange(n)
        first_bad = (context.get("first_nonfinite") or {}).get("step")
        if first_bad is not None and n:
            rows = rows[history.steps < first_bad]
        self.finite_rows = rows
        self.rows = rows[-int(thresholds["window"]) :]
        self._progress = None

    def series(self, metric, rows=None):
        a = self.h.series(metric)
        return a[self.rows if rows is None else rows]

    def median(self, metric, rows=None):
        return nanmedian(self.series(metric, rows), axis=0)

    def layer(self, i):
        return self.c["layers"][i]

    def name(self, i):
        return self.c["layers"][i]["name"]

    def order(self):
        return list(self.c.get("layer_order") or range(len(self.c["layers"])))

    def output_layer(self):
        """Index of the last layer in forward order (the output layer), or None."""
        order = self.order()
        return order[-1] if order else None

    def dead_layers(self):
        """ReLU-like layers with at least ``dead_share`` of units dead (median over the window)."""
        share = self.median("dead_frac")
        return [
            i
            for i in self.order()
            if self.layer(i).get("activation") in RELU_LIKE
            and np.isfinite(share[i])
            and share[i] >= self.th["dead_share"]
        ]

    def pinned_layers(self):
        """Saturating layers with almost every output on the flat ends (tanh at exactly +-1
        after a blow-up): no gradient passes them at all."""
        share = self.median("saturated_frac")
        return [
            i
            for i in self.order()
            if self.layer(i).get("activation") in SATURATING
            and np.isfinite(share[i])
            and share[i] >= self.th["saturated_pinned"]
        ]

    # ---- the loss ----

    def losses(self):
        """(steps, losses) of every logged step (the monitor logs each step's loss), else the
        recorded ones."""
        logged = self.c.get("losses")
        if logged is not None and len(logged[1]):
            return np.asarray(logged[0]), np.asarray(logged[1], dtype=np.float64)
        return np.asarray(self.h.steps), np.asarray(self.h.series("loss"), dtype=np.float64)

    def progress(self):
        """How the loss moved over the run: dict with ``first``/``last`` (means of the first
        and last few finite losses), ``improvement`` (relative), ``max``, ``n``, ``baseline``
        and ``learning`` (it improved by ``learning_improvement``, or it is below half the
        trivial baseline). None with fewer than 2 finite losses."""
        if self._progress is not None:
            return self._progress or None
        _, loss = self.losses()
        loss = loss[np.isfinite(loss)]
        if loss.size < 2:
            self._progress = {}
            return None
        k = max(1, min(10, loss.size // 5))
        first, last = float(np.mean(loss[:k])), float(np.mean(loss[-k:]))
        improve = (first - last) / abs(first) if first else 0.0
        base = self.c.get("baseline")
        known = base is not None and base > 0
        # learning: the loss fell, and (when a trivial predictor's loss is known) it is below
        # that too: falling from a blown-up start to chance level is not learning
        learning = (
            improve >= self.th["learning_improvement"]
            and not (known and last >= self.th["baseline_margin"] * base)
        ) or (known and last < 0.5 * base)
        self._progress = {
            "first": first,
            "last": last,
            "improvement": improve,
            "max": float(loss.max()),
            "n": int(loss.size),
            "baseline": base,
            "learning": bool(learning),
            "loss_first": float(loss[0]),
            "loss_last": float(loss[-1]),
        }
        return self._progress

    def learned_well(self):
        """The loss is far below where it started: under ``learned_share`` of the trivial
        baseline when known, else of the first losses."""
        p = self.progress()
        if not p:
            return False
        ref = p["baseline"] if p["baseline"] else p["first"]
        return bool(ref and ref > 0 and p["last"] < self.th["learned_share"] * ref)

    def learning(self):
        """True when the loss shows the model learns (see :meth:`progress`)."""
        p = self.progress()
        return bool(p and p["learning"] and p["n"] >= self.th["min_steps_lr"])

    def layer_update_ratio(self, i):
        """Median update ratio of layer ``i``'s main parameter over the window (NaN: unknown)."""
        cols = self.layer(i).get("param_columns") or []
        if not cols or not len(self.rows):
            return float("nan")
        return float(nanmedian(self.series("update_ratio")[:, cols[0]]))

    def updates_healthy(self, layers):
        """True when every layer in ``layers`` (indices) moves at least ``update_ratio_low``
        per step (unknown ratios, without an optimizer step, count as healthy)."""
        low = self.th["update_ratio_low"]
        return all(
            not math.isfinite(r) or r >= low for r in (self.layer_update_ratio(i) for i in layers)
        )

    def harmless(self, layers):
        """A symptom in ``layers`` does not hurt learning: the model learns and these layers'
        updates are healthy. Only a monitor (training steps) can tell; a pre-flight cannot."""
        return (
            self.c.get("source") != "preflight" and self.learning() and self.updates_healthy(layers)
        )


def names(items, limit=4):
    items = list(items)
    text = ", ".join(repr(n) for n in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


def finite_pos(x):
    return x is not None and np.isfinite(x) and x > 0


def per_layer(view, metric):
    """Median of a parameter metric for each layer's weight (its first parameter of ndim >= 2,
    else its first parameter)."""
    med = view.median(metric)
    out = np.full(len(view.c["layers"]), np.nan)
    for i, info in enumerate(view.c["layers"]):
        cols = info.get("param_columns") or []
        if cols:
            out[i] = med[cols[0]]
    return out
