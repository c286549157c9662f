"""GradientMonitor's cost side: training stays bit for bit as without it at every=1 and
every=10, hooks live only during recorded steps while the loss is read on every step, and
||dL/dh_t|| of a fused recurrent layer is read off its own backward (equal to the step-by-step
computation, with the weights that backward used)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import GradientMonitor
from chainrule.nn.functional._rnn import observe_time_gradients

STEPS = 23


def _mlp():
    cr.manual_seed(0)
    return nn.Sequential(
        nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)
    )


class _Seq(nn.Module):
    """Two LSTM layers with dropout between them (the random state must not be touched)."""

    def __init__(self):
        super().__init__()
        cr.manual_seed(0)
        self.rnn = nn.LSTM(2, 12, num_layers=2, dropout=0.3, batch_first=True)
        self.head = nn.Linear(12, 3)

    def forward(self, x):
        out, _ = self.rnn(x.reshape(x.shape[0], 4, 2))
        return self.head(out[:, -1])


def _train(build, every, steps=STEPS):
    """(weights after training, the loss of every step, the monitor or None)."""
    model = build()
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    monitor = (
        None if every is None else GradientMonitor(model, every=every, optimizer=opt, time_every=2)
    )
    rng = np.random.default_rng(1)
    losses = []
    for _ in range(steps):
        x = cr.tensor(rng.standard_normal((16, 8)).astype(np.float32))
        y = cr.tensor(rng.integers(0, 3, 16))
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if monitor is not None:
            monitor.step(loss)
        losses.append(float(loss.item()))
    return [p.numpy().copy() for p in model.parameters()], losses, monitor


@pytest.mark.parametrize("every", [1, 10])
@pytest.mark.parametrize("build", [_mlp, _Seq], ids=["mlp", "lstm"])
def test_training_is_bit_for_bit_unchanged(build, every):
    plain, plain_losses, _ = _train(build, None)
    watched, losses, monitor = _train(build, every)
    assert losses == plain_losses  # exactly, every step
    for p, q in zip(plain, watched, strict=True):
        np.testing.assert_array_equal(p, q)
    # it did record, on the due steps only, and read the loss on every step
    assert list(monitor.history.steps) == list(range(0, STEPS, every))
    steps, logged = monitor.losses()
    assert list(steps) == list(range(STEPS)) and list(logged) == plain_losses
    assert np.all(np.isfinite(monitor.history.series("grad_norm")))
    if build is _Seq:
        profile = monitor.history.time_profiles["rnn"]
        assert profile.shape == (4,) and np.all(profile > 0)
        assert monitor.model.rnn.record_steps is False  # the fused path stayed


def _hook_count(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_hooks_live_only_during_recorded_steps():
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientMonitor(model, every=3, optimizer=opt)
    x, y = cr.randn(4, 8), cr.tensor(np.array([0, 1, 2, 0]))
    counts = []
    for _ in range(7):
        counts.append(_hook_count(model))
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        monitor.step(loss)
    assert counts[0] > 0 and counts[3] == counts[6] == counts[0]
    assert counts[1] == counts[2] == counts[4] == counts[5] == 0
    assert len(monitor.history) == 3 and len(monitor.losses()[1]) == 7
    monitor.close()
    assert _hook_count(model) == 0


def _step_by_step_profile(cell, state, x, y):
    """||dL/dh_t|| of the layer's first layer, computed on a copy running step by step."""
    model = _RecNet(cell)
    model.load_state_dict(state)
    model.rnn.record_steps = True
    loss = F.cross_entropy(model(x), y)
    hs = model.rnn.last_hidden_states[0]
    grads = cr.autograd.grad(loss, hs, allow_unused=True)
    return np.array([np.linalg.norm(g.numpy()) for g in grads])


class _RecNet(nn.Module):
    def __init__(self, cell):
        super().__init__()
        cr.manual_seed(0)
        self.rnn = cell(3, 6, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(12, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


@pytest.mark.parametrize("cell", [nn.RNN, nn.LSTM, nn.GRU])
def test_time_profile_from_the_fused_backward_equals_the_step_by_step_one(cell):
    model = _RecNet(cell)
    opt = cr.optim.SGD(model.parameters(), lr=0.5)  # a large step: the weights move a lot
    monitor = GradientMonitor(model, optimizer=opt, time_every=1)
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((4, 7, 3)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 2, 4))
    for _ in range(2):
        state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        monitor.step(loss)
        expected = _step_by_step_profile(cell, state, x, y)  # the weights before the step
        profile = monitor.history.time_profiles["rnn"]
        np.testing.assert_allclose(profile, expected, rtol=1e-5)
        ratio = monitor.history.series("time_ratio")[-1, 0]
        assert ratio == pytest.approx(expected[0] / expected[-1], rel=1e-5)


def test_observe_time_gradients_reports_each_step_once_and_only_once():
    cr.manual_seed(0)
    lstm = nn.LSTM(3, 5, batch_first=True)
    x = cr.randn(2, 6, 3)
    seen = []
    observe_time_gradients(lambda t, dh: seen.append((t, float(np.vdot(dh, dh)))))
    out, _ = lstm(x)
    out.sum().backward()
    assert [t for t, _ in seen] == [5, 4, 3, 2, 1, 0]  # backward order
    lstm.record_steps = True  # the same gradients, step by step
    out, _ = lstm(x)
    grads = cr.autograd.grad(out.sum(), lstm.last_hidden_states[0])
    np.testing.assert_allclose(
        [ss for _, ss in reversed(seen)], [float((g.numpy() ** 2).sum()) for g in grads], rtol=1e-5
    )
    lstm.record_steps = False
    seen.clear()  # one shot: the next run does not report
    out, _ = lstm(x)
    out.sum().backward()
    assert seen == []
    observe_time_gradients(lambda t, dh: seen.append(t))
    observe_time_gradients(None)  # withdrawn
    out, _ = lstm(x)
    out.sum().backward()
    assert seen == []


def test_an_evaluation_forward_leaves_no_time_observer_behind():
    model = _RecNet(nn.GRU)
    monitor = GradientMonitor(model, time_every=1)
    x = cr.randn(2, 5, 3)
    with cr.no_grad():
        model(x)
    other = nn.GRU(3, 4)  # an unmonitored layer afterwards must not report to the monitor
    out, _ = other(cr.randn(5, 2, 3, requires_grad=True))
    out.sum().backward()
    assert monitor._data.time_ss == [None]
    loss = F.cross_entropy(model(x), cr.tensor(np.array([0, 1])))  # a training step does
    loss.backward()
    monitor.step(loss)
    assert monitor.history.time_profiles["rnn"].shape == (5,)


def test_relu_dead_channels_from_one_blas_sum_match_the_direct_count():
    from chainrule.diagnostics.activations import dead_share
    from chainrule.diagnostics.statistics import _unit_sums

    rng = np.random.default_rng(0)
    a = np.maximum(rng.standard_normal((5, 6, 3, 4)).astype(np.float32), 0)
    a[:, [1, 4]] = 0  # two dead channels
    sums = _unit_sums(a)
    np.testing.assert_allclose(sums, a.sum(axis=(0, 2, 3)), rtol=1e-5)
    assert (sums.size - np.count_nonzero(sums)) / sums.size == dead_share(a) == 2 / 6
    assert _unit_sums(a[:, :, :, ::2]) is None  # not contiguous: no copy, the direct count
    assert _unit_sums(a[0, 0, 0]) is None


def test_monitor_dead_share_of_a_cnn_counts_dead_channels():
    cr.manual_seed(0)
    conv = nn.Conv2d(1, 4, 3, padding=1)
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    with cr.no_grad():
        conv.bias[:2] = -100.0  # channels 0 and 1 never fire
    monitor = GradientMonitor(model)
    loss = F.cross_entropy(model(cr.randn(3, 1, 6, 6)), cr.tensor(np.array([0, 1, 0])))
    loss.backward()
    monitor.step(loss)
    assert monitor.history.series("dead_frac")[0, 0] == 0.5


class _Mixed(nn.Module):
    """Small parameters (measured together in flat groups), one large one (measured on its
    own), ReLU zeros in the gradients, and optionally a layer that is never used (no gradient:
    its group is then measured parameter by parameter)."""

    def __init__(self, unused):
        super().__init__()
        cr.manual_seed(0)
        self.a = nn.Linear(6, 40)
        self.big = nn.Linear(40, 500)  # 20000 weights: above statistics.GROUP_PARAM
        self.c = nn.Linear(500, 3)
        if unused:
            self.unused = nn.Linear(3, 3)
        with cr.no_grad():
            self.a.bias[:5] = -100.0  # five units never fire: zero rows in a.weight's gradient

    def forward(self, x):
        return self.c(F.relu(self.big(F.relu(self.a(x)))))


@pytest.mark.parametrize("unused", [False, True], ids=["all-used", "one-unused"])
@pytest.mark.parametrize("optimizer", [cr.optim.SGD, cr.optim.Adam])
def test_grouped_parameter_statistics_equal_the_per_parameter_formulas(optimizer, unused):
    from chainrule.diagnostics.statistics import GROUP_PARAM, _Group, _Single

    model = _Mixed(unused)
    assert model.big.weight.numpy().size > GROUP_PARAM >= model.c.weight.numpy().size
    opt = optimizer(model.parameters(), lr=0.05)
    monitor = GradientMonitor(model, every=1, optimizer=opt)
    names = [n for n, _ in model.named_parameters()]
    rng = np.random.default_rng(3)
    expected = []
    for _ in range(4):
        x = cr.tensor(rng.standard_normal((16, 6)).astype(np.float32))
        y = cr.tensor(rng.integers(0, 3, 16))
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        before = [p.numpy().copy() for p in model.parameters()]
        loss.backward()
        opt.step()
        monitor.step(loss)
        row = {}
        for name, p, w0 in zip(names, model.parameters(), before, strict=True):
            w = p.numpy().astype(np.float64)
            g = None if p.grad is None else p.grad.numpy().astype(np.float64)
            row[name] = {
                "weight_norm": np.linalg.norm(w),
                "update_ratio": np.linalg.norm(w - w0) / np.linalg.norm(w),
                "has_grad": float(g is not None),
                "grad_norm": np.nan if g is None else np.linalg.norm(g),
                "grad_rms": np.nan if g is None else np.sqrt(np.mean(g * g)),
                "grad_max": np.nan if g is None else np.abs(g).max(),
                "zero_frac": np.nan if g is None else np.mean(g == 0),
                "nonfinite_frac": np.nan if g is None else 0.0,
            }
        expected.append(row)
    assert all(r["a.weight"]["zero_frac"] >= 5 / 40 for r in expected)
    for metric in expected[0]["a.weight"]:
        got = monitor.history.series(metric)
        want = np.array([[r[n][metric] for n in names] for r in expected])
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=0, equal_nan=True, err_msg=metric)
    kinds = {type(u) for u in monitor._meter.units}
    assert kinds == {_Group, _Single}  # both ways of measuring were exercised
