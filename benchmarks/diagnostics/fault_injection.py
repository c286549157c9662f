"""Fault-injection benchmark of the gradient-flow diagnostics.

Each run trains a small model on digits (8x8 images, 10 classes) or a small sequence task, with
or without an injected fault. Its label comes from measured physics only, decided and written
down before any diagnosis is asked for: a fault that does not hurt (the model learns as well as
its repaired control) is labelled healthy, and a "healthy" run that does not learn is labelled
``not_learning``. Then ``monitor.report()`` and ``check()`` are read and scored:

* precision per kind: of the runs the monitor flags with a kind (warning or error), the share
  whose label accepts it (a run's label names its primary kind plus the consequences it
  accepts, e.g. ``lr_too_high`` accepts ``nonfinite`` and ``exploding``);
* recall per kind: of the runs labelled with a kind, the share flagged with exactly it;
* healthy runs flagged by the monitor, and warned by ``check()`` at init.

The monitor cannot change the runs (training is bit for bit the same with it; tested in
tests/diagnostics/test_monitor.py), so one run gives both the physics and the diagnosis.

Two sets: ``tuned`` (:func:`specs`), the runs the rules and thresholds were developed on, and
``heldout`` (:func:`heldout_specs`), new seeds, widths, depths, optimizers and architectures
never used for tuning, whose labels were measured and committed (``labels_heldout.json``,
``--labels-only``) before any of their reports was read. A full run scores against the
committed labels file and says so if a run measures otherwise.

Run::

    python -m benchmarks.diagnostics.fault_injection                  # the tuned set, a table
    python -m benchmarks.diagnostics.fault_injection --set heldout    # the held-out set
    python -m benchmarks.diagnostics.fault_injection --set heldout --labels-only  # freeze labels
    python -m benchmarks.diagnostics.fault_injection --json out.json --only dead
"""

import argparse
import json
import math
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src"))

import numpy as np  # noqa: E402

import chainrule as cr  # noqa: E402
import chainrule.nn.functional as F  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.diagnostics import GradientMonitor, check  # noqa: E402

# what a label accepts besides its own kind: consequences of the same fault
ACCEPTS = {
    "lr_too_high": {
        "nonfinite",
        "exploding",
        "saturated",
        "oscillating",
        "dead",
        "clipping",
        "vanishing",
    },
    "exploding": {"nonfinite", "lr_too_high", "saturated", "clipping", "vanishing"},
    "vanishing": {"saturated", "layer_gain"},
    "saturated": {"vanishing", "exploding", "layer_gain"},
    "dead": {"no_gradient", "vanishing"},
    "nonfinite": {"exploding", "lr_too_high"},
    "stale_gradients": {"lr_too_high", "exploding", "oscillating", "nonfinite", "clipping"},
    "unscaled_input": {"saturated", "lr_too_high", "exploding", "dead", "oscillating"},
    "output_loss_mismatch": {"not_learning", "lr_too_low", "vanishing"},
    "oscillating": {"lr_too_high", "saturated", "dead"},
    "clipping": {"lr_too_high"},
    "lr_too_low": {"not_learning"},
    "not_learning": set(),
    "overfitting": set(),
    "no_gradient": set(),
    "healthy": set(),
}

_DATA = {}


def digits():
    if "d" not in _DATA:
        X, y = cr.data.load_digits()
        rng = np.random.default_rng(0)
        order = rng.permutation(len(X))
        _DATA["d"] = X[order].astype(np.float32), y[order].astype(np.int64)
    return _DATA["d"]


def batches(n_steps, batch=64, seed=0, train=1400, scale=1.0, seq=False, labels=None):
    X, y = digits()
    y = y if labels is None else labels
    rng = np.random.default_rng(seed)
    for _ in range(n_steps):
        i = rng.integers(0, min(train, len(X)), batch)
        x = X[i] * scale
        yield cr.tensor(x.reshape(-1, 8, 8) if seq else x), cr.tensor(y[i])


def evaluate(model, seq=False, scale=1.0, loss_fn=F.cross_entropy, start=1400):
    X, y = digits()
    x = X[start:] * scale
    with cr.no_grad():
        model.eval()
        out = model(cr.tensor(x.reshape(-1, 8, 8) if seq else x))
        model.train()
    logits = out.numpy()
    acc = float(np.mean(np.argmax(logits, axis=1) == y[start:])) if logits.ndim == 2 else NAN
    return acc


NAN = float("nan")


# ---- models ----


def mlp(
    widths=(64, 64, 10),
    act=nn.ReLU,
    init=None,
    bias=None,
    norm=None,
    dropout=0.0,
    seed=0,
    final=None,
):
    cr.manual_seed(seed)
    layers = []
    for k, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        lin = nn.Linear(a, b)
        if init is not None:
            init(lin.weight)
            nn.init.zeros_(lin.bias)
        if bias is not None and k < len(widths) - 2:
            nn.init.constant_(lin.bias, bias)
        layers.append(lin)
        if k < len(widths) - 2:
            if norm is not None:
                layers.append(norm(b))
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
    if final is not None:
        layers.append(final)
    return nn.Sequential(*layers)


class ResMLP(nn.Module):
    def __init__(self, depth=16, width=64, seed=0):
        super().__init__()
        cr.manual_seed(seed)
        self.inp = nn.Linear(64, width)
        self.blocks = nn.ModuleList(
            [
                nn.Sequential(
                    nn.LayerNorm(width), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width)
                )
                for _ in range(depth)
            ]
        )
        self.out = nn.Linear(width, 10)

    def forward(self, x):
        h = self.inp(x)
        for b in self.blocks:
            h = h + b(h)
        return self.out(h)


class CNN(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        cr.manual_seed(seed)
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = x.reshape(-1, 1, 8, 8)
        x = F.relu(self.c1(x))
        x = self.pool(F.relu(self.c2(x)))
        return self.fc(x.reshape(x.shape[0], -1))


class SeqNet(nn.Module):
    def __init__(self, cell=nn.LSTM, hidden=32, seed=0, gain=None):
        super().__init__()
        cr.manual_seed(seed)
        self.rnn = cell(8, hidden, batch_first=True)
        if gain is not None:
            nn.init.orthogonal_(self.rnn.weight_hh_l0, gain=gain)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class Detached(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        cr.manual_seed(seed)
        self.main = nn.Linear(64, 10)
        self.side = nn.Linear(64, 10)

    def forward(self, x):
        return self.main(x) + self.side(x).detach()


class LogRelu(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        cr.manual_seed(seed)
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(cr.log(F.relu(self.fc1(x))))


class FunctionalActs(nn.Module):
    def __init__(self, act, seed=0):
        super().__init__()
        cr.manual_seed(seed)
        self.fc1, self.fc2, self.fc3 = nn.Linear(64, 64), nn.Linear(64, 64), nn.Linear(64, 10)
        self.act = act

    def forward(self, x):
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))


# ---- one run ----


def run(spec):
    """Train as ``spec`` says; returns physics (losses, accuracy...) and the monitor."""
    model = spec["model"]()
    opt = spec.get("opt", lambda p: cr.optim.SGD(p, lr=0.1))(model.parameters())
    seq, scale = spec.get("seq", False), spec.get("scale", 1.0)
    loss_fn = spec.get("loss", F.cross_entropy)
    start = [p.numpy().copy() for p in model.parameters()]
    x0, y0 = next(batches(1, seed=99, seq=seq, scale=scale, labels=spec.get("labels")))
    pre = check(model, loss_fn, (x0, y0))
    monitor = GradientMonitor(
        model, optimizer=opt, every=spec.get("every", 1), clip_norm=spec.get("clip")
    )
    losses, val, grad_norms, clipped, early = [], [], [], 0, None
    steps = spec.get("steps", 150)
    val_every = spec.get("val_every")
    with np.errstate(all="ignore"):
        for k, (x, y) in enumerate(
            batches(
                steps,
                batch=spec.get("batch", 64),
                seed=spec.get("seed", 0),
                seq=seq,
                scale=scale,
                train=spec.get("train", 1400),
                labels=spec.get("labels"),
            )
        ):
            if spec.get("zero_grad", True):
                opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            total = None
            if spec.get("clip"):
                total = nn.utils.clip_grad_norm_(model.parameters(), spec["clip"])
                clipped += float(total) > spec["clip"]
            grad_norms.append(
                math.sqrt(
                    sum(
                        float((p.grad.numpy().astype(np.float64) ** 2).sum())
                        for p in model.parameters()
                        if p.grad is not None
                    )
                )
            )
            opt.step()
            v = None
            if val_every and (k + 1) % val_every == 0:
                xv, yv = next(batches(1, batch=256, seed=k, train=1797, seq=seq))
                with cr.no_grad():
                    X, Y = digits()
                    xv = cr.tensor(X[1400:1700] * scale)
                    v = float(loss_fn(model(xv), cr.tensor(Y[1400:1700])).numpy())
                val.append(v)
            monitor.step(loss, grad_norm=total, max_norm=spec.get("clip"), val_loss=v)
            losses.append(float(loss.numpy()))
            if k + 1 == spec.get("report_at"):
                early = monitor.report()  # what a user who looks this early is told
    acc = evaluate(model, seq=seq, scale=scale) if math.isfinite(losses[-1]) else 0.0
    frozen = sum(
        np.array_equal(w, p.numpy()) for w, p in zip(start, model.parameters(), strict=True)
    )
    return {
        "losses": losses,
        "val": val,
        "acc": acc,
        "grad_norms": grad_norms,
        "frozen": frozen,
        "clipped": clipped,
        "monitor": monitor,
        "early": early,
        "check": pre,
    }


def learns(phys, acc=0.8):
    loss = np.asarray(phys["losses"])
    finite = bool(np.isfinite(loss).all())
    head, tail = np.mean(loss[:10]), np.mean(loss[-10:])
    return finite and (phys["acc"] >= acc or (np.isfinite(tail) and tail < 0.5 * head))


def label(spec, phys, control):
    """The label from measured physics (and the repaired control run), before diagnosis."""
    kind = spec.get("fault")
    loss = np.asarray(phys["losses"])
    finite = bool(np.isfinite(loss).all())
    better = control is not None and control["acc"] >= phys["acc"] + 0.1
    if kind is None:
        return "healthy" if learns(phys, spec.get("acc", 0.8)) else "not_learning"
    if kind == "nonfinite":
        return "nonfinite" if not finite else "healthy"
    if kind == "overfitting":
        v = np.asarray(phys["val"])
        b = int(np.argmin(v))
        return "overfitting" if (v[-1] > 1.1 * v[b] and len(v) - b >= 3) else "healthy"
    if kind == "clipping":
        return "clipping" if phys["clipped"] > 0.5 * len(loss) else "healthy"
    if kind == "stale_gradients":  # .grad grows step after step (the sum of all gradients)
        g = np.asarray(phys["grad_norms"])
        return "stale_gradients" if np.median(g[-20:]) > 5 * np.median(g[:5]) else "healthy"
    if kind == "oscillating":  # big step-to-step swings, no blow-up, the control better
        tail = loss[-50:]
        d = np.diff(tail)
        swing = np.median(np.abs(d)) / np.median(np.abs(tail))
        flips = np.mean(np.sign(d[1:]) != np.sign(d[:-1]))
        if finite and better and np.max(loss) >= 2 * loss[0]:
            return "lr_too_high"  # it blew up on the way: a too-high rate, measured
        return "oscillating" if (finite and swing > 0.3 and flips > 0.4 and better) else "healthy"
    if kind == "no_gradient":
        return "no_gradient" if phys["frozen"] else "healthy"  # weights that never moved
    if kind == "not_learning":
        return "not_learning" if phys["acc"] < 0.25 else "healthy"
    if kind == "lr_too_high":
        return (
            "lr_too_high" if (not finite or np.nanmax(loss) > 2 * loss[0] or better) else "healthy"
        )
    # every other fault: it hurts when the repaired control learns clearly better
    return kind if better else "healthy"


def flagged(report):
    return sorted({f.kind for f in report.findings if f.severity in ("error", "warning")})


# ---- the runs ----

SGD = lambda lr, **kw: lambda p: cr.optim.SGD(p, lr=lr, **kw)  # noqa: E731
ADAM = lambda lr, **kw: lambda p: cr.optim.Adam(p, lr=lr, **kw)  # noqa: E731
he = lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")  # noqa: E731


def _uniform_small(w):
    nn.init.uniform_(w, -1 / math.sqrt(w.shape[1]), 1 / math.sqrt(w.shape[1]))


def specs():
    """Every run: name, how to build and train it, the injected fault and the repaired
    control (the same run with the fault removed) that decides whether it hurts."""
    deep = (64,) + (128,) * 11 + (10,)
    random_labels = np.random.default_rng(5).integers(0, 10, len(digits()[0]))
    out = [
        # ---- healthy, including unusual working models ----
        dict(name="mlp_relu_sgd", model=lambda: mlp(init=he)),
        dict(name="mlp_relu_adam3e-4", model=lambda: mlp(), opt=ADAM(3e-4), steps=300, acc=0.7),
        dict(name="mlp_tanh_xavier", model=lambda: mlp(act=nn.Tanh, init=nn.init.xavier_uniform_)),
        dict(
            name="mlp_sigmoid_shallow", model=lambda: mlp(act=nn.Sigmoid), opt=SGD(1.0), steps=200
        ),
        dict(name="mlp_batchnorm", model=lambda: mlp((64, 128, 128, 10), norm=nn.BatchNorm1d)),
        dict(name="resmlp_34", model=lambda: ResMLP(16), opt=ADAM(1e-3)),
        dict(name="cnn", model=CNN, opt=SGD(0.05, momentum=0.9)),
        dict(
            name="lstm", model=lambda: SeqNet(nn.LSTM), opt=ADAM(1e-2), seq=True, steps=150, acc=0.6
        ),
        dict(
            name="gru", model=lambda: SeqNet(nn.GRU), opt=ADAM(1e-2), seq=True, steps=150, acc=0.6
        ),
        dict(name="mlp_dropout", model=lambda: mlp((64, 128, 10), dropout=0.3)),
        dict(name="mlp_leaky", model=lambda: mlp(act=nn.LeakyReLU)),
        dict(name="mlp_gelu_adam", model=lambda: mlp(act=nn.GELU), opt=ADAM(1e-3)),
        dict(name="mlp_layernorm", model=lambda: mlp((64, 128, 128, 10), norm=nn.LayerNorm)),
        dict(
            name="mlp_plateau_100",
            model=lambda: mlp((64, 128, 10)),
            opt=ADAM(1e-2),
            train=200,
            steps=400,
        ),
        dict(name="mlp_clip_on", model=lambda: mlp(), clip=5.0),
        dict(
            name="mlp_adamw_wd",
            model=lambda: mlp(),
            opt=lambda p: cr.optim.AdamW(p, lr=1e-3, weight_decay=1e-2),
        ),
        dict(name="mlp_softsign_fn", model=lambda: FunctionalActs(F.softsign), opt=SGD(0.2)),
        dict(name="mlp_relu6_fn", model=lambda: FunctionalActs(F.relu6)),
        dict(name="mlp_elu_momentum", model=lambda: mlp(act=nn.ELU), opt=SGD(0.05, momentum=0.9)),
        dict(name="mlp_tanh_every10", model=lambda: mlp(act=nn.Tanh), every=10, steps=300),
        dict(
            name="rnn_tanh_short", model=lambda: SeqNet(nn.RNN), opt=ADAM(3e-3), seq=True, acc=0.6
        ),
        dict(name="deep_relu_he_sgd", model=lambda: mlp(deep, init=he), opt=SGD(0.02)),
        dict(
            name="mlp_silu_rmsprop",
            model=lambda: mlp(act=nn.SiLU),
            opt=lambda p: cr.optim.RMSprop(p, lr=1e-3),
        ),
        dict(
            name="mlp_sigmoid_adam",
            model=lambda: mlp((64, 128, 128, 10), act=nn.Sigmoid),
            opt=ADAM(3e-3),
        ),
        dict(name="mlp_selu", model=lambda: mlp(act=nn.SELU), opt=SGD(0.05)),
        # a slow start read early: the report after 40 steps, the label from all 200
        dict(
            name="mlp2_relu_adam1e-3_early",
            model=lambda: mlp((64, 32, 10)),
            opt=ADAM(1e-3),
            steps=200,
            report_at=40,
        ),
        # ---- vanishing ----
        dict(
            name="deep_sigmoid_xavier",
            fault="vanishing",
            model=lambda: mlp(
                (64,) + (128,) * 15 + (10,), act=nn.Sigmoid, init=nn.init.xavier_uniform_
            ),
            control=dict(model=lambda: mlp((64,) + (128,) * 15 + (10,), init=he)),
        ),
        dict(
            name="deep_sigmoid_default",
            fault="vanishing",
            model=lambda: mlp((64,) + (128,) * 12 + (10,), act=nn.Sigmoid, seed=1),
            control=dict(model=lambda: mlp((64,) + (128,) * 12 + (10,), init=he, seed=1)),
        ),
        dict(
            name="deep_tanh_small_init",
            fault="vanishing",
            model=lambda: mlp(deep, act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 0.02)),
            control=dict(model=lambda: mlp(deep, act=nn.Tanh, init=nn.init.xavier_uniform_)),
        ),
        # ---- exploding ----
        dict(
            name="deep_tanh_normal1",
            fault="exploding",
            model=lambda: mlp(deep, act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 1.0)),
            control=dict(model=lambda: mlp(deep, act=nn.Tanh, init=nn.init.xavier_uniform_)),
        ),
        dict(
            name="deep_relu_big_init",
            fault="exploding",
            model=lambda: mlp(deep, init=lambda w: nn.init.normal_(w, 0, 0.3)),
            opt=SGD(0.01),
            control=dict(model=lambda: mlp(deep, init=he)),
        ),
        dict(
            name="deep_relu_big_init2",
            fault="exploding",
            model=lambda: mlp(deep, init=lambda w: nn.init.normal_(w, 0, 0.3), seed=1),
            opt=SGD(0.01),
            control=dict(model=lambda: mlp(deep, init=he, seed=1)),
        ),
        dict(
            name="deep_tanh_normal1_adam",
            fault="exploding",
            opt=ADAM(1e-3),
            model=lambda: mlp(deep, act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 1.0), seed=2),
            control=dict(
                model=lambda: mlp(deep, act=nn.Tanh, init=nn.init.xavier_uniform_, seed=2)
            ),
        ),
        # ---- saturated ----
        dict(
            name="tanh_big_init",
            fault="saturated",
            model=lambda: mlp(
                (64, 128, 128, 10), act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 2.0)
            ),
            control=dict(
                model=lambda: mlp((64, 128, 128, 10), act=nn.Tanh, init=nn.init.xavier_uniform_)
            ),
        ),
        dict(
            name="sigmoid_big_init",
            fault="saturated",
            model=lambda: mlp(
                (64, 128, 128, 10), act=nn.Sigmoid, init=lambda w: nn.init.normal_(w, 0, 3.0)
            ),
            opt=SGD(0.5),
            control=dict(model=lambda: mlp((64, 128, 128, 10), act=nn.Sigmoid), opt=SGD(0.5)),
        ),
        # ---- dead ----
        dict(
            name="relu_negative_bias",
            fault="dead",
            model=lambda: mlp((64, 128, 128, 10), bias=-3.0),
            control=dict(model=lambda: mlp((64, 128, 128, 10))),
        ),
        dict(
            name="relu_negative_bias_adam",
            fault="dead",
            opt=ADAM(1e-3),
            model=lambda: mlp((64, 128, 128, 10), bias=-4.0, seed=2),
            control=dict(model=lambda: mlp((64, 128, 128, 10), seed=2)),
        ),
        # ---- learning rate ----
        dict(
            name="sgd_lr10",
            fault="lr_too_high",
            model=lambda: mlp(),
            opt=SGD(10.0),
            control=dict(opt=SGD(0.1)),
        ),
        dict(
            name="sgd_lr3_tanh",
            fault="lr_too_high",
            model=lambda: mlp(act=nn.Tanh),
            opt=SGD(30.0),
            control=dict(opt=SGD(0.1)),
        ),
        dict(
            name="adam_lr1",
            fault="lr_too_high",
            model=lambda: mlp(),
            opt=ADAM(1.0),
            control=dict(opt=ADAM(1e-3)),
        ),
        dict(
            name="sgd_lr1e-4",
            fault="lr_too_low",
            model=lambda: mlp(),
            opt=SGD(1e-4),
            control=dict(opt=SGD(0.1)),
        ),
        dict(
            name="sgd_lr3e-3",
            fault="lr_too_low",
            model=lambda: mlp(),
            opt=SGD(3e-3),
            control=dict(opt=SGD(0.1)),
        ),
        dict(
            name="adam_lr1e-6",
            fault="lr_too_low",
            model=lambda: mlp(),
            opt=ADAM(1e-6),
            control=dict(opt=ADAM(1e-3)),
        ),
        dict(
            name="lstm_lr_low",
            fault="lr_too_low",
            model=lambda: SeqNet(nn.LSTM),
            opt=SGD(0.01),
            seq=True,
            control=dict(opt=SGD(1.0)),
        ),
        # ---- gradients that do not arrive ----
        dict(name="detached_branch", fault="no_gradient", model=Detached),
        dict(
            name="not_in_optimizer",
            fault="no_gradient",
            model=lambda: mlp(),
            opt=lambda p: cr.optim.SGD(list(p)[:2], lr=0.1),
        ),
        # ---- NaN ----
        dict(name="log_of_relu", fault="nonfinite", model=LogRelu),
        dict(
            name="log_softmax_manual",
            fault="nonfinite",
            model=lambda: mlp(),
            loss=lambda out, y: (
                -cr.log(F.softmax(out * 1e4, dim=1)[np.arange(len(y.numpy())), y.numpy()]).mean()
            ),
        ),
        dict(
            name="sqrt_negative",
            fault="nonfinite",
            model=lambda: mlp(),
            loss=lambda out, y: cr.sqrt(out.mean(dim=1) - 1.0).mean() + F.cross_entropy(out, y),
        ),
        # ---- new kinds ----
        dict(
            name="forgot_zero_grad",
            fault="stale_gradients",
            model=lambda: mlp(),
            zero_grad=False,
            control=dict(zero_grad=True),
        ),
        dict(
            name="forgot_zero_grad_adam",
            fault="stale_gradients",
            model=lambda: mlp(seed=3),
            opt=ADAM(1e-3),
            zero_grad=False,
            control=dict(zero_grad=True),
        ),
        dict(
            name="random_labels",
            fault="not_learning",
            model=lambda: mlp((64, 32, 10)),
            labels=random_labels,
            train=1797,
        ),
        dict(
            name="random_labels_adam",
            fault="not_learning",
            model=lambda: mlp((64, 32, 10), seed=4),
            opt=ADAM(1e-3),
            labels=random_labels,
            train=1797,
        ),
        dict(
            name="overfit_small_train",
            fault="overfitting",
            model=lambda: mlp((64, 256, 10)),
            opt=ADAM(3e-3),
            train=40,
            steps=400,
            val_every=20,
        ),
        dict(
            name="overfit_small_train2",
            fault="overfitting",
            model=lambda: mlp((64, 256, 256, 10), seed=6),
            opt=ADAM(3e-3),
            train=30,
            steps=400,
            val_every=20,
        ),
        dict(
            name="pixels_x255",
            fault="unscaled_input",
            model=lambda: mlp(),
            scale=255.0,
            control=dict(scale=1.0),
        ),
        dict(
            name="pixels_x100_tanh",
            fault="unscaled_input",
            model=lambda: mlp(act=nn.Tanh),
            scale=100.0,
            control=dict(scale=1.0),
        ),
        dict(
            name="softmax_before_ce",
            fault="output_loss_mismatch",
            model=lambda: mlp(final=nn.Softmax(dim=1)),
            control=dict(model=lambda: mlp()),
        ),
        dict(
            name="softmax_before_ce_adam",
            fault="output_loss_mismatch",
            opt=ADAM(1e-3),
            model=lambda: mlp(final=nn.Softmax(dim=1), seed=7),
            control=dict(model=lambda: mlp(seed=7)),
        ),
        dict(
            name="sgd_momentum_oscillating",
            fault="oscillating",
            model=lambda: mlp(act=nn.Tanh),
            opt=SGD(1.0, momentum=0.9),
            control=dict(opt=SGD(0.2, momentum=0.9)),
        ),
        dict(
            name="sgd_momentum_oscillating_relu",
            fault="oscillating",
            model=lambda: mlp(seed=8),
            opt=SGD(1.0, momentum=0.9),
            control=dict(opt=SGD(0.2, momentum=0.9)),
        ),
        dict(
            name="sgd_momentum_oscillating_tanh2",
            fault="oscillating",
            model=lambda: mlp(act=nn.Tanh, seed=13),
            opt=SGD(1.0, momentum=0.9),
            control=dict(opt=SGD(0.2, momentum=0.9)),
        ),
        dict(
            name="sgd_momentum95_oscillating",
            fault="oscillating",
            model=lambda: mlp(seed=12),
            opt=SGD(0.5, momentum=0.95),
            control=dict(opt=SGD(0.1, momentum=0.95)),
        ),
        dict(
            name="forgot_zero_grad_tanh",
            fault="stale_gradients",
            model=lambda: mlp(act=nn.Tanh, seed=9),
            opt=SGD(0.05),
            zero_grad=False,
            control=dict(zero_grad=True),
        ),
        dict(
            name="softmax_before_ce_deep",
            fault="output_loss_mismatch",
            model=lambda: mlp((64, 128, 128, 10), final=nn.Softmax(dim=1), seed=10),
            control=dict(model=lambda: mlp((64, 128, 128, 10), seed=10)),
        ),
        dict(name="clip_tiny", fault="clipping", model=lambda: mlp(), clip=0.01, opt=SGD(0.1)),
    ]
    return out


def heldout_specs():
    """The held-out set: runs the thresholds were never tuned on (new seeds, widths, depths,
    optimizers and architectures), labelled by the same physics and frozen in
    ``labels_heldout.json`` (``--labels-only``) before any report was read."""
    deep_sig = (64,) + (96,) * 14 + (10,)
    deep = (64,) + (96,) * 11 + (10,)
    random_labels = np.random.default_rng(61).integers(0, 10, len(digits()[0]))
    return [
        # ---- healthy ----
        dict(name="h_mlp96_relu_sgd", model=lambda: mlp((64, 96, 10), seed=21)),
        dict(
            name="h_mlp48x2_tanh_xavier",
            model=lambda: mlp((64, 48, 48, 10), act=nn.Tanh, init=nn.init.xavier_uniform_, seed=22),
        ),
        dict(name="h_mlp_gelu_adam3e-3", model=lambda: mlp(act=nn.GELU, seed=23), opt=ADAM(3e-3)),
        dict(
            name="h_mlp_leaky_adam",
            model=lambda: mlp((64, 128, 64, 10), act=nn.LeakyReLU, seed=24),
            opt=ADAM(1e-3),
        ),
        dict(
            name="h_mlp_batchnorm_momentum",
            model=lambda: mlp((64, 64, 64, 10), norm=nn.BatchNorm1d, seed=25),
            opt=SGD(0.05, momentum=0.9),
        ),
        dict(
            name="h_mlp_layernorm_adam",
            model=lambda: mlp((64, 96, 96, 10), norm=nn.LayerNorm, seed=26),
            opt=ADAM(1e-3),
        ),
        dict(name="h_resmlp_8x48", model=lambda: ResMLP(8, 48, seed=27), opt=ADAM(1e-3)),
        dict(name="h_cnn_adam", model=lambda: CNN(seed=28), opt=ADAM(1e-3)),
        dict(
            name="h_gru48",
            model=lambda: SeqNet(nn.GRU, hidden=48, seed=29),
            opt=ADAM(5e-3),
            seq=True,
            acc=0.6,
        ),
        dict(
            name="h_lstm24",
            model=lambda: SeqNet(nn.LSTM, hidden=24, seed=30),
            opt=ADAM(1e-2),
            seq=True,
            acc=0.6,
        ),
        dict(
            name="h_mlp_dropout_adam",
            model=lambda: mlp((64, 96, 96, 10), dropout=0.2, seed=31),
            opt=ADAM(1e-3),
        ),
        dict(
            name="h_mlp_sigmoid_adam1e-2",
            model=lambda: mlp(act=nn.Sigmoid, seed=32),
            opt=ADAM(1e-2),
        ),
        dict(
            name="h_mlp_elu_rmsprop",
            model=lambda: mlp(act=nn.ELU, seed=33),
            opt=lambda p: cr.optim.RMSprop(p, lr=1e-3),
        ),
        dict(
            name="h_mlp_silu_momentum",
            model=lambda: mlp(act=nn.SiLU, seed=34),
            opt=SGD(0.05, momentum=0.9),
        ),
        dict(name="h_mlp_tanh_every5", model=lambda: mlp(act=nn.Tanh, seed=35), every=5, steps=300),
        dict(name="h_mlp_clip2_adam", model=lambda: mlp(seed=36), opt=ADAM(1e-3), clip=2.0),
        dict(
            name="h_mlp2_adam_early60",
            model=lambda: mlp((64, 48, 10), seed=37),
            opt=ADAM(1e-3),
            steps=250,
            report_at=60,
        ),
        dict(
            name="h_deep_relu_he",
            model=lambda: mlp((64,) + (96,) * 8 + (10,), init=he, seed=38),
            opt=SGD(0.02),
        ),
        dict(
            name="h_mlp_softplus_adam", model=lambda: mlp(act=nn.Softplus, seed=39), opt=ADAM(1e-3)
        ),
        dict(name="h_tanh_fn", model=lambda: FunctionalActs(F.tanh, seed=40)),
        dict(
            name="h_rnn48",
            model=lambda: SeqNet(nn.RNN, hidden=48, seed=41),
            opt=ADAM(3e-3),
            seq=True,
            acc=0.6,
        ),
        dict(
            name="h_mlp_adamw_b32",
            model=lambda: mlp(seed=42),
            batch=32,
            opt=lambda p: cr.optim.AdamW(p, lr=1e-3),
        ),
        # ---- faults ----
        dict(
            name="h_deep_sigmoid",
            fault="vanishing",
            model=lambda: mlp(deep_sig, act=nn.Sigmoid, seed=43),
            control=dict(model=lambda: mlp(deep_sig, init=he, seed=43)),
        ),
        dict(
            name="h_deep_tanh_tiny_init",
            fault="vanishing",
            model=lambda: mlp(
                deep, act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 0.01), seed=44
            ),
            control=dict(
                model=lambda: mlp(deep, act=nn.Tanh, init=nn.init.xavier_uniform_, seed=44)
            ),
        ),
        dict(
            name="h_deep_relu_big_init",
            fault="exploding",
            model=lambda: mlp(deep, init=lambda w: nn.init.normal_(w, 0, 0.25), seed=45),
            opt=SGD(0.01),
            control=dict(model=lambda: mlp(deep, init=he, seed=45)),
        ),
        dict(
            name="h_deep_tanh_normal1",
            fault="exploding",
            model=lambda: mlp(
                deep, act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 1.0), seed=46
            ),
            control=dict(
                model=lambda: mlp(deep, act=nn.Tanh, init=nn.init.xavier_uniform_, seed=46)
            ),
        ),
        dict(
            name="h_tanh_big_init",
            fault="saturated",
            model=lambda: mlp(
                (64, 96, 96, 10), act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 2.5), seed=47
            ),
            control=dict(
                model=lambda: mlp(
                    (64, 96, 96, 10), act=nn.Tanh, init=nn.init.xavier_uniform_, seed=47
                )
            ),
        ),
        dict(
            name="h_relu_negative_bias",
            fault="dead",
            model=lambda: mlp((64, 96, 96, 10), bias=-3.5, seed=48),
            control=dict(model=lambda: mlp((64, 96, 96, 10), seed=48)),
        ),
        dict(
            name="h_sgd_lr20",
            fault="lr_too_high",
            model=lambda: mlp(seed=49),
            opt=SGD(20.0),
            control=dict(opt=SGD(0.1)),
        ),
        dict(
            name="h_adam_lr0.5",
            fault="lr_too_high",
            model=lambda: mlp(seed=50),
            opt=ADAM(0.5),
            control=dict(opt=ADAM(1e-3)),
        ),
        dict(
            name="h_sgd_lr3e-4",
            fault="lr_too_low",
            model=lambda: mlp(seed=51),
            opt=SGD(3e-4),
            control=dict(opt=SGD(0.1)),
        ),
        dict(
            name="h_adam_lr3e-6",
            fault="lr_too_low",
            model=lambda: mlp(seed=52),
            opt=ADAM(3e-6),
            control=dict(opt=ADAM(1e-3)),
        ),
        dict(
            name="h_gru_lr_low",
            fault="lr_too_low",
            model=lambda: SeqNet(nn.GRU, seed=53),
            opt=SGD(0.01),
            seq=True,
            control=dict(opt=SGD(1.0)),
        ),
        dict(name="h_detached_branch", fault="no_gradient", model=lambda: Detached(seed=54)),
        dict(
            name="h_first_layer_not_in_optimizer",
            fault="no_gradient",
            model=lambda: mlp(seed=55),
            opt=lambda p: cr.optim.SGD(list(p)[2:], lr=0.1),
        ),
        dict(name="h_log_of_relu", fault="nonfinite", model=lambda: LogRelu(seed=56)),
        dict(
            name="h_sqrt_negative",
            fault="nonfinite",
            model=lambda: mlp((64, 48, 10), seed=57),
            loss=lambda out, y: cr.sqrt(out.mean(dim=1) - 2.0).mean() + F.cross_entropy(out, y),
        ),
        dict(
            name="h_forgot_zero_grad",
            fault="stale_gradients",
            model=lambda: mlp(seed=58),
            zero_grad=False,
            control=dict(zero_grad=True),
        ),
        dict(
            name="h_forgot_zero_grad_adam",
            fault="stale_gradients",
            model=lambda: mlp((64, 96, 10), seed=59),
            opt=ADAM(1e-3),
            zero_grad=False,
            control=dict(zero_grad=True),
        ),
        dict(
            name="h_random_labels",
            fault="not_learning",
            model=lambda: mlp((64, 48, 10), seed=60),
            labels=random_labels,
            train=1797,
        ),
        dict(
            name="h_overfit_small_train",
            fault="overfitting",
            model=lambda: mlp((64, 192, 10), seed=62),
            opt=ADAM(3e-3),
            train=35,
            steps=400,
            val_every=20,
        ),
        dict(
            name="h_pixels_x200",
            fault="unscaled_input",
            model=lambda: mlp(seed=63),
            scale=200.0,
            control=dict(scale=1.0),
        ),
        dict(
            name="h_softmax_before_ce",
            fault="output_loss_mismatch",
            model=lambda: mlp((64, 96, 10), final=nn.Softmax(dim=1), seed=64),
            control=dict(model=lambda: mlp((64, 96, 10), seed=64)),
        ),
        dict(
            name="h_momentum_oscillating",
            fault="oscillating",
            model=lambda: mlp(act=nn.Tanh, seed=65),
            opt=SGD(1.0, momentum=0.9),
            control=dict(opt=SGD(0.2, momentum=0.9)),
        ),
        dict(
            name="h_clip_tiny",
            fault="clipping",
            model=lambda: mlp(seed=66),
            clip=0.02,
            opt=SGD(0.1),
        ),
    ]


SETS = {"tuned": ("labels.json", specs), "heldout": ("labels_heldout.json", heldout_specs)}


REPAIRABLE = (
    "vanishing",
    "exploding",
    "saturated",
    "dead",
    "lr_too_high",
    "lr_too_low",
    "oscillating",
    "unscaled_input",
    "output_loss_mismatch",
    "clipping",
)


def _optimizer_with_lr(factory):
    """A spec's ``opt`` (``params -> optimizer``) as ``repair``'s ``(params, lr) -> optimizer``
    and its learning rate, read from an optimizer built on a probe parameter."""
    lr = factory([nn.Parameter(cr.zeros(1))]).param_groups[0]["lr"]

    def make(params, lr_):
        opt = factory(params)
        for g in opt.param_groups:
            g["lr"] = lr_
        return opt

    return make, lr


def repair_rows(specs_, labels):
    """``cr.diagnostics.repair`` on every run labelled with a repairable kind: the remedy it
    recommends and the held-out accuracy before and after (same budget, fresh copies)."""
    from chainrule.diagnostics import repair

    X, Y = digits()
    rows = []
    for spec in specs_:
        lab = labels.get(spec["name"])
        if lab not in REPAIRABLE:
            continue
        shape = (-1, 8, 8) if spec.get("seq") else (-1, 64)
        scale = spec.get("scale", 1.0)
        x, xv = (a * scale for a in (X[:1400], X[1400:]))
        optimizer, lr = _optimizer_with_lr(spec.get("opt", SGD(0.1)))
        with np.errstate(all="ignore"):
            result = repair(
                spec["model"],
                spec.get("loss", F.cross_entropy),
                (x.reshape(shape), Y[:1400]),
                eval_data=(xv.reshape(shape), Y[1400:]),
                optimizer=optimizer,
                lr=lr,
                clip=spec.get("clip"),
                steps=spec.get("steps", 150),
            )
        best = result.best
        rows.append(
            {
                "name": spec["name"],
                "label": lab,
                "found": lab in result.original.problems,
                "remedy": None if best is None else best.description,
                "tried": len(result.trials),
                "acc_before": result.original.accuracy,
                "acc_after": None if best is None else best.accuracy,
            }
        )
        r = rows[-1]
        after = "-" if r["acc_after"] is None else f"{r['acc_after']:.2f}"
        print(
            f"{r['name']:<30} {lab:<22} {str(r['remedy']):<62} {r['acc_before']:.2f} -> {after}",
            flush=True,
        )
    fixed = sum(r["remedy"] is not None for r in rows)
    print(f"repaired {fixed} of {len(rows)} runs with a repairable label")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--set",
        choices=sorted(SETS),
        default="tuned",
        help="tuned: the runs the thresholds were developed on; heldout: runs never used "
        "for tuning (labels frozen in labels_heldout.json before scoring)",
    )
    ap.add_argument("--only", default=None, help="run only names or faults containing this")
    ap.add_argument("--json", default=None, help="write the per-run results here")
    ap.add_argument(
        "--repair",
        action="store_true",
        help="then run cr.diagnostics.repair on the runs with a repairable label",
    )
    ap.add_argument(
        "--labels",
        default=None,
        help="where the labels are written (default: the set's labels file for a full run)",
    )
    ap.add_argument(
        "--labels-only",
        action="store_true",
        help="measure the physics and write the labels; read no report (to freeze the "
        "labels before any scoring)",
    )
    args = ap.parse_args(argv)
    labels_name, make_specs = SETS[args.set]
    runs = [
        s
        for s in make_specs()
        if args.only is None or args.only in s["name"] or args.only == s.get("fault")
    ]
    if args.labels is None and args.only is None:
        args.labels = os.path.join(os.path.dirname(__file__), labels_name)
    frozen = {}
    if args.labels and not args.labels_only and os.path.exists(args.labels):
        with open(args.labels) as f:
            frozen = json.load(f)  # scored against these; a run that measures otherwise is said
    results, labels = [], {}
    t0 = time.time()
    for spec in runs:
        phys = run(spec)
        control = None
        if spec.get("control"):
            control = run({**spec, **spec["control"], "fault": None})
        lab = label(spec, phys, control)
        labels[spec["name"]] = lab  # decided before the report is read
        if frozen.get(spec["name"], lab) != lab:
            print(f"{spec['name']}: measured {lab}, frozen {frozen[spec['name']]}: scored frozen")
            lab = frozen[spec["name"]]
        if args.labels_only:
            print(f"{spec['name']:<32} label={lab}", flush=True)
            continue
        if args.labels and not frozen:
            with open(args.labels, "w") as f:
                json.dump(labels, f, indent=1)
        report = phys["early"] if phys["early"] is not None else phys["monitor"].report()
        results.append(
            {
                "name": spec["name"],
                "fault": spec.get("fault"),
                "label": lab,
                "monitor": flagged(report),
                "check": flagged(phys["check"]),
                "acc": phys["acc"],
                "control_acc": None if control is None else control["acc"],
                "loss_last": phys["losses"][-1],
                "report": str(report) if args.json else None,
            }
        )
        r = results[-1]
        print(
            f"{r['name']:<32} label={lab:<22} monitor={r['monitor']} check={r['check']} "
            f"acc={r['acc']:.2f}",
            flush=True,
        )
    if args.labels_only:
        if args.labels:
            with open(args.labels, "w") as f:
                json.dump(labels, f, indent=1)
        return labels
    print(summary(results, time.time() - t0))
    if args.repair:
        repair_rows(runs, labels)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


def summary(results, seconds=None):
    kinds = sorted(
        {r["label"] for r in results} - {"healthy"} | {k for r in results for k in r["monitor"]}
    )
    lines = [
        f"{len(results)} runs" + (f" in {seconds:.0f} s" if seconds else ""),
        f"{'kind':<22}{'labelled':>9}{'flagged':>9}{'precision':>11}{'recall':>8}",
    ]
    for k in kinds:
        labelled = [r for r in results if r["label"] == k]
        flag = [r for r in results if k in r["monitor"]]
        ok = [r for r in flag if r["label"] == k or k in ACCEPTS.get(r["label"], ())]
        hit = [r for r in labelled if k in r["monitor"]]
        prec = len(ok) / len(flag) if flag else float("nan")
        rec = len(hit) / len(labelled) if labelled else float("nan")
        lines.append(f"{k:<22}{len(labelled):>9}{len(flag):>9}{prec:>11.2f}{rec:>8.2f}")
    flags = [k for r in results for k in r["monitor"]]
    good = [
        k
        for r in results
        for k in r["monitor"]
        if k == r["label"] or k in ACCEPTS.get(r["label"], ())
    ]
    faulty = [r for r in results if r["label"] != "healthy"]
    found = [r for r in faulty if r["label"] in r["monitor"]]
    healthy = [r for r in results if r["label"] == "healthy"]
    lines.append(
        f"overall precision {len(good) / max(len(flags), 1):.2f}, recall "
        f"{len(found) / max(len(faulty), 1):.2f}"
    )
    lines.append(
        f"healthy runs flagged by the monitor: {sum(bool(r['monitor']) for r in healthy)}"
        f" of {len(healthy)}; warned by check(): "
        f"{sum(bool(r['check']) for r in healthy)} of {len(healthy)}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
