"""Verdicts people can trust: symptoms gated on evidence that matters, the right
kind and remedy for the cases that went wrong, the new kinds, and a monitor whose state
persists."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import GradientMonitor, check
from chainrule.diagnostics.history import History
from chainrule.diagnostics.rules import analyze


@pytest.fixture(scope="module")
def digits():
    X, y = cr.data.load_digits()
    return X.astype(np.float32), y.astype(np.int64)


def mlp(widths=(64, 64, 10), act=nn.ReLU, seed=0, final=None, init=None):
    cr.manual_seed(seed)
    layers = []
    for k, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if init is not None:
            init(layers[-1].weight)
        if k < len(widths) - 2:
            layers.append(act())
    if final is not None:
        layers.append(final)
    return nn.Sequential(*layers)


def train(
    model,
    digits,
    opt,
    steps=60,
    every=1,
    zero_grad=True,
    scale=1.0,
    loss_fn=None,
    clip=None,
    seed=0,
    **kw,
):
    X, y = digits
    rng = np.random.default_rng(seed)
    loss_fn = loss_fn or F.cross_entropy
    monitor = GradientMonitor(model, optimizer=opt, every=every, **kw)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            i = rng.integers(0, 1400, 64)
            if zero_grad:
                opt.zero_grad()
            loss = loss_fn(model(cr.tensor(X[i] * scale)), cr.tensor(y[i]))
            loss.backward()
            total = None if clip is None else nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            monitor.step(loss, grad_norm=total, max_norm=clip)
    return monitor


def warnings_of(report):
    return sorted({f.kind for f in report.findings if f.severity in ("error", "warning")})


# ---- symptoms that do not hurt learning are notes ----


def test_moderately_saturated_tanh_that_learns_is_a_note_not_a_warning():
    # 30 % of the units in the low-slope band, as in healthy tanh nets, while
    # the loss falls from 2.3 to 0.3 and the updates are ~1e-3
    h = History(64, ["0.weight", "2.weight"], ["0", "2"])
    for k in range(40):
        h.append(
            k,
            {
                "loss": 2.3 * math.exp(-k / 8) + 0.1,
                "update_ratio": 1e-3,
                "has_grad": 1,
                "zero_frac": 0.0,
                "out_grad_norm": 1.0,
                "saturated_frac": np.array([0.3, np.nan]),
            },
        )
    ctx = {
        "layers": [
            {"name": "0", "type": "Linear", "activation": "tanh", "param_columns": [0]},
            {"name": "2", "type": "Linear", "activation": None, "param_columns": [1]},
        ],
        "layer_order": [0, 1],
        "params": [
            {"name": "0.weight", "layer": "0", "ndim": 2},
            {"name": "2.weight", "layer": "2", "ndim": 2},
        ],
        "recurrent": [],
        "lr": 0.1,
        "baseline": math.log(10),
    }
    report = analyze(h, ctx)
    assert report.healthy, str(report)
    assert [f.severity for f in report.find("saturated")] == ["info"]
    # the same share while nothing is learnt is a warning
    flat = History(64, ["0.weight", "2.weight"], ["0", "2"])
    for k in range(40):
        flat.append(
            k,
            {
                "loss": 2.3,
                "update_ratio": 1e-3,
                "has_grad": 1,
                "zero_frac": 0.0,
                "out_grad_norm": 1.0,
                "saturated_frac": np.array([0.3, np.nan]),
            },
        )
    assert [f.severity for f in analyze(flat, ctx).find("saturated")] == ["warning"]


@pytest.mark.parametrize("name", ["batchnorm", "residual", "cnn", "lstm", "gru"])
def test_check_does_not_warn_on_working_architectures_at_init(name, digits):
    X, y = digits
    x, t = cr.tensor(X[:64]), cr.tensor(y[:64])
    cr.manual_seed(0)
    if name == "batchnorm":
        model = nn.Sequential(
            nn.Linear(64, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(),
            nn.Linear(128, 128),
            nn.BatchNorm1d(128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )
    elif name == "residual":
        model = nn.Sequential(
            nn.Linear(64, 64),
            *[
                nn.Residual(
                    nn.Sequential(nn.LayerNorm(64), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64))
                )
                for _ in range(12)
            ],
            nn.Linear(64, 10),
        )
    elif name == "cnn":
        model = nn.Sequential(
            nn.Unflatten(1, (1, 8, 8)),
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(256, 10),
        )
    else:
        cell = nn.LSTM if name == "lstm" else nn.GRU

        class Seq(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn, self.head = cell(8, 32, batch_first=True), nn.Linear(32, 10)

            def forward(self, x):
                return self.head(self.rnn(x.reshape(-1, 8, 8))[0][:, -1])

        model = Seq()
    report = check(model, F.cross_entropy, (x, t))
    assert report.healthy, str(report)


def test_check_messages_quote_the_gain_that_triggered_them():
    cr.manual_seed(0)
    # a large bias makes layer '2' amplify the forward signal while its backward gain (set by
    # its Xavier weights) stays near 1
    model = nn.Sequential(
        nn.Linear(16, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 4)
    )
    for k in (0, 2):
        nn.init.xavier_uniform_(model[k].weight)
    nn.init.constant_(model[2].bias, 1.0)
    x = cr.tensor(np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32) * 0.01)
    report = check(model, F.cross_entropy, (x, cr.tensor(np.zeros(64, dtype=np.int64))))
    f = report.find("layer_gain")
    assert f, str(report)
    row = [r for r in report.layers if r["layer"] == "2"][0]
    assert row["fwd_gain"] > 2 and row["bwd_gain"] < 2  # the forward one fired
    assert f"'2' forward x{cr.diagnostics.report.fmt(row['fwd_gain'])}" in f[0].message


# ---- the right kind ----


def test_tanh_pinned_at_one_after_a_blow_up_is_saturation_not_a_cut_graph(digits):
    model = mlp(act=nn.Tanh)
    monitor = train(model, digits, cr.optim.SGD(model.parameters(), lr=30.0), steps=40)
    report = monitor.report()
    assert "no_gradient" not in report, str(report)
    f = report.find("saturated")[0]
    assert f.severity == "error" and "pinned" in f.message
    text = " ".join(f.remedies)
    assert "detach" not in text and f.remedies[0].startswith("Lower the learning rate")
    assert "lr_too_high" in report


def test_lr_too_low_between_the_ratio_thresholds_with_a_loss_that_moved(digits):
    model = mlp()
    report = train(model, digits, cr.optim.SGD(model.parameters(), lr=3e-3), steps=150).report()
    f = report.find("lr_too_low")
    assert f, str(report)
    assert 1e-5 < f[0].evidence["update_ratio_median"] < 1e-3
    assert "Raise the learning rate from 0.003" in f[0].remedies[0]


def test_lstm_with_a_low_learning_rate_is_lr_too_low_not_vanishing(digits):
    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            cr.manual_seed(0)
            self.rnn, self.head = nn.LSTM(8, 32, batch_first=True), nn.Linear(32, 10)

        def forward(self, x):
            return self.head(self.rnn(x.reshape(-1, 8, 8))[0][:, -1])

    model = Seq()
    report = train(model, digits, cr.optim.SGD(model.parameters(), lr=0.01), steps=100).report()
    assert "lr_too_low" in warnings_of(report), str(report)
    assert "vanishing" not in warnings_of(report)


def test_divergence_between_recorded_steps_is_caught_with_every_10():
    model = mlp((4, 8, 3))
    monitor = GradientMonitor(model, every=10)
    for k in range(30):  # the loss jumps on unrecorded steps only
        monitor.step(50.0 if k in (13, 14, 15) else 1.0 - 0.01 * k)
    assert list(monitor.history.steps) == [0, 10, 20]
    assert np.all(monitor.history.series("loss") < 2)  # the samples never saw it
    f = monitor.report().find("lr_too_high")
    assert f and f[0].evidence["loss_max"] == 50.0


class LossNaN(nn.Module):
    def __init__(self):
        super().__init__()
        cr.manual_seed(0)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("shift, cause", [(-100.0, "invalid operation"), (None, "log of zero")])
def test_nonfinite_loss_cause_is_read_from_the_value_when_the_graph_is_gone(shift, cause):
    model = LossNaN()
    monitor = GradientMonitor(model)
    x = cr.tensor(np.ones((2, 4), dtype=np.float32))
    out = model(x)
    if shift is None:
        loss = -cr.log(out * 0).mean()  # log of 0: +Inf
    else:
        loss = cr.log(out + shift).mean()  # log of a negative number: NaN
    loss.backward()  # frees the graph
    monitor.step(loss)
    f = monitor.report().find("nonfinite")[0]
    assert f.evidence["cause"] == cause and f.evidence["phase"] == "loss"
    if cause == "log of zero":
        assert "log_softmax" in f.remedies[0]


# ---- remedies that fit ----


def test_deep_sigmoid_first_remedy_changes_the_activation_and_never_touches_the_output(digits):
    X, y = digits
    model = mlp((64,) + (64,) * 12 + (10,), act=nn.Sigmoid, init=nn.init.xavier_uniform_)
    f = check(model, F.cross_entropy, (cr.tensor(X[:64]), cr.tensor(y[:64]))).find("vanishing")[0]
    assert f.remedies[0].startswith("Replace sigmoid with ReLU")
    assert "0.25" in f.remedies[0]  # its maximum slope, 1/4
    assert not any("'24'" in r and "nitialise" in r for r in f.remedies)  # the output layer


def test_exploding_remedy_with_clipping_already_on_is_not_clip_at_one(digits):
    model = mlp((64,) + (128,) * 8 + (10,), act=nn.Tanh, init=lambda w: nn.init.normal_(w, 0, 1.0))
    report = train(
        model, digits, cr.optim.SGD(model.parameters(), lr=0.01), steps=6, clip=1.0
    ).report()
    f = [f for f in report.find("exploding")]
    assert f, str(report)
    assert not any("max_norm=1.0)" in r for r in f[0].remedies)
    assert any("Clipping is already on" in r for r in f[0].remedies)


# ---- new kinds ----


def test_forgotten_zero_grad_is_stale_gradients(digits):
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.05)
    report = train(model, digits, opt, steps=10, zero_grad=False).report()
    f = report.find("stale_gradients")
    assert f and f[0].severity == "error" and "zero_grad" in f[0].remedies[0]
    for set_to_none in (True, False):
        model = mlp()
        opt = cr.optim.SGD(model.parameters(), lr=0.05)
        X, y = digits
        monitor = GradientMonitor(model, optimizer=opt)
        for _ in range(6):
            opt.zero_grad(set_to_none=set_to_none)
            F.cross_entropy(model(cr.tensor(X[:32])), cr.tensor(y[:32])).backward()
            opt.step()
            monitor.step(1.0)
        assert "stale_gradients" not in monitor.report()


def test_softmax_before_cross_entropy_is_an_output_loss_mismatch(digits):
    model = mlp(final=nn.Softmax(dim=1))
    report = train(model, digits, cr.optim.SGD(model.parameters(), lr=0.1), steps=5).report()
    f = report.find("output_loss_mismatch")
    assert f and "Remove the final softmax" in f[0].remedies[0]
    X, y = digits
    pre = check(mlp((64, 16, 1)), nn.MSELoss(), (cr.tensor(X[:32]), cr.tensor(y[:32, None])))
    assert "output_loss_mismatch" in pre  # class labels into MSE


def test_unscaled_and_broken_inputs(digits):
    model = mlp()
    report = train(
        model, digits, cr.optim.SGD(model.parameters(), lr=0.1), steps=20, scale=255.0
    ).report()
    f = report.find("unscaled_input")
    assert f and f[0].severity == "warning" and f[0].evidence["rms"] > 10
    X, y = digits
    bad = X[:32].copy()
    bad[0, 0] = np.nan
    with np.errstate(all="ignore"):
        pre = check(mlp(), F.cross_entropy, (cr.tensor(bad), cr.tensor(y[:32])))
    assert [f.severity for f in pre.find("unscaled_input")] == ["error"]


def test_not_learning_against_the_trivial_baseline(digits):
    X, _ = digits
    noise = np.random.default_rng(0).integers(0, 10, len(X))
    model = mlp((64, 16, 10))
    report = train(model, (X, noise), cr.optim.SGD(model.parameters(), lr=0.05), steps=80).report()
    f = report.find("not_learning")
    assert f, str(report)
    assert f[0].evidence["baseline"] == pytest.approx(math.log(10))


@pytest.mark.parametrize("steps", [30, 40, 50])
def test_a_slow_start_is_not_not_learning(digits, steps):
    # Adam at 1e-3 moves a 2-layer ReLU classifier off log(10) slowly (it reaches 87 % in 200
    # steps): after 30-50 steps the loss has improved < 20 % but falls steadily.
    model = mlp((64, 32, 10))
    monitor = train(model, digits, cr.optim.Adam(model.parameters(), lr=1e-3), steps=steps)
    report = monitor.report()
    assert not report.find("not_learning"), str(report)
    _, loss = monitor.losses()
    assert loss[-10:].mean() > 0.9 * math.log(10)  # still above the trivial baseline's margin


def test_overfitting_from_validation_losses():
    monitor = GradientMonitor(mlp((4, 8, 3)))
    for k in range(60):
        val = None
        if k % 5 == 4:
            val = 1.0 - 0.1 * k / 5 if k < 25 else 0.5 + 0.1 * (k - 25) / 5
        monitor.step(2.0 * math.exp(-k / 20), val_loss=val)
    f = monitor.report().find("overfitting")
    assert f and f[0].evidence["best_step"] == 24
    after = GradientMonitor(mlp((4, 8, 3)))  # the same, told after each "epoch"
    for k in range(60):
        after.step(2.0 * math.exp(-k / 20))
        if k % 5 == 4:
            after.note_val_loss(1.0 - 0.1 * k / 5 if k < 25 else 0.5 + 0.1 * (k - 25) / 5)
    g = after.report().find("overfitting")
    assert g and g[0].evidence == f[0].evidence


def test_oscillating_loss():
    monitor = GradientMonitor(mlp((4, 8, 3)))
    for k in range(80):
        monitor.step(2.0 + (0.8 if k % 2 else -0.8))
    report = monitor.report()
    assert "oscillating" in report, str(report)
    steady = GradientMonitor(mlp((4, 8, 3)))
    for k in range(80):
        steady.step(2.0 * math.exp(-k / 10) + (0.01 if k % 2 else 0))
    assert "oscillating" not in steady.report()


# ---- the monitor's state ----


def test_weights_are_snapshotted_at_each_recorded_step_so_a_resume_is_not_a_huge_update(digits):
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientMonitor(model, optimizer=opt)
    other = mlp(seed=5)
    model.load_state_dict(other.state_dict())  # e.g. --resume after creation
    X, y = digits
    for k in range(8):
        if k == 4:  # and again between two steps
            model.load_state_dict(mlp(seed=6).state_dict())
        opt.zero_grad()
        loss = F.cross_entropy(model(cr.tensor(X[:64])), cr.tensor(y[:64]))
        loss.backward()
        opt.step()
        monitor.step(loss)
    ratio = monitor.history.series("update_ratio")
    assert np.nanmax(ratio) < 0.05
    assert "lr_too_high" not in monitor.report()


def test_state_dict_round_trip_covers_the_whole_run(digits):
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    first = train(model, digits, opt, steps=12, every=2)
    state = first.state_dict()
    resumed = GradientMonitor(model, optimizer=opt, every=2)
    resumed.load_state_dict(state)
    assert resumed.steps_seen == 12 and len(resumed.history) == 6
    X, y = digits
    for _ in range(6):
        opt.zero_grad()
        loss = F.cross_entropy(model(cr.tensor(X[:64])), cr.tensor(y[:64]))
        loss.backward()
        opt.step()
        resumed.step(loss)
    assert list(resumed.history.steps) == [0, 2, 4, 6, 8, 10, 12, 14, 16]
    assert len(resumed.losses()[1]) == 18
    with pytest.raises(ValueError, match="another model"):
        GradientMonitor(mlp((64, 32, 32, 10)), every=2).load_state_dict(state)


def test_units_killed_by_stale_gradients_are_their_consequence(digits):
    # a forgotten zero_grad: every step adds all past gradients, the steps grow and ReLU units
    # alive at the start die; the cause is reported, the dead units are its consequence
    model = mlp(seed=58)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    report = train(model, digits, opt, steps=150, zero_grad=False, seed=58).report()
    assert "stale_gradients" in warnings_of(report)
    dead = report.find("dead")
    assert dead and dead[0].severity == "info" and "stale" in dead[0].evidence["cause"]
    assert "dead" not in warnings_of(report)


def test_units_dead_from_the_start_stay_a_warning_whatever_else(digits):
    model = mlp((64, 96, 96, 10), seed=48)
    for layer in (model[0], model[2]):
        nn.init.constant_(layer.bias, -3.5)
    report = train(model, digits, cr.optim.SGD(model.parameters(), lr=0.1), steps=60).report()
    assert "dead" in warnings_of(report)
    assert "cause" not in report.find("dead")[0].evidence
