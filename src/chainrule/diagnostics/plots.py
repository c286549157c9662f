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

from .report import RELU_LIKE, SATURATING, THRESHOLDS, nanmedian

BAD = "red"          # colour of NaN/Inf everywhere


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("chainrule's plots need matplotlib: "
                          "pip install chainrule[plot]") from None
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
    """Heat map of a per-layer metric over training: layers (forward order) x recorded steps,
    colour = log10 of the value. Default: the back-propagated gradient at each layer's output.

    Red cells are NaN/Inf, grey ones zero or not measured.
    """
    history, context = _source(monitor)
    order = context["layer_order"]
    data = history.series(metric)
    if history.scope(metric) == "param":
        names, values = history.param_names, data.T
    else:
        names = [context["layers"][i]["name"] for i in order]
        values = data[:, order].T
    fig, ax = _axes(ax, (8, max(3, 0.25 * len(names) + 1.5)))
    steps = history.steps
    logs = np.ma.masked_invalid(_log10(values))
    import matplotlib
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="lightgrey")
    extent = _extent(steps, len(names))
    if values.size and logs.count():
        im = ax.imshow(logs, aspect="auto", cmap=cmap, interpolation="nearest", extent=extent,
                       origin="upper")
        fig.colorbar(im, ax=ax, label=f"log10 {metric}")
    bad = _nonfinite(values, axis=1)
    if bad.any():
        overlay = np.ma.masked_where(~bad, np.ones_like(values))
        ax.imshow(overlay, aspect="auto", cmap=matplotlib.colors.ListedColormap([BAD]),
                  interpolation="nearest", extent=extent, origin="upper", vmin=0, vmax=1)
    ax.set_yticks(np.arange(len(names)) + 0.5 if names else [])
    ax.set_yticklabels(names[::-1] if names else [], fontsize=7)
    ax.set_xlabel("step")
    ax.set_title(f"{metric} per layer over training (log10; red: NaN/Inf, grey: 0 or missing)",
                 fontsize=9)
    return fig


def _extent(steps, n_rows):
    if len(steps) == 0:
        return (0, 1, 0, max(n_rows, 1))
    lo, hi = float(steps[0]), float(steps[-1])
    return (lo - 0.5, hi + 0.5, 0, max(n_rows, 1))


def plot_grad_flow(monitor, step=None, ax=None):
    """Bar chart at one recorded step: per layer the norm of the gradient at its output and of
    its weight gradient, log scale. ``step`` indexes the history (-1 = last); by default the
    last step with a finite value. Non-finite values are red bars labelled NaN/Inf."""
    history, context = _source(monitor)
    order = context["layer_order"]
    names = [context["layers"][i]["name"] for i in order]
    fig, ax = _axes(ax, (max(6, 0.35 * len(names) + 2), 4))
    if not len(history):
        ax.set_title("gradient flow: nothing recorded yet")
        return fig
    if step is None:
        finite = np.isfinite(history.series("out_grad_norm")).any(axis=1)
        step = int(np.flatnonzero(finite)[-1]) if finite.any() else -1
    out = history.series("out_grad_norm")[step][order]
    wgrad = _layer_weight_metric(history, context, "grad_norm", step)[order]
    x = np.arange(len(names))
    both = np.concatenate([out, wgrad])
    top = _finite_positive(both).max() * 10 if _finite_positive(both).size else 1.0
    for shift, vals, label in ((-0.2, out, "|dL/d output|"), (0.2, wgrad, "|grad W|")):
        ok = np.isfinite(vals) & (vals > 0)
        ax.bar(x[ok] + shift, vals[ok], width=0.4, label=label)
        _bad_bars(ax, x + shift, vals, top)
    _set_log(ax, both)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_ylabel("norm")
    ax.set_title(f"gradient flow at step {int(history.steps[step])}", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _bad_bars(ax, x, vals, top):
    bad = ~np.isfinite(vals)
    if bad.any():
        ax.bar(x[bad], np.full(bad.sum(), top), width=0.4, color=BAD, alpha=0.6)
        for xi, v in zip(x[bad], vals[bad]):
            ax.text(xi, top, "NaN" if np.isnan(v) else "Inf", color=BAD, ha="center",
                    va="bottom", fontsize=6, rotation=90)


def _layer_weight_metric(history, context, metric, step):
    """A parameter metric at one row, mapped to layers (the layer's first parameter)."""
    row = history.series(metric)[step]
    out = np.full(len(context["layers"]), np.nan)
    for i, info in enumerate(context["layers"]):
        cols = info.get("param_columns") or []
        if cols:
            out[i] = row[cols[0]]
    return out


def plot_update_ratios(monitor, ax=None):
    """Update-to-weight ratio ||dW||/||W|| of every weight matrix over training (log scale),
    with Karpathy's ~1e-3 and the 1e-4..1e-2 band."""
    history, context = _source(monitor)
    fig, ax = _axes(ax)
    data = history.series("update_ratio")
    steps = history.steps
    params = context.get("params") or [{"name": n, "ndim": 2} for n in history.param_names]
    cols = [k for k, p in enumerate(params) if p.get("ndim", 2) >= 2] or list(range(len(params)))
    for k in cols[:40]:
        vals = np.where(np.isfinite(data[:, k]) & (data[:, k] > 0), data[:, k], np.nan)
        ax.plot(steps, vals, lw=1, label=params[k]["name"] if len(cols) <= 12 else None)
    ax.axhline(1e-3, color="black", ls="--", lw=1, label="1e-3 (Karpathy)")
    ax.axhspan(1e-4, 1e-2, color="green", alpha=0.08)
    _mark_nonfinite_steps(ax, steps, data[:, cols] if cols else np.zeros((len(steps), 0)))
    _set_log(ax, np.append(data[:, cols].ravel(), 1e-3))
    ax.set_xlabel("step")
    ax.set_ylabel("||dW|| / ||W||")
    ax.set_title("update-to-weight ratio per weight", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
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
        ax.set_yscale("log")          # a loss spanning decades (divergence) reads on a log axis
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    title = "loss"
    if n_bad:
        title += f" ({n_bad} non-finite steps in red)"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def plot_saturation(monitor, ax=None, window=20):
    """Per layer: share of saturated sigmoid/tanh outputs and of dead ReLU units (median over
    the last ``window`` recorded steps)."""
    history, context = _source(monitor)
    order = context["layer_order"]
    names = [context["layers"][i]["name"] for i in order]
    fig, ax = _axes(ax, (max(6, 0.35 * len(names) + 2), 4))
    rows = slice(-window, None)
    sat = nanmedian(history.series("saturated_frac")[rows])
    dead = nanmedian(history.series("dead_frac")[rows])
    x = np.arange(len(names))
    acts = [context["layers"][i].get("activation") for i in order]
    sat_v = np.array([sat[i] if a in SATURATING else np.nan for i, a in zip(order, acts)])
    dead_v = np.array([dead[i] if a in RELU_LIKE else np.nan for i, a in zip(order, acts)])
    ax.bar(x - 0.2, np.nan_to_num(sat_v), width=0.4, label="saturated (sigmoid/tanh)")
    ax.bar(x + 0.2, np.nan_to_num(dead_v), width=0.4, label="dead (ReLU)")
    ax.axhline(THRESHOLDS["saturated_share"], color="C0", ls=":", lw=1)
    ax.axhline(THRESHOLDS["dead_share"], color="C1", ls=":", lw=1)
    ax.set_ylim(0, 1)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_ylabel("share")
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
    ax.set_xlabel("time step t")
    ax.set_ylabel("||dL/dh_t||")
    ax.set_title("gradient through time (recurrent layers)", fontsize=9)
    if profiles:
        ax.legend(fontsize=7)
    return fig


def plot_lr_test(result, ax=None):
    """The learning-rate range test curve (``result.lrs``, ``result.losses``; log x), with
    ``result.suggested_lr`` marked when present."""
    fig, ax = _axes(ax)
    lrs = np.asarray(result.lrs, dtype=np.float64)
    losses = np.asarray(result.losses, dtype=np.float64)
    ok = np.isfinite(losses)
    ax.plot(lrs[ok], losses[ok], lw=1.2, label="loss")
    if (~ok).any():
        for k, lr in enumerate(lrs[~ok]):
            ax.axvline(lr, color=BAD, alpha=0.4, label="NaN/Inf" if k == 0 else None)
    suggested = getattr(result, "suggested_lr", None)
    if suggested is not None and np.isfinite(suggested):
        ax.axvline(suggested, color="green", ls="--", label=f"suggested {suggested:.2g}")
    _set_log(ax, lrs, axis="x")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title("learning-rate range test", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def figures(monitor):
    """The standard set for a report: ``[(key, caption, Figure), ...]``, skipping empty ones."""
    return _quiet(lambda: _figures(monitor))


def _figures(monitor):
    history, context = _source(monitor)
    out = [("grad_heatmap", "Back-propagated gradient norm at each layer's output over training "
            "(log scale)", plot_grad_heatmap(monitor)),
           ("grad_flow", "Gradient flow per layer at the last recorded step",
            plot_grad_flow(monitor))]
    if np.isfinite(history.series("update_ratio")).any():
        out.append(("update_ratios", "Update-to-weight ratio per weight matrix",
                    plot_update_ratios(monitor)))
    if not np.isnan(history.series("loss")).all():
        out.append(("loss", "Loss curve", plot_loss(monitor)))
    acts = {info.get("activation") for info in context["layers"]}
    if acts & (set(SATURATING) | set(RELU_LIKE)):
        out.append(("saturation", "Saturated and dead units per layer", plot_saturation(monitor)))
    if history.time_profiles:
        out.append(("time_gradients", "Gradient norm through time in recurrent layers",
                    plot_time_gradients(monitor)))
    return out


def _quiet(fn):
    """Run ``fn`` with matplotlib's and NumPy's warnings about empty/NaN data silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn()
