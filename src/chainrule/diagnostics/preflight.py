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
from . import rules as _rules
from .activations import ACTIVATION_FACTOR
from .findings import Finding
from .monitor import GradientMonitor, _check_model
from .nonfinite import trace_nonfinite
from .render import fmt
from .thresholds import THRESHOLDS


def check(model, loss_fn, batch, **thresholds):
    """Pre-flight check of ``model`` on one ``batch``; returns a :class:`HealthReport`.

    Args:
        model: a ``cr.nn.Module`` (typically freshly initialised).
        loss_fn: ``loss_fn(model(x), y)`` (or ``loss_fn(model(x))`` when ``batch`` has no
            target) returning a scalar Tensor.
        batch: ``(x, y)``, or ``x`` alone. ``x`` may be a tuple of model inputs.
        **thresholds: overrides of ``cr.diagnostics.THRESHOLDS``.
    """
    from . import torch_adapter  # a torch model: the same check, torch's passes

    if torch_adapter.is_torch_module(model):
        return torch_adapter.check(model, loss_fn, batch, **thresholds)
    _check_model(model, "check")
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
        monitor._snapshot_valid = False  # no optimizer step: no update ratios
        _note_labels(monitor, loss_fn, target)
        monitor.step(loss)
        if monitor.first_nonfinite is not None:
            set_rng_state(rng)  # the same dropout masks as the first pass
            _trace_origin(monitor, model, lambda: _forward(model, loss_fn, x, target))
    finally:
        monitor.close()
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        with no_grad():
            for b, saved in buffers:
                np.copyto(b._data, saved)
        set_rng_state(rng)
    return _preflight_report(monitor, thresholds)


def _trace_origin(monitor, model, run):
    """Re-run the batch under ``trace_nonfinite`` (op, layer, pass, code line)."""
    origin = trace_nonfinite(run, model=model)
    if origin is None:
        return
    monitor.first_nonfinite = {
        "phase": origin.phase,
        "layer": origin.layer,
        "op": origin.op,
        "cause": origin.cause,
        "explanation": f"{origin.cause} ({origin.detail})" if origin.detail else origin.cause,
        "created_at": origin.created_at,
        "remedy": origin.remedy,
        "step": 0,
        "diverged": False,
    }


_REGRESSION = (
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
)


def _note_labels(monitor, loss_fn, target):
    """Integer class labels given to a regression loss (MSE, L1...)."""
    name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
    out = monitor._facts.get("output")
    if (
        out is not None
        and isinstance(target, Tensor)
        and target._data.dtype.kind in "iub"
        and name in _REGRESSION
    ):
        out["labels_into_regression"] = name


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
        raise ValueError(
            f"check: loss_fn must return a scalar Tensor, got "
            f"{getattr(loss, 'shape', type(loss).__name__)}"
        )
    if not loss.requires_grad:
        raise ValueError(
            "check: the loss does not require grad: no parameter of the model "
            "reaches it (is the model under cr.no_grad(), or frozen?)"
        )
    return loss


def layer_gains(history, context):
    """Per-layer measured forward/backward variance gains and the theory, in forward order.

    Only for a layer fed directly by the previous weight layer (through at most one
    activation): across a sum (residual), a pooling or a normalisation the theory does not
    apply. Returns a list of dicts ``{'layer', 'forward_gain', 'backward_gain',
    'theory_gain', 'activation_before', 'output'}`` (``output``: it is the last layer).
    """
    rms = history.series("out_rms")[-1]
    grad = history.series("out_grad_norm")[-1]
    layers = context["layers"]
    index = {info["name"]: i for i, info in enumerate(layers)}
    order = list(context["layer_order"])
    last = order[-1] if order else None
    rows = []
    for i in order:
        prev = index.get(layers[i].get("feeder")) if layers[i].get("feeder") else None
        if prev is None and "feeder" not in layers[i]:  # a hand-made context: chain order
            k = order.index(i)
            prev = order[k - 1] if k else None
        if prev is None or not all(_usable(layers[j], rms[j], grad[j]) for j in (prev, i)):
            continue
        act = layers[prev].get("activation")
        factor = ACTIVATION_FACTOR.get(act, 1.0)
        rows.append(
            {
                "layer": layers[i]["name"],
                "forward_gain": float((rms[i] / rms[prev]) ** 2),
                "backward_gain": float((grad[prev] / grad[i]) ** 2),
                "theory_gain": float(layers[i]["init_gain"] * factor),
                "activation_before": act,
                "output": i == last,
                "feeder": layers[prev]["name"],
            }
        )
    return rows


def _usable(info, rms, grad):
    return bool(
        info.get("init_gain")
        and not info.get("recurrent")
        and np.isfinite(rms)
        and rms > 0
        and np.isfinite(grad)
        and grad > 0
    )


def _verdict(row, th):
    """'shrinks' / 'amplifies' / 'ok' for a hidden layer; the output layer is not judged (its
    gain depends on the loss, not on the signal's scale)."""
    if row.get("output"):
        return "not judged"
    low, high = th["layer_gain_low"], th["layer_gain_high"]
    f, b = row["forward_gain"], row["backward_gain"]
    if b < low or f < low:
        return "shrinks"
    if b > high or f > high:
        return "amplifies"
    return "ok"


def _trigger(row, th):
    """('forward' or 'backward', gain) that put the row outside the band (the worse one)."""
    low, high = th["layer_gain_low"], th["layer_gain_high"]

    def off(g):
        return max(low / g, g / high, 1.0) if g > 0 else math.inf

    f, b = row["forward_gain"], row["backward_gain"]
    return ("forward", f) if off(f) > off(b) else ("backward", b)


def _preflight_report(monitor, thresholds, extra=()):
    th = dict(THRESHOLDS)
    th.update((k, v) for k, v in thresholds.items() if k in th)
    context = monitor.context()
    rows = layer_gains(monitor.history, context)
    for r in rows:
        r["verdict"] = _verdict(r, th)
    columns = {
        r["layer"]: {
            "fwd_gain": r["forward_gain"],
            "bwd_gain": r["backward_gain"],
            "theory": r["theory_gain"],
            "verdict": r["verdict"],
        }
        for r in rows
    }
    base = _rules.analyze(
        monitor.history,
        context,
        thresholds,
        source="preflight",
        extra_columns=columns,
        extra_findings=extra,
    )
    flagged = [r for r in rows if r["verdict"] in ("shrinks", "amplifies")]
    depth = [
        f
        for f in base.findings
        if f.kind in ("vanishing", "exploding") and f.evidence.get("direction") == "depth"
    ]
    for f in depth:
        f.evidence["flagged_layers"] = [r["layer"] for r in flagged]
        f.evidence["backward_gain_per_layer"] = [r["backward_gain"] for r in rows]
        f.evidence["theory_gain_per_layer"] = [r["theory_gain"] for r in rows]
    if flagged and not depth:
        finding = _gain_finding(flagged, rows, th)
        if finding is not None:
            base.findings.append(finding)
    return base


def _chain_gain(rows, th):
    """The most extreme product of trigger gains along a chain of directly connected judged
    layers (a layer continues the chain of the layer that feeds it; a residual sum, pooling
    or normalisation starts a new chain, so per-block gains do not compound)."""
    product = {}
    for r in rows:  # forward order: a feeder's chain is already known
        g = _trigger(r, th)[1]
        if not g > 0 or not math.isfinite(g):
            continue
        product[r["layer"]] = product.get(r.get("feeder"), 1.0) * g
    return max(product.values(), key=lambda p: abs(math.log(p)), default=1.0)


def _gain_finding(flagged, rows, th):
    """A warning when the per-layer gains compound: the product of the judged layers' gains
    (the trigger of each) leaves [layer_gain_low, layer_gain_high] too, i.e. the deviation
    does not cancel out over the chain; a single off layer in a shallow chain is a note."""
    judged = [r for r in rows if r["verdict"] != "not judged"]
    total = _chain_gain(judged, th)
    compounding = not th["vanishing_ratio"] <= total <= th["exploding_ratio"]
    shrink = [r for r in flagged if r["verdict"] == "shrinks"]
    grow = [r for r in flagged if r["verdict"] == "amplifies"]
    parts = []
    for group, verb in ((shrink, "shrink"), (grow, "amplify")):
        if group:
            gains = ", ".join(
                f"{r['layer']!r} {_trigger(r, th)[0]} x{fmt(_trigger(r, th)[1])}" for r in group[:4]
            )
            parts.append(
                f"{len(group)} layer{'s' if len(group) > 1 else ''} {verb} the "
                f"signal's variance ({gains})"
            )
    msg = (
        "; ".join(parts) + f": outside [{th['layer_gain_low']}, {th['layer_gain_high']}] per "
        f"layer; over the chain of {len(judged)} judged layers the variance changes "
        f"{fmt(total)}x"
    )
    msg += ", which compounds with depth." if compounding else ", which stays harmless here."
    evidence = {
        r["layer"]: f"forward {fmt(r['forward_gain'])}, backward "
        f"{fmt(r['backward_gain'])}, theory {fmt(r['theory_gain'])}"
        for r in flagged
    }
    evidence["chain_gain"] = total
    remedies = []
    off = [r for r in flagged if not 0.5 <= r["theory_gain"] <= 2]
    if off:
        names = ", ".join(repr(r["layer"]) for r in off[:4])
        remedies.append(
            f"Re-initialise {names}: their fan_in*Var(W)*E[f'^2] is "
            f"{fmt(off[0]['theory_gain'])} where 1 keeps the scale: He init "
            "(kaiming_normal_) after ReLU, Xavier (xavier_uniform_) after tanh or "
            "nothing (Glorot & Bengio 2010; He et al. 2015)."
        )
    remedies.append(
        "Add normalisation (cr.nn.LayerNorm / cr.nn.BatchNorm1d) after the flagged layers."
    )
    return Finding(
        "layer_gain",
        [r["layer"] for r in flagged],
        msg,
        evidence,
        remedies,
        "warning" if compounding else "info",
    )
