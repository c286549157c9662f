"""TensorBoard histograms of weights, gradients and activations (tensorboardX optional)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics import add_histograms


class Recorder:
    """Stands in for a SummaryWriter: keeps what add_histogram received."""

    def __init__(self):
        self.calls = {}

    def add_histogram(self, tag, values, step):
        self.calls[tag] = (np.asarray(values), step)


def model_with_grads():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.BatchNorm1d(5), nn.Linear(5, 2))
    x = cr.randn(8, 3)
    model(x).sum().backward()
    return model, x


def test_histograms_of_weights_gradients_and_activations():
    model, x = model_with_grads()
    w = Recorder()
    running = model[2].running_mean.numpy().copy()
    n = add_histograms(w, model, 7, batch=x)
    tags = set(w.calls)
    assert {
        "weights/0.weight",
        "gradients/0.weight",
        "weights/3.bias",
        "activations/0",
        "activations/1",
        "activations/3",
    } <= tags
    assert n == len(tags)
    np.testing.assert_array_equal(w.calls["weights/0.weight"][0], model[0].weight.numpy().ravel())
    np.testing.assert_array_equal(
        w.calls["gradients/0.weight"][0], model[0].weight.grad.numpy().ravel()
    )
    assert (w.calls["activations/1"][0] >= 0).all()  # after the ReLU
    assert all(step == 7 for _, step in w.calls.values())
    np.testing.assert_array_equal(model[2].running_mean.numpy(), running)  # eval mode
    assert model.training  # mode restored


def test_nonfinite_values_are_left_out_and_missing_gradients_skipped():
    model = nn.Linear(2, 2)
    model.weight._data[0, 0] = np.nan
    w = Recorder()
    add_histograms(w, model, 0)
    assert "gradients/weight" not in w.calls
    assert w.calls["weights/weight"][0].size == 3


def test_histograms_to_a_tensorboard_logdir(tmp_path):
    pytest.importorskip("tensorboardX")
    model, x = model_with_grads()
    assert add_histograms(tmp_path / "tb", model, 1, batch=x) > 0
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").iterdir())
