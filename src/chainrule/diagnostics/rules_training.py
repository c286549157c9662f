"""Rules about the training run as a whole: learning rate, oscillation, no learning,
overfitting, stale gradients (a forgotten ``zero_grad``), unscaled inputs, and an output that
does not fit the loss.

Each rule takes a :class:`~chainrule.diagnostics.view.View` and returns a list of findings.
"""

import math

import numpy as np

from .findings import Finding
from .render import fmt
from .view import nanmedian

# ---- learning rate ----


def _weight_columns(view):
    params = view.c.get("params", [])
    cols = [
        k for k, p in enumerate(params) if p.get("ndim", 2) >= 2 and p.get("requires_grad", True)
    ]
    return cols or list(range(len(params)))


def update_ratio(view, rows=None):
    """(median, max) of ||dW||/||W|| over the weight matrices and the window (0 ignored)."""
    cols = _weight_columns(view)
    if not cols:
        return float("nan"), float("nan")
    r = view.series("update_ratio", rows)[:, cols]
    r = r[np.isfinite(r) & (r > 0)]
    if not r.size:
        return float("nan"), float("nan")
    return float(np.median(r)), float(r.max())


def _lr_text(view):
    lr = view.c.get("lr")
    return lr if lr is not None and np.isfinite(lr) and lr > 0 else None


def _sharpness(view):
    """The latest λ_max measurement (see ``sharpness.py``), or None."""
    found = view.c.get("sharpness") or []
    return found[-1] if found else None


def _trend(view):
    """Least-squares slope of the loss over the last half of the logged steps, and its
    t-statistic (negative: the loss still falls steadily)."""
    _, loss = view.losses()
    loss = loss[np.isfinite(loss)]
    loss = loss[loss.size // 2 :]
    if loss.size < 6:
        return 0.0, 0.0
    t = np.arange(loss.size, dtype=np.float64)
    slope, icept = np.polyfit(t, loss, 1)
    resid = loss - (slope * t + icept)
    se = math.sqrt(
        max(float(resid @ resid) / (loss.size - 2), 1e-300) / float(((t - t.mean()) ** 2).sum())
    )
    return float(slope), float(slope / se)


def rule_lr(view):
    """lr_too_high / lr_too_low from update ratios, the loss curve (every step) and, when
    measured, the loss surface's sharpness."""
    prog = view.progress()
    if prog is None:
        return []
    med, top = update_ratio(view)
    th = view.th
    enough = prog["n"] >= th["min_steps_lr"]
    diverged = bool((view.c.get("first_nonfinite") or {}).get("diverged"))
    # a spike is measured from the first loss, or from a steadier start when one is known: the
    # trivial predictor's loss (log K), else the mean of the first losses. That mean holds the
    # first steps themselves, so it is the reference only without a baseline: it hides a blow-up
    # within them (Adam at lr 0.3: 2.3, 50, 39, 47, ... back to 2.3 by step 10)
    start = prog["baseline"] if prog["baseline"] else prog["first"]
    spike = prog["loss_first"] > 0 and prog["max"] > th["loss_spike"] * max(
        prog["loss_first"], start
    )
    stalled = prog["improvement"] < th["loss_flat"]
    slow = prog["improvement"] < th["loss_slow"]
    evidence = {
        "update_ratio_median": med,
        "update_ratio_max": top,
        "loss_first": prog["loss_first"],
        "loss_last": prog["loss_last"],
        "loss_max": prog["max"],
        "relative_improvement": prog["improvement"],
        "steps": prog["n"],
        "lr": _lr_text(view),
    }
    sharp = _sharpness(view)
    if sharp:
        evidence.update(lambda_max=sharp["lambda_max"], stable_lr=sharp["stable_lr"])
    alphas = np.array([a for _, a in view.c.get("step_alpha") or []], dtype=np.float64)
    alphas = alphas[np.isfinite(alphas)][-int(th["window"]) :]
    if alphas.size:
        evidence["step_alpha_median"] = float(np.median(alphas))
    measured = enough and np.isfinite(med)
    high = (
        diverged
        or spike
        or (measured and med > th["update_ratio_extreme"])
        or (measured and med > th["update_ratio_high"] and stalled)
    )
    if high:
        return [_lr_high(view, evidence, med, top, diverged, spike)]
    # Too low: the model does not learn (or barely) while its weights move less than the
    # ~1e-3 per step that trains (Karpathy), and nothing else explains the small steps (dead
    # or pinned units starve the weights whatever the learning rate).
    # dead or (heavily) saturated units starve the weights whatever the learning rate, and
    # clipping on most steps sets the step size instead of the learning rate
    share = view.median("saturated_frac")
    saturated = [
        i for i in view.order() if np.isfinite(share[i]) and share[i] >= th["saturated_severe"]
    ]
    clip = view.c.get("clipping") or {}
    clipped = bool(clip.get("seen")) and clip["acted"] / clip["seen"] > th["clip_often"]
    starved = bool(view.dead_layers() or saturated or clipped)
    low = (
        measured
        and not prog["learning"]
        and slow
        and not starved
        and (med < th["update_ratio_low"] or med < th["update_ratio_target"] / 2)
    )
    low = low or (
        measured and med < th["update_ratio_very_low"] and not view.learned_well() and not starved
    )
    if low:
        return [_lr_low(view, evidence, med)]
    return []


def _lr_high(view, evidence, med, top, diverged, spike):
    lr = _lr_text(view)
    target = view.th["update_ratio_target"]
    why = []
    if diverged:
        why.append("training diverged to NaN/Inf")
    if spike:
        why.append(
            f"the loss rose to {fmt(evidence['loss_max'])} from {fmt(evidence['loss_first'])}"
        )
    if np.isfinite(med):
        why.append(
            f"weights change by {fmt(med)} of their norm per step (median; about "
            f"{fmt(target)} is healthy)"
        )
    if "lambda_max" in evidence and lr:
        over = (
            f"the learning rate {fmt(lr)} is {lr / evidence['stable_lr']:.3g}x that limit"
            if evidence["stable_lr"] < lr
            else f"the learning rate is {fmt(lr)}"
        )
        why.append(
            f"the sharpest direction of the loss has curvature λ_max = "
            f"{fmt(evidence['lambda_max'])}, so steps above 2/λ_max = "
            f"{fmt(evidence['stable_lr'])} are unstable along it ({over})"
        )
    top = update_ratio(view, view.finite_rows)[1] if diverged or spike else top
    ratio = top if np.isfinite(top) and top > target else med
    factor = target / ratio if np.isfinite(ratio) and ratio > target else 0.1
    factor = float(np.clip(factor, 0.01, 0.1))
    layers = _layers_by_ratio(view, lambda r: r > view.th["update_ratio_high"]) or _all_layers(view)
    if lr:
        first = f"Lower the learning rate from {fmt(lr)} to about {fmt(lr * factor)}."
    else:
        first = f"Lower the learning rate about {fmt(1 / factor)}x."
    remedies = [
        first,
        "Run cr.diagnostics.lr_range_test(model, loss_fn, optimizer, loader) and take "
        "its suggested_lr.",
    ]
    clip = view.c.get("clipping")
    if clip and clip.get("seen"):
        remedies.append(
            "Warm the learning rate up over the first steps (clipping is already "
            f"on at max_norm {fmt(clip.get('max_norm'))})."
        )
    else:
        remedies.append(
            "Clip the gradient norm (cr.nn.utils.clip_grad_norm_(model.parameters(),"
            " 1.0)) and/or warm the learning rate up over the first steps."
        )
    if "step_alpha_median" in evidence and evidence["step_alpha_median"] > 0:
        why.append(
            f"the steps overshoot the minimum along their direction (Cockpit's step "
            f"quality α = {fmt(evidence['step_alpha_median'])}, median; 0 lands on it)"
        )
    msg = "The learning rate is too high: " + "; ".join(why) + "."
    return Finding("lr_too_high", layers, msg, evidence, remedies, "error")


def _lr_low(view, evidence, med):
    lr = _lr_text(view)
    target = view.th["update_ratio_target"]
    factor = target / med
    sharp = evidence.get("stable_lr")
    if lr and sharp and np.isfinite(sharp):
        factor = min(factor, max(sharp / lr / 2, 1.0))  # stay below half of 2/λ_max
    layers = _layers_by_ratio(view, lambda r: r < view.th["update_ratio_low"]) or _all_layers(view)
    first = (
        f"Raise the learning rate from {fmt(lr)} to about {fmt(lr * factor)}."
        if lr
        else f"Raise the learning rate about {fmt(factor)}x."
    )
    remedies = [
        first,
        "Run cr.diagnostics.lr_range_test(model, loss_fn, optimizer, loader) and "
        "take its suggested_lr.",
    ]
    msg = (
        f"The learning rate is too low: weights change by only {fmt(med)} of their norm per "
        f"step (median; about {fmt(target)} is healthy) and the loss improved by "
        f"{evidence['relative_improvement']:.1%} over {evidence['steps']} steps."
    )
    if evidence.get("step_alpha_median", 0) < 0:
        msg += (
            f" The steps stop short of the minimum along their direction (Cockpit's step "
            f"quality α = {fmt(evidence['step_alpha_median'])}, median; 0 lands on it)."
        )
    if sharp and lr:
        msg += (
            f" The loss surface allows more: 2/λ_max = {fmt(sharp)} against the learning "
            f"rate {fmt(lr)}."
        )
    return Finding("lr_too_low", layers, msg, evidence, remedies, "warning")


def _layers_by_ratio(view, test):
    med = view.median("update_ratio")
    params = view.c.get("params", [])
    hit = [
        p["layer"]
        for k, p in enumerate(params)
        if p.get("ndim", 2) >= 2 and np.isfinite(med[k]) and test(med[k])
    ]
    return list(dict.fromkeys(hit))


def _all_layers(view):
    return [view.name(i) for i in view.order()]


# ---- the loss curve ----


def rule_oscillating(view):
    """The loss jumps up and down by a large share of its level without net progress."""
    prog = view.progress()
    th = view.th
    _, loss = view.losses()
    loss = loss[np.isfinite(loss)][-int(th["oscillation_window"]) :]
    if prog is None or loss.size < 10 or view.learned_well():
        return []
    diff = np.diff(loss)
    level = float(np.median(np.abs(loss)))
    swing = float(np.median(np.abs(diff))) / level if level > 0 else 0.0
    flips = float(np.mean(np.sign(diff[1:]) != np.sign(diff[:-1])))
    # units saturated from the very start: the init is the cause, not the step size
    early = view.median("saturated_frac", view.finite_rows[:3])
    if np.any(np.nan_to_num(early, nan=0.0) >= th["saturated_severe"]):
        return []
    ref = prog["baseline"] or prog["first"]
    if swing < th["oscillation_swing"] or flips < 0.4 or not level > th["learned_share"] * ref:
        return []
    evidence = {
        "median_step_change_relative": swing,
        "direction_changes": flips,
        "relative_improvement": prog["improvement"],
        "steps": int(loss.size),
        "lr": _lr_text(view),
    }
    lr = _lr_text(view)
    msg = (
        f"The loss oscillates: from one step to the next it changes by {swing:.0%} of its "
        f"level (median {fmt(level)} over the last {loss.size} steps), changing direction "
        f"on {flips:.0%} of the steps: the steps overshoot the minimum."
    )
    remedies = [
        (
            f"Lower the learning rate from {fmt(lr)} to about {fmt(lr / 5)}."
            if lr
            else "Lower the learning rate about 5x."
        ),
        "Use a larger batch (less noisy gradients) or momentum with a smaller step.",
        "Run cr.diagnostics.lr_range_test(model, loss_fn, optimizer, loader).",
    ]
    return [Finding("oscillating", _all_layers(view), msg, evidence, remedies, "warning")]


def rule_not_learning(view):
    """Enough steps and the loss has not moved below a trivial predictor's."""
    prog = view.progress()
    th = view.th
    if prog is None or prog["n"] < th["min_steps_learning"] or prog["learning"]:
        return []
    base = prog["baseline"]
    if prog["improvement"] >= th["loss_slow"]:
        return []
    if base is not None and prog["last"] < th["baseline_margin"] * base:
        return []
    # A loss that still falls steadily, fast enough to matter, is a slow start (Adam at 1e-3
    # takes ~100 steps to move a classifier off log K), not a model that does not learn:
    # judge only a loss that has stopped falling.
    slope, t = _trend(view)
    still = -slope * prog["n"] / abs(prog["first"]) if prog["first"] else 0.0
    if t < -th["trend_t"] and still >= th["loss_still_falling"]:
        return []
    evidence = {
        "relative_improvement": prog["improvement"],
        "loss_slope": slope,
        "loss_slope_t": t,
        "loss_first": prog["loss_first"],
        "loss_last": prog["loss_last"],
        "steps": prog["n"],
        "baseline": base,
    }
    msg = (
        f"The model is not learning: over {prog['n']} steps the loss improved by "
        f"{prog['improvement']:.1%}"
    )
    msg += (
        f" and stays at {fmt(prog['last'])}, no better than a trivial predictor "
        f"({fmt(base)}, e.g. the majority class or the mean)."
        if base is not None
        else "."
    )
    remedies = [
        "Overfit one small batch first: if the loss does not go to ~0, the model, the "
        "loss or the labels are wired wrong (check that the targets match the inputs).",
        "Run cr.diagnostics.lr_range_test(model, loss_fn, optimizer, loader): the "
        "learning rate may be far off.",
        "Run cr.diagnostics.check(model, loss_fn, (x, y)) for the gradient flow at init.",
    ]
    return [Finding("not_learning", _all_layers(view), msg, evidence, remedies, "warning")]


def rule_overfitting(view):
    """The validation loss rose from its minimum while the training loss kept falling."""
    val = view.c.get("val_losses")
    if val is None or len(val[1]) < 4:
        return []
    steps, v = np.asarray(val[0]), np.asarray(val[1], dtype=np.float64)
    ok = np.isfinite(v)
    steps, v = steps[ok], v[ok]
    if v.size < 4:
        return []
    best = int(np.argmin(v))
    rise = (v[-1] - v[best]) / abs(v[best]) if v[best] else 0.0
    tsteps, tloss = view.losses()
    fine = np.isfinite(tloss)
    tsteps, tloss = tsteps[fine], tloss[fine]
    if v.size - best < 3 or rise < view.th["overfit_rise"] or not tloss.size:
        return []
    at_best = tloss[tsteps <= steps[best]]
    later = tloss[tsteps > steps[best]]
    if not at_best.size or not later.size:
        return []
    k = max(1, min(10, later.size // 3))
    train_then, train_now = float(np.mean(at_best[-k:])), float(np.mean(later[-k:]))
    if not train_now < train_then:
        return []
    evidence = {
        "val_loss_best": float(v[best]),
        "best_step": int(steps[best]),
        "val_loss_last": float(v[-1]),
        "val_rise": float(rise),
        "train_loss_at_best": train_then,
        "train_loss_last": train_now,
    }
    msg = (
        f"Overfitting: the validation loss rose {rise:.0%} above its minimum "
        f"({fmt(v[best])} at step {int(steps[best])}, now {fmt(v[-1])}) while the training "
        f"loss kept falling ({fmt(train_then)} -> {fmt(train_now)})."
    )
    remedies = [
        f"Stop early: keep the weights of step {int(steps[best])} "
        "(cr.train.EarlyStopping(monitor='val_loss')).",
        "Regularise: weight decay (e.g. AdamW weight_decay=1e-2), dropout, or data augmentation.",
        "Use more training data or a smaller model.",
    ]
    return [Finding("overfitting", [], msg, evidence, remedies, "warning")]


# ---- how the step is wired ----


def rule_stale_gradients(view):
    """``.grad`` still held the previous step's gradient when the next backward added to it."""
    seen, checked = view.c.get("stale") or (0, 0)
    if checked < 2 or seen / checked < 0.5:
        return []
    evidence = {"steps_with_leftover_grad": int(seen), "steps_checked": int(checked)}
    msg = (
        f"Gradients accumulate across steps: on {seen} of {checked} recorded steps the "
        "parameters' .grad still held the previous step's gradient when backward() added "
        "the new one, so every step follows the sum of all past gradients."
    )
    remedies = [
        "Call optimizer.zero_grad() before each loss.backward() (or after each optimizer.step()).",
        "If you accumulate gradients over micro-batches on purpose, zero them after "
        "each optimizer.step() and call monitor.step() once per optimizer step.",
    ]
    return [Finding("stale_gradients", _all_layers(view), msg, evidence, remedies, "error")]


def rule_rank_divergence(view):
    """Data-parallel replicas whose parameters or buffers drifted apart (distributed runs)."""
    checks, names, first = view.c.get("replicas") or (0, [], None)
    if not names:
        return []
    shown = ", ".join(repr(n) for n in names[:6]) + (
        f" and {len(names) - 6} more" if len(names) > 6 else ""
    )
    evidence = {
        "tensors_that_differ": len(names),
        "first_seen_at_step": first,
        "checks": int(checks),
    }
    msg = (
        f"The ranks no longer hold the same model: {shown} differ between replicas (first "
        f"seen at step {first}). Each rank now trains its own model, and the averaged "
        "gradients belong to none of them."
    )
    remedies = [
        "Wrap the model in cr.nn.parallel.DistributedDataParallel before training (it "
        "broadcasts rank 0's weights and averages the gradients), and do not change "
        "parameters outside optimizer.step().",
        "Buffers updated in forward (BatchNorm running statistics) must be kept in "
        "step: DistributedDataParallel(broadcast_buffers=True).",
        "Seed every rank alike (cr.manual_seed(seed), not seed + rank) where the model "
        "is built or re-initialised.",
    ]
    return [Finding("rank_divergence", [], msg, evidence, remedies, "error")]


def rule_inputs(view):
    """Inputs that are not floats, hold NaN/Inf, or are far outside the unit range."""
    facts = view.c.get("inputs")
    if not facts:
        return []
    first = view.order()[0] if view.order() else None
    embedding = first is not None and view.layer(first).get("type") == "Embedding"
    evidence = {k: facts.get(k) for k in ("dtype", "rms", "max_abs", "nonfinite")}
    findings = []
    if not facts.get("float") and not embedding:
        findings.append(
            Finding(
                "unscaled_input",
                [],
                f"The model's input has dtype {facts['dtype']}, not a float: "
                "integer codes or raw pixel values enter the first layer unscaled.",
                evidence,
                [
                    "Convert and scale the input: x.float() / 255 for pixels, or standardise each "
                    "feature ((x - mean) / std on the training set).",
                    "For category ids use cr.nn.Embedding instead of feeding the integers.",
                ],
                "warning",
            )
        )
    elif facts.get("nonfinite", 0) > 0:
        findings.append(
            Finding(
                "unscaled_input",
                [],
                f"{facts['nonfinite']:.1%} of the input values are NaN/Inf: "
                "the data itself is broken.",
                evidence,
                [
                    "Clean the data before training: drop or impute rows where np.isfinite(x) is "
                    "False."
                ],
                "error",
            )
        )
    elif facts.get("rms", 0) > view.th["input_rms_high"]:
        harmless = view.learning() and view.progress()["improvement"] >= 0.5
        findings.append(
            Finding(
                "unscaled_input",
                [],
                f"The inputs are far outside the unit range (RMS "
                f"{fmt(facts['rms'])}, largest |x| {fmt(facts.get('max_abs'))}): the first layer's "
                "pre-activations are that many times too large for its initialisation.",
                evidence,
                [
                    "Standardise each input feature ((x - mean) / std on the training set), or "
                    "divide pixels by 255.",
                    "Or add a normalisation layer (cr.nn.BatchNorm1d / LayerNorm) first.",
                ],
                "info" if harmless else "warning",
            )
        )
    return findings


_MISMATCH = {
    ("softmax", "cross_entropy"): ("softmax", "CrossEntropyLoss / cross_entropy"),
    ("log_softmax", "cross_entropy"): ("log_softmax", "CrossEntropyLoss / cross_entropy"),
    ("sigmoid", "bce_logits"): ("sigmoid", "BCEWithLogitsLoss"),
}


def rule_output_loss(view):
    """A model output that does not fit its loss (probabilities into a loss on logits, class
    labels into a regression loss)."""
    out = view.c.get("output") or {}
    key = (out.get("kind"), out.get("loss_kind"))
    if out.get("labels_into_regression"):
        msg = (
            f"Class labels (integers) go into a regression loss "
            f"({out['labels_into_regression']}): the model is asked for the label's number, "
            "not the class."
        )
        remedies = ["Use cr.nn.CrossEntropyLoss on logits with one output per class."]
        return [Finding("output_loss_mismatch", [], msg, dict(out), remedies, "warning")]
    if key not in _MISMATCH:
        return []
    act, loss = _MISMATCH[key]
    if act == "sigmoid":
        fix = "Remove the final sigmoid and keep BCEWithLogitsLoss (it applies the sigmoid)."
    else:
        fix = (
            f"Remove the final {act} and give the logits to {loss} (it applies log_softmax "
            "itself); or keep log_softmax and use NLLLoss."
        )
    msg = (
        f"The model ends with {act} and the loss is {loss}, which expects logits: the "
        f"{act} is applied twice, so the gradients shrink and training stalls."
    )
    evidence = {"output": act, "loss": key[1]}
    return [Finding("output_loss_mismatch", [], msg, evidence, [fix], "warning")]


def finite_median(x):
    return float(nanmedian(np.asarray(x, dtype=np.float64)))


RULES = (
    rule_lr,
    rule_oscillating,
    rule_overfitting,
    rule_stale_gradients,
    rule_rank_divergence,
    rule_inputs,
    rule_output_loss,
)
