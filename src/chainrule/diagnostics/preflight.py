"""``check(model, loss_fn, batch)``: a one-batch health check before training starts.

One forward and one backward pass on one batch, with the model, its gradients, buffers
(BatchNorm statistics) and the random state left exactly as they were. For each layer with a
weight matrix it measures how the signal's variance changes from the previous such layer:

* forward gain: E[z_l^2] / E[z_{l-1}^2], with z the layer's output (pre-activation);
* backward gain: ||dL/dz_{l-1}||^2 / ||dL/dz_l||^2, the back-propagated signal;

and compares both with the theory for its initialisation and the activation in between,
``fan_in * Var(W_l) * E[f'(0)^2]`` (E[f'^2] = 1/2 for ReLU, 1 for tanh and linear, 1/16 for
sigmoid): the gain He et al. (2015, eqs. 10 and 14) and Glorot & Bengio (2010, eqs. 10-11) make
equal to 1. Layers whose measured gain leaves ``[layer_gain_low, layer_gain_high]`` are flagged
as shrinking or amplifying the signal; the usual rules (vanishing, exploding, saturated, dead,
no_gradient, nonfinite) run on the same batch.

Example::

    report = cr.diagnostics.check(model, cr.nn.CrossEntropyLoss(), (x, y))
    print(report)                       # findings + per-layer gains vs theory
"""
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor
from . import report as _report
from .monitor import GradientMonitor


def check(model, loss_fn, batch, **thresholds):
    """Pre-flight check of ``model`` on one ``batch``; returns a :class:`HealthReport`.

    Args:
        model: a ``cr.nn.Module`` (typically freshly initialised).
        loss_fn: ``loss_fn(model(x), y)`` (or ``loss_fn(model(x))`` when ``batch`` has no
            target) returning a scalar Tensor.
        batch: ``(x, y)``, or ``x`` alone. ``x`` may be a tuple of model inputs.
        **thresholds: overrides of ``cr.diagnostics.THRESHOLDS``.
    """
    x, target = _split(batch)
    params = list(model.parameters())
    grads = [p.grad for p in params]
    buffers = [(b, b._data.copy()) for _, b in model.named_buffers()]
    rng = get_rng_state()
    monitor = GradientMonitor(model, every=1)
    try:
        for p in params:
            p.grad = None
        loss = _forward(model, loss_fn, x, target)
        if loss.requires_grad:
            loss.backward(retain_graph=not math.isfinite(float(loss._data.reshape(()))))
        monitor._snapshot_valid = False            # no optimizer step: no update ratios
        monitor.step(loss)
        if monitor.first_nonfinite is not None:
            set_rng_state(rng)                     # the same dropout masks as the first pass
            _trace_origin(monitor, model, lambda: _forward(model, loss_fn, x, target))
    finally:
        monitor.close()
        for p, g in zip(params, grads):
            p.grad = g
        with no_grad():
            for b, saved in buffers:
                np.copyto(b._data, saved)
        set_rng_state(rng)
    return _preflight_report(monitor, thresholds)


def _trace_origin(monitor, model, run):
    """Re-run the batch under ``trace_nonfinite`` (op, layer, pass, code line) when present."""
    try:
        from .nonfinite import trace_nonfinite
    except ImportError:
        return
    origin = trace_nonfinite(run, model=model)
    if origin is None:
        return
    monitor.first_nonfinite = {
        "phase": origin.phase, "layer": origin.layer, "op": origin.op, "cause": origin.cause,
        "explanation": f"{origin.cause} ({origin.detail})" if origin.detail else origin.cause,
        "created_at": origin.created_at, "remedy": origin.remedy, "step": 0,
        "diverged": False}


def _split(batch):
    if isinstance(batch, (tuple, list)):
        if len(batch) == 2:
            return batch[0], batch[1]
        if len(batch) == 1:
            return batch[0], None
        raise ValueError(f"check: batch must be (x, y) or x, got a sequence of {len(batch)} items")
    if isinstance(batch, dict):
        raise ValueError("check: batch must be (x, y) or x, got a dict")
    return batch, None


def _forward(model, loss_fn, x, target):
    out = model(*x) if isinstance(x, tuple) else model(x)
    loss = loss_fn(out) if target is None else loss_fn(out, target)
    if not isinstance(loss, Tensor) or loss._data.size != 1:
        raise ValueError(f"check: loss_fn must return a scalar Tensor, got "
                         f"{getattr(loss, 'shape', type(loss).__name__)}")
    if not loss.requires_grad:
        raise ValueError("check: the loss does not require grad: no parameter of the model "
                         "reaches it (is the model under cr.no_grad(), or frozen?)")
    return loss


def layer_gains(history, context):
    """Per-layer measured forward/backward variance gains and the theory, in forward order.

    Returns a list of dicts ``{'layer', 'forward_gain', 'backward_gain', 'theory_gain'}``.
    """
    rms = history.series("out_rms")[-1]
    grad = history.series("out_grad_norm")[-1]
    layers = context["layers"]
    chain = [i for i in context["layer_order"]
             if layers[i].get("init_gain") and not layers[i].get("recurrent")
             and np.isfinite(rms[i]) and rms[i] > 0 and np.isfinite(grad[i]) and grad[i] > 0]
    rows = []
    for prev, i in zip(chain, chain[1:]):
        act = layers[prev].get("activation")
        factor = _report.ACTIVATION_FACTOR.get(act, 1.0)
        rows.append({"layer": layers[i]["name"], "forward_gain": float((rms[i] / rms[prev]) ** 2),
                     "backward_gain": float((grad[prev] / grad[i]) ** 2),
                     "theory_gain": float(layers[i]["init_gain"] * factor),
                     "activation_before": act})
    return rows


def _verdict(row, th):
    low, high = th["layer_gain_low"], th["layer_gain_high"]
    f, b = row["forward_gain"], row["backward_gain"]
    if b < low or f < low:
        return "shrinks"
    if b > high or f > high:
        return "amplifies"
    return "ok"


def _preflight_report(monitor, thresholds):
    th = dict(_report.THRESHOLDS)
    th.update((k, v) for k, v in thresholds.items() if k in th)
    context = monitor.context()
    rows = layer_gains(monitor.history, context)
    for r in rows:
        r["verdict"] = _verdict(r, th)
    columns = {r["layer"]: {"fwd_gain": r["forward_gain"], "bwd_gain": r["backward_gain"],
                            "theory": r["theory_gain"], "verdict": r["verdict"]} for r in rows}
    base = _report.analyze(monitor.history, context, thresholds, source="preflight",
                           extra_columns=columns)
    flagged = [r for r in rows if r["verdict"] != "ok"]
    depth = [f for f in base.findings if f.kind in ("vanishing", "exploding")
             and f.evidence.get("direction") == "depth"]
    for f in depth:
        f.evidence["flagged_layers"] = [r["layer"] for r in flagged]
        f.evidence["backward_gain_per_layer"] = [r["backward_gain"] for r in rows]
        f.evidence["theory_gain_per_layer"] = [r["theory_gain"] for r in rows]
    if flagged and not depth:
        base.findings.append(_gain_finding(flagged, th))
    return base


def _gain_finding(flagged, th):
    shrink = [r for r in flagged if r["verdict"] == "shrinks"]
    grow = [r for r in flagged if r["verdict"] == "amplifies"]
    parts = []
    for rows, verb in ((shrink, "shrink"), (grow, "amplify")):
        if rows:
            gains = ", ".join(f"{r['layer']!r} x{_report.fmt(r['backward_gain'])}"
                              for r in rows[:4])
            parts.append(f"{len(rows)} layer{'s' if len(rows) > 1 else ''} {verb} the "
                         f"back-propagated signal's variance ({gains})")
    msg = ("; ".join(parts) + f": outside [{th['layer_gain_low']}, {th['layer_gain_high']}] per "
           "layer, which compounds with depth.")
    evidence = {r["layer"]: f"forward {_report.fmt(r['forward_gain'])}, backward "
                f"{_report.fmt(r['backward_gain'])}, theory {_report.fmt(r['theory_gain'])}"
                for r in flagged}
    remedies = []
    off = [r for r in flagged if not 0.5 <= r["theory_gain"] <= 2]
    if off:
        names = ", ".join(repr(r["layer"]) for r in off[:4])
        remedies.append(f"Re-initialise {names}: their fan_in*Var(W)*E[f'^2] is "
                        f"{_report.fmt(off[0]['theory_gain'])} where 1 keeps the scale: He init "
                        "(kaiming_normal_) after ReLU, Xavier (xavier_uniform_) after tanh or "
                        "nothing (Glorot & Bengio 2010; He et al. 2015).")
    remedies.append("Add normalisation (cr.nn.LayerNorm / cr.nn.BatchNorm1d) after the flagged "
                    "layers.")
    return _report.Finding("layer_gain", [r["layer"] for r in flagged], msg, evidence, remedies,
                           "warning")
