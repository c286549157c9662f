"""cr.diagnostics.check: one batch, no side effects, per-layer gains against the theory."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import check
from chainrule.diagnostics.preflight import layer_gains


def stack(init, depth=6, width=128, act=nn.ReLU, seed=0, norm=False):
    cr.manual_seed(seed)
    dims = [16] + [width] * (depth - 1) + [4]
    layers = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        lin = nn.Linear(a, b)
        if init is not None:
            init(lin.weight)
            nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < depth - 1:
            if norm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(act())
    return nn.Sequential(*layers)


def batch(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return (
        cr.tensor(rng.standard_normal((n, 16)).astype(np.float32)),
        cr.tensor(rng.integers(0, 4, n)),
    )


he = lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")


def test_check_leaves_model_gradients_buffers_and_rng_untouched():
    model = stack(he, norm=True)
    x, y = batch()
    for p in model.parameters():
        p.grad = cr.full(p.shape, 7.0)
    weights = [p.numpy().copy() for p in model.parameters()]
    buffers = [b.numpy().copy() for _, b in model.named_buffers()]
    state = cr.get_rng_state()
    check(model, F.cross_entropy, (x, y))
    for p, w in zip(model.parameters(), weights, strict=True):
        np.testing.assert_array_equal(p.numpy(), w)
        assert np.all(p.grad.numpy() == 7.0)
    for (_, b), saved in zip(model.named_buffers(), buffers, strict=True):
        np.testing.assert_array_equal(b.numpy(), saved)
    drawn_after_check = cr.randn(5).numpy()
    cr.set_rng_state(state)
    np.testing.assert_array_equal(drawn_after_check, cr.randn(5).numpy())
    assert not any(m._forward_hooks for m in model.modules())


def test_relu_he_gains_match_the_theory_and_pass():
    report = check(stack(he), F.cross_entropy, batch())
    rows = [r for r in report.layers if "bwd_gain" in r]
    assert len(rows) == 5  # every layer after the first
    for r in rows[:-1]:
        assert 0.5 < r["bwd_gain"] < 2 and 0.5 < r["fwd_gain"] < 2, r
        assert r["theory"] == pytest.approx(1.0, rel=0.25)  # fan_in * 2/fan_in * 1/2
        assert r["verdict"] == "ok"
    assert report.healthy, str(report)
    assert report.source == "preflight" and report.steps == 1


def test_default_uniform_init_with_relu_shrinks_and_compounds_only_with_depth():
    # PyTorch's default Linear init, U(+-1/sqrt(fan_in)): fan_in * Var(W) = 1/3, times 1/2 for
    # ReLU: each layer keeps g = 1/6 of the variance. Through L - 1 transitions the gradient
    # norm shrinks by about g^((L-1)/2): 8 layers -> 1.9e-3 (below the 1e-2 vanishing
    # threshold), 3 layers -> 0.17 (harmless).
    g = (1 / 3) * (1 / 2)
    deep = check(stack(None, depth=8), F.cross_entropy, batch())
    f = deep.find("vanishing")
    assert f and f[0].severity == "error", str(deep)
    assert f[0].evidence["ratio_first_to_last"] == pytest.approx(g**3.5, rel=0.6)
    rows = [r for r in deep.layers if "theory" in r]
    assert all(r["theory"] == pytest.approx(g, rel=0.3) for r in rows)
    assert [r["verdict"] for r in rows] == ["shrinks"] * 6 + ["not judged"]  # output layer
    assert f[0].remedies[0].startswith("Initialise") and "He (Kaiming)" in f[0].remedies[0]
    assert "'14'" not in f[0].remedies[0]  # never the output layer's init

    shallow = check(stack(None, depth=3), F.cross_entropy, batch())
    assert shallow.healthy, str(shallow)  # one shrinking layer does not compound
    assert [x.severity for x in shallow.find("layer_gain")] == ["info"]


def test_layer_gains_function_reads_a_monitor_history():
    from chainrule.diagnostics import GradientMonitor

    model = stack(he, depth=3)
    monitor = GradientMonitor(model)
    x, y = batch()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    monitor.step(loss)
    rows = layer_gains(monitor.history, monitor.context())
    assert [r["layer"] for r in rows] == ["2", "4"]
    assert rows[0]["activation_before"] == "relu"
    assert all(math.isfinite(r["forward_gain"]) for r in rows)


def test_batch_forms_and_errors():
    model = stack(he, depth=2)
    x, y = batch()
    assert check(model, lambda out: (out**2).mean(), x).steps == 1  # x alone
    assert check(model, lambda out: (out**2).mean(), (x,)).steps == 1
    with pytest.raises(ValueError, match="3 items"):
        check(model, F.cross_entropy, (x, y, y))
    with pytest.raises(ValueError, match="scalar"):
        check(model, lambda out, t: out, (x, y))
    with pytest.raises(ValueError, match="does not require grad"):
        check(model, lambda out, t: cr.tensor(1.0), (x, y))
