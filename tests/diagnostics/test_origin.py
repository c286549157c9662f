"""``diagnostics.origin``: the op a NaN/Inf is traced to, also when intermediate values are gone."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics.origin import trace_op


class _Block(nn.Module):
    """A residual block whose sum overflows: fc(x) is finite, x is finite, fc(x) * 1 + x is not."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return (self.fc(x) * 1.0 + x).relu()


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.block, self.out = nn.Linear(4, 8), _Block(), nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.block(self.inp(x)))


def _overflowing_net():
    model = _Net()
    with cr.no_grad():
        model.inp.weight.fill_(8e37)  # outputs 3.2e38: finite, near float32's largest
        model.inp.bias.zero_()
        model.block.fc.weight.fill_(0.01)  # 2.56e37: adding the two overflows
        model.block.fc.bias.zero_()
    return model


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_monitor_traces_an_overflow_to_the_add_that_made_it():
    model = _overflowing_net()
    monitor = cr.diagnostics.GradientMonitor(model, every=1)
    loss = model(cr.ones(3, 4)).sum()
    monitor.step(loss)
    event = monitor.first_nonfinite
    # Before, Mul's output was not kept, so the walk went past the Add and blamed the Mul
    assert event["op"] == "Add" and event["cause"] == "overflow", event
    monitor.close()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_without_kept_values_the_tracer_names_both_candidates_instead_of_one_wrong_op():
    model = _overflowing_net()
    out = model(cr.ones(3, 4))
    event = trace_op(out, set())
    # the Mul's output (the Add's input) is gone: Mul or Add made the Inf, and the tracer says so
    assert event["op"] == "Mul" and event["or_op_after"] == "Add", event
    assert "not kept" in event["explanation"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_op_that_cannot_make_nan_of_finite_values_is_walked_through():
    # relu's input (the log) is not kept, but relu cannot make NaN: the walk goes on to the log
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    out = cr.relu(cr.log(x)) * 1.0
    event = trace_op(out, set())
    assert event["op"] == "Log" and event["cause"] == "log of a negative number", event


def test_monitor_keeps_values_only_during_its_recorded_forwards():
    from chainrule.autograd.engine import KEEP_INPUT_VALUES

    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    monitor = cr.diagnostics.GradientMonitor(model, every=2)
    seen = []
    model[1].register_forward_hook(lambda m, a, o: seen.append(KEEP_INPUT_VALUES.get()))
    for _ in range(4):
        loss = model(cr.ones(2, 4)).sum()
        loss.backward()
        monitor.step(loss)
        assert not KEEP_INPUT_VALUES.get()
    assert seen == [True, False, True, False]
    monitor.close()
    assert np.isfinite(loss.item())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_an_off_cycle_nan_loss_names_the_op_without_claiming_certainty():
    model = _overflowing_net()
    monitor = cr.diagnostics.GradientMonitor(model, every=2)
    with cr.no_grad():
        saved = model.inp.weight.clone()
        model.inp.weight.fill_(0.1)
    healthy = model(cr.ones(3, 4)).sum()  # step 0: recorded, finite
    healthy.backward()
    monitor.step(healthy)
    with cr.no_grad():
        model.inp.weight.copy_(saved)
    loss = model(cr.ones(3, 4)).sum()  # step 1: not recorded, the values are not kept
    monitor.step(loss)
    assert monitor.first_nonfinite["or_op_after"] == "Add"
    (finding,) = [f for f in monitor.report().findings if f.kind == "nonfinite"]
    assert "produced by the op 'Mul' or the 'Add' after it" in finding.message
    assert any("trace_nonfinite" in r for r in finding.remedies)
    monitor.close()
