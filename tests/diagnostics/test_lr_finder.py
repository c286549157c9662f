import copy
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics.lr_finder import LRRangeResult, lr_range_test

F = nn.functional


@pytest.fixture(scope="module")
def digits():
    X, y = cr.data.load_digits()
    return X, y


def _mlp(seed=0, extras=False):
    cr.manual_seed(seed)
    # extras: BatchNorm (buffers) and Dropout (draws from the global generator).
    middle = [nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.1)] if extras else [nn.ReLU()]
    return nn.Sequential(nn.Linear(64, 32), *middle, nn.Linear(32, 10))


def _train(model, opt, loader, steps):
    for _, (x, y) in zip(range(steps), loader, strict=False):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


def _state(model, opt, loader):
    """Everything that must come back bit for bit, as bytes and plain values."""
    tensors = {n: (t.numpy().dtype, t.numpy().tobytes()) for n, t in model.state_dict().items()}
    grads = {
        n: None if p.grad is None else p.grad.numpy().tobytes() for n, p in model.named_parameters()
    }
    sd = opt.state_dict()
    opt_state = {
        i: {k: v.tobytes() if isinstance(v, np.ndarray) else v for k, v in s.items()}
        for i, s in sd["state"].items()
    }
    return (
        tensors,
        grads,
        opt_state,
        copy.deepcopy(sd["param_groups"]),
        [m.training for m in model.modules()],
        copy.deepcopy(cr.get_rng_state()),
        copy.deepcopy(loader.generator.bit_generator.state),
    )


def test_restores_model_optimizer_and_rngs_bit_for_bit(digits):
    X, y = digits
    model = _mlp(extras=True)
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=64, shuffle=True, seed=3)
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    _train(model, opt, loader, 5)  # non-empty Adam state, running stats, grads
    model[1].eval()  # a mode the sweep changes and must put back
    before = _state(model, opt, loader)
    result = lr_range_test(model, F.cross_entropy, opt, loader, end_lr=1e3)
    assert len(result.lrs) > 10  # it did train for a while
    assert _state(model, opt, loader) == before
    assert opt.param_groups[0]["lr"] == 1e-3


def test_training_after_the_test_is_unchanged(digits):
    X, y = digits
    runs = []
    for sweep in (False, True):
        model = _mlp(seed=1)
        loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=64, shuffle=True)
        opt = cr.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        _train(model, opt, loader, 3)
        if sweep:
            lr_range_test(model, F.cross_entropy, opt, loader, num_steps=30)
        _train(model, opt, loader, 3)  # shuffling draws from the restored global RNG
        runs.append([p.numpy().copy() for p in model.parameters()])
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_stops_on_divergence_and_suggests_below_it(digits):
    X, y = digits
    model = _mlp()
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=64, shuffle=True)
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    r = lr_range_test(model, F.cross_entropy, opt, loader, end_lr=1e3, num_steps=100)
    assert r.diverged_at is not None and len(r.lrs) < 100
    assert r.diverged_at == r.lrs[-1]
    np.testing.assert_allclose(r.lrs[1:] / r.lrs[:-1], (1e3 / 1e-7) ** (1 / 99))
    assert r.lrs[0] <= r.suggested_lr < r.diverged_at
    lo, hi = r.suggested_range
    assert lo < r.suggested_lr <= hi < r.diverged_at
    assert r.smoothed_losses[-1] > 4 * np.min(r.smoothed_losses[:-1])
    assert "steepest" in r.reasoning and f"{r.diverged_at:.3g}" in r.reasoning
    # Per-parameter update ratios: one per step, none for the step that diverged.
    assert set(r.update_ratios) == {n for n, _ in model.named_parameters()}
    w = r.update_ratios["0.weight"]
    assert w.shape == r.lrs.shape and np.isnan(w[-1]) and np.all(w[:-1] > 0)
    assert w[-2] > 1e3 * w[0]  # the update grows with the rate


def test_nonfinite_loss_stops_the_sweep():
    cr.manual_seed(0)
    model = nn.Linear(1, 1)
    x = cr.randn(16, 1) * 100
    loader = [(x, 3 * x)]
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with np.errstate(all="ignore"):
        r = lr_range_test(
            model, F.mse_loss, opt, loader, end_lr=1e6, smooth=1.0, diverge_factor=np.inf
        )
    assert not np.isfinite(r.losses[-1]) and r.diverged_at == r.lrs[-1]
    assert np.all(np.isfinite(r.losses[:-1]))
    np.testing.assert_array_equal(r.smoothed_losses[:-1], r.losses[:-1])  # smooth=1: raw
    assert np.isfinite(r.suggested_lr) and r.suggested_lr < r.diverged_at


def test_suggestion_on_a_known_curve():
    lrs = np.logspace(-6, 1, 71)
    # Falls fastest at 1e-3 (a logistic in log10(lr)), lowest near 1e-1, then rises.
    curve = (
        2
        - 1.5 / (1 + np.exp(-3 * (np.log10(lrs) + 3)))
        + 0.5 * np.maximum(np.log10(lrs) + 1, 0) ** 2
    )
    r = LRRangeResult(lrs, curve, curve, None, {})
    assert r.suggested_lr == pytest.approx(1e-3, rel=0.01)
    lo, hi = r.suggested_range
    assert lo == pytest.approx(1e-4, rel=0.01)
    assert hi == pytest.approx(lrs[np.argmin(curve)] / 10)
    assert "never diverged" in r.reasoning


def test_loss_rising_from_the_start_suggests_the_first_rate():
    lrs = np.logspace(-3, 0, 20)
    r = LRRangeResult(lrs, lrs, lrs, None, {})
    assert r.suggested_lr == lrs[0] and "lower start_lr" in r.reasoning


def test_bad_arguments_are_named(digits):
    model = _mlp()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="start_lr < end_lr"):
        lr_range_test(model, F.cross_entropy, opt, [], start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="num_steps"):
        lr_range_test(model, F.cross_entropy, opt, [], num_steps=1)
    with pytest.raises(ValueError, match="no batch"):
        lr_range_test(model, F.cross_entropy, opt, [])
    w = model[0].weight.numpy().copy()
    with pytest.raises(TypeError, match="tuple"):
        lr_range_test(model, F.cross_entropy, opt, [digits[0][:8]])
    np.testing.assert_array_equal(model[0].weight.numpy(), w)  # restored on errors too


def test_plot_draws_curve_suggestion_and_divergence(digits):
    plt = pytest.importorskip("matplotlib.pyplot")
    lrs = np.logspace(-5, 0, 30)
    losses = np.r_[np.linspace(2, 1, 29), np.inf]
    r = LRRangeResult(lrs, losses, losses, float(lrs[-1]), {})
    ax = r.plot()
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(s.startswith("suggested lr") for s in labels)
    assert any(s.startswith("diverged") for s in labels)
    plt.close(ax.figure)


def test_plot_without_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    r = LRRangeResult(np.logspace(-3, 0, 5), np.ones(5), np.ones(5), None, {})
    with pytest.raises(ImportError, match=r"pip install chainrule\[plot\]"):
        r.plot()


def test_noisy_flat_start_does_not_pull_the_suggestion_to_the_first_rate():
    from chainrule.diagnostics.lr_finder import _steepest

    rng = np.random.default_rng(0)
    log_lr = np.linspace(-7, 1, 100)
    loss = 2.3 - 0.8 / (1 + np.exp(-(log_lr + 1) * 3))  # falls around lr = 0.1
    noisy = loss + rng.normal(0, 0.05, loss.shape)
    noisy[:3] = [2.6, 2.1, 2.4]  # a jumpy warm-up
    k, slope = _steepest(log_lr, noisy, smooth=0.05)
    assert -2 < log_lr[k] < 0 and slope < 0
