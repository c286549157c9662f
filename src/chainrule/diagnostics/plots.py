"""Plots of a monitor's series (matplotlib, an optional extra: ``pip install chainrule[plot]``).

Every function takes a :class:`~chainrule.diagnostics.GradientMonitor` (or its ``history``),
draws into ``ax`` when given, and returns the matplotlib ``Figure``. Figures are built with
``matplotlib.figure.Figure`` (no pyplot state, no window); save them with ``fig.savefig``.
NaN and Inf never crash a plot: they are drawn in red and named in the legend.

Example::

    from chainrule.diagnostics import plots
    plots.plot_grad_heatmap(monitor).savefig("heatmap.png")
    plots.plot_grad_flow(monitor, step=-1).savefig("flow.png")
"""

import warnings

import numpy as np

from .names import layer_labels, metric_unit, metric_words, short_label
from .report import RELU_LIKE, SATURATING, THRESHOLDS, nanmedian

BAD = "red"  # colour of NaN/Inf everywhere


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "chainrule's plots need matplotlib: pip install chainrule[plot]"
        ) from None
    return Figure


def _axes(ax, size=(7, 4)):
    if ax is not None:
        return ax.figure, ax
    Figure = _matplotlib()
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()


def _source(obj):
    """(history, context) from a monitor or a bare History (context then guessed)."""
    history = getattr(obj, "history", obj)
    if not hasattr(history, "series"):
        raise TypeError(f"expected a GradientMonitor or its History, got {type(obj).__name__}")
    if hasattr(obj, "context"):
        return history, obj.context()
    layers = [{"name": n, "activation": None} for n in history.layer_names]
    return history, {"layers": layers, "layer_order": list(range(len(layers))), "params": []}


def _labels(monitor, names):
    """Readable tick labels for module ``names`` (``Linear 2 · 128→128 · relu``)."""
    labels = layer_labels(monitor)
    return [short_label(labels.get(n, n)) for n in names]


def _threshold(thresholds, key):
    return (thresholds or THRESHOLDS).get(key, THRESHOLDS.get(key))


def _log10(a):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(a) & (a > 0), np.log10(np.where(a > 0, a, 1)), np.nan)


def _finite_positive(a):
    a = np.asarray(a, dtype=np.float64)
    return a[np.isfinite(a) & (a > 0)]


def _set_log(ax, values, axis="y"):
    """Log scale when there is something positive to show (matplotlib warns otherwise)."""
    if _finite_positive(values).size:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


def _nonfinite(values, axis=0):
    """Entries that are Inf, or NaN after a finite value along ``axis`` (the steps' axis).

    A NaN before any finite value means "not measured", not a numerical failure.
    """
    values = np.asarray(values, dtype=np.float64)
    if not values.size:
        return np.zeros(values.shape, dtype=bool)
    seen = np.maximum.accumulate(np.isfinite(values), axis=axis)
    earlier = np.zeros_like(seen)
    index = [slice(None)] * values.ndim
    shifted = list(index)
    index[axis], shifted[axis] = slice(1, None), slice(None, -1)
    earlier[tuple(index)] = seen[tuple(shifted)]
    return np.isinf(values) | (np.isnan(values) & earlier)


def _mark_nonfinite_steps(ax, steps, values, label="NaN/Inf"):
    """Red vertical lines at the steps where ``values`` went NaN or Inf; returns their count."""
    values = np.asarray(values, dtype=np.float64).reshape(len(steps), -1)
    bad = steps[_nonfinite(values, axis=0).any(axis=1)]
    for k, s in enumerate(bad):
        ax.axvline(s, color=BAD, alpha=0.4, lw=1, label=label if k == 0 else None)
    return len(bad)


def plot_grad_heatmap(monitor, metric="out_grad_norm", ax=None):
    """Heat map of a per-layer metric over training: layers (forward order, input at the top)
    x recorded steps, colour = log10 of the value. Default: the back-propagated gradient at
    each layer's output. One row per layer reads where many same-coloured lines would not.

    Red cells are NaN/Inf, grey ones zero or not measured.
    """
    history, context = _source(monitor)
    order = context["layer_order"]
    data = history.series(metric)
    if history.scope(metric) == "param":
        names, values = list(history.param_names), data.T
        ticks = [short_label(n) for n in names]
    else:
        names = [context["layers"][i]["name"] for i in order]
        values = data[:, order].T
        ticks = _labels(monitor, names)
    fig, ax = _axes(ax, (8, max(3, 0.25 * len(names) + 1.5)))
    steps = history.steps
    logs = np.ma.masked_invalid(_log10(values))
    import matplotlib

    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="lightgrey")
    extent = _extent(steps, len(names))
    words = metric_words(metric)
    if values.size and logs.count():
        im = ax.imshow(
            logs, aspect="auto", cmap=cmap, interpolation="nearest", extent=extent, origin="upper"
        )
        unit = metric_unit(metric)
        fig.colorbar(im, ax=ax, label=f"log10 {unit or words}")
    bad = _nonfinite(values, axis=1)
    if bad.any():
        overlay = np.ma.masked_where(~bad, np.ones_like(values))
        ax.imshow(
            overlay,
            aspect="auto",
            cmap=matplotlib.colors.ListedColormap([BAD]),
            interpolation="nearest",
            extent=extent,
            origin="upper",
            vmin=0,
            vmax=1,
        )
    ax.set_yticks(np.arange(len(names)) + 0.5 if names else [])
    ax.set_yticklabels(ticks[::-1] if names else [], fontsize=7)
    ax.set_xlabel("training step")
    ax.set_ylabel("layer (input side at the top)")
    ax.set_title(
        f"{words} per layer over training (log10; red: NaN/Inf, grey: 0 or missing)", fontsize=9
    )
    return fig


def _extent(steps, n_rows):
    if len(steps) == 0:
        return (0, 1, 0, max(n_rows, 1))
    lo, hi = float(steps[0]), float(steps[-1])
    return (lo - 0.5, hi + 0.5, 0, max(n_rows, 1))


def plot_grad_flow(monitor, step=None, ax=None, thresholds=None):
    """Bar chart at one recorded step: per layer the norm of the gradient at its output and of
    its weight gradient, log scale. ``step`` indexes the history (-1 = last); by default the
    last step with a finite value. Non-finite values are red bars labelled NaN/Inf. The
    vanishing and exploding thresholds (relative to the layer nearest the loss) are drawn."""
    history, context = _source(monitor)
    order = context["layer_order"]
    names = [context["layers"][i]["name"] for i in order]
    fig, ax = _axes(ax, (max(6, 0.35 * len(names) + 3), 4.5))
    if not len(history):
        ax.set_title("gradient flow: nothing recorded yet")
        ax.set_xlabel("layer")
        ax.set_ylabel("L2 norm")
        return fig
    if step is None:
        finite = np.isfinite(history.series("out_grad_norm")).any(axis=1)
        step = int(np.flatnonzero(finite)[-1]) if finite.any() else -1
    out = history.series("out_grad_norm")[step][order]
    wgrad = _layer_weight_metric(history, context, "grad_norm", step)[order]
    x = np.arange(len(names))
    both = np.concatenate([out, wgrad])
    top = _finite_positive(both).max() * 10 if _finite_positive(both).size else 1.0
    for shift, vals, label in (
        (-0.2, out, "gradient at the layer output"),
        (0.2, wgrad, "weight gradient"),
    ):
        ok = np.isfinite(vals) & (vals > 0)
        ax.bar(x[ok] + shift, vals[ok], width=0.4, label=label)
        _bad_bars(ax, x + shift, vals, top)
    last = out[np.isfinite(out) & (out > 0)]
    if last.size:
        ref = float(last[-1])  # the layer nearest the loss
        low, high = (
            _threshold(thresholds, "vanishing_ratio"),
            _threshold(thresholds, "exploding_ratio"),
        )
        ax.axhline(
            ref * low, color="C3", ls="--", lw=1, label=f"vanishing below: {low:g} x last layer's"
        )
        if np.nanmax(np.where(np.isfinite(out), out, np.nan)) > ref * high / 10:
            ax.axhline(
                ref * high,
                color="C4",
                ls=":",
                lw=1,
                label=f"exploding above: {high:g} x last layer's",
            )
        both = np.append(both, ref * low)
    _set_log(ax, both)
    ax.set_xticks(x)
    ax.set_xticklabels(_labels(monitor, names), rotation=60, ha="right", fontsize=7)
    ax.set_xlabel("layer (input side on the left)")
    ax.set_ylabel("L2 norm (log scale)")
    ax.set_title(f"gradient flow at step {int(history.steps[step])}", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _bad_bars(ax, x, vals, top):
    bad = ~np.isfinite(vals)
    if bad.any():
        ax.bar(x[bad], np.full(bad.sum(), top), width=0.4, color=BAD, alpha=0.6)
        for xi, v in zip(x[bad], vals[bad], strict=True):
            ax.text(
                xi,
                top,
                "NaN" if np.isnan(v) else "Inf",
                color=BAD,
                ha="center",
                va="bottom",
                fontsize=6,
                rotation=90,
            )


def _layer_weight_metric(history, context, metric, step):
    """A parameter metric at one row, mapped to layers (the layer's first parameter)."""
    row = history.series(metric)[step]
    out = np.full(len(context["layers"]), np.nan)
    for i, info in enumerate(context["layers"]):
        cols = info.get("param_columns") or []
        if cols:
            out[i] = row[cols[0]]
    return out


def plot_update_ratios(monitor, ax=None, max_lines=8):
    """Update-to-weight ratio ||dW||/||W|| of every weight matrix over training (log scale),
    with Karpathy's ~1e-3 and the 1e-4..1e-2 band. More than ``max_lines`` weights are drawn
    as a heat map (weights x steps) instead of lines."""
    history, context = _source(monitor)
    data = history.series("update_ratio")
    steps = history.steps
    params = context.get("params") or [{"name": n, "ndim": 2} for n in history.param_names]
    cols = [k for k, p in enumerate(params) if p.get("ndim", 2) >= 2] or list(range(len(params)))
    if len(cols) > max_lines:
        return _update_heatmap(monitor, history, params, cols, ax)
    fig, ax = _axes(ax)
    for k in cols:
        vals = np.where(np.isfinite(data[:, k]) & (data[:, k] > 0), data[:, k], np.nan)
        ax.plot(steps, vals, lw=1, label=_param_label(monitor, params[k]))
    ax.axhline(1e-3, color="black", ls="--", lw=1, label="target ~1e-3 (Karpathy)")
    ax.axhspan(1e-4, 1e-2, color="green", alpha=0.08, label="healthy band 1e-4 to 1e-2")
    _mark_nonfinite_steps(ax, steps, data[:, cols] if cols else np.zeros((len(steps), 0)))
    _set_log(ax, np.append(data[:, cols].ravel(), 1e-3))
    ax.set_xlabel("training step")
    ax.set_ylabel("||ΔW|| / ||W|| per step (log scale)")
    ax.set_title("update-to-weight ratio per weight", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    return fig


def _param_label(monitor, p):
    """``Linear 2 · 128→128 · relu: weight`` for a parameter."""
    labels = layer_labels(monitor)
    layer = p.get("layer")
    if layer in labels:
        return short_label(f"{labels[layer]}: {p['name'].rsplit('.', 1)[-1]}", 44)
    return short_label(p["name"], 44)


def _update_heatmap(monitor, history, params, cols, ax):
    import matplotlib

    values = history.series("update_ratio")[:, cols].T
    fig, ax = _axes(ax, (8, max(3, 0.25 * len(cols) + 1.5)))
    logs = np.ma.masked_invalid(_log10(values))
    cmap = matplotlib.colormaps["coolwarm"].with_extremes(bad="lightgrey")
    # centred on Karpathy's 1e-3: blue too slow, red too fast, white about right
    im = ax.imshow(
        logs,
        aspect="auto",
        cmap=cmap,
        vmin=-5,
        vmax=-1,
        interpolation="nearest",
        extent=_extent(history.steps, len(cols)),
        origin="upper",
    )
    bar = fig.colorbar(im, ax=ax, label="log10 ||ΔW|| / ||W|| per step")
    for level, style in ((-4, ":"), (-3, "--"), (-2, ":")):
        bar.ax.axhline(level, color="black", ls=style, lw=1)
    ticks = [_param_label(monitor, params[k]) for k in cols]
    ax.set_yticks(np.arange(len(cols)) + 0.5)
    ax.set_yticklabels(ticks[::-1], fontsize=7)
    ax.set_xlabel("training step")
    ax.set_ylabel("weight (input side at the top)")
    ax.set_title(
        "update-to-weight ratio per weight (colour bar: --- target 1e-3, ··· healthy "
        "band 1e-4 to 1e-2)",
        fontsize=9,
    )
    return fig


def plot_loss(monitor, ax=None):
    """The recorded loss over training; steps where it was NaN/Inf are marked in red."""
    history, _ = _source(monitor)
    fig, ax = _axes(ax)
    loss = history.series("loss")
    steps = history.steps
    ax.plot(steps, np.where(np.isfinite(loss), loss, np.nan), lw=1.2, label="loss")
    n_bad = _mark_nonfinite_steps(ax, steps, loss)
    shown = _finite_positive(loss)
    if shown.size == np.isfinite(loss).sum() and shown.size and shown.max() > 1e3 * shown.min():
        ax.set_yscale("log")  # a loss spanning decades (divergence) reads on a log axis
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss (per batch)")
    title = "loss"
    if n_bad:
        title += f" ({n_bad} non-finite steps in red)"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def plot_saturation(monitor, ax=None, window=20, thresholds=None):
    """Per layer: share of saturated sigmoid/tanh outputs and of dead ReLU units (median over
    the last ``window`` recorded steps), with the thresholds the report uses."""
    history, context = _source(monitor)
    order = context["layer_order"]
    names = [context["layers"][i]["name"] for i in order]
    fig, ax = _axes(ax, (max(6, 0.35 * len(names) + 3), 4.5))
    rows = slice(-window, None)
    sat = nanmedian(history.series("saturated_frac")[rows])
    dead = nanmedian(history.series("dead_frac")[rows])
    x = np.arange(len(names))
    acts = [context["layers"][i].get("activation") for i in order]
    sat_v = np.array(
        [sat[i] if a in SATURATING else np.nan for i, a in zip(order, acts, strict=True)]
    )
    dead_v = np.array(
        [dead[i] if a in RELU_LIKE else np.nan for i, a in zip(order, acts, strict=True)]
    )
    ax.bar(x - 0.2, np.nan_to_num(sat_v), width=0.4, label="saturated (sigmoid/tanh)")
    ax.bar(x + 0.2, np.nan_to_num(dead_v), width=0.4, label="dead (ReLU)")
    s_th, d_th = _threshold(thresholds, "saturated_share"), _threshold(thresholds, "dead_share")
    ax.axhline(s_th, color="C0", ls=":", lw=1, label=f"saturated threshold {s_th:.0%}")
    ax.axhline(d_th, color="C1", ls="--", lw=1, label=f"dead threshold {d_th:.0%}")
    ax.set_ylim(0, 1)
    ax.set_xticks(x)
    ax.set_xticklabels(_labels(monitor, names), rotation=60, ha="right", fontsize=7)
    ax.set_xlabel("layer (input side on the left)")
    ax.set_ylabel("share of units")
    ax.set_title("activation saturation per layer", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def plot_time_gradients(monitor, ax=None):
    """||dL/dh_t|| over the time steps of each recurrent layer (latest recorded step), log y."""
    history, _ = _source(monitor)
    fig, ax = _axes(ax)
    profiles = history.time_profiles
    for name, norms in profiles.items():
        norms = np.asarray(norms, dtype=np.float64)
        t = np.arange(1, len(norms) + 1)
        ax.plot(t, np.where(np.isfinite(norms) & (norms > 0), norms, np.nan), label=name)
        bad = ~np.isfinite(norms)
        if bad.any():
            ax.plot(t[bad], np.ones(bad.sum()), "x", color=BAD, label=f"{name}: NaN/Inf")
    _set_log(ax, np.concatenate([np.ravel(v) for v in profiles.values()]) if profiles else [])
    ax.set_xlabel("time step t of the sequence")
    ax.set_ylabel("||dL/dh_t|| (L2 norm, log scale)")
    ax.set_title("gradient through time (recurrent layers, latest recorded step)", fontsize=9)
    if profiles:
        ax.legend(fontsize=7)
    return fig


def plot_lr_test(result, ax=None):
    """The learning-rate range test curve (``result.lrs``, ``result.losses``, and when present
    ``smoothed_losses``, ``suggested_lr``, ``suggested_range``, ``diverged_at``) on a log x
    axis, clipped to the useful range: x up to a little past the divergence, y from the lowest
    loss to a little above the starting loss (a diverging loss would flatten the rest)."""
    fig, ax = _axes(ax)
    lrs = np.asarray(result.lrs, dtype=np.float64)
    losses = np.asarray(result.losses, dtype=np.float64)
    smoothed = getattr(result, "smoothed_losses", None)
    ok = np.isfinite(losses)
    ax.plot(
        lrs[ok],
        losses[ok],
        lw=1,
        alpha=0.35 if smoothed is not None else 1,
        color="C0",
        label="loss per step",
    )
    if smoothed is not None:
        sm = np.asarray(smoothed, dtype=np.float64)
        ax.plot(
            lrs, np.where(np.isfinite(sm), sm, np.nan), lw=1.5, color="C0", label="smoothed loss"
        )
    if (~ok).any():
        for k, lr in enumerate(lrs[~ok]):
            ax.axvline(lr, color=BAD, alpha=0.4, label="NaN/Inf" if k == 0 else None)
    span = getattr(result, "suggested_range", None)
    if span is not None and all(np.isfinite(span)):
        ax.axvspan(*span, color="green", alpha=0.1, label="suggested range")
    suggested = getattr(result, "suggested_lr", None)
    if suggested is not None and np.isfinite(suggested):
        ax.axvline(suggested, color="green", ls="--", label=f"suggested {suggested:.2g}")
    diverged = getattr(result, "diverged_at", None)
    if diverged is not None:
        ax.axvline(diverged, color="C3", ls=":", label=f"diverged at {diverged:.2g}")
    _set_log(ax, lrs, axis="x")
    _clip_lr_axes(ax, lrs, losses, diverged)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title("learning-rate range test", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _clip_lr_axes(ax, lrs, losses, diverged):
    finite = np.isfinite(losses)
    if not finite.any() or not (lrs > 0).all():
        return
    first = losses[finite][0]
    low = float(np.min(losses[finite]))
    # Past 4x the starting loss (or the divergence) nothing useful is left to read.
    over = np.flatnonzero(~finite | (losses > 4 * max(first, low)))
    stop = lrs[over[0]] if over.size else lrs[-1]
    if diverged is not None:
        stop = min(stop, diverged)
    ax.set_xlim(lrs[0], min(lrs[-1], stop * 3))
    high = max(first, low) * 1.5
    ax.set_ylim(max(0.0, low - 0.1 * (high - low)), high)


def plot_learning_curves(history, metric=None, fig=None):
    """Learning curves per epoch from :func:`chainrule.train.fit`'s History: loss on the left,
    the metric (accuracy or MSE) on the right, training and validation each.

    ``metric``: ``'accuracy'``, ``'mse'`` or None (the first one the History has).
    """
    Figure = _matplotlib()
    fig = fig or Figure(figsize=(8, 3.6), layout="constrained")
    epochs = np.asarray(history.epochs) + 1
    names = list(getattr(history, "metrics", {}) or {})
    if metric is None:
        metric = next((n.split("_", 1)[1] for n in names if n.startswith(("train_", "val_"))), None)
    axes = fig.subplots(1, 2 if metric else 1, squeeze=False)[0]
    ax = axes[0]
    ax.plot(epochs, _finite(history.train_loss), marker="o", ms=3, label="training")
    val = getattr(history, "val_loss", None)
    if val is not None and len(val) and np.isfinite(np.asarray(val, dtype=float)).any():
        ax.plot(epochs, _finite(val), marker="s", ms=3, label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("loss per epoch", fontsize=9)
    ax.legend(fontsize=7)
    if metric:
        ax = axes[1]
        for key, label, mark in (
            (f"train_{metric}", "training", "o"),
            (f"val_{metric}", "validation", "s"),
        ):
            if key in history.metrics:
                values = _finite(history.metrics[key])
                if metric == "accuracy":
                    values = 100 * values
                ax.plot(epochs[: len(values)], values, marker=mark, ms=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)" if metric == "accuracy" else metric)
        if metric == "accuracy":
            ax.set_ylim(0, 100)
        ax.set_title(f"{metric} per epoch", fontsize=9)
        ax.legend(fontsize=7)
    for a in axes:
        from matplotlib.ticker import MaxNLocator

        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def _finite(values):
    a = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(a), a, np.nan)


def figures(monitor, report=None):
    """The standard set for a report: ``[(key, caption, Figure), ...]``, skipping empty ones.
    ``report`` (a HealthReport) supplies the thresholds drawn; by default the standard ones."""
    thresholds = getattr(report, "thresholds", None)
    return _quiet(lambda: _figures(monitor, thresholds))


def _figures(monitor, thresholds):
    history, context = _source(monitor)
    out = [
        (
            "grad_flow",
            "Gradient flow per layer at the last recorded step, with the vanishing threshold",
            plot_grad_flow(monitor, thresholds=thresholds),
        ),
        (
            "grad_heatmap",
            "Gradient at each layer's output over training, one row per layer (log scale)",
            plot_grad_heatmap(monitor),
        ),
    ]
    if not np.isnan(history.series("loss")).all():
        out.append(("loss", "Training loss per recorded step", plot_loss(monitor)))
    if np.isfinite(history.series("update_ratio")).any():
        out.append(
            (
                "update_ratios",
                "Update-to-weight ratio per weight matrix",
                plot_update_ratios(monitor),
            )
        )
    acts = {info.get("activation") for info in context["layers"]}
    if acts & (set(SATURATING) | set(RELU_LIKE)):
        out.append(
            (
                "saturation",
                "Saturated and dead units per layer",
                plot_saturation(monitor, thresholds=thresholds),
            )
        )
    if history.time_profiles:
        out.append(
            (
                "time_gradients",
                "Gradient norm through time in recurrent layers",
                plot_time_gradients(monitor),
            )
        )
    return out


def _quiet(fn):
    """Run ``fn`` with matplotlib's and NumPy's warnings about empty/NaN data silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn()
