"""``GradientMonitor.load_state_dict`` is all or nothing: a malformed or foreign state raises
``ValueError`` and leaves the monitor exactly as it was; a good state still round-trips."""

import copy

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.diagnostics import GradientMonitor


def _trained_monitor(steps=6):
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientMonitor(model, optimizer=opt)
    x, y = cr.randn(16, 4), cr.randint(0, 3, (16,))
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        monitor.step(loss)
    return monitor


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    return a == b or (a != a and b != b)


def _damaged(state, path, value):
    state = copy.deepcopy(state)
    target = state
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return state


DAMAGE = {
    "step not a number": (("step",), "ten"),
    "negative step": (("recorded",), -3),
    "loss steps and values of different lengths": (("losses",), ([1, 2], [0.5])),
    "loss value not a number": (("losses",), ([1], [[0.5]])),
    "history of another model": (("history", "layer_names"), ["other.0", "other.2"]),
    "history blocks missing": (("history", "blocks"), None),
    "first_nonfinite not a dict": (("first_nonfinite",), [1, 2]),
    "clip norms not numbers": (("clip", "norms"), ["a"]),
}


@pytest.mark.parametrize("path, value", DAMAGE.values(), ids=list(DAMAGE))
def test_a_damaged_state_is_refused_and_changes_nothing(path, value):
    good = _trained_monitor().state_dict()
    monitor = _trained_monitor(steps=3)
    before = monitor.state_dict()
    with pytest.raises(ValueError, match="GradientMonitor.load_state_dict"):
        monitor.load_state_dict(_damaged(good, path, value))
    assert _same(monitor.state_dict(), before)
    monitor.report()  # still usable


def test_a_good_state_round_trips():
    source = _trained_monitor()
    target = _trained_monitor(steps=2)
    target.load_state_dict(source.state_dict())
    assert _same(target.state_dict(), source.state_dict())
    assert target.report().findings == source.report().findings
