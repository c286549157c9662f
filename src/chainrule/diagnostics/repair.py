"""``repair``: diagnose a model, then prove which remedy fixes it (``cr.diagnostics.repair``).

The report's remedies are advice; a remedy is worth recommending only when, applied, the problem
is gone *and* the model learns better. :func:`repair` checks exactly that:

1. build the model (seeded), train it for a short budget with a :class:`GradientMonitor`
   attached, and read the report's problems (warnings and errors) and their ranked remedies;
2. map each remedy to a concrete transformation (swap sigmoid/tanh for ReLU with He init, add
   BatchNorm or LayerNorm after hidden layers, residual connections where shapes allow, gradient
   clipping (or, when clipping acts on most steps, a higher ``max_norm``), the learning rate
   x10, /10, /100, by the factor the update ratios call for or the LR range test's suggestion,
   hidden layers re-initialised for their activation, an LSTM in place of a tanh RNN,
   ``cross_entropy`` on logits in place of a trailing softmax (or sigmoid), standardised
   inputs, ...); remedies with no mechanical transformation are listed as "not tried: manual";
3. try each transformation alone, on a fresh copy built with the same seed, with the same
   budget, and compare verdicts, loss and accuracy with the original.

Works on chainrule models and on ``torch.nn.Module`` models (PyTorch's API is the same for
everything used here; torch is imported only when the model is a torch model).

Example::

    def build():
        layers = []
        for _ in range(10):
            layers += [cr.nn.Linear(32, 32), cr.nn.Sigmoid()]
        return cr.nn.Sequential(cr.nn.Linear(64, 32), cr.nn.Sigmoid(), *layers,
                                cr.nn.Linear(32, 10))

    result = cr.diagnostics.repair(build, cr.nn.functional.cross_entropy, (X, y), steps=100)
    print(result.table())         # remedy | verdicts after | loss | accuracy | recommended
    result.best                   # the proven remedy (a RepairTrial), or None
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["repair", "RepairResult", "RepairTrial", "REMEDIES", "MAX_TRIALS"]

# Remedies trained at most by default, by repair() and by `chainrule doctor` alike.
MAX_TRIALS = 8


# ---- the frameworks: the same PyTorch-style API, two namespaces ----


class _Framework:
    """What the trials need from chainrule or torch: nn, init, optimizers, tensors, seeding."""

    def __init__(self, name):
        self.name = name
        self.device = None  # torch: where the model's parameters live
        if name == "torch":
            import torch

            self.lib, self.nn = torch, torch.nn
        else:
            import chainrule

            self.lib, self.nn = chainrule, chainrule.nn

    def tensor(self, a):
        a = np.asarray(a)
        if self.name == "torch":
            t = self.lib.from_numpy(np.ascontiguousarray(a))
            t = t.float() if a.dtype.kind == "f" else t.long() if a.dtype.kind in "iu" else t
            return t if self.device is None else t.to(self.device)
        return self.lib.tensor(a.astype(np.float32) if a.dtype == np.float64 else a)

    def follow(self, model):
        """Put the batches where ``model`` is (a torch model on a GPU)."""
        if self.name == "torch":
            p = next(iter(model.parameters()), None)
            self.device = None if p is None or p.device.type == "cpu" else p.device

    def seed(self, seed):
        self.lib.manual_seed(seed)

    def no_grad(self):
        return self.lib.no_grad()

    def item(self, t):
        return float(t.item()) if hasattr(t, "item") else float(t)

    def numpy(self, t):
        if self.name == "torch":
            return t.detach().cpu().numpy()
        return np.asarray(t.detach())


def _framework_of(model):
    from ..nn import Module

    if isinstance(model, Module):
        return _Framework("chainrule")
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        return _Framework("torch")
    raise TypeError(
        f"repair: build_model() must return a cr.nn.Module or a torch.nn.Module, "
        f"got {type(model).__name__}"
    )


# ---- the setup a remedy may change ----


@dataclass
class _Setup:
    lr: float
    clip: float
    x: np.ndarray
    notes: list = field(default_factory=list)


class _NotApplicable(Exception):
    """A remedy that cannot be applied to this model mechanically (the message says why)."""


# ---- model surgery (works on chainrule and torch modules alike) ----

SQUASHING = ("Sigmoid", "Tanh")
LINEAR = ("Linear", "Conv1d", "Conv2d")


def _sequentials(model):
    """Every ``Sequential`` in the model (the containers whose order is known)."""
    return [m for _, m in model.named_modules() if type(m).__name__ == "Sequential"]


def _pairs(seq):
    """(name, module, next name, next module) of consecutive children of a Sequential."""
    kids = list(seq.named_children())
    return [(a, ma, b, mb) for (a, ma), (b, mb) in zip(kids, kids[1:], strict=False)]


def _hidden_layers(model, acts=None):
    """(seq, name, layer, act name, act) for each Linear/Conv directly followed by an activation
    (of a class in ``acts`` when given): the hidden layers, never the output layer."""
    from .activations import module_kind

    out = []
    for seq in _sequentials(model):
        for a, ma, b, mb in _pairs(seq):
            if (
                type(ma).__name__ in LINEAR
                and module_kind(mb) is not None
                and (acts is None or type(mb).__name__ in acts)
            ):
                out.append((seq, a, ma, b, mb))
    return out


def _he_init(fw, layer):
    fw.nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    if getattr(layer, "bias", None) is not None:
        fw.nn.init.zeros_(layer.bias)


def _relu_he(fw, model, setup):
    hits = _hidden_layers(model, SQUASHING)
    if not hits:
        raise _NotApplicable(
            "no Sigmoid/Tanh module after a layer (functional activations "
            "are code: change them by hand)"
        )
    with fw.no_grad():
        for seq, _, layer, b, _ in hits:
            setattr(seq, b, fw.nn.ReLU())
            _he_init(fw, layer)
    return model


def _leaky_relu(fw, model, setup):
    hits = _hidden_layers(model, ("ReLU",))
    if not hits:
        raise _NotApplicable("no ReLU module after a layer")
    for seq, _, _, b, _ in hits:
        setattr(seq, b, fw.nn.LeakyReLU(0.01))
    return model


def _out_shape(layer):
    if type(layer).__name__ == "Linear":
        return layer.out_features
    return layer.out_channels


def _norm_after(kind):
    def apply(fw, model, setup):
        hits = [
            h for h in _hidden_layers(model) if type(h[2]).__name__ == "Linear" or kind == "batch"
        ]
        if not hits:
            raise _NotApplicable("no hidden Linear/Conv layer inside a Sequential")
        for seq, a, layer, _, _ in hits:
            n = _out_shape(layer)
            if kind == "layer":
                norm = fw.nn.LayerNorm(n)
            elif type(layer).__name__ == "Conv2d":
                norm = fw.nn.BatchNorm2d(n)
            else:
                norm = fw.nn.BatchNorm1d(n)
            setattr(seq, a, fw.nn.Sequential(layer, norm))
        return model

    return apply


def _residual_class(fw):
    if hasattr(fw.nn, "Residual"):
        return fw.nn.Residual

    class Residual(fw.nn.Module):
        """``x + f(x)``."""

        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return x + self.f(x)

    return Residual


def _residual(fw, model, setup):
    hits = [
        h
        for h in _hidden_layers(model)
        if type(h[2]).__name__ == "Linear" and h[2].in_features == h[2].out_features
    ]
    if not hits:
        raise _NotApplicable("no square hidden Linear layer (in = out) to wrap")
    residual = _residual_class(fw)
    for seq, a, layer, b, act in hits:
        setattr(seq, a, residual(fw.nn.Sequential(layer, act)))  # x + act(W x + b)
        setattr(seq, b, fw.nn.Identity())
    return model


def _reinit(scheme):
    def apply(fw, model, setup):
        weights = [
            m
            for _, m in model.named_modules()
            if type(m).__name__ in LINEAR + ("RNN", "LSTM", "GRU")
        ]
        if not weights:
            raise _NotApplicable("no Linear/Conv/recurrent layer")
        hidden = {id(h[2]) for h in _hidden_layers(model)}
        with fw.no_grad():
            for m in weights:
                if type(m).__name__ in LINEAR and id(m) not in hidden:
                    continue  # never the output layer's init
                for p in m.parameters(recurse=False):
                    if p.ndim < 2:
                        fw.nn.init.zeros_(p)
                    elif scheme == "xavier":
                        fw.nn.init.xavier_normal_(p)
                    elif scheme == "he":
                        fw.nn.init.kaiming_normal_(p, nonlinearity="relu")
                    else:  # PyTorch's default: U(-1/sqrt(fan_in), ...)
                        bound = 1.0 / math.sqrt(p.shape[1])
                        fw.nn.init.uniform_(p, -bound, bound)
        return model

    return apply


def _reinit_hidden(fw, model, setup):
    """He (after ReLU-like) or Xavier init of every weight layer but the last, biases zeroed.
    The output layer too, but only when its own scale is far off (fan_in * Var(W) above 4:
    logits that large saturate the loss whatever the hidden layers do)."""
    layers = [m for m in model.modules() if type(m).__name__ in LINEAR]
    if len(layers) < 2:
        raise _NotApplicable("fewer than two Linear/Conv layers: no hidden layer to re-initialise")
    relu = any(type(m).__name__ in ("ReLU", "LeakyReLU", "ReLU6") for m in model.modules())
    with fw.no_grad():
        out = layers[-1]
        w = fw.numpy(out.weight).astype(np.float64)
        if np.prod(w.shape[1:]) * np.mean(np.square(w)) > 4:
            fw.nn.init.xavier_uniform_(out.weight)
        for m in layers[:-1]:
            if relu:
                fw.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            else:
                fw.nn.init.xavier_uniform_(m.weight)
            if getattr(m, "bias", None) is not None:
                fw.nn.init.zeros_(m.bias)
    return model


def _lstm(fw, model, setup):
    hits = [
        (parent, name, m)
        for parent in model.modules()
        for name, m in parent.named_children()
        if type(m).__name__ == "RNN" and getattr(m, "nonlinearity", "tanh") == "tanh"
    ]
    if not hits:
        raise _NotApplicable("no tanh RNN module")
    for parent, name, m in hits:
        setattr(
            parent,
            name,
            fw.nn.LSTM(
                m.input_size, m.hidden_size, num_layers=m.num_layers, batch_first=m.batch_first
            ),
        )
    return model


def _logits(fw, model, setup):
    """Drop a trailing Softmax/LogSoftmax (or Sigmoid) module: the loss takes logits."""
    seqs = [s for s in _sequentials(model) if list(s.children())]
    for seq in seqs:
        name, last = list(seq.named_children())[-1]
        if type(last).__name__ in ("Softmax", "LogSoftmax", "Sigmoid"):
            setattr(seq, name, fw.nn.Identity())
            return model
    raise _NotApplicable(
        "no trailing Softmax/LogSoftmax/Sigmoid module (a softmax in the loss code "
        "is code: call cross_entropy on the logits by hand)"
    )


def _lr(factor):
    def apply(fw, model, setup):
        setup.lr *= factor
        return model

    return apply


def _clip(fw, model, setup):
    setup.clip = 1.0 if setup.clip is None else setup.clip / 10
    return model


def _standardize(fw, model, setup):
    x = setup.x.astype(np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    setup.x = ((x - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)
    return model


def _zero_grad(fw, model, setup):
    raise _NotApplicable(
        "repair's own training loop calls optimizer.zero_grad() every step; add it to your loop"
    )


# key -> (description, transformation); "lr_range", "lr_measured" and "clip_up" are built by
# repair()
# (they need the data or the report)
REMEDIES = {
    "relu_he": ("ReLU + He init in place of sigmoid/tanh", _relu_he),
    "batchnorm": ("BatchNorm after hidden layers", _norm_after("batch")),
    "layernorm": ("LayerNorm after hidden Linear layers", _norm_after("layer")),
    "residual": ("residual connections x + act(Wx)", _residual),
    "leaky_relu": ("LeakyReLU(0.01) in place of ReLU", _leaky_relu),
    "xavier": ("Xavier init of hidden layers", _reinit("xavier")),
    "he_init": ("He init of hidden layers", _reinit("he")),
    "reinit_default": ("default (PyTorch) init of hidden/recurrent layers", _reinit("default")),
    "clip": ("gradient clipping (max_norm 1, or /10 if already clipping)", _clip),
    "lr_down": ("learning rate / 10", _lr(0.1)),
    "lr_down100": ("learning rate / 100", _lr(0.01)),
    "lr_up": ("learning rate x 10", _lr(10.0)),
    "lr_measured": ("learning rate raised by the factor the update ratios call for", None),
    "lr_measured10": ("learning rate raised by 10x the factor the update ratios call for", None),
    "lr_range": ("learning rate from the LR range test", None),
    "clip_up": ("a higher max_norm (clipping acted on most steps)", None),
    "reinit_hidden": (
        "re-initialise hidden layers (He after ReLU, Xavier otherwise)",
        _reinit_hidden,
    ),
    "lstm": ("LSTM in place of the tanh RNN", _lstm),
    "logits": ("cross_entropy on logits (drop the trailing softmax)", _logits),
    "standardize": ("standardised inputs (zero mean, unit variance)", _standardize),
    "zero_grad": ("call optimizer.zero_grad() every step", _zero_grad),
}

# remedies worth trying for each kind when the report's text does not name them
KIND_DEFAULTS = {
    "vanishing": ("relu_he", "batchnorm", "residual", "layernorm", "reinit_hidden"),
    "exploding": ("clip", "lr_down", "lstm", "reinit_default", "reinit_hidden"),
    "saturated": ("relu_he", "batchnorm", "reinit_hidden"),
    "dead": ("leaky_relu", "lr_down", "reinit_hidden"),
    "lr_too_high": ("lr_down", "clip", "lr_range", "lr_down100"),
    "lr_too_low": ("lr_up", "lr_range", "lr_measured", "lr_measured10"),
    "nonfinite": ("logits", "lr_down", "clip"),
    "oscillating": ("lr_down", "lr_down100"),
    "not_learning": ("lr_up", "lr_range", "relu_he", "lr_measured", "lr_measured10"),
    "clipping": ("clip_up", "lr_down"),
    "output_loss_mismatch": ("logits",),
    "stale_gradients": ("zero_grad",),
    "unscaled_input": ("standardize",),
    "layer_gain": ("relu_he", "batchnorm"),
}

# (words that must all appear, remedy key), first match wins
_KEYWORDS = [
    (("zero_grad",), "zero_grad"),
    (("lstm",), "lstm"),
    (("gru",), "lstm"),
    (("cross_entropy",), "logits"),
    (("logits",), "logits"),
    (("batchnorm",), "batchnorm"),
    (("batch norm",), "batchnorm"),
    (("layernorm",), "layernorm"),
    (("layer norm",), "layernorm"),
    (("residual",), "residual"),
    (("skip connection",), "residual"),
    (("leaky",), "leaky_relu"),
    (("relu",), "relu_he"),
    (("kaiming",), "relu_he"),
    (("he init",), "he_init"),
    (("xavier",), "xavier"),
    (("glorot",), "xavier"),
    (("raise max_norm",), "clip_up"),
    (("lower the learning rate",), "lr_down"),
    (("clip",), "clip"),
    (("range test",), "lr_range"),
    (("lr_range_test",), "lr_range"),
    (("lr-find",), "lr_range"),
    (("standardi",), "standardize"),
    (("scale", "input"), "standardize"),
]
_LOWER = ("lower", "reduce", "decrease", "smaller", "divide", "/")
_RAISE = ("raise", "increase", "higher", "larger", "x10", "×")


def remedy_key(text):
    """The transformation a remedy's text names, or None (a manual remedy)."""
    t = text.lower()
    for words, key in _KEYWORDS:
        if all(w in t for w in words):
            return key
    if "learning rate" in t or "lr" in t.split():
        if any(w in t for w in _LOWER):
            return "lr_down"
        if any(w in t for w in _RAISE):
            return "lr_up"
    return None


# ---- results ----


@dataclass
class RepairTrial:
    """One training run: the original (``remedy is None``) or one remedy applied.

    Attributes:
        remedy: the remedy key (see ``REMEDIES``), None for the original.
        description: what was changed, in words.
        targets: the finding kinds that proposed it.
        problems: the warning/error kinds of the report after training.
        loss, accuracy: on the evaluation data after training (accuracy None for regression).
        fixed: the targeted problems are gone, no new one appeared, the loss is finite.
        better: the model learns better than the original by the margin.
        recommended: ``fixed and better``.
        error: why the run failed (a trial that raised), else None.
    """

    remedy: str
    description: str
    targets: tuple = ()
    problems: tuple = ()
    loss: float = float("nan")
    accuracy: float = None
    fixed: bool = False
    better: bool = False
    recommended: bool = False
    error: str = None
    seconds: float = 0.0
    initial_loss: float = None
    report: object = None

    def to_dict(self):
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in self.__dict__.items()
            if k != "report"
        }


class RepairResult:
    """What :func:`repair` found and proved.

    Attributes:
        original (RepairTrial): the model as built.
        trials (list[RepairTrial]): one per remedy tried, in the order tried.
        not_tried (list[tuple[str, str]]): (remedy text, why) for remedies not tried.
        best (RepairTrial | None): the recommended trial with the best accuracy (then loss).
        report: the original run's HealthReport.
    """

    def __init__(self, original, trials, not_tried, report):
        self.original, self.trials, self.not_tried, self.report = (
            original,
            trials,
            not_tried,
            report,
        )
        good = [t for t in trials if t.recommended]
        key = lambda t: (-(t.accuracy if t.accuracy is not None else 0.0), t.loss)
        self.best = min(good, key=key) if good else None

    @property
    def recommended(self):
        return [t for t in self.trials if t.recommended]

    def table(self):
        """The results as a text table: remedy, verdicts after, loss, accuracy, verdict."""
        rows = [
            (
                "original",
                _kinds(self.original.problems),
                _num(self.original.loss),
                _acc(self.original.accuracy),
                "",
            )
        ]
        for t in self.trials:
            remains = set(t.targets) & set(t.problems) or not math.isfinite(t.loss)
            verdict = (
                "RECOMMENDED"
                if t.recommended
                else f"error: {t.error}"
                if t.error
                else "problem remains"
                if remains
                else "new problem"
                if not t.fixed
                else "no better"
            )
            rows.append(
                (t.description, _kinds(t.problems), _num(t.loss), _acc(t.accuracy), verdict)
            )
        head = ("remedy", "verdicts after", "loss", "accuracy", "result")
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        out = [line.format(*head).rstrip(), line.format(*("-" * w for w in widths))]
        out += [line.format(*r).rstrip() for r in rows]
        out += [f"not tried: {text} ({why})" for text, why in self.not_tried]
        out.append(
            f"best: {self.best.description}"
            if self.best
            else "best: none (no remedy both removed the problem and learned better)"
        )
        return "\n".join(out)

    def __str__(self):
        return self.table()

    def __repr__(self):
        best = self.best.remedy if self.best else None
        return (
            f"<RepairResult original={list(self.original.problems)} "
            f"tried={len(self.trials)} best={best!r}>"
        )

    def to_dict(self):
        return {
            "original": self.original.to_dict(),
            "trials": [t.to_dict() for t in self.trials],
            "not_tried": [list(x) for x in self.not_tried],
            "best": self.best.remedy if self.best else None,
        }


def _kinds(kinds):
    return ", ".join(kinds) if kinds else "healthy"


def _num(x):
    return "nan" if x is None or not math.isfinite(x) else f"{x:.4g}"


def _acc(a):
    return "-" if a is None else f"{100 * a:.1f}%"


# ---- the runs ----


def _make_optimizer(fw, optimizer, params, lr):
    if callable(optimizer):
        return optimizer(params, lr)
    name = str(optimizer).lower()
    if name == "sgd":
        return fw.lib.optim.SGD(params, lr=lr)
    if name == "momentum":
        return fw.lib.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return fw.lib.optim.Adam(params, lr=lr)
    raise ValueError(
        f"repair: optimizer must be 'sgd', 'momentum', 'adam' or a callable "
        f"(params, lr) -> optimizer, got {optimizer!r}"
    )


def _batches(n, batch_size, steps, seed):
    """``steps`` index arrays: shuffled epochs from a seeded generator (same for every trial)."""
    rng = np.random.default_rng(seed)
    out, order = [], np.array([], dtype=np.int64)
    while len(out) < steps:
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(n)])
        out.append(order[:batch_size])
        order = order[batch_size:]
    return out


def _run(cfg, key, description, targets, transform):
    """Build (seeded), transform, train with the monitor, evaluate. Returns a RepairTrial."""
    from .monitor import GradientMonitor

    trial = RepairTrial(key, description, tuple(targets))
    started = time.perf_counter()
    setup = _Setup(cfg["lr"], cfg["clip"], cfg["x"])
    fw = cfg["fw"]
    fw.seed(cfg["seed"])
    model = cfg["build"]()
    fw.follow(model)
    if transform is not None:
        model = transform(fw, model, setup) or model
        if fw.device is not None:
            model = model.to(fw.device)  # new modules (BatchNorm, LSTM) join the model
    if key is None:  # the untrained model's loss: a run must end below it
        trial.initial_loss = _evaluate(fw, model, cfg["loss_fn"], setup, cfg)[0]
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = _make_optimizer(fw, cfg["optimizer"], params, setup.lr)
    loss_fn, y = cfg["loss_fn"], cfg["y"]
    monitor = GradientMonitor(model, optimizer=opt, every=cfg["every"], clip_norm=setup.clip)
    clip_fn = fw.lib.nn.utils.clip_grad_norm_  # the same in both frameworks
    try:
        for idx in cfg["batches"]:
            opt.zero_grad()
            loss = loss_fn(model(fw.tensor(setup.x[idx])), fw.tensor(y[idx]))
            loss.backward()
            total = clip_fn(params, setup.clip) if setup.clip is not None else None
            opt.step()
            monitor.step(loss, grad_norm=total, max_norm=setup.clip)
            if not math.isfinite(fw.item(loss)):
                break  # diverged: nothing more to learn
        report = monitor.report()
    finally:
        monitor.close()
    trial.report = report
    trial.problems = tuple(f.kind for f in report.findings if f.severity in ("error", "warning"))
    trial.problems = tuple(dict.fromkeys(trial.problems))
    trial.loss, trial.accuracy = _evaluate(fw, model, loss_fn, setup, cfg)
    trial.seconds = time.perf_counter() - started
    return trial


def _evaluate(fw, model, loss_fn, setup, cfg):
    x, y = cfg["eval"]
    if x is cfg["x_raw_eval"] and setup.x is not cfg["x"]:
        x = _restandardize(cfg["x"], x)  # the same standardisation as the training data
    model.eval()
    try:
        with fw.no_grad():
            out = model(fw.tensor(x))
            loss = fw.item(loss_fn(out, fw.tensor(y)))
            acc = None
            if cfg["classify"]:
                pred = fw.numpy(out).reshape(len(y), -1).argmax(axis=1)
                acc = float(np.mean(pred == y))
    finally:
        model.train()
    return loss, acc


def _restandardize(train_x, x):
    t = train_x.astype(np.float64)
    mean, std = t.mean(axis=0), t.std(axis=0)
    return ((x - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)


# kinds that cause others (bad inputs, a softmax before the loss, stale gradients, a learning
# rate so high that it pins units in saturation): their remedies are tried first, whatever the
# severity order of the report
ROOT_CAUSES = (
    "unscaled_input",
    "output_loss_mismatch",
    "stale_gradients",
    "nonfinite",
    "lr_too_high",
)


def _candidates(report, include_defaults=True):
    """[(key, text, target kinds)] in the report's order (root causes first), and
    [(text, why)] not tried."""
    order, texts, targets, manual = [], {}, {}, []
    rank = {k: i for i, k in enumerate(ROOT_CAUSES)}
    findings = sorted(report.findings, key=lambda f: rank.get(f.kind, len(rank)))
    for f in findings:
        if f.severity not in ("error", "warning"):
            continue
        keys = []
        for text in f.remedies:
            key = remedy_key(text)
            if key is None:
                manual.append((text, f"{f.kind}: manual"))
                continue
            keys.append(key)
            texts.setdefault(key, text)
        if include_defaults:
            keys += KIND_DEFAULTS.get(f.kind, ())
        for key in keys:
            if key not in targets:
                order.append(key)
                targets[key] = []
            if f.kind not in targets[key]:
                targets[key].append(f.kind)
    seen, unique = set(), []
    for text, why in manual:
        if text not in seen:
            seen.add(text)
            unique.append((text, why))
    return [(k, texts.get(k, REMEDIES[k][0]), tuple(targets[k])) for k in order], unique


def repair(
    build_model,
    loss_fn,
    data,
    *,
    eval_data=None,
    optimizer="sgd",
    lr=0.1,
    clip=None,
    steps=100,
    batch_size=64,
    every=1,
    seed=0,
    max_trials=MAX_TRIALS,
    loss_margin=0.05,
    acc_margin=0.02,
    lr_range=True,
    verbose=False,
):
    """Diagnose ``build_model()``'s training, try the remedies, and recommend only proven ones.

    Args:
        build_model: a function of no arguments returning a fresh model (``cr.nn.Module`` or
            ``torch.nn.Module``); it is called once per trial after seeding with ``seed``.
        loss_fn: ``loss_fn(output, target)`` -> scalar tensor of the model's framework.
        data: ``(x, y)`` NumPy arrays (or anything ``np.asarray`` takes): ``x`` (N, ...) the
            inputs, ``y`` (N,) integer class labels (accuracy is reported) or (N, ...) float
            targets (regression: loss only).
        eval_data: optional held-out ``(x, y)``; the training data otherwise.
        optimizer: ``'sgd'``, ``'momentum'``, ``'adam'`` or ``f(params, lr) -> optimizer``.
        lr (float): learning rate. clip (float): optional max-norm gradient clipping.
        steps (int): training steps per trial (the short budget). batch_size (int).
        every (int): the monitor records every ``every``-th step.
        seed (int): seeds the model, the batches and every trial alike (deterministic).
        max_trials (int): at most this many remedies are trained.
        loss_margin (float): "learns better" means the loss falls by this fraction, or
        acc_margin (float): the accuracy rises by this much (absolute), without the other
            getting worse.
        lr_range (bool): allow the LR range test's suggestion as a remedy.

    Returns:
        :class:`RepairResult`: ``.table()`` text, ``.best``, ``.trials``, ``.original``.
    """
    x, y = (np.asarray(a) for a in data)
    if len(x) != len(y):
        raise ValueError(
            f"repair: data's inputs and targets differ in length: {len(x)} vs {len(y)}"
        )
    if x.dtype == np.float64:
        x = x.astype(np.float32)
    ex, ey = (x, y) if eval_data is None else (np.asarray(a) for a in eval_data)
    if ex.dtype == np.float64:
        ex = ex.astype(np.float32)
    classify = y.dtype.kind in "iu"
    cfg = {
        "build": build_model,
        "loss_fn": loss_fn,
        "x": x,
        "y": y,
        "eval": (ex, ey),
        "x_raw_eval": ex,
        "optimizer": optimizer,
        "lr": float(lr),
        "clip": clip,
        "every": every,
        "seed": seed,
        "classify": classify,
        "batches": _batches(len(x), min(batch_size, len(x)), steps, seed),
    }
    cfg["fw"] = _framework_of(build_model())  # (each trial seeds before building)
    say = print if verbose else (lambda *a: None)

    original = _run(cfg, None, "original", (), None)
    say(f"original: {_kinds(original.problems)}, loss {_num(original.loss)}")
    candidates, not_tried = _candidates(original.report)
    trials = []
    for key, text, targets in candidates:
        if len(trials) >= max_trials:
            not_tried.append((text, "budget: max_trials reached"))
            continue
        transform = REMEDIES[key][1]
        description = REMEDIES[key][0]
        if key == "lr_range":
            if not lr_range:
                not_tried.append((text, "lr_range=False"))
                continue
            try:
                suggested = _lr_range_suggestion(cfg)
            except Exception as e:  # noqa: BLE001  (a failed range test is reported, not raised)
                not_tried.append((text, f"LR range test failed: {type(e).__name__}: {e}"))
                continue
            transform = _set_lr(suggested)
            description = f"learning rate {suggested:.3g} (LR range test)"
        elif key in ("lr_measured", "lr_measured10"):
            # the 1e-3 update ratio is a rule of thumb; a short budget may need 10x more
            factor = _measured_lr_factor(original.report) * (10 if key == "lr_measured10" else 1)
            if factor in (1.0, 10.0, 0.1):  # the original again, or lr_up / lr_down
                not_tried.append((description, f"the measured factor is {factor:g}"))
                continue
            transform = _lr(factor)
            description = f"learning rate x {factor:g} (from the update ratios)"
            if key == "lr_measured10":
                description = f"learning rate x {factor:g} (10x the update ratios' factor)"
        elif key == "clip_up":
            if clip is None:
                not_tried.append((description, "not applicable: no clipping to relax"))
                continue
            max_norm = _relaxed_max_norm(original.report, clip)
            transform = _set_clip(max_norm)
            description = f"max_norm {max_norm:.3g} in place of {clip:g}"
        try:
            trial = _run(cfg, key, description, targets, transform)
        except _NotApplicable as e:
            not_tried.append((description, f"not applicable: {e}"))
            continue
        except Exception as e:  # noqa: BLE001  (a remedy that breaks the model is a result)
            trial = RepairTrial(key, description, targets, error=f"{type(e).__name__}: {e}")
            trials.append(trial)
            continue
        _judge(trial, original, loss_margin, acc_margin)
        say(
            f"{description}: {_kinds(trial.problems)}, loss {_num(trial.loss)}"
            + (" RECOMMENDED" if trial.recommended else "")
        )
        trials.append(trial)
    return RepairResult(original, trials, not_tried, original.report)


def _measured_lr_factor(report):
    """The power of 10 that brings the median update ratio |dW|/|W| to about 1e-3 (what the
    ``lr_too_low`` finding measures); 100 when the report has no such ratio."""
    med = next(
        (f.evidence.get("update_ratio_median") for f in report.findings if f.kind == "lr_too_low"),
        None,
    )
    if med is None or not med > 0:
        return 100.0
    return float(10 ** round(math.log10(1e-3 / med)))


def _relaxed_max_norm(report, clip):
    """Twice the median gradient norm before clipping (so clipping only catches spikes), and at
    least 10x the old max_norm."""
    med = next(
        (f.evidence.get("median_norm") for f in report.findings if f.kind == "clipping"), None
    )
    return float(max(10 * clip, 2 * med)) if med is not None and med > 0 else 10.0 * clip


def _set_clip(value):
    def apply(fw, model, setup):
        setup.clip = value
        return model

    return apply


def _set_lr(value):
    def apply(fw, model, setup):
        setup.lr = value
        return model

    return apply


def _lr_range_suggestion(cfg):
    from .lr_finder import lr_range_test

    fw = cfg["fw"]
    fw.seed(cfg["seed"])
    model = cfg["build"]()
    fw.follow(model)
    opt = _make_optimizer(
        fw, cfg["optimizer"], [p for p in model.parameters() if p.requires_grad], cfg["lr"]
    )
    loader = [(fw.tensor(cfg["x"][i]), fw.tensor(cfg["y"][i])) for i in cfg["batches"][:50]]
    res = lr_range_test(
        model, cfg["loss_fn"], opt, loader, start_lr=1e-5, end_lr=10, num_steps=min(50, len(loader))
    )
    if not (res.suggested_lr > 0 and math.isfinite(res.suggested_lr)):
        raise ValueError("no usable suggestion")
    return float(res.suggested_lr)


def _judge(trial, original, loss_margin, acc_margin):
    """Set ``fixed``, ``better`` and ``recommended`` of ``trial``.

    fixed: the problems it was tried for are gone, no problem the original did not have
    appeared (``clipping`` excepted for a remedy that sets the clipping: there clipping is
    the remedy at work) and its loss is finite. better: the loss lower
    than the original's by ``loss_margin`` (relative) or the accuracy higher by ``acc_margin``,
    the other not worse. Against a diverged original (NaN loss) any finite loss would be
    "better": there the trial must have learned, its loss below the untrained model's by the
    margin.
    """
    loss, ref, start = trial.loss, original.loss, original.initial_loss
    finite = math.isfinite(loss)
    new = set(trial.problems) - set(original.problems)
    if trial.remedy in ("clip", "clip_up"):
        new.discard("clipping")
    trial.fixed = finite and not (set(trial.targets) & set(trial.problems)) and not new
    if not finite:
        better = False
    elif not math.isfinite(ref):
        better = (
            start is None or not math.isfinite(start) or loss < start - loss_margin * abs(start)
        )
    else:
        loss_better = loss < ref - loss_margin * abs(ref)
        loss_not_worse = loss <= ref + loss_margin * abs(ref)
        if trial.accuracy is not None and original.accuracy is not None:
            acc_better = trial.accuracy >= original.accuracy + acc_margin
            acc_not_worse = trial.accuracy >= original.accuracy
            better = (acc_better and loss_not_worse) or (loss_better and acc_not_worse)
        else:
            better = loss_better
    trial.better = better
    trial.recommended = trial.fixed and trial.better
