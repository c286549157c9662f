"""The rules: each reads the recorded series (through a :class:`View`) and returns findings.

``analyze(history, context, thresholds)`` runs them all and returns a ``HealthReport``.
"""

import copy
import math

import numpy as np

from . import rules_training
from .activations import ACTIVATIONS, RECOMMENDED_GAIN, RELU_LIKE, SATURATING
from .findings import Finding, HealthReport
from .render import fmt
from .thresholds import THRESHOLDS
from .view import View, finite_pos, names, nanmedian, per_layer

__all__ = ["analyze", "View", "nanmedian", "RULES", "layer_summary", "init_mismatch"]
_names, _finite_pos, _per_layer = names, finite_pos, per_layer


# ----------------------------------------------------------------------------------------------
# rules
# ----------------------------------------------------------------------------------------------


def analyze(
    history, context, thresholds=None, source="monitor", extra_findings=(), extra_columns=None
):
    """Run every rule on ``history``; return a :class:`HealthReport`."""
    th = dict(THRESHOLDS)
    unknown = set(thresholds or {}) - set(th)
    if unknown:
        raise TypeError(f"report(): unknown thresholds {sorted(unknown)}; known: {sorted(th)}")
    th.update(thresholds or {})
    view = View(history, dict(context, source=source), th)
    findings = list(extra_findings)
    for rule in RULES:
        findings += rule(view)
    findings = _explain_away(view, findings)
    findings = _oscillation_from_depth(findings)
    if not any(f.severity in ("error", "warning") for f in findings):
        findings += rules_training.rule_not_learning(view)
    layers = layer_summary(view, extra_columns)
    clipping = context.get("clipping")
    return HealthReport(findings, layers, source, len(history), clipping, th)


def _explain_away(view, findings):
    """Drop ``lr_too_low`` when a vanishing gradient across depth explains it.

    Layers the gradient no longer reaches barely move whatever the learning rate, so their
    tiny update ratios are a symptom: raising the rate would blow up the healthy layers
    instead. That holds only when the layers near the output do move: when the output layer's
    updates are tiny too, the learning rate is low as well and the finding stays. Vanishing
    through time never explains it (at init it is common, and training removes it).
    """
    if any(f.kind == "lr_too_low" for f in findings):
        for f in findings:  # a gated cell's init-time ratio persists at a low rate
            if (
                f.kind == "vanishing"
                and f.evidence.get("direction") == "time"
                and f.evidence.get("cell") in ("LSTM", "GRU", "LSTMCell", "GRUCell")
            ):
                f.severity = "info"
                f.message += (
                    " Its weights barely move (the learning rate is too low), so this "
                    "is still the ratio at initialisation, which training removes."
                )
    vanishing = [
        f
        for f in findings
        if f.kind == "vanishing"
        and f.severity == "error"
        and f.evidence.get("direction") == "depth"
    ]
    out = view.output_layer()
    if not vanishing or out is None or not view.updates_healthy([out]):
        return findings
    for f in findings:
        if f.kind == "lr_too_low":
            vanishing[0].evidence["update_ratio_median"] = f.evidence.get("update_ratio_median")
            vanishing[0].remedies.append(
                "The starved layers' weights barely move (tiny update "
                "ratios): fix the gradient flow before touching the "
                "learning rate."
            )
    return [f for f in findings if f.kind != "lr_too_low"]


def _oscillation_from_depth(findings):
    """An oscillating loss next to a gradient that explodes across depth: the explosion is the
    cause, not the step size (as for units saturated from the start, see rule_oscillating).

    Weights far too large make the logits huge, so each step's loss swings with the batch
    whatever the learning rate; the same optimizer on a well-initialised net trains smoothly.
    The exploding finding is then no harmless note (the loss does not settle) and keeps the
    oscillation as its evidence; the oscillating finding, whose remedy (a lower learning rate)
    misses the cause, is dropped.
    """
    exploding = [
        f for f in findings if f.kind == "exploding" and f.evidence.get("direction") == "depth"
    ]
    swinging = [f for f in findings if f.kind == "oscillating"]
    if not exploding or not swinging:
        return findings
    f, o = exploding[0], swinging[0]
    if f.severity == "info":
        f.severity = "error"
        f.message = f.message.replace(_HARMLESS_NOTE, "")
    swing = o.evidence.get("median_step_change_relative")
    f.evidence["loss_step_change_relative"] = swing
    f.message += (
        f" The loss swings by {swing:.0%} of its level from step to step: the oversized "
        "signal, not the learning rate, makes it oscillate."
    )
    return [g for g in findings if g is not o]


def layer_summary(view, extra_columns=None):
    """One row per layer (forward order): the medians over the window."""
    grad_out = view.median("out_grad_norm")
    sat, dead = view.median("saturated_frac"), view.median("dead_frac")
    wgrad, ratio = _per_layer(view, "grad_norm"), _per_layer(view, "update_ratio")
    rows = []
    for i in view.order():
        info = view.layer(i)
        row = {
            "layer": info["name"],
            "type": info["type"],
            "activation": info.get("activation"),
            "grad_at_output": _num(grad_out[i]),
            "weight_grad": _num(wgrad[i]),
            "update_ratio": _num(ratio[i]),
            "saturated": _num(sat[i]) if info.get("activation") in SATURATING else None,
            "dead": _num(dead[i]) if info.get("activation") in RELU_LIKE else None,
        }
        row.update((extra_columns or {}).get(info["name"], {}))
        rows.append(row)
    return rows


def _num(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _depth_profile(view):
    """(layer indices in forward order, median |dL/dout| of each) for layers that have one."""
    med = view.median("out_grad_norm")
    idx = [i for i in view.order() if _finite_pos(med[i])]
    return idx, med


def _depth_ratio(view, idx):
    """Median over the window of |dL/dout| at the first layer / at the last layer."""
    g = view.series("out_grad_norm")[:, [idx[0], idx[-1]]]
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(g[:, 0]) - np.log10(g[:, 1])
    logs = logs[np.isfinite(logs)]
    return float(10 ** np.median(logs)) if logs.size else float("nan")


# what a harmless depth finding says (dropped again when the loss oscillates)
_HARMLESS_NOTE = (
    " The model learns anyway and these layers' updates are healthy (an adaptive "
    "optimizer or normalisation compensates), so this is a note, not a problem."
)


def rule_depth(view):
    """vanishing / exploding across layers, from the back-propagated signal at layer outputs:
    over the window, and over the first recorded steps when they came before it (a run can
    explode first and then saturate into vanishing)."""
    found = _rule_depth(view)
    early = view.finite_rows[:3]
    if len(early) and len(view.rows) and early[-1] < view.rows[0]:
        first = copy.copy(view)
        first.rows = early
        kinds = {f.kind for f in found}
        for f in _rule_depth(first):
            if f.kind not in kinds:
                f.evidence["when"] = "first recorded steps"
                f.message = "During the first recorded steps: " + f.message
                found.append(f)
    return found


def _rule_depth(view):
    idx, med = _depth_profile(view)
    idx = [i for i in idx if not view.layer(i).get("recurrent")] or idx
    if len(idx) < 2:
        return []
    th = view.th
    ratio = _depth_ratio(view, idx)
    if not np.isfinite(ratio) or th["vanishing_ratio"] <= ratio <= th["exploding_ratio"]:
        return []
    last = med[idx[-1]]
    rel = {view.name(i): float(med[i] / last) for i in idx}
    per_layer = ratio ** (1 / (len(idx) - 1))
    if ratio < th["vanishing_ratio"]:
        hit = [view.name(i) for i in idx if med[i] / last < th["vanishing_ratio"]]
        kind, verb = "vanishing", "shrinks"
    else:
        hit = [view.name(i) for i in idx if med[i] / last > th["exploding_ratio"]]
        kind, verb = "exploding", "grows"
    wratio = _weight_grad_ratio(view, idx)
    evidence = {
        "direction": "depth",
        "ratio_first_to_last": ratio,
        "first_layer": view.name(idx[0]),
        "last_layer": view.name(idx[-1]),
        "gain_per_layer": per_layer,
        "grad_at_output_relative_to_last": list(rel.values()),
        "weight_grad_ratio_first_to_last": wratio,
    }
    msg = (
        f"The gradient arriving at the output of layer {view.name(idx[0])!r} is "
        f"{fmt(ratio)} times the one at {view.name(idx[-1])!r}: it {verb} by about "
        f"{fmt(per_layer)}x per layer over {len(idx)} layers."
    )
    if _finite_pos(wratio) and 0.1 <= wratio <= 10:
        msg += (
            f" The weight-gradient norms look flat (first/last {fmt(wratio)}); the "
            "back-propagated signal shows the problem."
        )
    remedies = (
        _vanishing_remedies(view, idx, hit)
        if kind == "vanishing"
        else _exploding_remedies(view, idx, hit)
    )
    severity = "error"
    hit_idx = [i for i in idx if view.name(i) in hit]
    if view.harmless(hit_idx):
        severity = "info"
        msg += _HARMLESS_NOTE
    return [Finding(kind, hit, msg, evidence, remedies, severity)]


def _weight_grad_ratio(view, idx):
    w = _per_layer(view, "grad_norm")
    a, b = w[idx[0]], w[idx[-1]]
    return float(a / b) if _finite_pos(a) and _finite_pos(b) else float("nan")


def init_mismatch(info):
    """fan_in * Var(W) over what the layer's activation wants (None when unknown)."""
    gain = info.get("init_gain")
    if gain is None or not np.isfinite(gain) or gain <= 0:
        return None
    return gain / RECOMMENDED_GAIN.get(info.get("activation"), 1.0)


def _init_remedy(view, idx, low):
    """Remedy text when the initial weight scale of hidden layers is off for their activation,
    else None. The first layer is left out (what matters is the activation between two
    layers), and so is the output layer: a hidden-layer problem is never fixed there."""
    out = view.output_layer()
    bad = []
    for i in idx[1:]:
        if i == out:
            continue
        m = init_mismatch(view.layer(i))
        if m is not None and ((low and m < 0.5) or (not low and m > 2)):
            bad.append(i)
    if not bad:
        return None
    info = view.layer(bad[0])
    act = info.get("activation")
    want = RECOMMENDED_GAIN.get(act, 1.0)
    scheme = (
        "He (Kaiming) init: cr.nn.init.kaiming_normal_(layer.weight, nonlinearity='relu')"
        if act in RELU_LIKE
        else "Xavier (Glorot) init: cr.nn.init.xavier_uniform_(layer.weight)"
    )
    return (
        f"Initialise layers {_names(view.name(i) for i in bad)} with {scheme}: their "
        f"fan_in*Var(W) is {fmt(info['init_gain'])} where {act or 'a linear layer'} needs "
        "about "
        f"{fmt(want)} to keep the signal's scale (Glorot & Bengio 2010; He et al. 2015)."
    )


def _activations(view, idx):
    return {view.layer(i).get("activation") for i in idx} - {None}


def _vanishing_remedies(view, idx, hit):
    """Ranked by what can work: an activation whose slope is below 1 everywhere (sigmoid: at
    most 1/4) shrinks the gradient whatever the init, so the first remedy replaces it; init
    comes first only when the activation could pass the gradient unchanged."""
    where = _names(hit)
    weak = sorted(
        a for a in _activations(view, idx) & set(SATURATING) if ACTIVATIONS[a].max_slope < 1
    )
    init = _init_remedy(view, view.order(), low=True)
    remedies = []
    if weak:
        act = weak[0]
        remedies.append(
            f"Replace {act} with ReLU in layers {where} and initialise them with He "
            "init (cr.nn.init.kaiming_normal_(w, nonlinearity='relu')): "
            f"{act}'s slope is at most {fmt(ACTIVATIONS[act].max_slope)}, so each "
            "layer shrinks the gradient at least that much whatever the init."
        )
    elif init:
        remedies.append(init)
    acts = _activations(view, idx) & set(SATURATING)
    if acts and not weak:
        act = sorted(acts)[0]
        remedies.append(
            f"Replace {act} with ReLU in layers {where} and initialise them with He "
            "init (cr.nn.init.kaiming_normal_(w, nonlinearity='relu')): ReLU passes "
            f"the gradient with slope 1 where {act}'s slope is below 1 away from 0."
        )
    remedies.append(
        f"Add normalisation (cr.nn.LayerNorm or cr.nn.BatchNorm1d) after layers {where}."
    )
    remedies.append(
        f"Add residual connections (cr.nn.Residual) around the blocks of layers {where}."
    )
    remedies.append(f"Use fewer layers: the signal shrinks over {len(idx)} layers.")
    return remedies


def _clip_remedy(view):
    """Clipping, unless it is already on (then: the threshold or the learning rate)."""
    clip = view.c.get("clipping")
    if clip and clip.get("seen"):
        return (
            f"Clipping is already on (max_norm {fmt(clip.get('max_norm'))}, it acted on "
            f"{clip.get('acted')} of {clip.get('seen')} steps): lower the learning rate so "
            "that the clipped steps stay small, or lower max_norm."
        )
    return (
        "Clip the gradient norm: cr.nn.utils.clip_grad_norm_(model.parameters(), "
        "max_norm=1.0) between backward() and step() (Pascanu et al. 2013)."
    )


def _exploding_remedies(view, idx, hit):
    where = _names(hit)
    remedies = []
    init = _init_remedy(view, view.order(), low=False)
    if init:
        remedies.append(init)
    remedies.append(_clip_remedy(view))
    remedies.append(
        f"Add normalisation (cr.nn.LayerNorm or cr.nn.BatchNorm1d) after layers {where}."
    )
    remedies.append("Lower the learning rate while the weights are this large.")
    return remedies


def rule_time(view):
    """vanishing / exploding through time, from |dL/dh_t| over the steps of recurrent layers."""
    findings = []
    ratios = view.series("time_ratio")
    steps = view.median("time_steps")
    for r, info in enumerate(view.c.get("recurrent", [])):
        logs = np.log10(np.where(ratios[:, r] > 0, ratios[:, r], np.nan))
        logs = logs[np.isfinite(logs)]
        if not logs.size or not steps[r] > 1:
            continue
        ratio, T = float(10 ** np.median(logs)), int(steps[r])
        f = _time_finding(view, info, ratio, T)
        if f is not None:
            findings.append(f)
    return findings


def _time_finding(view, info, ratio, T):
    th = view.th
    if th["vanishing_ratio"] <= ratio <= th["exploding_ratio"]:
        return None
    kind = "vanishing" if ratio < th["vanishing_ratio"] else "exploding"
    per_step = ratio ** (1 / (T - 1))
    name = info["name"]
    evidence = {
        "direction": "time",
        "steps": T,
        "ratio_first_to_last_step": ratio,
        "gain_per_step": per_step,
        "cell": info.get("type"),
    }
    if info.get("sigma_max") is not None:
        evidence["sigma_max_weight_hh"] = info["sigma_max"]
    msg = (
        f"Through time in {name!r}: |dL/dh_1| is {fmt(ratio)} times |dL/dh_{T}| "
        f"({fmt(per_step)}x per step over {T} steps)"
    )
    sigma = info.get("sigma_max")
    if sigma is not None:
        msg += f"; the largest singular value of its recurrent matrix is {fmt(sigma)}"
    msg += "."
    if kind == "vanishing":
        remedies = _time_vanishing_remedies(info, sigma)
    else:
        remedies = _time_exploding_remedies(view, info, sigma)
    severity = "error"
    gated = info.get("type") in ("LSTM", "GRU", "LSTMCell", "GRUCell")
    # Through time the bar is higher: a model can lower its loss on what it sees last (the
    # mean of the targets, the recent inputs) while the long-range gradient is gone, so only
    # a loss far below its start makes the ratio harmless.
    if (
        view.harmless([view.c["layers"].index(info)] if info in view.c["layers"] else [])
        and view.learned_well()
    ):
        severity = "info"
        msg += " The model learned well anyway and the layer's updates are healthy: a note."
    elif kind == "vanishing" and gated and view.c.get("source") == "preflight":
        severity = "info"
        msg += (
            f" Common for a freshly initialised {info.get('type')}: its gates learn to keep "
            "the memory during training; watch it with a GradientMonitor."
        )
    return Finding(kind, [name], msg, evidence, remedies, severity)


def _time_vanishing_remedies(info, sigma):
    name = info["name"]
    remedies = []
    if info.get("type") in ("RNN", "RNNCell"):
        remedies.append(
            f"Use an LSTM or GRU instead of the plain {info['type']} {name!r}: their "
            "additive cell state carries the gradient across many steps."
        )
    elif info.get("type") in ("LSTM", "LSTMCell"):
        remedies.append(
            f"Initialise the forget-gate bias of {name!r} to 1 so the cell keeps its "
            "memory (Jozefowicz et al. 2015)."
        )
    if sigma is not None and sigma < 1:
        remedies.append(
            f"Initialise weight_hh of {name!r} orthogonal with gain 1 "
            f"(cr.nn.init.orthogonal_): its largest singular value is {fmt(sigma)} "
            "< 1, "
            "which makes tanh gradients vanish (Pascanu et al. 2013)."
        )
    remedies.append(f"Shorten the sequences {name!r} backpropagates through (truncated BPTT).")
    return remedies


def _time_exploding_remedies(view, info, sigma):
    name = info["name"]
    remedies = [_clip_remedy(view)]
    if sigma is not None and sigma > 1:
        remedies.append(
            f"Rescale weight_hh of {name!r}: its largest singular value is "
            f"{fmt(sigma)} > 1; orthogonal init with gain 1 (cr.nn.init.orthogonal_) "
            "keeps it at 1."
        )
    if info.get("type") in ("RNN", "RNNCell"):
        remedies.append(f"Use an LSTM or GRU instead of the plain {info['type']} {name!r}.")
    remedies.append("Lower the learning rate.")
    return remedies


def _pinned_layers(view):
    return view.pinned_layers()


def rule_saturated(view):
    """sigmoid/tanh layers whose outputs sit on the flat ends.

    A warning only when it hurts: the model does not learn, or these layers' updates are
    tiny; otherwise a note. Pinned units (nearly all outputs on the ends, after the loss blew
    up) are an error: no gradient passes and the zeros downstream are their doing."""
    share = view.median("saturated_frac")
    hit = [
        i
        for i in view.order()
        if view.layer(i).get("activation") in SATURATING
        and np.isfinite(share[i])
        and share[i] >= view.th["saturated_share"]
    ]
    if not hit:
        return []
    names = [view.name(i) for i in hit]
    act = view.layer(hit[0]).get("activation")
    evidence = {
        "saturated_share": [float(share[i]) for i in hit],
        "activation": act,
        "threshold": view.th["saturated_share"],
    }
    worst = max(hit, key=lambda i: share[i])
    pinned = _pinned_layers(view)
    prog = view.progress()
    blew_up = bool(
        prog and prog["loss_first"] > 0 and prog["max"] > view.th["loss_spike"] * prog["loss_first"]
    )
    msg = (
        f"{len(hit)} {act} layer{'s saturate' if len(hit) > 1 else ' saturates'}: up to "
        f"{share[worst]:.0%} of the outputs of {view.name(worst)!r} sit where the slope is "
        "under 10% of its maximum, so little gradient passes."
    )
    remedies = []
    severity = "warning"
    if pinned:
        severity = "error"
        msg += (
            " The units are pinned at the flat ends: almost no gradient passes, the layers "
            "before them stop learning"
        )
        msg += (
            f" (the loss rose to {fmt(prog['max'])} from {fmt(prog['loss_first'])}: a "
            "too-large step drove the pre-activations out)."
            if blew_up
            else "."
        )
        if blew_up:
            evidence["cause"] = "exploding updates (learning rate)"
        remedies += [
            "Lower the learning rate (about 10x) and restart from the weights before "
            "the blow-up: saturated units do not recover by themselves.",
            _clip_remedy(view),
        ]
    else:
        init = _init_remedy(view, view.order(), low=False)
        if init:
            remedies.append(init)
    remedies += [
        f"Normalise the inputs of the activations of {_names(names)} (cr.nn.LayerNorm or "
        "cr.nn.BatchNorm1d before the activation).",
        f"Replace {act} with ReLU and He init in {_names(names)}.",
    ]
    if not pinned:
        remedies.append("Lower the learning rate if the saturation grew during training.")
    if (
        severity == "warning"
        and view.harmless(hit)
        and (share[worst] < view.th["saturated_severe"] or view.learned_well())
    ):
        severity = "info"
        msg += " The model learns and these layers' updates are healthy: a note, not a problem."
    elif pinned and not blew_up and view.learned_well() and view.harmless(hit):
        # pinned from the start (inputs far too large, say) and yet the loss fell far below
        # the trivial predictor's with these layers' weights moving: the pinned units act as
        # sign units and the rest of the model learns; the harm the error names is not there
        severity = "info"
        msg += (
            " Yet the model learned well and these layers' updates are healthy: a note, not "
            "a problem."
        )
    return [Finding("saturated", names, msg, evidence, remedies, severity)]


def _dead_layers(view):
    return view.dead_layers()


def rule_dead(view):
    """ReLU layers with many units that never fire."""
    share = view.median("dead_frac")
    hit = _dead_layers(view)
    if not hit:
        return []
    names = [view.name(i) for i in hit]
    worst = max(hit, key=lambda i: share[i])
    evidence = {"dead_share": [float(share[i]) for i in hit], "threshold": view.th["dead_share"]}
    zero = view.series("zero_frac")
    starved = [
        p["name"]
        for k, p in enumerate(view.c.get("params", []))
        if len(view.rows) and np.all(np.nan_to_num(zero[:, k], nan=0.0) >= 1.0)
    ]
    if starved:
        evidence["params_with_only_zero_grads"] = starved
    msg = (
        f"{share[worst]:.0%} of the ReLU units after {view.name(worst)!r} output 0 for every "
        f"example of a batch (in {len(hit)} layer{'s' if len(hit) > 1 else ''}): they pass no "
        "gradient and their weights stop learning."
    )
    lower_lr = (
        "Lower the learning rate: one large update can push a unit's bias so far down "
        "that it never fires again."
    )
    other_activation = f"Use LeakyReLU, ELU or GELU instead of ReLU after {_names(names)}."
    he_init = f"Initialise {_names(names)} with He init and zero (or slightly positive) biases."
    batchnorm = f"Add BatchNorm before the ReLU of {_names(names)}."
    remedies = [lower_lr, other_activation, he_init, batchnorm]
    if _dead_from_start(view, hit):
        # No update killed them: their inputs never reach the threshold (weights too small or
        # biases too negative for what comes in), so a smaller step changes nothing and the
        # initialisation is what to fix (a deep ReLU net at PyTorch's default init: He init
        # took it off chance, a lower rate or LeakyReLU did not)
        evidence["dead_at_first_step"] = True
        msg += (
            " They were dead already at the first recorded step, before any large update: "
            "their inputs do not reach zero (weights too small or biases too negative)."
        )
        remedies = [he_init, batchnorm, other_activation, lower_lr]
    severity = "warning"
    cause = _what_killed_units(view, hit)
    if view.harmless(hit) and not starved:
        severity = "info"
        msg += " The model learns and these layers' updates are healthy: a note, not a problem."
    elif cause:
        # units alive at the start, killed by oversized updates that another finding reports:
        # the cause is the problem (fixing it keeps them alive), these are its consequence
        severity = "info"
        evidence["cause"] = cause
        msg += f" They were alive at the start and died after {cause}: a consequence, fix that."
    return [Finding("dead", names, msg, evidence, remedies, severity)]


def _dead_from_start(view, hit):
    """Every layer of ``hit`` had its dead share above the threshold at the first recorded
    step."""
    early = view.median("dead_frac", view.finite_rows[:1])
    return all(np.isfinite(early[i]) and early[i] >= view.th["dead_share"] for i in hit)


def _what_killed_units(view, hit):
    """Why units of layers ``hit`` died during training, when another finding explains it:
    'the loss blew up' (divergence, or the loss above ``loss_spike`` times its start) or
    'stale gradients' (a forgotten zero_grad makes every step the sum of all past ones).
    None when they were dead at the first recorded step (init or bias), or nothing did."""
    early = view.median("dead_frac", view.finite_rows[:1])
    if any(not np.isfinite(early[i]) or early[i] >= view.th["dead_share"] for i in hit):
        return None  # dead from the start: nothing during training killed them
    seen, checked = view.c.get("stale") or (0, 0)
    if checked >= 2 and seen / checked >= 0.5:
        return "stale gradients (updates that add up all past gradients)"
    prog = view.progress()
    diverged = bool((view.c.get("first_nonfinite") or {}).get("diverged"))
    nonfinite = view.c.get("first_nonfinite") is not None
    spike = bool(
        prog and prog["loss_first"] > 0 and prog["max"] > view.th["loss_spike"] * prog["loss_first"]
    )
    if diverged or nonfinite or spike:
        return "the loss blew up (oversized updates)"
    return None


# ---- missing gradients ----


def rule_no_gradient(view):
    """Parameters that never received a gradient, or only zeros, or are not in the optimizer."""
    params = view.c.get("params", [])
    if not params or not len(view.rows):
        return []
    has = view.series("has_grad")
    zero = view.series("zero_frac")
    # zeros explained by dead ReLUs or pinned tanh/sigmoid units: reported as 'dead' or
    # 'saturated', with their causes (not as a cut graph)
    starved = bool(_dead_layers(view)) or bool(_pinned_layers(view))
    none, zeros, missing = [], [], []
    for k, p in enumerate(params):
        if not p.get("requires_grad", True):
            continue
        if not np.any(has[:, k] > 0):
            none.append(p)
        elif np.all(np.nan_to_num(zero[:, k], nan=1.0) >= 1.0) and not starved:
            zeros.append(p)
        if p.get("in_optimizer") is False:
            missing.append(p)
    return [f for f in (_no_grad_finding(view, none, zeros), _missing_finding(missing)) if f]


def _no_grad_finding(view, none, zeros):
    if not none and not zeros:
        return None
    params = none + zeros
    layers = list(dict.fromkeys(p["layer"] for p in params))
    evidence = {
        "no_grad": [p["name"] for p in none],
        "zero_grad": [p["name"] for p in zeros],
        "steps_checked": len(view.rows),
    }
    parts = []
    if none:
        parts.append(f"{_names(p['name'] for p in none)} received no gradient at all")
    if zeros:
        parts.append(f"{_names(p['name'] for p in zeros)} received only zeros")
    msg = " and ".join(parts) + f" in {len(view.rows)} recorded steps: they cannot learn."
    where = _names(layers)
    remedies = [
        f"Check the forward path through {where}: a .detach(), ._data, .numpy(), "
        "cr.no_grad() or an integer cast cuts it off from the loss.",
        f"Check that {where} is used in forward() and its output reaches the loss.",
        f"If {where} is frozen on purpose, call requires_grad_(False) on its parameters.",
    ]
    return Finding("no_gradient", layers, msg, evidence, remedies, "error")


def _missing_finding(missing):
    if not missing:
        return None
    layers = list(dict.fromkeys(p["layer"] for p in missing))
    msg = (
        f"{_names(p['name'] for p in missing)} require a gradient but are missing from the "
        "optimizer, so they are never updated."
    )
    remedies = [
        f"Give the optimizer every parameter: cr.optim.SGD(model.parameters(), ...), or "
        f"optimizer.add_param_group({{'params': <{_names(layers)}>.parameters()}}).",
        "If they are frozen on purpose, call requires_grad_(False) on them.",
    ]
    return Finding(
        "no_gradient",
        layers,
        msg,
        {"not_in_optimizer": [p["name"] for p in missing]},
        remedies,
        "error",
    )


# ---- non-finite values ----

# Keys: the causes named by ``nonfinite.py`` (and the monitor's "non-finite weights").
_CAUSE_REMEDIES = {
    "log of zero": [
        "Compute log-probabilities with cr.nn.functional.log_softmax or the loss "
        "from logits (cross_entropy, binary_cross_entropy_with_logits), never "
        "log(softmax(x)).",
        "Clamp the argument of the log: cr.log(p.clamp(min=1e-12)).",
    ],
    "log of a negative number": [
        "The argument of the log became negative: check its sign "
        "(abs, softplus or exp before the log)."
    ],
    "overflow in exp": [
        "Subtract the maximum before exp (cr.logsumexp, log_softmax), or clamp "
        "the input of exp (x.clamp(max=80)).",
        "Lower the learning rate: large logits grow from large updates.",
    ],
    "division by zero": [
        "Add an epsilon to the denominator (x / (s + 1e-8)), or mask the zero entries."
    ],
    "near-zero variance": [
        "Add an epsilon inside the square root (sqrt(var + 1e-5)), as LayerNorm/BatchNorm do."
    ],
    "sqrt of a negative number": ["Clamp the argument of sqrt at 0 (or a small epsilon)."],
    "power of a negative": ["A fractional power needs a non-negative base: clamp it or use abs()."],
    "overflow": [
        "Lower the learning rate and clip the gradient norm "
        "(cr.nn.utils.clip_grad_norm_(model.parameters(), 1.0))."
    ],
    "non-finite weights": [
        "Clip the gradient norm (cr.nn.utils.clip_grad_norm_(model."
        "parameters(), 1.0)) between backward() and step().",
        "Lower the learning rate.",
    ],
    "non-finite input": [
        "The input already held NaN/Inf: clean the data (np.isfinite) before training."
    ],
}


def rule_nonfinite(view):
    """Where the first NaN/Inf came from, and an ``exploding`` verdict when updates caused it."""
    event = view.c.get("first_nonfinite")
    if not event:
        return []
    cause = event.get("cause") or "overflow"
    where = event.get("layer")
    layers = [where] if where else []
    phase = event.get("phase", "?")
    msg = f"The first NaN/Inf appeared at step {event.get('step')} in the {phase} pass"
    if where:
        msg += f", in layer {where!r}"
    if event.get("op") and event.get("or_op_after"):  # values in between were gone
        msg += f", produced by the op {event['op']!r} or the {event['or_op_after']!r} after it"
    elif event.get("op"):
        msg += f", produced by the op {event['op']!r} from finite inputs"
    msg += f": {event.get('explanation') or cause.replace('_', ' ')}."
    if event.get("created_at"):
        msg += f" (created at {event['created_at']})"
    remedies = list(_CAUSE_REMEDIES.get(cause) or [])
    if not remedies and event.get("remedy"):  # a cause only nonfinite.py knows
        remedies.append(event["remedy"][0].upper() + event["remedy"][1:] + ".")
    remedies = remedies or list(_CAUSE_REMEDIES["overflow"])
    if (phase == "loss" and not event.get("op") and not event.get("diverged")) or event.get(
        "or_op_after"
    ):
        remedies.append(
            "Find the op with cr.diagnostics.trace_nonfinite(lambda: loss_fn(model(x), y))."
        )
    evidence = {
        k: v
        for k, v in event.items()
        if k not in ("explanation", "remedy", "created_at") and v is not None
    }
    findings = [Finding("nonfinite", layers, msg, evidence, remedies, "error")]
    if event.get("diverged"):
        findings.append(_exploding_steps(view, event))
    return findings


def _exploding_steps(view, event):
    """Gradients that grew over training steps until they overflowed."""
    norms = view.h.series("grad_norm")
    total = np.sqrt(np.nansum(np.where(np.isfinite(norms), norms, np.nan) ** 2, axis=1))
    finite = total[view.finite_rows] if len(view.finite_rows) else total[:0]
    evidence = {"direction": "steps", "first_nonfinite_step": event.get("step")}
    msg = "The gradients grew over the training steps until they overflowed to NaN/Inf"
    if finite.size >= 2 and finite[0] > 0:
        evidence.update(grad_norm_first=float(finite[0]), grad_norm_peak=float(finite.max()))
        msg += f" (total gradient norm {fmt(finite[0])} at first, {fmt(finite.max())} at its peak)"
    layers = _growing_layers(view) or ([event["layer"]] if event.get("layer") else [])
    remedies = [
        "Clip the gradient norm: cr.nn.utils.clip_grad_norm_(model.parameters(), "
        "max_norm=1.0) between backward() and step() (Pascanu et al. 2013).",
        "Lower the learning rate.",
    ]
    if any(r.get("type") in ("RNN", "RNNCell") for r in view.c.get("recurrent", [])):
        remedies.append("Use an LSTM or GRU instead of the plain RNN.")
    return Finding("exploding", layers, msg + ".", evidence, remedies, "error")


def _growing_layers(view):
    """Layers whose weight-gradient norm grew the most before the first NaN/Inf, largest first."""
    rows = view.finite_rows
    if len(rows) < 2:
        return []
    norms = view.h.series("grad_norm")[rows]
    growth = {}
    for info in view.c["layers"]:
        cols = info.get("param_columns") or []
        if not cols:
            continue
        g = norms[:, cols[0]]
        g = g[np.isfinite(g) & (g > 0)]
        if g.size >= 2 and g.max() / g[0] > view.th["exploding_ratio"]:
            growth[info["name"]] = g.max() / g[0]
    return sorted(growth, key=growth.get, reverse=True)


# ---- clipping ----


def rule_clipping(view):
    """How often gradient clipping acted (when the monitor was told about it)."""
    clip = view.c.get("clipping")
    if not clip or not clip.get("seen"):
        return []
    share = clip["acted"] / clip["seen"]
    evidence = dict(clip, share=share)
    msg = (
        f"Gradient clipping acted on {clip['acted']} of {clip['seen']} steps ({share:.0%}); "
        f"the total gradient norm before clipping had median {fmt(clip.get('median_norm'))} "
        f"and maximum {fmt(clip.get('max_seen_norm'))} (max_norm {fmt(clip.get('max_norm'))})."
    )
    remedies = []
    severity = "info"
    if share > view.th["clip_often"]:
        severity = "warning"
        remedies = [
            "Clipping acts on most steps, so max_norm, not the learning rate, sets the "
            "step size: lower the learning rate until clipping only catches spikes.",
            f"Or raise max_norm towards the typical norm ({fmt(clip.get('median_norm'))}).",
        ]
    return [Finding("clipping", [], msg, evidence, remedies, severity)]


RULES = (
    rule_nonfinite,
    rule_depth,
    rule_time,
    rule_saturated,
    rule_dead,
    rule_no_gradient,
    rule_clipping,
) + rules_training.RULES
