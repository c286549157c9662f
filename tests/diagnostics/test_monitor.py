"""GradientMonitor: hooks only, exact per-step statistics, the ring buffer, exports."""

import csv
import json
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import (
    GradientMonitor,
    History,
    to_csv,
    to_dict,
    to_numpy,
    to_tensorboard,
)


def mlp(seed=0, act=nn.Tanh):
    cr.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), act(), nn.Linear(8, 3))


def data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return (
        cr.tensor(rng.standard_normal((n, 4)).astype(np.float32)),
        cr.tensor(rng.integers(0, 3, n)),
    )


def train(model, monitor, steps, opt=None, seed=0):
    x, y = data(seed=seed)
    for _ in range(steps):
        if opt is not None:
            opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if opt is not None:
            opt.step()
        monitor.step(loss)


def hook_counts(model):
    return [(len(m._forward_hooks), len(m._forward_pre_hooks)) for m in model.modules()]


# ---- attaching ----


def test_close_removes_every_hook_and_leaves_record_steps_alone():
    model = nn.Sequential(nn.RNN(2, 4), nn.Linear(4, 1))
    before = hook_counts(model)
    monitor = GradientMonitor(model)
    assert hook_counts(model) != before
    assert model[0].record_steps is False  # the fused path stays (nothing is changed)
    monitor.close()
    assert hook_counts(model) == before
    assert model[0].record_steps is False


def test_context_manager_detaches_and_history_stays_readable():
    model = mlp()
    before = hook_counts(model)
    with GradientMonitor(model) as monitor:
        train(model, monitor, 2)
    assert hook_counts(model) == before
    assert len(monitor.history) == 2
    train(model, monitor, 1)  # after close nothing more is recorded
    assert len(monitor.history) == 2


def test_monitor_changes_neither_outputs_nor_gradients():
    plain, watched = mlp(), mlp()
    x, y = data()
    F.cross_entropy(plain(x), y).backward()
    with GradientMonitor(watched) as monitor:
        loss = F.cross_entropy(watched(x), y)
        loss.backward()
        monitor.step(loss)
    for p, q in zip(plain.parameters(), watched.parameters(), strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
        assert q.numpy().dtype == np.float32 and q.grad.numpy().dtype == np.float32


def test_layers_params_and_names():
    model = mlp()
    monitor = GradientMonitor(model)
    assert monitor.history.layer_names == ["0", "2"]
    assert monitor.history.param_names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert "2 layers" in repr(monitor)


# ---- what is measured ----


def test_parameter_gradient_statistics_are_exact():
    model = mlp()
    monitor = GradientMonitor(model)
    g = np.array([[3.0, 0.0, -4.0, 0.0]] + [[0.0] * 4] * 7, dtype=np.float32)
    model[0].weight.grad = cr.tensor(g)
    monitor.step(1.0)
    h = monitor.history
    assert h.series("grad_norm")[0, 0] == pytest.approx(5.0)
    assert h.series("grad_rms")[0, 0] == pytest.approx(5.0 / math.sqrt(32))
    assert h.series("grad_max")[0, 0] == pytest.approx(4.0)
    assert h.series("zero_frac")[0, 0] == pytest.approx(30 / 32)
    assert h.series("nonfinite_frac")[0, 0] == 0
    assert h.series("weight_norm")[0, 0] == pytest.approx(np.linalg.norm(model[0].weight.numpy()))
    assert list(h.series("has_grad")[0]) == [1, 0, 0, 0]  # only one parameter got a grad


def test_nonfinite_gradient_share():
    model = mlp()
    monitor = GradientMonitor(model)
    g = np.ones((8, 4), dtype=np.float32)
    g[0, :2] = [np.nan, np.inf]
    model[0].weight.grad = cr.tensor(g)
    monitor.step(1.0)
    assert monitor.history.series("nonfinite_frac")[0, 0] == pytest.approx(2 / 32)
    assert monitor.history.series("grad_norm")[0, 0] == math.inf
    assert monitor.first_nonfinite["phase"] == "backward"


def test_update_ratio_is_measured_across_the_optimizer_step():
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.5)
    monitor = GradientMonitor(model, optimizer=opt)
    x, y = data()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    w = model[0].weight
    g = w.grad.numpy().copy()
    opt.step()
    monitor.step(loss)
    expected = np.linalg.norm(0.5 * g) / np.linalg.norm(w.numpy())
    assert monitor.history.series("update_ratio")[0, 0] == pytest.approx(expected, rel=1e-4)


def test_output_gradient_norm_is_the_back_propagated_signal():
    model = mlp()
    monitor = GradientMonitor(model)
    x, y = data()
    h1 = model[0](x)
    h1.retain_grad()
    h2 = model[2](model[1](h1))
    h2.retain_grad()
    loss = F.cross_entropy(h2, y)
    loss.backward()
    monitor.step(loss)
    got = monitor.history.series("out_grad_norm")[0]
    np.testing.assert_allclose(
        got, [np.linalg.norm(h1.grad.numpy()), np.linalg.norm(h2.grad.numpy())], rtol=1e-5
    )
    np.testing.assert_allclose(
        monitor.history.series("out_rms")[0, 0],
        np.sqrt(np.mean(h1.numpy().astype(np.float64) ** 2)),
        rtol=1e-5,
    )


class FunctionalNet(nn.Module):
    def __init__(self, act):
        super().__init__()
        self.act = act
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x) * 3))


def test_activation_after_a_functional_op_is_not_attributed():
    # fc1(x) * 3 is not fc1's output: the activation cannot be attributed to fc1
    monitor = GradientMonitor(FunctionalNet(cr.tanh))
    train(monitor.model, monitor, 1)
    assert monitor.context()["layers"][0]["activation"] is None


class FunctionalTanh(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        self.hidden = cr.tanh(self.fc1(x))
        return self.fc2(self.hidden)


def test_functional_activation_is_detected_with_its_saturation():
    cr.manual_seed(0)
    model = FunctionalTanh()
    with cr.no_grad():
        model.fc1.weight.mul_(10.0)  # push the tanh into its flat ends
    monitor = GradientMonitor(model)
    train(model, monitor, 1)
    ctx = monitor.context()
    assert ctx["layers"][0]["activation"] == "tanh"
    a = model.hidden.numpy().astype(np.float64)
    # saturated: tanh's slope 1 - y^2 below 10 % of its maximum 1, from the derivative itself
    slope = 1 - a * a
    assert monitor.history.series("saturated_frac")[0, 0] == pytest.approx(np.mean(slope < 0.1))
    assert monitor.history.series("act_mean")[0, 0] == pytest.approx(a.mean(), abs=1e-6)
    assert monitor.history.series("act_std")[0, 0] == pytest.approx(a.std(), rel=1e-4)


def test_sigmoid_module_saturation_and_relu_dead_units():
    cr.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Sigmoid(), nn.Linear(8, 3)
    )
    with cr.no_grad():
        model[0].bias.numpy()[:4] = -100.0  # half the ReLU units can never fire
        model[2].weight.mul_(100.0)
    monitor = GradientMonitor(model)
    train(model, monitor, 1)
    ctx = monitor.context()
    assert [ctx["layers"][i]["activation"] for i in range(3)] == ["relu", "sigmoid", None]
    assert monitor.history.series("dead_frac")[0, 0] == pytest.approx(0.5)
    assert monitor.history.series("saturated_frac")[0, 1] > 0.5


def test_rnn_time_profile_and_lstm_cell_loop():
    cr.manual_seed(0)
    model = nn.Sequential(nn.RNN(2, 5, batch_first=True))
    monitor = GradientMonitor(model)
    x = cr.randn(3, 7, 2)
    out, _ = model(x)
    out[:, -1].sum().backward()
    monitor.step(0.0)
    profile = monitor.history.time_profiles["0"]
    assert profile.shape == (7,) and np.all(profile > 0)
    assert monitor.history.series("time_steps")[0, 0] == 7
    assert monitor.history.series("time_ratio")[0, 0] == pytest.approx(profile[0] / profile[-1])

    cell = nn.LSTMCell(2, 5)
    m2 = GradientMonitor(cell)
    h = c = cr.zeros(3, 5)
    for t in range(6):  # one call per time step
        h, c = cell(x[:, t % 7], (h, c))
    h.sum().backward()
    m2.step(0.0)
    assert m2.history.time_profiles["LSTMCell"].shape == (6,)


# ---- when and how much is kept ----


def test_every_k_records_only_every_kth_step():
    model = mlp()
    monitor = GradientMonitor(model, every=3)
    train(model, monitor, 7)
    assert list(monitor.history.steps) == [0, 3, 6]
    assert monitor.steps_seen == 7
    assert np.isfinite(monitor.history.series("out_grad_norm")).all()


def test_hooks_are_attached_only_for_recorded_steps():
    model = mlp()
    baseline = hook_counts(model)
    monitor = GradientMonitor(model, every=3)
    attached = hook_counts(model)
    assert attached != baseline
    for step in range(6):
        monitor.step(1.0)
        assert hook_counts(model) == (attached if (step + 1) % 3 == 0 else baseline)


def test_forwards_without_step_do_not_pile_up_tensors():
    model = mlp()
    monitor = GradientMonitor(model)
    x, _ = data()
    for _ in range(5):
        model(x)
    assert len(monitor._data.outputs) == 2  # only the last forward's layer outputs


def test_ring_buffer_keeps_the_last_capacity_rows():
    model = mlp()
    monitor = GradientMonitor(model, capacity=4)
    for step in range(10):
        model[0].weight.grad = cr.ones(8, 4)
        monitor.step(float(step))
    assert list(monitor.history.steps) == [6, 7, 8, 9]
    np.testing.assert_array_equal(monitor.history.series("loss"), [6, 7, 8, 9])
    assert monitor.history.series("grad_norm").shape == (4, 4)


def test_nonfinite_loss_is_recorded_even_on_a_skipped_step():
    model = mlp()
    monitor = GradientMonitor(model, every=10)
    for step in range(5):
        monitor.step(float("nan") if step == 3 else 1.0)
    assert list(monitor.history.steps) == [0, 3]
    assert monitor.first_nonfinite["step"] == 3
    assert monitor.first_nonfinite["phase"] == "loss"


def test_clipping_is_counted_from_step_and_note_clipping():
    model = mlp()
    monitor = GradientMonitor(model)
    for total in (0.5, 3.0, float("nan")):
        monitor.step(1.0, grad_norm=cr.tensor(total), max_norm=1.0)
    monitor.note_clipping(2.0, 1.0)
    summary = monitor.context()["clipping"]
    assert summary["seen"] == 4 and summary["acted"] == 3  # NaN counts as clipped, like torch
    assert summary["max_seen_norm"] == 3.0
    np.testing.assert_array_equal(monitor.history.series("clip_total_norm")[:2], [0.5, 3.0])


def test_clipping_is_inferred_when_only_clip_norm_is_given():
    model = mlp()
    monitor = GradientMonitor(model, clip_norm=1.0)
    x, y = data()
    for scale in (1000.0, 1e-4):
        model.zero_grad()
        (F.cross_entropy(model(x), y) * scale).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        monitor.step(1.0)
    clip = monitor.context()["clipping"]
    assert clip["seen"] == 2 and clip["acted"] == 1


def test_optimizer_membership_and_learning_rate():
    model = mlp()
    opt = cr.optim.Adam(list(model[0].parameters()), lr=3e-4)
    monitor = GradientMonitor(model, optimizer=opt)
    ctx = monitor.context()
    assert ctx["lr"] == pytest.approx(3e-4) and ctx["optimizer"] == "Adam"
    assert [p["in_optimizer"] for p in ctx["params"]] == [True, True, False, False]
    train(model, monitor, 1)
    f = monitor.report().find("no_gradient")
    assert f and set(f[0].evidence["not_in_optimizer"]) == {"2.weight", "2.bias"}


# ---- bad input ----


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        ({"every": 0}, ValueError, "every"),
        ({"every": 1.5}, ValueError, "every"),
        ({"capacity": 0}, ValueError, "capacity"),
        ({"optimizer": object()}, TypeError, "param_groups"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, text):
    with pytest.raises(error, match=text):
        GradientMonitor(mlp(), **kwargs)


def test_bad_model_loss_and_metric_are_named():
    with pytest.raises(TypeError, match="cr.nn.Module"):
        GradientMonitor(lambda x: x)
    monitor = GradientMonitor(mlp())
    with pytest.raises(ValueError, match="scalar"):
        monitor.step(cr.ones(3))
    with pytest.raises(ValueError, match="max_norm"):
        monitor.note_clipping(2.0)
    with pytest.raises(KeyError, match="no_such"):
        monitor.history.series("no_such")


# ---- exports ----


def recorded(steps=3):
    model = mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientMonitor(model, optimizer=opt)
    train(model, monitor, steps, opt)
    return monitor


def test_to_numpy_has_every_metric_with_its_width():
    monitor = recorded()
    arrays = to_numpy(monitor)
    assert arrays["step"].tolist() == [0, 1, 2]
    assert arrays["grad_norm"].shape == (3, 4) and arrays["out_grad_norm"].shape == (3, 2)
    assert arrays["loss"].shape == (3,)
    assert arrays["layer_names"].tolist() == ["0", "2"]
    assert set(History.scope(m) for m in monitor.history.metrics) == {
        "global",
        "param",
        "layer",
        "recurrent",
    }


def test_to_dict_is_json_and_matches_the_series():
    monitor = recorded()
    d = monitor.to_dict()
    json.dumps(d)
    assert d["steps"] == [0, 1, 2]
    grad_norm = monitor.history.series("grad_norm")[:, 0].tolist()
    assert d["params"]["0.weight"]["grad_norm"] == grad_norm
    assert d["layers"]["2"]["out_grad_norm"][0] > 0
    assert to_dict(monitor.history)["global"]["loss"] == d["global"]["loss"]


def test_to_csv_long_format(tmp_path):
    monitor = recorded(steps=2)
    path = to_csv(monitor, tmp_path / "grads.csv")
    rows = list(csv.DictReader(open(path)))
    assert set(rows[0]) == {"step", "scope", "name", "metric", "value"}
    h = monitor.history
    widths = {"global": 1, "param": 4, "layer": 2, "recurrent": 0}
    assert len(rows) == 2 * sum(widths[h.scope(m)] for m in h.metrics)
    loss = [float(r["value"]) for r in rows if r["metric"] == "loss"]
    np.testing.assert_allclose(loss, h.series("loss"))
    assert any(r["value"] == "nan" for r in rows)  # act_* of the output layer: none


class FakeWriter:
    def __init__(self):
        self.scalars = []

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))


def test_to_tensorboard_writes_every_series_to_a_writer():
    monitor = recorded(steps=2)
    writer = FakeWriter()
    n = to_tensorboard(monitor, writer)
    assert n == len(writer.scalars) > 0
    tags = {t for t, _, _ in writer.scalars}
    assert "loss" in tags and "param/0.weight/grad_norm" in tags and "layer/2/out_grad_norm" in tags
    assert "clip_total_norm" not in tags  # no clipping reported: skipped


def test_to_tensorboard_with_tensorboardx(tmp_path):
    pytest.importorskip("tensorboardX")
    monitor = recorded(steps=2)
    assert monitor.to_tensorboard(tmp_path / "run") > 0
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "run").iterdir())


def test_to_tensorboard_without_tensorboardx_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[tensorboard\]"):
        to_tensorboard(recorded(steps=1), "runs/x")


class _Seq(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(3, 8, num_layers=2, dropout=0.3, batch_first=True)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(F.dropout(out[:, -1], 0.2, self.training))


def _trajectory(cell, monitor_every):
    cr.manual_seed(0)
    model = _Seq(cell)
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(1)
    x = cr.tensor(rng.standard_normal((4, 6, 3)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 2, 4))
    monitor = (
        None
        if monitor_every is None
        else GradientMonitor(model, every=monitor_every, optimizer=opt, time_every=1)
    )
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if monitor is not None:
            monitor.step(loss)
    return [p.numpy().copy() for p in model.parameters()], monitor


@pytest.mark.parametrize("cell", [nn.RNN, nn.LSTM, nn.GRU])
def test_monitoring_leaves_recurrent_training_bit_for_bit_identical(cell):
    plain, _ = _trajectory(cell, None)
    for every in (1, 2):
        watched, monitor = _trajectory(cell, every)
        assert len(plain) == len(watched)
        for p, q in zip(plain, watched, strict=True):
            np.testing.assert_array_equal(p, q)  # exactly, not approximately
        profile = monitor.history.time_profiles["rnn"]
        assert profile.shape == (6,) and np.all(profile > 0)
        assert monitor.model.rnn.record_steps is False


class _StateGRU(nn.Module):
    """A GRU run step by step (record_steps: the monitor replays it), from a given state."""

    def __init__(self, keyword, zero_state=False):
        super().__init__()
        cr.manual_seed(0)
        self.rnn = nn.GRU(8, 16, batch_first=True, record_steps=True)
        self.head = nn.Linear(16, 10)
        self.keyword, self.zero_state = keyword, zero_state

    def forward(self, x):
        h0 = cr.full((1, x.shape[0], 16), 0.0 if self.zero_state else 0.9)
        out, _ = self.rnn(x, hx=h0) if self.keyword else self.rnn(x, h0)
        return self.head(out[:, -1])


def test_a_replayed_layer_starts_from_the_state_given_as_a_keyword():
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((16, 8, 8)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 10, 16))
    profiles = []
    for model in (_StateGRU(False), _StateGRU(True), _StateGRU(True, zero_state=True)):
        monitor = GradientMonitor(model, time_every=1)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        monitor.step(loss)
        profiles.append(monitor.history.time_profiles["rnn"])
        monitor.close()
    np.testing.assert_allclose(profiles[1], profiles[0], rtol=1e-6)  # hx= reached the replay
    assert not np.allclose(profiles[2], profiles[0], rtol=1e-3)  # (the state matters)
