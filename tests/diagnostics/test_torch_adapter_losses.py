"""PyTorch models through the facade: the monitor knows the loss (cross_entropy, nll, BCE) and
the model's output (softmax, log_softmax, sigmoid) as for a chainrule model.

Without them a torch run had no trivial baseline (log K), so a loss that fell from a blown-up
start to chance level read as learning (an unscaled input then was only a note), and a softmax
given to cross_entropy was never found (output_loss_mismatch). Found by
benchmarks/diagnostics/torch_faults.py.
"""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import GradientMonitor, check

torch = pytest.importorskip("torch")
tnn, TF = torch.nn, torch.nn.functional


@pytest.fixture(scope="module")
def digits():
    X, y = cr.data.load_digits()
    return X.astype(np.float32), y.astype(np.int64)


def torch_mlp(final=None, seed=0):
    torch.manual_seed(seed)
    layers = [tnn.Linear(64, 32), tnn.ReLU(), tnn.Linear(32, 10)]
    return tnn.Sequential(*layers, *([final] if final is not None else []))


def cr_mlp(final=None, seed=0):
    cr.manual_seed(seed)
    layers = [nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)]
    return nn.Sequential(*layers, *([final] if final is not None else []))


def monitored_step(model, loss_fn, x, y):
    """One recorded training step; the monitor's facts about the output and the loss."""
    monitor = GradientMonitor(model)
    loss = loss_fn(model(x), y)
    loss.backward()
    monitor.step(loss)
    context = monitor.context()
    monitor.close()
    return context["output"], context["baseline"]


def _t(digits, n=32):
    X, y = digits
    return torch.from_numpy(X[:n]), torch.from_numpy(y[:n])


def _c(digits, n=32):
    X, y = digits
    return cr.tensor(X[:n]), cr.tensor(y[:n])


class LogSoftmaxNet(tnn.Module):
    """Ends with a functional log_softmax (a correct pair with nll_loss)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = tnn.Linear(64, 10)

    def forward(self, x):
        return torch.log_softmax(self.fc(x), dim=1)


@pytest.mark.parametrize(
    "final, loss_fn, output, loss",
    [
        (None, TF.cross_entropy, None, "cross_entropy"),
        (None, tnn.CrossEntropyLoss(), None, "cross_entropy"),
        (None, tnn.CrossEntropyLoss(label_smoothing=0.1), None, "cross_entropy"),
        ("softmax", tnn.CrossEntropyLoss(label_smoothing=0.1), "softmax", "cross_entropy"),
        ("softmax", TF.cross_entropy, "softmax", "cross_entropy"),
        ("log_softmax", TF.nll_loss, "log_softmax", "nll"),
        ("log_softmax", TF.cross_entropy, "log_softmax", "cross_entropy"),
        ("functional_log_softmax", TF.nll_loss, "log_softmax", "nll"),
    ],
)
def test_output_and_loss_kinds_as_chainrule(digits, final, loss_fn, output, loss):
    t_final = {
        "softmax": tnn.Softmax(dim=1),
        "log_softmax": tnn.LogSoftmax(dim=1),
    }.get(final)
    model = LogSoftmaxNet() if final == "functional_log_softmax" else torch_mlp(t_final)
    out, base = monitored_step(model, loss_fn, *_t(digits))
    assert (out["kind"], out["loss_kind"]) == (output, loss)
    assert base == pytest.approx(math.log(10))
    # the same model and loss in chainrule read the same
    c_final = {"softmax": nn.Softmax(dim=1), "log_softmax": nn.LogSoftmax(dim=1)}.get(
        "log_softmax" if final == "functional_log_softmax" else final
    )
    c_loss = F.nll_loss if loss == "nll" else F.cross_entropy
    c_out, c_base = monitored_step(cr_mlp(c_final), c_loss, *_c(digits))
    assert (c_out["kind"], c_out["loss_kind"]) == (output, loss)
    assert c_base == pytest.approx(base)


def test_bce_kinds_as_chainrule(digits):
    x, y = _t(digits)
    target = (y[:, None] == torch.arange(10)).float()
    out, base = monitored_step(torch_mlp(), TF.binary_cross_entropy_with_logits, x, target)
    assert out["loss_kind"] == "bce_logits" and out["kind"] is None
    out, _ = monitored_step(torch_mlp(tnn.Sigmoid()), TF.binary_cross_entropy, x, target)
    assert (out["kind"], out["loss_kind"]) == ("sigmoid", "bce")


@pytest.mark.parametrize("fn", ["module", "functional", "method"])
def test_check_warns_softmax_before_cross_entropy(digits, fn):
    class Functional(tnn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch_mlp()

        def forward(self, x):
            return torch.softmax(self.body(x), 1) if fn == "functional" else self.body(x).softmax(1)

    model = torch_mlp(tnn.Softmax(dim=1)) if fn == "module" else Functional()
    report = check(model, TF.cross_entropy, _t(digits))
    assert "output_loss_mismatch" in report.kinds, str(report)
    assert report.find("output_loss_mismatch")[0].evidence["output"] == "softmax"
    # the chainrule twin is warned alike; the logits alone are not
    assert (
        "output_loss_mismatch"
        in check(cr_mlp(nn.Softmax(dim=1)), F.cross_entropy, _c(digits)).kinds
    )
    assert "output_loss_mismatch" not in check(torch_mlp(), TF.cross_entropy, _t(digits)).kinds
    assert "output_loss_mismatch" not in check(LogSoftmaxNet(), TF.nll_loss, _t(digits)).kinds


def test_unscaled_input_that_blows_up_to_chance_is_a_warning(digits):
    """x * 255 into a ReLU MLP with SGD(0.1): the loss starts near 50, blows up, and settles
    at chance (log 10). Falling from the blown-up start is not learning, so the unscaled input
    is a warning, not a harmless note."""
    X, y = digits
    torch.manual_seed(30)
    model = tnn.Sequential(tnn.Linear(64, 64), tnn.ReLU(), tnn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientMonitor(model, optimizer=opt)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(80):
        i = rng.integers(0, 1400, 64)
        opt.zero_grad()
        loss = TF.cross_entropy(model(torch.from_numpy(X[i] * 255)), torch.from_numpy(y[i]))
        loss.backward()
        opt.step()
        monitor.step(loss)
        losses.append(float(loss.detach()))
    report = monitor.report()
    monitor.close()
    assert losses[0] > 10 and abs(np.mean(losses[-10:]) - math.log(10)) < 0.2  # the premise
    found = report.find("unscaled_input")
    assert found and found[0].severity == "warning", str(report)


def test_blow_up_within_the_first_steps_is_lr_too_high(digits):
    """Adam at lr 0.3: the loss jumps from 2.3 to about 50 at step 2 and is back near chance by
    step 10. The mean of the first ten losses holds the blow-up itself, so measured from it the
    spike was hidden; measured from the trivial baseline (log 10) it is lr_too_high."""
    X, y = digits
    order = np.random.default_rng(0).permutation(len(X))  # as benchmarks/diagnostics shuffles
    X, y = X[order], y[order]
    torch.manual_seed(123)
    model = tnn.Sequential(tnn.Linear(64, 128), tnn.ReLU(), tnn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=0.3)
    monitor = GradientMonitor(model, optimizer=opt)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(60):
        i = rng.integers(0, 1400, 64)
        opt.zero_grad()
        loss = TF.cross_entropy(model(torch.from_numpy(X[i])), torch.from_numpy(y[i]))
        loss.backward()
        opt.step()
        monitor.step(loss)
        losses.append(float(loss.detach()))
    report = monitor.report()
    monitor.close()
    first10 = np.mean(losses[:10])
    assert max(losses) > 2 * losses[0] and max(losses) < 2 * first10  # the premise
    assert "lr_too_high" in problems(report), str(report)


def problems(report):
    return {f.kind for f in report.findings if f.severity in ("error", "warning")}


def test_oscillation_from_a_depth_explosion_is_exploding(digits):
    """12 ReLU layers with N(0, 0.25) weights (fan_in*Var(W) = 8, He wants 2) under Adam 1e-3:
    the loss falls from ~2000 to ~2 but swings by ~70% from step to step (the He-initialised
    twin trains smoothly at the same rate). That is the explosion's doing: one exploding
    error, no oscillating warning telling to lower the learning rate."""
    X, y = digits
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    torch.manual_seed(130)
    layers = []
    for k in range(12):
        lin = tnn.Linear(64 if k == 0 else 128, 10 if k == 11 else 128)
        tnn.init.normal_(lin.weight, 0, 0.25)
        tnn.init.zeros_(lin.bias)
        layers += [lin, tnn.ReLU()] if k < 11 else [lin]
    model = tnn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    monitor = GradientMonitor(model, optimizer=opt)
    rng = np.random.default_rng(0)
    for _ in range(100):
        i = rng.integers(0, 1400, 64)
        opt.zero_grad()
        loss = TF.cross_entropy(model(torch.from_numpy(X[i])), torch.from_numpy(y[i]))
        loss.backward()
        opt.step()
        monitor.step(loss)
    report = monitor.report()
    monitor.close()
    assert problems(report) == {"exploding"}, str(report)
    assert report.find("exploding")[0].evidence["loss_step_change_relative"] > 0.3


def test_oscillation_alone_stays():
    from chainrule.diagnostics.findings import Finding
    from chainrule.diagnostics.rules import _oscillation_from_depth

    swing = Finding("oscillating", [], "swings", {"median_step_change_relative": 0.5})
    time = Finding("exploding", [], "through time", {"direction": "time"}, severity="info")
    assert _oscillation_from_depth([swing, time]) == [swing, time]
    depth = Finding("exploding", [], "depth", {"direction": "depth"}, severity="info")
    out = _oscillation_from_depth([swing, depth])
    assert out == [depth] and depth.severity == "error"


def test_pinned_from_the_start_but_learned_well_is_a_note(digits):
    """Pixels x100 into a tanh MLP: the first tanh layer is pinned (~99% of outputs on the
    flat ends) from step 1, yet it acts as sign units and the model learns (loss far below
    log 10, held-out accuracy ~0.9 in the benchmark): a note. Units pinned by a blow-up stay
    an error (test_verdicts)."""
    X, y = digits
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    torch.manual_seed(137)
    model = tnn.Sequential(tnn.Linear(64, 64), tnn.Tanh(), tnn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientMonitor(model, optimizer=opt)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(150):
        i = rng.integers(0, 1400, 64)
        opt.zero_grad()
        loss = TF.cross_entropy(model(torch.from_numpy(X[i] * 100)), torch.from_numpy(y[i]))
        loss.backward()
        opt.step()
        monitor.step(loss)
        losses.append(float(loss.detach()))
    report = monitor.report()
    monitor.close()
    assert np.mean(losses[-10:]) < 0.25 * math.log(10) and max(losses) < 2 * losses[0]
    found = report.find("saturated")
    assert found and found[0].evidence["saturated_share"][0] > 0.95, str(report)
    assert found[0].severity == "info" and not problems(report), str(report)
