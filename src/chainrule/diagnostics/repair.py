"""``repair``: diagnose a training setup, then try the ranked remedies one at a time on fresh
copies with a short budget, and recommend only what makes the problem go away *and* the model
learn better.

Each candidate is a concrete change to the setup (not advice): a learning rate scaled, an
activation swapped for ReLU with He init, hidden layers re-initialised, a final softmax removed,
the inputs standardised, the clipping threshold raised. Every run starts from ``build_model()``
with the same seed, data order and budget, so the table compares like with like.

Example::

    result = cr.diagnostics.repair(lambda: make_model(), F.cross_entropy, (X, y),
                                   optimizer=lambda p: cr.optim.SGD(p, lr=10.0), steps=150)
    print(result)                  # remedy, verdicts after, loss and accuracy after, verdict
    result.recommended             # the best remedy that fixed it, or None
"""
import math
from dataclasses import dataclass, field

import numpy as np

from .. import nn
from ..autograd.grad_mode import no_grad
from ..random import manual_seed
from ..creation import tensor
from .monitor import GradientMonitor
from .render import fmt


@dataclass
class Trial:
    """One training run of ``repair``: the remedy tried (None: the original setup), the
    warning/error kinds its monitor reported, the mean loss of its last steps, its accuracy on
    the held-out data (None without class labels) and whether it is recommended."""
    remedy: object
    kinds: list
    loss: float
    accuracy: object = None
    fixed: bool = False
    better: bool = False


@dataclass
class RepairResult:
    """The trials of :func:`repair`: ``original``, ``trials`` (one per remedy tried) and
    ``recommended`` (the best trial whose problem is gone and which learns better, or None)."""
    original: Trial
    trials: list = field(default_factory=list)
    recommended: object = None

    def __str__(self):
        rows = [("remedy", "verdicts after", "loss", "accuracy", "fixes it")]
        for t in [self.original] + self.trials:
            rows.append((t.remedy or "(original)", ", ".join(t.kinds) or "healthy",
                         fmt(t.loss), "-" if t.accuracy is None else f"{t.accuracy:.3f}",
                         "" if t is self.original else ("yes" if t.fixed and t.better else "no")))
        widths = [max(len(r[j]) for r in rows) for j in range(5)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        best = self.recommended.remedy if self.recommended else "none of the remedies tried"
        return "\n".join(lines + [f"recommended: {best}"])


def repair(build_model, loss_fn, data, optimizer=None, steps=100, batch_size=64, val=None,
           seed=0, clip=None, max_trials=4):
    """Diagnose, then try the ranked remedies on fresh copies; returns a :class:`RepairResult`.

    Args:
        build_model: ``build_model()`` -> a fresh ``cr.nn.Module`` (called once per trial).
        loss_fn: ``loss_fn(model(x), y)`` -> scalar Tensor.
        data: ``(X, y)`` NumPy arrays (or Tensors) to train on, sampled in batches.
        optimizer: ``optimizer(params)`` -> an optimizer; default SGD(lr=0.1).
        steps, batch_size: the training budget of every trial.
        val: optional held-out ``(X, y)``; default the last fifth of ``data``.
        clip: optional max_norm for ``clip_grad_norm_`` (the original setup's clipping).
        max_trials: remedies tried at most.
    """
    X, Y = (np.asarray(getattr(a, "_data", a)) for a in data)
    if val is None:
        cut = len(X) * 4 // 5
        X, Y, val = X[:cut], Y[:cut], (X[cut:], Y[cut:])
    Xv, Yv = (np.asarray(getattr(a, "_data", a)) for a in val)
    optimizer = optimizer or (lambda p: _sgd(p, 0.1))
    setup = {"build": build_model, "optimizer": optimizer, "lr_scale": 1.0, "clip": clip,
             "standardise": False}
    run = _Runner(loss_fn, X, Y, Xv, Yv, steps, batch_size, seed)
    original = run(setup, None)
    result = RepairResult(original)
    for name, change in _candidates(original, setup, run.last_report)[:max_trials]:
        trial = run(dict(setup, **change), name)
        problems = set(trial.kinds) - {"clipping"}
        trial.fixed = not problems & set(original.kinds) and problems <= set(original.kinds)
        trial.better = _better(trial, original)
        result.trials.append(trial)
    good = [t for t in result.trials if t.fixed and t.better]
    if good:
        result.recommended = min(good, key=lambda t: (-(t.accuracy or 0), t.loss))
    return result


def _sgd(params, lr):
    from ..optim import SGD
    return SGD(params, lr=lr)


def _better(trial, original):
    if not math.isfinite(trial.loss):
        return False
    if trial.accuracy is not None and original.accuracy is not None:
        return trial.accuracy >= original.accuracy + 0.02 or (
            trial.accuracy >= original.accuracy and trial.loss < 0.9 * original.loss)
    return not math.isfinite(original.loss) or trial.loss < 0.9 * original.loss


class _Runner:
    """Trains one setup for the budget and summarises it as a :class:`Trial`."""

    def __init__(self, loss_fn, X, Y, Xv, Yv, steps, batch_size, seed):
        self.loss_fn, self.X, self.Y, self.Xv, self.Yv = loss_fn, X, Y, Xv, Yv
        self.steps, self.batch_size, self.seed = steps, batch_size, seed
        self.last_report = None

    def __call__(self, setup, name):
        manual_seed(self.seed)
        model = setup["build"]()
        for change in setup.get("model_changes", ()):
            change(model)
        opt = setup["optimizer"](model.parameters())
        for g in opt.param_groups:
            g["lr"] = g["lr"] * setup["lr_scale"]
        mean, std = self.X.mean(axis=0), self.X.std(axis=0) + 1e-8
        prep = (lambda a: (a - mean) / std) if setup["standardise"] else (lambda a: a)
        monitor = GradientMonitor(model, optimizer=opt, every=1)
        rng = np.random.default_rng(self.seed)
        losses = []
        with np.errstate(all="ignore"):
            for _ in range(self.steps):
                i = rng.integers(0, len(self.X), self.batch_size)
                opt.zero_grad()
                loss = self.loss_fn(model(tensor(prep(self.X[i]).astype(self.X.dtype))),
                                    tensor(self.Y[i]))
                loss.backward()
                total = None
                if setup["clip"]:
                    total = nn.utils.clip_grad_norm_(model.parameters(), setup["clip"])
                opt.step()
                monitor.step(loss, grad_norm=total, max_norm=setup["clip"])
                losses.append(float(loss._data))
        monitor.close()
        self.last_report = report = monitor.report()
        kinds = sorted({f.kind for f in report.findings if f.severity in ("error", "warning")})
        tail = np.asarray(losses[-10:])
        acc = None
        if self.Yv.dtype.kind in "iu":
            with no_grad():
                model.eval()
                out = model(tensor(prep(self.Xv).astype(self.X.dtype)))._data
            acc = (float(np.mean(out.argmax(axis=1) == self.Yv)) if np.isfinite(out).all()
                   and out.ndim == 2 else 0.0)
        return Trial(name, kinds, float(tail.mean()) if np.isfinite(tail).all() else math.inf,
                     acc)


# ---- the remedies as changes to the setup, ranked by kind ----

def _candidates(original, setup, report):
    kinds = original.kinds
    out = []
    # wiring first: the data and the loss are causes that every other symptom follows from
    if "unscaled_input" in kinds:
        out.append(("standardise the inputs", {"standardise": True}))
    if "output_loss_mismatch" in kinds:
        out.append(("remove the final softmax/sigmoid", {"model_changes": [_drop_final]}))
    if "lr_too_high" in kinds or "oscillating" in kinds or "nonfinite" in kinds:
        out += [("lower the learning rate 10x", {"lr_scale": 0.1}),
                ("lower the learning rate 100x", {"lr_scale": 0.01})]
    if "lr_too_low" in kinds or "not_learning" in kinds:
        # the factor that brings the median update ratio to ~1e-3 (what the finding says)
        med = next((f.evidence.get("update_ratio_median") for f in report.findings
                    if f.kind == "lr_too_low"), None)
        factor = 10 ** round(math.log10(1e-3 / med)) if med and med > 0 else 100.0
        out += [(f"raise the learning rate {fmt(factor)}x", {"lr_scale": factor}),
                (f"raise the learning rate {fmt(factor * 10)}x", {"lr_scale": factor * 10})]
    if "vanishing" in kinds or "saturated" in kinds:
        out.append(("replace sigmoid/tanh by ReLU with He init",
                    {"model_changes": [_to_relu]}))
    if any(k in kinds for k in ("vanishing", "exploding", "saturated", "dead")):
        out.append(("re-initialise hidden layers (He after ReLU, Xavier otherwise)",
                    {"model_changes": [_reinit_hidden]}))
    if "dead" in kinds:
        out += [("replace ReLU by LeakyReLU", {"model_changes": [_to_leaky]}),
                ("lower the learning rate 10x", {"lr_scale": 0.1})]
    if "exploding" in kinds and not setup["clip"]:
        out.append(("clip the gradient norm at 1", {"clip": 1.0}))
    if "clipping" in kinds and setup["clip"]:
        out.append((f"raise max_norm 10x (to {fmt(setup['clip'] * 10)})",
                    {"clip": setup["clip"] * 10}))
    seen, ranked = set(), []
    for name, change in out:
        if name not in seen:
            seen.add(name)
            ranked.append((name, change))
    return ranked


_SATURATING = ("Sigmoid", "Tanh", "Softsign", "Hardtanh")


def _replace(model, test, make):
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if test(child):
                setattr(parent, name, make())
                parent._modules[name] = getattr(parent, name)


def _to_relu(model):
    _replace(model, lambda m: type(m).__name__ in _SATURATING, nn.ReLU)
    _reinit_hidden(model)


def _to_leaky(model):
    _replace(model, lambda m: type(m).__name__ == "ReLU", lambda: nn.LeakyReLU(0.1))


def _drop_final(model):
    _replace(model, lambda m: type(m).__name__ in ("Softmax", "LogSoftmax", "Sigmoid")
             and m is list(model.modules())[-1], nn.Identity)


def _reinit_hidden(model):
    """He (after ReLU-like) or Xavier init for every weight layer but the last; the output
    layer too only when its own scale is far off (fan_in * Var(W) above 4: logits that large
    saturate the loss whatever the hidden layers do)."""
    linear = [m for m in model.modules() if type(m).__name__ in ("Linear", "Conv1d", "Conv2d")]
    relu = any(type(m).__name__ in ("ReLU", "LeakyReLU", "ReLU6") for m in model.modules())
    out = linear[-1:]
    if out:
        w = out[0].weight._data
        gain = float(np.prod(w.shape[1:]) * np.mean(np.square(w, dtype=np.float64)))
        if gain > 4:
            nn.init.xavier_uniform_(out[0].weight)
    for m in linear[:-1]:
        if relu:
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        else:
            nn.init.xavier_uniform_(m.weight)
        if getattr(m, "bias", None) is not None:
            nn.init.zeros_(m.bias)
