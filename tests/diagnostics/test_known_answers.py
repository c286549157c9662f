"""Known answers of the gradient-flow diagnostics.

Each model is one whose behaviour the literature predicts: deep sigmoid/tanh stacks (Glorot &
Bengio 2010), ReLU with He init (He et al. 2015), tanh RNNs with a scaled orthogonal recurrent
matrix (Pascanu et al. 2013), the adding problem (Hochreiter & Schmidhuber 1997). The report must
name the phenomenon. Models are CPU-sized: 20 layers of width 256 on digits batches, few steps.
"""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import GradientMonitor, check

DEPTH, WIDTH = 20, 256


@pytest.fixture(scope="module")
def digits():
    X, y = cr.data.load_digits()
    return X, y


def batch(digits, n=64, start=0):
    X, y = digits
    return cr.tensor(X[start : start + n]), cr.tensor(y[start : start + n])


def uniform_fan_in(w):
    bound = 1 / math.sqrt(w.shape[1])
    nn.init.uniform_(w, -bound, bound)


def deep_mlp(activation, init, depth=DEPTH, width=WIDTH, seed=0):
    """``depth`` Linear layers 64 -> width ... -> 10 with ``activation`` between them."""
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


def monitored(model, batches, optimizer=None, **kwargs):
    """Run forward/backward(/step) on each (x, y) with a monitor; return the monitor."""
    monitor = GradientMonitor(model, optimizer=optimizer, **kwargs)
    for x, y in batches:
        if optimizer is not None:
            optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if optimizer is not None:
            optimizer.step()
        monitor.step(loss)
    monitor.close()
    return monitor


def depth_finding(report, kind):
    found = [f for f in report.find(kind) if f.evidence.get("direction") == "depth"]
    assert found, f"expected a {kind!r} finding across layers, got {report.kinds}:\n{report}"
    return found[0]


# ---- deep feed-forward stacks ----


def test_sigmoid_with_glorot_is_vanishing(digits):
    model = deep_mlp(nn.Sigmoid, nn.init.xavier_uniform_)
    monitor = monitored(model, [batch(digits, 64, 0), batch(digits, 64, 64)])
    f = depth_finding(monitor.report(), "vanishing")
    assert f.evidence["ratio_first_to_last"] < 1e-8  # about 0.25 per layer, 20 layers
    assert "0" in f.layers and "38" not in f.layers  # the first layers suffer
    assert any("ReLU" in r and "'0'" in r for r in f.remedies)
    assert "vanishing" in check(
        deep_mlp(nn.Sigmoid, nn.init.xavier_uniform_), F.cross_entropy, batch(digits)
    )


def test_tanh_with_uniform_fan_in_is_vanishing_although_weight_grads_look_flat(digits):
    model = deep_mlp(nn.Tanh, uniform_fan_in)
    monitor = monitored(model, [batch(digits, 64, 0), batch(digits, 64, 64)])
    f = depth_finding(monitor.report(), "vanishing")
    assert 1e-7 < f.evidence["ratio_first_to_last"] < 1e-3  # about 1e-5 from last to first
    assert 0.1 < f.evidence["weight_grad_ratio_first_to_last"] < 10  # flat weight gradients
    assert "look flat" in f.message
    assert "Xavier" in f.remedies[0]  # fan_in*Var(W) = 1/3 for tanh


def test_tanh_with_standard_normal_weights_is_exploding(digits):
    model = deep_mlp(nn.Tanh, lambda w: nn.init.normal_(w, 0.0, 1.0))
    report = check(model, F.cross_entropy, batch(digits))
    f = depth_finding(report, "exploding")
    assert f.evidence["ratio_first_to_last"] > 1e7  # about 1e9 towards the input
    assert "Xavier" in f.remedies[0]
    assert "saturated" in report  # and the tanh units saturate


def test_relu_with_he_init_is_healthy(digits):
    he = lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")
    model = deep_mlp(nn.ReLU, he)
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    monitor = monitored(model, [batch(digits, 64, 64 * k) for k in range(3)], opt)
    report = monitor.report()
    assert "vanishing" not in report and "exploding" not in report, str(report)
    assert report.healthy, str(report)
    pre = check(deep_mlp(nn.ReLU, he), F.cross_entropy, batch(digits))
    assert "vanishing" not in pre and "exploding" not in pre, str(pre)


# ---- recurrent: through time ----


class SequenceRegressor(nn.Module):
    """RNN over the sequence, a linear head on the last hidden state."""

    def __init__(self, hidden=64, recurrent_gain=None, cell=nn.RNN):
        super().__init__()
        self.rnn = cell(2, hidden, batch_first=True)
        if recurrent_gain is not None:
            nn.init.orthogonal_(self.rnn.weight_hh_l0, gain=recurrent_gain)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def time_finding(report, kind):
    found = [f for f in report.find(kind) if f.evidence.get("direction") == "time"]
    assert found, f"expected a {kind!r} finding through time, got {report.kinds}:\n{report}"
    return found[0]


def run_sequence(model, steps, seq_len, lr=None, clip=None, batch_size=16, seed=0):
    X, Y = cr.data.adding_problem(seq_len, 256, seed=seed)
    opt = None if lr is None else cr.optim.SGD(model.parameters(), lr=lr)
    monitor = GradientMonitor(model, optimizer=opt)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        i = rng.integers(0, len(X), batch_size)
        if opt is not None:
            opt.zero_grad()
        loss = ((model(cr.tensor(X[i])) - cr.tensor(Y[i])) ** 2).mean()
        loss.backward()
        total = None
        if clip is not None:
            total = nn.utils.clip_grad_norm_(model.parameters(), clip)
        if opt is not None:
            with np.errstate(all="ignore"):
                opt.step()
        monitor.step(loss, grad_norm=total, max_norm=clip)
    return monitor


def test_rnn_with_recurrent_matrix_scaled_to_3_explodes_through_time():
    cr.manual_seed(0)
    monitor = run_sequence(SequenceRegressor(64, recurrent_gain=3.0), steps=2, seq_len=100)
    f = time_finding(monitor.report(), "exploding")
    assert f.layers == ["rnn"]
    assert f.evidence["steps"] == 100
    assert f.evidence["ratio_first_to_last_step"] > 1e6
    assert f.evidence["sigma_max_weight_hh"] == pytest.approx(3.0, rel=1e-3)
    assert any("clip" in r.lower() for r in f.remedies)


def test_rnn_with_recurrent_matrix_scaled_to_0_9_vanishes_through_time():
    cr.manual_seed(0)
    monitor = run_sequence(SequenceRegressor(64, recurrent_gain=0.9), steps=2, seq_len=100)
    f = time_finding(monitor.report(), "vanishing")
    assert f.evidence["ratio_first_to_last_step"] < 1e-4
    assert f.evidence["gain_per_step"] < 1
    assert "LSTM or GRU" in f.remedies[0]
    profile = monitor.history.time_profiles["rnn"]
    assert profile.shape == (100,) and profile[0] < profile[-1]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_adding_problem_unclipped_goes_nonfinite_and_is_reported():
    cr.manual_seed(0)
    monitor = run_sequence(SequenceRegressor(64), steps=20, seq_len=50, lr=1.0, batch_size=32)
    report = monitor.report()
    assert "nonfinite" in report, str(report)
    f = report.find("nonfinite")[0]
    assert 0 < f.evidence["step"] < 20
    assert any("clip" in r.lower() for r in f.remedies)
    assert "exploding" in report and "lr_too_high" in report


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_adding_problem_clipped_stays_finite_and_reports_clipping():
    cr.manual_seed(0)
    monitor = run_sequence(
        SequenceRegressor(64), steps=20, seq_len=50, lr=1.0, clip=1.0, batch_size=32
    )
    report = monitor.report()
    assert "nonfinite" not in report, str(report)
    assert np.isfinite(monitor.history.series("loss")).all()
    clip = report.clipping
    assert clip["seen"] == 20 and 0 < clip["acted"] <= 20 and clip["max_norm"] == 1.0
    f = report.find("clipping")[0]
    assert f"acted on {clip['acted']} of 20 steps" in f.message
    assert np.all(monitor.history.series("clip_total_norm") > 0)


# ---- learning rate ----


def small_mlp(seed=0):
    cr.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10)
    )


def train_digits(digits, lr, steps=30, seed=0):
    model = small_mlp(seed)
    opt = cr.optim.SGD(model.parameters(), lr=lr)
    X, y = digits
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(steps):
        i = rng.integers(0, len(X), 64)
        batches.append((cr.tensor(X[i]), cr.tensor(y[i])))
    with np.errstate(all="ignore"):
        return monitored(model, batches, opt).report()


GOOD_LR = 0.1  # SGD on this MLP: update ratios around Karpathy's 1e-3, the loss falls


def test_good_learning_rate_gets_no_lr_finding(digits):
    report = train_digits(digits, GOOD_LR)
    assert "lr_too_high" not in report and "lr_too_low" not in report, str(report)


def test_learning_rate_100x_too_high_is_reported(digits):
    report = train_digits(digits, GOOD_LR * 100)
    f = report.find("lr_too_high")
    assert f, str(report)
    assert "Lower the learning rate from 10" in f[0].remedies[0]


def test_learning_rate_1000x_too_low_is_reported(digits):
    report = train_digits(digits, GOOD_LR / 1000)
    f = report.find("lr_too_low")
    assert f, str(report)
    assert f[0].evidence["update_ratio_median"] < 1e-4
    assert "Raise the learning rate from 0.0001" in f[0].remedies[0]


# ---- missing gradients, NaN origin ----


class DetachedBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Linear(64, 10)
        self.side = nn.Linear(64, 10)

    def forward(self, x):
        return self.main(x) + self.side(x).detach()  # the side branch never gets a gradient


def test_detached_branch_is_reported_no_gradient(digits):
    cr.manual_seed(0)
    model = DetachedBranch()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    report = monitored(model, [batch(digits, 32, 32 * k) for k in range(3)], opt).report()
    f = report.find("no_gradient")
    assert f and f[0].layers == ["side"], str(report)
    assert set(f[0].evidence["no_grad"]) == {"side.weight", "side.bias"}
    assert "detach" in f[0].remedies[0]


class LogOfRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(cr.log(F.relu(self.fc1(x))))  # relu outputs exact zeros: log(0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_log_of_zero_is_traced_to_its_op(digits):
    cr.manual_seed(0)
    monitor = monitored(LogOfRelu(), [batch(digits, 32)])
    f = monitor.report().find("nonfinite")[0]
    assert f.evidence["op"] == "Log" and f.evidence["cause"] == "log of zero"
    # the producer: log is applied to the output of fc1 (fc2 only receives the NaN)
    assert f.evidence["phase"] == "forward" and f.layers == ["fc1"]
    assert "output of 'fc1'" in f.message
    assert "log_softmax" in f.remedies[0]
    # the pre-flight check on the loss side: log of a probability that underflowed to 0
    model = nn.Sequential(nn.Linear(64, 10))

    def nll_of_softmax(out, target):
        p = F.softmax(out * 1e4, dim=1)
        return -cr.log(p[np.arange(len(target)), target.numpy()]).mean()

    g = check(model, nll_of_softmax, batch(digits, 32)).find("nonfinite")[0]
    assert g.evidence["op"] == "Log" and g.evidence["cause"] == "log of zero"
