"""The activation table: bands from each function's formula, typed recognition of functional
activations (relu6, softsign)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import GradientMonitor
from chainrule.diagnostics.activations import (
    ACTIVATIONS,
    SATURATING,
    module_kind,
    node_kind,
    saturation_band,
)

FUNCTIONS = {
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "softsign": lambda z: z / (1 + np.abs(z)),
}


@pytest.mark.parametrize("kind", sorted(FUNCTIONS))
def test_saturation_band_is_where_the_slope_is_below_a_tenth_of_its_maximum(kind):
    # Independently of the table: differentiate f numerically on a fine grid, find where the
    # slope falls under 10 % of its largest value, and read the band off the outputs there.
    z = np.linspace(-30, 30, 600001)
    f = FUNCTIONS[kind]
    slope = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
    y = f(z)
    flat = slope < 0.1 * slope.max()
    lo, hi = saturation_band(kind)
    assert y[flat & (z < 0)].max() == pytest.approx(lo, abs=2e-4)
    assert y[flat & (z > 0)].min() == pytest.approx(hi, abs=2e-4)
    assert ACTIVATIONS[kind].max_slope == pytest.approx(slope.max(), rel=1e-6)


def test_sigmoid_band_is_the_stated_slope_criterion():
    lo, hi = saturation_band("sigmoid")
    assert lo == pytest.approx((1 - np.sqrt(0.9)) / 2, abs=1e-12)  # 0.0257, not 0.0260
    assert hi == pytest.approx(1 - lo, abs=1e-12)


def test_functional_activations_are_recognised_by_their_op_not_their_name():
    x = cr.randn(4, 3, requires_grad=True)
    assert node_kind(F.relu6(x)._node)[0] == "relu6"  # records Hardtanh(0, 6)
    assert node_kind(F.hardtanh(x)._node)[0] == "hardtanh"
    assert node_kind(F.softsign(x)._node)[0] == "softsign"  # records Div
    assert node_kind((x / (x.abs() + 2))._node)[0] is None  # a Div that is not softsign
    assert node_kind((x / x.abs())._node)[0] is None
    assert node_kind(F.selu(x)._node)[0] == "selu" and node_kind(F.elu(x)._node)[0] == "elu"
    assert module_kind(nn.ReLU6()) == "relu6" and module_kind(nn.Softsign()) == "softsign"
    assert "relu6" not in SATURATING


class Functional(nn.Module):
    def __init__(self, act):
        super().__init__()
        cr.manual_seed(0)
        self.fc1, self.fc2 = nn.Linear(4, 32), nn.Linear(32, 2)
        self.act = act

    def forward(self, x):
        self.hidden = self.act(self.fc1(x))
        return self.fc2(self.hidden)


def test_functional_relu6_counts_dead_units_not_saturation_and_softsign_is_seen():
    x = cr.tensor(np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32))
    y = cr.tensor(np.zeros(64, dtype=np.int64))
    model = Functional(F.relu6)
    with cr.no_grad():
        model.fc1.bias.fill_(-1.0)
    monitor = GradientMonitor(model)
    F.cross_entropy(model(x), y).backward()
    monitor.step(0.0)
    assert monitor.context()["layers"][0]["activation"] == "relu6"
    h = model.hidden.numpy()
    assert np.isnan(monitor.history.series("saturated_frac")[0, 0])
    assert monitor.history.series("dead_frac")[0, 0] == pytest.approx(np.mean(h.max(0) <= 0))

    model = Functional(F.softsign)
    monitor = GradientMonitor(model)
    F.cross_entropy(model(x * 10), y).backward()
    monitor.step(0.0)
    h = model.hidden.numpy().astype(np.float64)
    assert monitor.context()["layers"][0]["activation"] == "softsign"
    slope = (1 - np.abs(h)) ** 2  # d softsign / dz in terms of the output
    assert monitor.history.series("saturated_frac")[0, 0] == pytest.approx(np.mean(slope < 0.1))
