"""PyTorch models through the facade: the same known-answer cases give the same verdicts.

Each case is built in chainrule, then copied weight for weight into the same torch
architecture, trained on the same batches with the same optimizer, and both reports compared.
"""

import itertools
import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import GradientMonitor, check, lr_range_test
from chainrule.diagnostics.repair import repair

torch = pytest.importorskip("torch")
tnn, TF = torch.nn, torch.nn.functional


@pytest.fixture(scope="module")
def digits():
    X, y = cr.data.load_digits()
    return X.astype(np.float32), y


def to_torch(model):
    """The same Sequential in torch, with the same weights."""
    layers = []
    for m in model:
        name = type(m).__name__
        if name == "Linear":
            t = tnn.Linear(m.in_features, m.out_features)
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(m.weight.numpy().copy()))
                t.bias.copy_(torch.from_numpy(m.bias.numpy().copy()))
        else:
            t = getattr(tnn, name)()
        layers.append(t)
    return tnn.Sequential(*layers)


def deep_mlp(activation, init, depth=12, width=64, seed=0):
    cr.manual_seed(seed)
    dims = [64] + [width] * (depth - 1) + [10]
    layers = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        lin = nn.Linear(a, b)
        init(lin.weight)
        nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < depth - 1:
            layers.append(activation())
    return nn.Sequential(*layers)


def batches(digits, steps, n=64, seed=0):
    X, y = digits
    rng = np.random.default_rng(seed)
    return [rng.integers(0, len(X), n) for _ in range(steps)]


def train_both(model, digits, steps, lr=None, zero_grad=True):
    """Train the chainrule model and its torch twin on the same batches; both reports."""
    twin = to_torch(model)
    X, y = digits
    idx = batches(digits, steps)
    reports = []
    for fw, m in (("cr", model), ("torch", twin)):
        opt = None
        if lr is not None:
            opt = (
                cr.optim.SGD(m.parameters(), lr=lr)
                if fw == "cr"
                else torch.optim.SGD(m.parameters(), lr=lr)
            )
        monitor = GradientMonitor(m, optimizer=opt)
        for i in idx:
            if opt is not None and zero_grad:
                opt.zero_grad()
            if fw == "cr":
                loss = F.cross_entropy(m(cr.tensor(X[i])), cr.tensor(y[i]))
            else:
                loss = TF.cross_entropy(m(torch.from_numpy(X[i])), torch.from_numpy(y[i]))
            loss.backward()
            if opt is not None:
                with np.errstate(all="ignore"):
                    opt.step()
            monitor.step(loss)
        reports.append(monitor.report())
        monitor.close()
    return reports


def problems(report):
    return {f.kind for f in report.findings if f.severity in ("error", "warning")}


def test_deep_sigmoid_vanishes_in_both(digits):
    cr_rep, t_rep = train_both(deep_mlp(nn.Sigmoid, nn.init.xavier_uniform_), digits, 2)
    assert "vanishing" in problems(cr_rep) and "vanishing" in problems(t_rep), str(t_rep)
    assert problems(cr_rep) == problems(t_rep)
    a, b = cr_rep.find("vanishing")[0], t_rep.find("vanishing")[0]
    assert a.layers == b.layers
    assert b.evidence["ratio_first_to_last"] == pytest.approx(
        a.evidence["ratio_first_to_last"], rel=0.05
    )


def test_large_init_tanh_explodes_in_both_checks(digits):
    model = deep_mlp(nn.Tanh, lambda w: nn.init.normal_(w, 0.0, 1.0))
    X, y = digits
    a = check(model, F.cross_entropy, (cr.tensor(X[:64]), cr.tensor(y[:64])))
    twin = to_torch(model)
    before = [p.detach().clone() for p in twin.parameters()]
    b = check(twin, TF.cross_entropy, (torch.from_numpy(X[:64]), torch.from_numpy(y[:64])))
    assert "exploding" in a.kinds and "exploding" in b.kinds, str(b)
    assert a.kinds == b.kinds
    assert b.source == "preflight"
    assert all(p.grad is None for p in twin.parameters())  # check leaves no trace
    assert all(torch.equal(p, q) for p, q in zip(twin.parameters(), before, strict=True))


def test_relu_he_is_healthy_in_both(digits):
    he = lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")
    cr_rep, t_rep = train_both(deep_mlp(nn.ReLU, he), digits, 3, lr=0.01)
    assert cr_rep.healthy and t_rep.healthy, str(t_rep)


def test_dead_relu_in_both(digits):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    with cr.no_grad():
        model[0].bias.numpy()[:48] = -100.0  # three quarters of the units never fire
    cr_rep, t_rep = train_both(model, digits, 5, lr=0.1)
    assert "dead" in problems(cr_rep), str(cr_rep)
    assert problems(cr_rep) == problems(t_rep), str(t_rep)
    assert cr_rep.find("dead")[0].layers == t_rep.find("dead")[0].layers == ["0"]


def test_lr_too_high_in_both(digits):
    cr.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10)
    )
    cr_rep, t_rep = train_both(model, digits, 30, lr=10.0)
    assert "lr_too_high" in problems(cr_rep) and "lr_too_high" in problems(t_rep), str(t_rep)


def test_forgotten_zero_grad_is_stale_in_torch(digits):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    cr_rep, t_rep = train_both(model, digits, 6, lr=0.01, zero_grad=False)
    assert "stale_gradients" in problems(cr_rep) and "stale_gradients" in problems(t_rep)


def test_monitor_leaves_the_torch_trajectory_unchanged(digits):
    X, y = digits
    idx = batches(digits, 5)
    runs = []
    for watch in (False, True):
        torch.manual_seed(0)
        m = tnn.Sequential(tnn.Linear(64, 32), tnn.Tanh(), tnn.Dropout(0.2), tnn.Linear(32, 10))
        opt = torch.optim.Adam(m.parameters(), lr=1e-2)
        monitor = GradientMonitor(m, optimizer=opt) if watch else None
        losses = []
        for i in idx:
            opt.zero_grad()
            loss = TF.cross_entropy(m(torch.from_numpy(X[i])), torch.from_numpy(y[i]))
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if monitor:
                monitor.step(loss)
        runs.append((losses, [p.detach().clone() for p in m.parameters()]))
        if monitor:
            assert monitor.context()["optimizer"] == "Adam"
            monitor.close()
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1], strict=True))


def test_hooks_are_removed_on_close():
    m = tnn.Sequential(tnn.Linear(4, 4), tnn.Sigmoid(), tnn.Linear(4, 2))
    monitor = GradientMonitor(m)
    assert any(mod._forward_hooks for mod in m.modules())
    monitor.close()
    assert not any(mod._forward_hooks or mod._forward_pre_hooks for mod in m.modules())


def test_lr_range_test_on_torch_restores_and_agrees(digits):
    X, y = digits
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    twin = to_torch(model)
    loader_cr = [(cr.tensor(X[i]), cr.tensor(y[i])) for i in batches(digits, 4)]
    loader_t = [(torch.from_numpy(X[i]), torch.from_numpy(y[i])) for i in batches(digits, 4)]
    a = lr_range_test(
        model,
        F.cross_entropy,
        cr.optim.SGD(model.parameters(), lr=0.1),
        loader_cr,
        start_lr=1e-4,
        end_lr=10,
        num_steps=30,
    )
    before = [p.detach().clone() for p in twin.parameters()]
    opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    b = lr_range_test(twin, TF.cross_entropy, opt, loader_t, start_lr=1e-4, end_lr=10, num_steps=30)
    assert all(torch.equal(p, q) for p, q in zip(twin.parameters(), before, strict=True))
    assert opt.param_groups[0]["lr"] == 0.1
    assert len(b.lrs) == len(a.lrs)
    np.testing.assert_allclose(b.losses, a.losses, rtol=1e-3)
    assert 0.25 < b.suggested_lr / a.suggested_lr < 4


def test_repair_on_a_torch_model(digits):
    X, y = digits

    def build():
        layers = [tnn.Linear(64, 32), tnn.Sigmoid()]
        for _ in range(8):
            layers += [tnn.Linear(32, 32), tnn.Sigmoid()]
        return tnn.Sequential(*layers, tnn.Linear(32, 10))

    res = repair(build, TF.cross_entropy, (X[:512], y[:512]), steps=60, lr=0.1, max_trials=2)
    assert "vanishing" in res.original.problems
    assert res.best is not None, res.table()
    assert "vanishing" not in res.best.problems
    assert res.best.accuracy >= res.original.accuracy + 0.02
    assert math.isfinite(res.best.loss)


def test_neither_chainrule_nor_torch_is_a_clear_type_error():
    with pytest.raises(TypeError, match="cr.nn.Module or a torch.nn.Module, got list"):
        GradientMonitor([1, 2])
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(tnn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(TypeError, match="torch optimizer"):
        GradientMonitor(model, optimizer=opt)
    twin = tnn.Linear(2, 2)
    with pytest.raises(TypeError, match="needs its torch optimizer, got SGD"):
        GradientMonitor(twin, optimizer=cr.optim.SGD(model.parameters(), lr=0.1))


class CellLoop(nn.Module):
    """A tanh RNNCell over the sequence (a loop: each call is one time step), a linear head."""

    def __init__(self, gain, hidden=32):
        super().__init__()
        self.cell = nn.RNNCell(2, hidden)
        nn.init.orthogonal_(self.cell.weight_hh, gain=gain)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        h = cr.zeros(x.shape[0], self.cell.hidden_size)
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
        return self.head(h)


class TorchCellLoop(tnn.Module):
    def __init__(self, twin):
        super().__init__()
        self.cell = tnn.RNNCell(2, twin.cell.hidden_size)
        self.head = tnn.Linear(twin.cell.hidden_size, 1)
        with torch.no_grad():
            for mine, theirs in ((self.cell, twin.cell), (self.head, twin.head)):
                for name, p in mine.named_parameters():
                    p.copy_(torch.from_numpy(getattr(theirs, name).numpy().copy()))

    def forward(self, x):
        h = torch.zeros(x.shape[0], self.cell.hidden_size)
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
        return self.head(h)


@pytest.mark.parametrize("gain,kind", [(3.0, "exploding"), (0.5, "vanishing")])
def test_rnn_cell_through_time_in_both(gain, kind):
    cr.manual_seed(0)
    model = CellLoop(gain)
    twin = TorchCellLoop(model)
    X, Y = cr.data.adding_problem(40, 64, seed=0)
    reports = []
    for m, tensor in ((model, cr.tensor), (twin, torch.from_numpy)):
        monitor = GradientMonitor(m)
        for _ in range(2):
            loss = ((m(tensor(X)) - tensor(Y)) ** 2).mean()
            loss.backward()
            monitor.step(loss)
        reports.append(monitor.report())
        monitor.close()
    found = [[f for f in r.find(kind) if f.evidence.get("direction") == "time"] for r in reports]
    assert found[0] and found[1], "\n".join(map(str, reports))
    a, b = found[0][0], found[1][0]
    assert a.layers == b.layers == ["cell"]
    assert b.evidence["steps"] == a.evidence["steps"] == 40
    assert b.evidence["ratio_first_to_last_step"] == pytest.approx(
        a.evidence["ratio_first_to_last_step"], rel=0.05
    )


def test_check_and_lr_range_test_refuse_a_non_module_clearly():
    with pytest.raises(TypeError, match="check: model must be a cr.nn.Module"):
        check(object(), TF.cross_entropy, (torch.zeros(2, 2), torch.zeros(2)))
    with pytest.raises(TypeError, match="lr_range_test: model must be a cr.nn.Module"):
        lr_range_test("model", TF.cross_entropy, None, [])


# ---- functional activations and fused RNNs in torch models ----


class CrActs(nn.Module):
    def __init__(self, act, std, seed=0):
        super().__init__()
        cr.manual_seed(seed)
        self.fc1, self.fc2, self.fc3 = nn.Linear(64, 32), nn.Linear(32, 32), nn.Linear(32, 10)
        for fc in (self.fc1, self.fc2):
            nn.init.normal_(fc.weight, 0.0, std)
        self.act = act

    def forward(self, x):
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))


class TorchActs(tnn.Module):
    """The twin of CrActs with the same weights; ``act`` is a torch function, not a module."""

    def __init__(self, twin, act):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = tnn.Linear(64, 32), tnn.Linear(32, 32), tnn.Linear(32, 10)
        _copy_parameters(self, twin)
        self.act = act

    def forward(self, x):
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x)))))


def _copy_parameters(torch_model, cr_model):
    theirs = dict(cr_model.named_parameters())
    with torch.no_grad():
        for name, p in torch_model.named_parameters():
            p.copy_(torch.from_numpy(theirs[name].numpy().copy()))


def _one_step(model, x, y, tensor, loss_fn, **kw):
    monitor = GradientMonitor(model, **kw)
    loss = loss_fn(model(tensor(x)), tensor(y))
    loss.backward()
    monitor.step(loss)
    monitor.close()
    return monitor


FUNCTIONAL = {
    "tanh": (F.tanh, torch.tanh),
    "sigmoid": (F.sigmoid, TF.sigmoid),
    "relu": (F.relu, lambda t: t.relu()),  # a Tensor method
    "relu6": (F.relu6, TF.relu6),
    "softsign": (F.softsign, TF.softsign),
    "hardtanh": (lambda t: F.hardtanh(t, -0.5, 0.5), lambda t: TF.hardtanh(t, -0.5, 0.5)),
    "gelu": (F.gelu, TF.gelu),
}


@pytest.mark.parametrize("kind", sorted(FUNCTIONAL))
def test_functional_activations_in_a_torch_forward_are_seen(digits, kind):
    X, y = digits
    cr_act, torch_act = FUNCTIONAL[kind]
    model = CrActs(cr_act, std=0.4)
    twin = TorchActs(model, torch_act)
    a = _one_step(model, X[:128], y[:128], cr.tensor, F.cross_entropy)
    b = _one_step(twin, X[:128], y[:128], torch.from_numpy, TF.cross_entropy)
    acts = [[lay["activation"] for lay in m.context()["layers"]] for m in (a, b)]
    assert acts[0] == acts[1] == [kind, kind, None]
    for metric in ("saturated_frac", "dead_frac", "act_mean", "act_std"):
        np.testing.assert_allclose(
            b.history.series(metric), a.history.series(metric), atol=0.01, err_msg=metric
        )


def test_functional_tanh_saturation_is_reported_for_a_torch_model(digits):
    X, y = digits
    model = CrActs(F.tanh, std=2.0)
    twin = TorchActs(model, torch.tanh)
    reports = []
    for m, tensor, loss_fn in (
        (model, cr.tensor, F.cross_entropy),
        (twin, torch.from_numpy, TF.cross_entropy),
    ):
        reports.append(_one_step(m, X[:256], y[:256], tensor, loss_fn).report())
    assert "saturated" in problems(reports[0])
    assert problems(reports[1]) == problems(reports[0])


def test_the_activation_watch_leaves_torch_training_unchanged_and_ends(digits):
    X, y = digits
    idx = batches(digits, 4)

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.fc1, self.fc2 = tnn.Linear(64, 32), tnn.Linear(32, 10)

        def forward(self, x):
            return self.fc2(torch.tanh(self.fc1(TF.dropout(x, 0.2, self.training))))

    runs = []
    for watch in (False, True):
        m = Net()
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        monitor = GradientMonitor(m, optimizer=opt) if watch else None
        for i in idx:
            opt.zero_grad()
            loss = TF.cross_entropy(m(torch.from_numpy(X[i])), torch.from_numpy(y[i]))
            loss.backward()
            opt.step()
            if monitor:
                monitor.step(loss)
                assert torch._C._len_torch_function_stack() == 0  # the watch ended
        runs.append([p.detach().clone() for p in m.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*runs, strict=True))
    assert monitor.context()["layers"][0]["activation"] == "tanh"


def test_the_activation_watch_ends_when_the_forward_raises():
    class Broken(tnn.Module):
        def __init__(self):
            super().__init__()
            self.fc = tnn.Linear(4, 4)

        def forward(self, x):
            torch.relu(self.fc(x))
            raise RuntimeError("boom")

    m = Broken()
    monitor = GradientMonitor(m)
    with pytest.raises(RuntimeError, match="boom"):
        m(torch.zeros(2, 4))
    assert torch._C._len_torch_function_stack() == 0
    monitor.close()


class CrSeq(nn.Module):
    def __init__(self, cell, seed=0, **kw):
        super().__init__()
        cr.manual_seed(seed)
        self.rnn = cell(8, 16, batch_first=True, **kw)
        self.head = nn.Linear(16 * (2 if kw.get("bidirectional") else 1), 10)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class TorchSeq(tnn.Module):
    def __init__(self, twin, cell, **kw):
        super().__init__()
        self.rnn = cell(8, 16, batch_first=True, **kw)
        self.head = tnn.Linear(twin.head.in_features, 10)
        _copy_parameters(self, twin)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


LAYOUTS = {
    "one layer": {},
    "stacked": {"num_layers": 2},
    "bidirectional": {"bidirectional": True},
    "stacked bidirectional": {"num_layers": 3, "bidirectional": True},
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_fused_torch_rnn_gets_the_time_profile_of_chainrule(digits, cell, layout):
    X, y = digits
    x = X[:64].reshape(-1, 8, 8)
    model = CrSeq(getattr(nn, cell), **LAYOUTS[layout])
    twin = TorchSeq(model, getattr(tnn, cell), **LAYOUTS[layout])
    a = _one_step(model, x, y[:64], cr.tensor, F.cross_entropy, time_every=1)
    b = _one_step(twin, x, y[:64], torch.from_numpy, TF.cross_entropy, time_every=1)
    assert [lay["recurrent"] for lay in b.context()["layers"]] == [True, False]
    for metric in ("time_grad_first", "time_grad_last", "time_ratio", "time_steps"):
        np.testing.assert_allclose(
            b.history.series(metric), a.history.series(metric), rtol=1e-4, err_msg=metric
        )
    assert b.history.series("time_steps")[-1, 0] == 8
    np.testing.assert_allclose(
        b.history.time_profiles["rnn"], a.history.time_profiles["rnn"], rtol=1e-4
    )


def _replay(m, x, hx=None):
    """The facade's step-by-step replay of torch layer ``m`` (as the monitor runs it), with
    torch's random state as it was before ``m``'s forward, checked against the forward:
    ``(torch's output, the replay's hidden states, its cell states)``."""
    from chainrule.diagnostics.torch_adapter import TorchModel, _TorchTensor

    layer = TorchModel(tnn.Sequential(m))._module(m)
    xf = _TorchTensor(x)
    xf._torch_rng = torch.get_rng_state()
    expected = m(x, hx)
    after = torch.get_rng_state()
    layer.record_steps = True
    if hx is not None:
        hx = tuple(map(_TorchTensor, hx)) if isinstance(hx, tuple) else _TorchTensor(hx)
    got = layer.forward(xf, hx)
    assert torch.equal(torch.get_rng_state(), after)  # the replay leaves torch's stream alone
    flat = [expected[0], *(expected[1] if isinstance(expected[1], tuple) else [expected[1]])]
    mine = [got[0], *(got[1] if isinstance(got[1], tuple) else [got[1]])]
    for a, b in zip(flat, mine, strict=True):
        assert a.shape == b._t.shape
        torch.testing.assert_close(b._t, a, rtol=1e-5, atol=1e-5)
    return expected[0], layer.last_hidden_states, layer.last_cell_states


def _rnn(mode, **kw):
    if mode == "RNN_RELU":
        return tnn.RNN(4, 5, nonlinearity="relu", **kw)
    return getattr(tnn, mode)(4, 5, **kw)


@pytest.mark.parametrize("mode", ["RNN", "RNN_RELU", "LSTM", "GRU"])
def test_the_replay_equals_torchs_fused_layer(mode):
    torch.manual_seed(0)
    layouts = [(1, False, 0, True), (3, False, 0, True), (1, True, 0, False), (2, True, 0, True)]
    if mode == "LSTM":
        layouts += [(1, False, 3, True), (2, True, 3, False)]
    for (layers, bi, proj, bias), batch_first, unbatched, given in itertools.product(
        layouts, (False, True), (False, True), (False, True)
    ):
        kw = {"num_layers": layers, "bidirectional": bi, "batch_first": batch_first, "bias": bias}
        m = _rnn(mode, **kw, **({"proj_size": proj} if proj else {})).double()
        shape = (7, 4) if unbatched else ((2, 7, 4) if batch_first else (7, 2, 4))
        dirs = 2 if bi else 1
        states = (layers * dirs,) + (() if unbatched else (2,))
        hx = None
        if given:
            h0 = torch.randn(*states, proj or 5, dtype=torch.float64)
            hx = (h0, torch.randn(*states, 5, dtype=torch.float64)) if mode == "LSTM" else h0
        out, hs, cs = _replay(m, torch.randn(*shape, dtype=torch.float64), hx)
        # chainrule's layout: one list of T states (B, H_out) per layer and direction, in time
        # order for the reverse direction too: the last layer's make the output
        assert len(hs) == layers * dirs and all(len(v) == 7 for v in hs)
        assert hs[0][0]._t.shape == (1 if unbatched else 2, proj or 5)
        assert (cs is not None) == (mode == "LSTM")
        last = torch.cat([torch.stack([h._t for h in v]) for v in hs[-dirs:]], dim=-1)
        out = out.unsqueeze(1) if unbatched else (out.transpose(0, 1) if batch_first else out)
        torch.testing.assert_close(last, out)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_the_replay_draws_torchs_own_dropout_masks(mode):
    """In training, a stacked layer's dropout masks come from torch's random state before the
    forward: the replay equals the fused forward, and torch's stream is not moved."""
    torch.manual_seed(0)
    m = _rnn(mode, num_layers=3, dropout=0.5, bidirectional=True)
    x = torch.randn(6, 3, 4)
    _replay(m, x)
    m.eval()  # no masks in eval mode
    _replay(m, x)


class TorchSeqDropout(TorchSeq):
    """Dropout between the LSTM's layers and after it: the replay's masks are drawn between
    two of training's, from a forked random stream."""

    def __init__(self):
        super().__init__(CrSeq(nn.LSTM, num_layers=2), tnn.LSTM, num_layers=2, dropout=0.3)
        self.drop = tnn.Dropout(0.3)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(self.drop(out[:, -1]))


def test_the_monitor_leaves_a_torch_rnn_with_dropout_unchanged(digits):
    X, y = digits
    x = torch.from_numpy(X[:32].reshape(-1, 8, 8))
    runs = []
    for watch in (False, True):
        torch.manual_seed(0)
        m = TorchSeqDropout()
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        monitor = GradientMonitor(m, optimizer=opt, time_every=1) if watch else None
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = TF.cross_entropy(m(x), torch.from_numpy(y[:32]))
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if monitor:
                monitor.step(loss)
        runs.append((losses, [p.detach().clone() for p in m.parameters()]))
        if monitor:
            steps = monitor.history.series("time_steps")
            assert steps.shape == (3, 1) and np.all(steps == 8)
            monitor.close()
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1], strict=True))


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_a_projected_torch_lstm_gets_a_time_profile(digits):
    X, y = digits

    class Projected(tnn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = tnn.LSTM(8, 16, num_layers=2, proj_size=4, batch_first=True)
            self.head = tnn.Linear(4, 10)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    torch.manual_seed(0)
    monitor = _one_step(
        Projected(),
        X[:64].reshape(-1, 8, 8),
        y[:64],
        torch.from_numpy,
        TF.cross_entropy,
        time_every=1,
    )
    profile = monitor.history.time_profiles["rnn"]
    assert profile.shape == (8,) and np.all(profile > 0)


class CrDeepRNN(nn.Module):
    """A 2-layer tanh RNN whose recurrent matrices are orthogonal with ``gain``, a head on the
    last step."""

    def __init__(self, gain, bidirectional):
        super().__init__()
        cr.manual_seed(0)
        self.rnn = nn.RNN(2, 32, num_layers=2, batch_first=True, bidirectional=bidirectional)
        for name, p in self.rnn.named_parameters():
            if name.startswith("weight_hh"):
                nn.init.orthogonal_(p, gain=gain)
        self.head = nn.Linear(32 * (2 if bidirectional else 1), 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class TorchDeepRNN(tnn.Module):
    def __init__(self, twin):
        super().__init__()
        r = twin.rnn
        self.rnn = tnn.RNN(2, 32, num_layers=2, batch_first=True, bidirectional=r.bidirectional)
        self.head = tnn.Linear(twin.head.in_features, 1)
        _copy_parameters(self, twin)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("gain,vanishes", [(0.5, True), (1.0, False)])
def test_a_deep_torch_rnn_vanishes_through_time_as_in_chainrule(gain, vanishes, bidirectional):
    # 20 steps: gain 0.5 gives |dL/dh_1| / |dL/dh_20| about 1e-6, gain 1 about 0.2-0.3
    model = CrDeepRNN(gain, bidirectional)
    twin = TorchDeepRNN(model)
    X, Y = cr.data.adding_problem(20, 64, seed=0)
    reports, ratios = [], []
    for m, tensor in ((model, cr.tensor), (twin, torch.from_numpy)):
        monitor = GradientMonitor(m)
        for _ in range(2):
            loss = ((m(tensor(X)) - tensor(Y)) ** 2).mean()
            loss.backward()
            monitor.step(loss)
        reports.append(monitor.report())
        ratios.append(monitor.history.series("time_ratio")[0, 0])  # the measured step
        monitor.close()
    # the torch model is measured (a healthy ratio is not a missing one), as chainrule's
    assert ratios[1] == pytest.approx(ratios[0], rel=1e-3)
    assert (ratios[1] < 1e-4) if vanishes else (ratios[1] > 0.1)
    found = [
        [f for f in r.find("vanishing") if f.evidence.get("direction") == "time"] for r in reports
    ]
    assert bool(found[0]) == bool(found[1]) == vanishes, "\n".join(map(str, reports))
    if vanishes:
        a, b = found[0][0], found[1][0]
        assert a.layers == b.layers == ["rnn"] and a.evidence["steps"] == b.evidence["steps"] == 20
        assert b.evidence["ratio_first_to_last_step"] == pytest.approx(
            a.evidence["ratio_first_to_last_step"], rel=1e-3
        )
        assert b.evidence["sigma_max_weight_hh"] == pytest.approx(0.5, rel=1e-4)
    assert not any(r.find("exploding") for r in reports)


def test_a_packed_sequence_gets_no_time_profile_and_no_error():
    class Packed(tnn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = tnn.LSTM(3, 4, num_layers=2, bidirectional=True)
            self.head = tnn.Linear(8, 1)

        def forward(self, x):
            packed = tnn.utils.rnn.pack_padded_sequence(x, [5, 3], enforce_sorted=False)
            out, _ = self.rnn(packed)
            return self.head(tnn.utils.rnn.pad_packed_sequence(out)[0][0])

    m = Packed()
    monitor = GradientMonitor(m, time_every=1)
    for _ in range(2):
        loss = m(torch.randn(5, 2, 3)).sum()
        loss.backward()
        monitor.step(loss)
    assert np.isnan(monitor.history.series("time_steps")).all()
    monitor.close()


def test_a_bare_torch_rnn_is_an_ordinary_layer():
    # the model itself (no parent module): its facade is the root's, without the replay
    m = tnn.LSTM(8, 16, num_layers=2, batch_first=True)
    monitor = GradientMonitor(m)
    out, _ = m(torch.randn(4, 8, 8))
    out.sum().backward()
    monitor.step(out.sum())
    assert [lay["recurrent"] for lay in monitor.context()["layers"]] == [False]
    monitor.close()


class _TorchWithState(tnn.Module):
    """A GRU started from a learned-looking state, passed positionally or as ``hx=``."""

    def __init__(self, twin, keyword):
        super().__init__()
        self.rnn = tnn.GRU(8, 16, batch_first=True)
        self.head = tnn.Linear(16, 10)
        _copy_parameters(self, twin)
        self.keyword = keyword

    def forward(self, x):
        h0 = torch.full((1, x.shape[0], 16), 0.9)
        out, _ = self.rnn(x, hx=h0) if self.keyword else self.rnn(x, h0)
        return self.head(out[:, -1])


def test_an_initial_state_given_as_a_keyword_reaches_the_replay(digits):
    X, y = digits
    x = X[:32].reshape(-1, 8, 8)
    twin = CrSeq(nn.GRU)
    profiles = []
    for keyword in (False, True):
        model = _TorchWithState(twin, keyword)
        monitor = _one_step(model, x, y[:32], torch.from_numpy, TF.cross_entropy, time_every=1)
        profiles.append(monitor.history.time_profiles["rnn"])
    np.testing.assert_allclose(profiles[1], profiles[0], rtol=1e-6)
    zero_state = _one_step(
        TorchSeq(twin, tnn.GRU), x, y[:32], torch.from_numpy, TF.cross_entropy, time_every=1
    )
    assert not np.allclose(zero_state.history.time_profiles["rnn"], profiles[0], rtol=1e-3)
