"""Fault-injection benchmark of the diagnostics on PyTorch models (through the torch adapter).

The same protocol as :mod:`benchmarks.diagnostics.fault_injection`, whose labelling (``label``,
``learns``), scoring (``flagged``, ``ACCEPTS``, ``summary``) and data (``digits``) it reuses:
each run trains a small torch model on digits, with or without an injected fault; its label
comes from measured physics only (does it learn, does the repaired control learn clearly
better), frozen in ``labels_torch.json`` (``--labels-only``) before any report is read; then
``GradientMonitor(...).report()`` and ``check()`` are scored.

Every run is seeded (``torch.manual_seed``, the batches from NumPy) and single-threaded; each
takes a few seconds at most, a set well under a minute.

Three sets: ``tuned`` (:func:`specs`, 24 runs: the adapter's bugs were found and fixed on
them), ``heldout`` (:func:`heldout_specs`, 32 runs: first scored after the first fix; the
later rule fixes were found on it, so it is held out no longer) and ``fresh``
(:func:`fresh_specs`, 22 runs written after every fix and scored once). Each set's labels were
frozen before any of its reports was read.

Run::

    python -m benchmarks.diagnostics.torch_faults                  # the tuned set, a table
    python -m benchmarks.diagnostics.torch_faults --set fresh      # the second held-out set
    python -m benchmarks.diagnostics.torch_faults --set fresh --labels-only  # freeze labels
    python -m benchmarks.diagnostics.torch_faults --only dead      # names or faults with "dead"
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
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402
from torch import nn  # noqa: E402

from benchmarks.diagnostics.fault_injection import digits, flagged, label, summary  # noqa: E402
from chainrule.diagnostics import GradientMonitor, check  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = os.path.join(HERE, "labels_torch.json")
LABELS_HELDOUT = os.path.join(HERE, "labels_torch_heldout.json")


def batches(n_steps, batch=64, seed=0, train=1400, scale=1.0, seq=False):
    """The same batches as fault_injection's, as torch tensors."""
    X, y = digits()
    rng = np.random.default_rng(seed)
    for _ in range(n_steps):
        i = rng.integers(0, min(train, len(X)), batch)
        x = X[i] * scale
        yield torch.from_numpy(x.reshape(-1, 8, 8) if seq else x), torch.from_numpy(y[i])


def evaluate(model, seq=False, scale=1.0, start=1400):
    X, y = digits()
    x = X[start:] * scale
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(x.reshape(-1, 8, 8) if seq else x))
    model.train()
    return float((out.argmax(1).numpy() == y[start:]).mean())


# ---- models ----


def mlp(widths=(64, 64, 10), act=nn.ReLU, init=None, bias=None, norm=None, seed=0, final=None):
    torch.manual_seed(seed)
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
    if final is not None:
        layers.append(final)
    return nn.Sequential(*layers)


class ResMLP(nn.Module):
    def __init__(self, depth=8, width=64, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.inp = nn.Linear(64, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.LayerNorm(width), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width)
            )
            for _ in range(depth)
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
        torch.manual_seed(seed)
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = x.reshape(-1, 1, 8, 8)
        x = TF.relu(self.c1(x))  # functional: seen by the adapter's activation watch
        x = self.pool(TF.relu(self.c2(x)))
        return self.fc(x.flatten(1))


class SeqNet(nn.Module):
    """An RNN over the 8 rows of a digit (8 steps of 8 pixels), classified from the last step."""

    def __init__(self, cell=nn.LSTM, hidden=32, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.rnn = cell(8, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class Detached(nn.Module):
    """A hidden layer whose output is detached: its weights never receive a gradient."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.fc1 = nn.Linear(64, 64)
        self.fc2 = nn.Linear(64, 10)
        self.skip = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)).detach()) + self.skip(x)


# ---- one run ----


def run(spec):
    """Train as ``spec`` says (keys as in fault_injection.run, torch factories); returns the
    physics (losses, accuracy, gradient norms, frozen tensors) and the monitor."""
    torch.set_num_threads(1)
    model = spec["model"]()
    opt = spec.get("opt", SGD(0.1))(model.parameters())
    sched = spec["sched"](opt) if spec.get("sched") else None
    seq, scale = spec.get("seq", False), spec.get("scale", 1.0)
    loss_fn = spec.get("loss", TF.cross_entropy)
    start = [p.detach().clone() for p in model.parameters()]
    x0, y0 = next(batches(1, seed=99, seq=seq, scale=scale))
    pre = check(model, loss_fn, (x0, y0))
    monitor = GradientMonitor(model, optimizer=opt, every=spec.get("every", 1))
    losses, grad_norms = [], []
    data = batches(
        spec.get("steps", 150),
        batch=spec.get("batch", 64),
        seed=spec.get("seed", 0),
        seq=seq,
        scale=scale,
        train=spec.get("train", 1400),
    )
    for x, y in data:
        if spec.get("zero_grad", True):
            opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        grads = [p.grad.double() for p in model.parameters() if p.grad is not None]
        grad_norms.append(math.sqrt(sum(float((g * g).sum()) for g in grads)))
        opt.step()
        if sched is not None:
            sched.step()
        monitor.step(loss)
        losses.append(float(loss.detach()))
    acc = evaluate(model, seq=seq, scale=scale) if math.isfinite(losses[-1]) else 0.0
    frozen = sum(torch.equal(w, p.detach()) for w, p in zip(start, model.parameters(), strict=True))
    return {
        "losses": losses,
        "val": [],
        "acc": acc,
        "grad_norms": grad_norms,
        "frozen": frozen,
        "clipped": 0,
        "monitor": monitor,
        "check": pre,
    }


# ---- the runs ----

SGD = lambda lr, **kw: lambda p: torch.optim.SGD(p, lr=lr, **kw)  # noqa: E731
ADAM = lambda lr, **kw: lambda p: torch.optim.Adam(p, lr=lr, **kw)  # noqa: E731
he = lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")  # noqa: E731
DEEP_SIG = (64,) + (128,) * 12 + (10,)
DEEP = (64,) + (128,) * 11 + (10,)


def log_softmax_nll(out, y):
    """log(softmax) by hand before NLL: the softmax of sharp logits underflows to 0, log gives
    -inf, the loss inf and the gradient NaN."""
    return TF.nll_loss(torch.log(torch.softmax(out * 1e4, dim=1)), y)


def specs():
    """Every run: name, how to build and train it, the injected fault and the repaired control
    (the same run with the fault removed) that decides whether it hurts."""
    return [
        # ---- healthy ----
        dict(name="t_mlp_relu_sgd", model=lambda: mlp(seed=1)),
        dict(name="t_mlp_relu_adam", model=lambda: mlp(seed=2), opt=ADAM(1e-3)),
        dict(
            name="t_mlp_batchnorm",
            model=lambda: mlp((64, 128, 128, 10), norm=nn.BatchNorm1d, seed=3),
        ),
        dict(name="t_cnn", model=lambda: CNN(seed=4), opt=SGD(0.05, momentum=0.9)),
        dict(name="t_resmlp_8", model=lambda: ResMLP(8, seed=5), opt=ADAM(1e-3)),
        dict(
            name="t_lstm_rows",
            model=lambda: SeqNet(nn.LSTM, seed=6),
            opt=ADAM(1e-2),
            seq=True,
            acc=0.6,
        ),
        dict(
            name="t_gru_rows",
            model=lambda: SeqNet(nn.GRU, seed=7),
            opt=ADAM(1e-2),
            seq=True,
            acc=0.6,
        ),
        dict(
            name="t_mlp_tanh_xavier",
            model=lambda: mlp(act=nn.Tanh, init=nn.init.xavier_uniform_, seed=8),
        ),
        dict(
            name="t_plateau_100",
            model=lambda: mlp((64, 128, 10), seed=9),
            opt=ADAM(1e-2),
            train=200,
            steps=400,
        ),
        dict(
            name="t_adamw_cosine",
            model=lambda: mlp((64, 96, 10), seed=10),
            opt=lambda p: torch.optim.AdamW(p, lr=3e-3, weight_decay=1e-2),
            sched=lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=150),
        ),
        dict(
            name="t_mlp_gelu_momentum",
            model=lambda: mlp(act=nn.GELU, seed=11),
            opt=SGD(0.05, momentum=0.9),
        ),
        dict(
            name="t_mlp_layernorm_adam",
            model=lambda: mlp((64, 96, 96, 10), norm=nn.LayerNorm, seed=12),
            opt=ADAM(1e-3),
        ),
        # ---- faults ----
        dict(
            name="t_deep_sigmoid",
            fault="vanishing",
            model=lambda: mlp(DEEP_SIG, act=nn.Sigmoid, seed=20),
            control=dict(model=lambda: mlp(DEEP_SIG, init=he, seed=20)),
        ),
        dict(
            name="t_sgd_lr10_nan",
            fault="lr_too_high",
            model=lambda: mlp(seed=21),
            opt=SGD(10.0),
            control=dict(opt=SGD(0.1)),
        ),
        dict(
            name="t_adam_lr1",
            fault="lr_too_high",
            model=lambda: mlp(seed=22),
            opt=ADAM(1.0),
            control=dict(opt=ADAM(1e-3)),
        ),
        dict(
            name="t_sgd_lr1e-4",
            fault="lr_too_low",
            model=lambda: mlp(seed=23),
            opt=SGD(1e-4),
            control=dict(opt=SGD(0.1)),
        ),
        dict(
            name="t_adam_lr1e-6",
            fault="lr_too_low",
            model=lambda: mlp(seed=24),
            opt=ADAM(1e-6),
            control=dict(opt=ADAM(1e-3)),
        ),
        dict(
            name="t_relu_negative_bias",
            fault="dead",
            model=lambda: mlp((64, 128, 128, 10), bias=-3.0, seed=25),
            control=dict(model=lambda: mlp((64, 128, 128, 10), seed=25)),
        ),
        dict(
            name="t_deep_relu_big_init",
            fault="exploding",
            model=lambda: mlp(DEEP, init=lambda w: nn.init.normal_(w, 0, 0.3), seed=26),
            opt=SGD(0.01),
            control=dict(model=lambda: mlp(DEEP, init=he, seed=26)),
        ),
        dict(
            name="t_forgot_zero_grad",
            fault="stale_gradients",
            model=lambda: mlp(seed=27),
            zero_grad=False,
            control=dict(zero_grad=True),
        ),
        dict(
            name="t_log_softmax_nll",
            fault="nonfinite",
            model=lambda: mlp(seed=28),
            loss=log_softmax_nll,
        ),
        dict(
            name="t_softmax_before_ce",
            fault="output_loss_mismatch",
            model=lambda: mlp(final=nn.Softmax(dim=1), seed=29),
            control=dict(model=lambda: mlp(seed=29)),
        ),
        dict(
            name="t_pixels_x255",
            fault="unscaled_input",
            model=lambda: mlp(seed=30),
            scale=255.0,
            control=dict(scale=1.0),
        ),
        dict(name="t_detached_layer", fault="no_gradient", model=lambda: Detached(seed=31)),
    ]


class FnMLP(nn.Module):
    """An MLP whose activation is a function in ``forward`` (no module for the hooks)."""

    def __init__(self, widths=(64, 96, 96, 10), act=torch.relu, bias=None, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        pairs = zip(widths[:-1], widths[1:], strict=True)
        self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in pairs)
        if bias is not None:
            for fc in self.fcs[:-1]:
                nn.init.constant_(fc.bias, bias)
        self.act = act

    def forward(self, x):
        for fc in self.fcs[:-1]:
            x = self.act(fc(x))
        return self.fcs[-1](x)


class ResBN(nn.Module):
    """Residual blocks Linear-BatchNorm-ReLU-Linear."""

    def __init__(self, depth=4, width=64, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.inp = nn.Linear(64, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, width)
            )
            for _ in range(depth)
        )
        self.out = nn.Linear(width, 10)

    def forward(self, x):
        h = self.inp(x)
        for b in self.blocks:
            h = torch.relu(h + b(h))
        return self.out(h)


class BNCNN(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(32, 10),
        )

    def forward(self, x):
        return self.body(x.reshape(-1, 1, 8, 8))


class SeqNet2(nn.Module):
    """A 2-layer LSTM over the rows."""

    def __init__(self, hidden=32, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.rnn = nn.LSTM(8, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        _, (h, _) = self.rnn(x)
        return self.head(h[-1])


def heldout_specs():
    """Runs never used while fixing the adapter: new seeds, widths, optimizers, schedulers,
    losses and architectures; labels frozen in labels_torch_heldout.json before scoring."""
    deep_sig = (64,) + (64,) * 10 + (10,)
    deep_tanh = (64,) + (96,) * 12 + (10,)
    ce_smooth = nn.CrossEntropyLoss(label_smoothing=0.1)
    rms = lambda lr: lambda p: torch.optim.RMSprop(p, lr=lr)  # noqa: E731
    return [
        # ---- healthy ----
        dict(
            name="u_mlp128x2_adam_b32",
            model=lambda: mlp((64, 128, 128, 10), seed=101),
            opt=ADAM(1e-3),
            batch=32,
        ),
        dict(name="u_bn_cnn_adam", model=lambda: BNCNN(seed=102), opt=ADAM(1e-3)),
        dict(
            name="u_gru64",
            model=lambda: SeqNet(nn.GRU, hidden=64, seed=103),
            opt=ADAM(3e-3),
            seq=True,
            acc=0.6,
        ),
        dict(
            name="u_lstm_2layer",
            model=lambda: SeqNet2(seed=104),
            opt=ADAM(5e-3),
            seq=True,
            steps=200,
            acc=0.6,
        ),
        dict(
            name="u_adamw_smooth_steplr",
            model=lambda: mlp((64, 128, 10), seed=105),
            opt=lambda p: torch.optim.AdamW(p, lr=2e-3, weight_decay=5e-2),
            sched=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=50, gamma=0.5),
            loss=ce_smooth,
        ),
        dict(
            name="u_tanh_momentum",
            model=lambda: mlp((64, 96, 96, 10), act=nn.Tanh, seed=106),
            opt=SGD(0.05, momentum=0.9),
        ),
        dict(
            name="u_plateau_100_train100",
            model=lambda: mlp((64, 128, 10), seed=107),
            opt=ADAM(3e-3),
            train=100,
            steps=500,
            acc=0.7,
        ),
        dict(name="u_resbn", model=lambda: ResBN(seed=108), opt=SGD(0.05, momentum=0.9)),
        dict(name="u_fn_silu", model=lambda: FnMLP(act=TF.silu, seed=109), opt=ADAM(1e-3)),
        dict(
            name="u_sigmoid_adam",
            model=lambda: mlp((64, 64, 10), act=nn.Sigmoid, seed=110),
            opt=ADAM(5e-3),
        ),
        dict(name="u_leaky_rmsprop", model=lambda: mlp(act=nn.LeakyReLU, seed=111), opt=rms(1e-3)),
        dict(
            name="u_onecycle_sgd",
            model=lambda: mlp((64, 128, 10), seed=112),
            opt=SGD(0.1, momentum=0.9),
            sched=lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=150),
        ),
        # ---- faults ----
        dict(
            name="u_deep_sigmoid_momentum",
            fault="vanishing",
            model=lambda: mlp(deep_sig, act=nn.Sigmoid, seed=120),
            opt=SGD(0.05, momentum=0.9),
            control=dict(model=lambda: mlp(deep_sig, init=he, seed=120)),
        ),
        dict(
            name="u_deep_tanh_tiny_init",
            fault="vanishing",
            model=lambda: mlp(
                deep_tanh, act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 0.01), seed=121
            ),
            control=dict(
                model=lambda: mlp(deep_tanh, act=nn.Tanh, init=nn.init.xavier_uniform_, seed=121)
            ),
        ),
        dict(
            name="u_sgd_lr5_momentum",
            fault="lr_too_high",
            model=lambda: mlp(seed=122),
            opt=SGD(5.0, momentum=0.9),
            control=dict(opt=SGD(0.05, momentum=0.9)),
        ),
        dict(
            name="u_adam_lr0.3",
            fault="lr_too_high",
            model=lambda: mlp((64, 128, 10), seed=123),
            opt=ADAM(0.3),
            control=dict(opt=ADAM(1e-3)),
        ),
        dict(
            name="u_rmsprop_lr1",
            fault="lr_too_high",
            model=lambda: mlp(seed=124),
            opt=rms(1.0),
            control=dict(opt=rms(1e-3)),
        ),
        dict(
            name="u_sgd_lr1e-5",
            fault="lr_too_low",
            model=lambda: mlp((64, 128, 10), seed=125),
            opt=SGD(1e-5),
            control=dict(opt=SGD(0.1)),
        ),
        dict(
            name="u_adam_lr1e-5",
            fault="lr_too_low",
            model=lambda: mlp(seed=126),
            opt=ADAM(1e-5),
            control=dict(opt=ADAM(1e-3)),
        ),
        dict(
            name="u_relu_bias-5_adam",
            fault="dead",
            model=lambda: mlp((64, 96, 96, 10), bias=-5.0, seed=127),
            opt=ADAM(1e-3),
            control=dict(model=lambda: mlp((64, 96, 96, 10), seed=127)),
        ),
        dict(
            name="u_fn_relu_bias-3",
            fault="dead",
            model=lambda: FnMLP(bias=-3.0, seed=128),
            control=dict(model=lambda: FnMLP(seed=128)),
        ),
        dict(
            name="u_deep_tanh_normal1",
            fault="exploding",
            model=lambda: mlp(
                deep_tanh, act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 1.0), seed=129
            ),
            control=dict(
                model=lambda: mlp(deep_tanh, act=nn.Tanh, init=nn.init.xavier_uniform_, seed=129)
            ),
        ),
        dict(
            name="u_deep_relu_big_init_adam",
            fault="exploding",
            model=lambda: mlp(DEEP, init=lambda w: nn.init.normal_(w, 0, 0.25), seed=130),
            opt=ADAM(1e-3),
            control=dict(model=lambda: mlp(DEEP, init=he, seed=130)),
        ),
        dict(
            name="u_forgot_zero_grad_momentum",
            fault="stale_gradients",
            model=lambda: mlp((64, 128, 10), seed=131),
            opt=SGD(0.05, momentum=0.9),
            zero_grad=False,
            control=dict(zero_grad=True),
        ),
        dict(
            name="u_forgot_zero_grad_adam",
            fault="stale_gradients",
            model=lambda: mlp(seed=132),
            opt=ADAM(1e-3),
            zero_grad=False,
            control=dict(zero_grad=True),
        ),
        dict(
            name="u_log_softmax_nll_adam",
            fault="nonfinite",
            model=lambda: mlp((64, 128, 10), seed=133),
            opt=ADAM(1e-3),
            loss=log_softmax_nll,
        ),
        dict(
            name="u_softmax_before_ce_adam",
            fault="output_loss_mismatch",
            model=lambda: mlp((64, 128, 10), final=nn.Softmax(dim=1), seed=134),
            opt=ADAM(1e-3),
            control=dict(model=lambda: mlp((64, 128, 10), seed=134)),
        ),
        dict(
            name="u_softmax_before_ce_deep",
            fault="output_loss_mismatch",
            model=lambda: mlp((64, 96, 96, 10), final=nn.Softmax(dim=1), seed=135),
            control=dict(model=lambda: mlp((64, 96, 96, 10), seed=135)),
        ),
        dict(
            name="u_pixels_x255_adam",
            fault="unscaled_input",
            model=lambda: mlp(seed=136),
            opt=ADAM(1e-3),
            scale=255.0,
            control=dict(scale=1.0),
        ),
        dict(
            name="u_pixels_x100_tanh",
            fault="unscaled_input",
            model=lambda: mlp(act=nn.Tanh, seed=137),
            scale=100.0,
            control=dict(scale=1.0),
        ),
        dict(name="u_detached_layer", fault="no_gradient", model=lambda: Detached(seed=138)),
        dict(
            name="u_first_layer_not_in_optimizer",
            fault="no_gradient",
            model=lambda: mlp(seed=139),
            opt=lambda p: torch.optim.SGD(list(p)[2:], lr=0.1),
        ),
    ]


class LogRelu(nn.Module):
    """log of a ReLU output: -inf at the first unit that does not fire."""

    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.fc1, self.fc2 = nn.Linear(64, 48), nn.Linear(48, 10)

    def forward(self, x):
        return self.fc2(torch.log(torch.relu(self.fc1(x))))


def fresh_specs():
    """A second held-out set, written after the adapter fixes and scored once: labels frozen
    in labels_torch_fresh.json before any report was read; nothing was changed after."""
    deep_sig = (64,) + (80,) * 12 + (10,)
    deep = (64,) + (80,) * 12 + (10,)
    nesterov = SGD(0.05, momentum=0.9, nesterov=True)
    adamax = lambda lr: lambda p: torch.optim.Adamax(p, lr=lr)  # noqa: E731
    return [
        # ---- healthy ----
        dict(name="f_mlp80_nesterov", model=lambda: mlp((64, 80, 10), seed=201), opt=nesterov),
        dict(name="f_cnn_adamax", model=lambda: CNN(seed=202), opt=adamax(2e-3)),
        dict(name="f_bn_cnn_sgd", model=lambda: BNCNN(seed=203), opt=SGD(0.1, momentum=0.9)),
        dict(
            name="f_gru24_rmsprop",
            model=lambda: SeqNet(nn.GRU, hidden=24, seed=204),
            opt=lambda p: torch.optim.RMSprop(p, lr=3e-3),
            seq=True,
            acc=0.6,
        ),
        dict(
            name="f_lstm48_adam",
            model=lambda: SeqNet(nn.LSTM, hidden=48, seed=205),
            opt=ADAM(5e-3),
            seq=True,
            acc=0.6,
        ),
        dict(name="f_resmlp4_sgd", model=lambda: ResMLP(4, 48, seed=206), opt=SGD(0.05)),
        dict(
            name="f_tanh_fn_adam",
            model=lambda: FnMLP((64, 64, 64, 10), act=torch.tanh, seed=207),
            opt=ADAM(2e-3),
        ),
        dict(
            name="f_bn_sigmoid_sgd",
            model=lambda: mlp((64, 96, 96, 10), act=nn.Sigmoid, norm=nn.BatchNorm1d, seed=208),
            opt=SGD(0.2),
        ),
        dict(
            name="f_plateau_train50",
            model=lambda: mlp((64, 64, 10), seed=209),
            opt=ADAM(5e-3),
            train=50,
            steps=400,
            acc=0.5,
        ),
        dict(
            name="f_adamw_linear_warmup",
            model=lambda: mlp((64, 128, 64, 10), act=nn.GELU, seed=210),
            opt=lambda p: torch.optim.AdamW(p, lr=2e-3, weight_decay=0.05),
            sched=lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=30),
        ),
        # ---- faults ----
        dict(
            name="f_deep_sigmoid_sgd",
            fault="vanishing",
            model=lambda: mlp(deep_sig, act=nn.Sigmoid, seed=220),
            opt=SGD(0.2),
            control=dict(model=lambda: mlp(deep_sig, init=he, seed=220)),
        ),
        dict(
            name="f_cnn_sgd_lr3",
            fault="lr_too_high",
            model=lambda: CNN(seed=221),
            opt=SGD(3.0, momentum=0.9),
            control=dict(opt=SGD(0.05, momentum=0.9)),
        ),
        dict(
            name="f_lstm_lr_low",
            fault="lr_too_low",
            model=lambda: SeqNet(nn.LSTM, seed=222),
            opt=ADAM(1e-5),
            seq=True,
            control=dict(opt=ADAM(1e-2)),
        ),
        dict(
            name="f_relu_bias-4_sgd",
            fault="dead",
            model=lambda: mlp((64, 80, 80, 10), bias=-4.0, seed=223),
            control=dict(model=lambda: mlp((64, 80, 80, 10), seed=223)),
        ),
        dict(
            name="f_deep_tanh_normal1_momentum",
            fault="exploding",
            model=lambda: mlp(
                deep, act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 1.0), seed=224
            ),
            opt=SGD(0.02, momentum=0.9),
            control=dict(
                model=lambda: mlp(deep, act=nn.Tanh, init=nn.init.xavier_uniform_, seed=224)
            ),
        ),
        dict(
            name="f_cnn_forgot_zero_grad",
            fault="stale_gradients",
            model=lambda: CNN(seed=225),
            opt=SGD(0.05),
            zero_grad=False,
            control=dict(zero_grad=True),
        ),
        dict(name="f_log_of_relu", fault="nonfinite", model=lambda: LogRelu(seed=226)),
        dict(
            name="f_softmax_before_ce_smooth",
            fault="output_loss_mismatch",
            model=lambda: mlp((64, 80, 10), final=nn.Softmax(dim=1), seed=227),
            loss=nn.CrossEntropyLoss(label_smoothing=0.1),
            control=dict(model=lambda: mlp((64, 80, 10), seed=227)),
        ),
        dict(
            name="f_cnn_pixels_x255",
            fault="unscaled_input",
            model=lambda: CNN(seed=228),
            scale=255.0,
            control=dict(scale=1.0),
        ),
        dict(
            name="f_detached_branch_adam",
            fault="no_gradient",
            model=lambda: Detached(seed=229),
            opt=ADAM(1e-3),
        ),
        dict(
            name="f_adam_lr2",
            fault="lr_too_high",
            model=lambda: mlp((64, 80, 10), seed=230),
            opt=ADAM(2.0),
            control=dict(opt=ADAM(1e-3)),
        ),
        dict(
            name="f_sgd_lr3e-5_momentum",
            fault="lr_too_low",
            model=lambda: mlp((64, 80, 80, 10), seed=231),
            opt=SGD(3e-5, momentum=0.9),
            control=dict(opt=SGD(0.05, momentum=0.9)),
        ),
    ]


SETS = {
    "tuned": (LABELS, specs),
    "heldout": (LABELS_HELDOUT, heldout_specs),
    "fresh": (os.path.join(HERE, "labels_torch_fresh.json"), fresh_specs),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--set",
        choices=sorted(SETS),
        default="tuned",
        help="tuned: the runs the adapter was fixed on; heldout: runs never used for that "
        "(labels frozen in labels_torch_heldout.json before scoring)",
    )
    ap.add_argument("--only", default=None, help="run only names or faults containing this")
    ap.add_argument("--json", default=None, help="write the per-run results here")
    ap.add_argument(
        "--labels",
        default=None,
        help="the labels file (default: the set's labels file for a full run)",
    )
    ap.add_argument(
        "--labels-only",
        action="store_true",
        help="measure the physics and write the labels; read no report",
    )
    args = ap.parse_args(argv)
    labels_file, make_specs = SETS[args.set]
    runs = [
        s
        for s in make_specs()
        if args.only is None or args.only in s["name"] or args.only == s.get("fault")
    ]
    if args.labels is None and args.only is None:
        args.labels = labels_file
    frozen = {}
    if args.labels and not args.labels_only and os.path.exists(args.labels):
        with open(args.labels) as f:
            frozen = json.load(f)
    results, labels = [], {}
    t0 = time.time()
    for spec in runs:
        t1 = time.time()
        phys = run(spec)
        control = run({**spec, **spec["control"], "fault": None}) if spec.get("control") else None
        lab = labels[spec["name"]] = label(spec, phys, control)  # before the report is read
        if frozen.get(spec["name"], lab) != lab:
            print(f"{spec['name']}: measured {lab}, frozen {frozen[spec['name']]}: scored frozen")
            lab = frozen[spec["name"]]
        seconds = time.time() - t1
        if args.labels_only:
            print(f"{spec['name']:<26} label={lab:<22} acc={phys['acc']:.2f} {seconds:.1f} s")
            continue
        report = phys["monitor"].report()
        results.append(
            {
                "name": spec["name"],
                "fault": spec.get("fault"),
                "label": lab,
                "monitor": flagged(report),
                "check": flagged(phys["check"]),
                "acc": phys["acc"],
                "control_acc": None if control is None else control["acc"],
                "report": str(report) if args.json else None,
            }
        )
        r = results[-1]
        print(
            f"{r['name']:<26} label={lab:<22} monitor={r['monitor']} check={r['check']} "
            f"acc={r['acc']:.2f} {seconds:.1f} s",
            flush=True,
        )
    if args.labels and (args.labels_only or not frozen):
        with open(args.labels, "w") as f:
            json.dump(labels, f, indent=1)
    if args.labels_only:
        return labels
    print(summary(results, time.time() - t0))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
