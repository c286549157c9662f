import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics.nonfinite import NonfiniteOrigin, NonfiniteTracer, trace_nonfinite


class Log(nn.Module):
    def forward(self, x):
        return cr.log(x)  # the line the trace must point to


class Exp(nn.Module):
    def forward(self, x):
        return cr.exp(x * 100.0)


class RowNorm(nn.Module):
    def forward(self, x):
        return cr.sqrt((x * x).sum(dim=1))


class Net(nn.Module):
    """fc -> relu -> <tail>; the fc bias decides which units are exactly 0 after the relu."""

    def __init__(self, tail):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.tail = tail
        with cr.no_grad():
            self.fc.weight.fill_(0.0)
            self.fc.bias.copy_(np.array([1.0, -1.0, 2.0, 0.5], dtype=np.float32))

    def forward(self, x):
        return self.tail(self.act(self.fc(x)))


def test_log_of_zero_is_traced_to_the_op_and_layer():
    model = Net(Log())
    origin = trace_nonfinite(lambda: model(cr.ones(2, 3)).sum(), model=model)
    assert isinstance(origin, NonfiniteOrigin)
    assert (origin.op, origin.layer, origin.phase, origin.cause) == (
        "Log",
        "tail",
        "forward",
        "log of zero",
    )
    assert "test_nonfinite.py" in origin.created_at and "cr.log(x)" in origin.created_at
    assert "2 input value(s) were exactly 0" in origin.detail  # the 2 units the relu cut
    assert "epsilon" in origin.remedy and "'Log' in layer 'tail'" in str(origin)


def test_overflow_in_exp():
    model = Net(Exp())
    origin = trace_nonfinite(model, cr.ones(2, 3))  # the model itself as fn, forward only
    assert (origin.op, origin.layer, origin.cause) == ("Exp", "tail", "overflow in exp")
    assert "88.7" in origin.detail and "float32" in origin.detail


def test_nan_first_appearing_in_backward_sqrt_at_zero():
    model = Net(RowNorm())
    x = cr.ones(2, 3)
    model.fc.weight.numpy()[:] = 0
    model.fc.bias.numpy()[:] = -1  # every unit off: norm of a zero row
    origin = trace_nonfinite(lambda: model(x).sum(), model=model)
    assert (origin.op, origin.layer, origin.phase) == ("Sqrt", "tail", "backward")
    assert origin.cause == "near-zero variance"
    assert "cr.sqrt(" in origin.created_at


def test_everything_finite_gives_none_and_leaves_no_trace():
    model = Net(Log())
    model.fc.bias.numpy()[:] = 1.0
    assert trace_nonfinite(lambda: model(cr.ones(2, 3)).sum(), model=model) is None
    assert model.fc.bias.grad is not None  # the loss was back-propagated
    assert not cr.autograd.is_anomaly_enabled()
    model.fc.bias.numpy()[:] = 0.0
    with np.errstate(all="ignore"):
        out = model(cr.ones(2, 3))  # no anomaly mode, no hook left behind
    assert np.isneginf(out.numpy()).all()


def test_context_manager_stops_the_block_and_can_reraise():
    model = Net(Log())
    reached = []
    with NonfiniteTracer(model) as t:
        loss = model(cr.ones(1, 3)).sum()
        reached.append(loss)
    assert reached == [] and t.origin.op == "Log"
    with pytest.raises(FloatingPointError, match="Log"):
        with NonfiniteTracer(model, reraise=True):
            model(cr.ones(1, 3))
    with pytest.raises(KeyError):  # other errors pass through untouched
        with NonfiniteTracer(model):
            raise KeyError("not ours")


def test_nan_already_in_a_parameter_is_a_nonfinite_input():
    model = Net(Log())
    model.fc.weight.numpy()[0, 0] = np.nan
    origin = trace_nonfinite(lambda: model(cr.ones(1, 3)).sum(), model=model)
    assert (origin.op, origin.layer, origin.cause) == ("Linear", "fc", "non-finite input")
    assert "'fc.weight'" in origin.detail


def test_nested_modules_report_the_innermost_and_std_division():
    class Standardize(nn.Module):
        def forward(self, x):
            return (x - x.mean()) / x.std()

    block = nn.Sequential(nn.Identity(), Standardize())
    model = nn.Sequential(nn.Linear(3, 3), block)
    with cr.no_grad():
        model[0].weight.fill_(0.0)  # constant output: std 0, then 0/0
        model[0].bias.fill_(0.5)
    origin = trace_nonfinite(lambda: model(cr.ones(2, 3)).sum(), model=model)
    assert (origin.op, origin.layer, origin.cause) == ("Div", "1.1", "near-zero variance")


def test_without_a_model_the_layer_is_unknown_but_the_op_is_found():
    w = cr.tensor([2.0, 0.0], requires_grad=True)
    origin = trace_nonfinite(lambda: (1.0 / w).sum())
    assert (origin.op, origin.layer, origin.cause) == ("Div", None, "division by zero")
    with pytest.raises(TypeError, match="callable"):
        trace_nonfinite(42)


def test_a_nan_made_outside_recorded_ops_is_caught_by_the_module_hook():
    class Corrupt(nn.Module):
        def forward(self, x):
            y = x * 1.0
            y.numpy()[0] = np.nan  # not an op: anomaly mode cannot see it, the hook can
            return y

    model = nn.Sequential(nn.Linear(3, 3), Corrupt(), nn.Tanh())
    origin = trace_nonfinite(lambda: model(cr.ones(2, 3)).sum(), model=model)
    assert (origin.op, origin.layer, origin.phase) == (None, "1", "forward")
    assert "inputs were finite" in origin.detail
