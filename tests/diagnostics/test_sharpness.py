"""λ_max of the loss Hessian by power iteration on Hessian-vector products."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics import GradientMonitor, sharpness


def regression(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 3)) * np.array([1.0, 2.0, 0.5])
    return cr.tensor(X), cr.tensor(rng.standard_normal((40, 1)))


def test_lambda_max_of_least_squares_is_the_top_eigenvalue_of_xtx():
    x, y = regression()
    cr.manual_seed(0)
    model = nn.Linear(3, 1, bias=False).to(cr.float64)
    out = sharpness(
        model, lambda o, t: 0.5 * ((o - t) ** 2).mean() * 1, (x, y), iters=200, tol=1e-10
    )
    X = x.numpy()
    top = np.linalg.eigvalsh(X.T @ X / len(X)).max()  # the Hessian of 0.5 * mean((Xw - y)^2)
    assert out["lambda_max"] == pytest.approx(top, rel=1e-6)
    assert out["stable_lr"] == pytest.approx(2 / top, rel=1e-6)
    assert model.weight.grad is None  # .grad untouched


def test_adam_sharpness_is_preconditioned():
    x, y = regression()
    cr.manual_seed(0)
    model = nn.Linear(3, 1, bias=False).to(cr.float64)
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = lambda o, t: 0.5 * ((o - t) ** 2).mean()  # noqa: E731
    for _ in range(3):
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    out = sharpness(model, loss_fn, (x, y), optimizer=opt, iters=200, tol=1e-10)
    st = opt.state[0]
    v_hat = np.asarray(st["exp_avg_sq"]).ravel() / (1 - 0.999 ** st["step"])
    P = np.sqrt(v_hat) + 1e-8
    X = x.numpy()
    H = X.T @ X / len(X)
    top = np.linalg.eigvals(np.diag(1 / P) @ H).real.max()
    assert out["preconditioned"] and out["lambda_max"] == pytest.approx(top, rel=1e-5)


def test_monitor_cites_the_sharpness_in_its_lr_verdict():
    x, y = regression()
    cr.manual_seed(0)
    model = nn.Linear(3, 1).to(cr.float64)
    opt = cr.optim.SGD(model.parameters(), lr=1e-4)
    loss_fn = lambda o, t: ((o - t) ** 2).mean()  # noqa: E731
    monitor = GradientMonitor(model, optimizer=opt)
    for _ in range(40):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        monitor.step(loss)
    result = monitor.measure_sharpness(loss_fn, (x, y))
    f = monitor.report().find("lr_too_low")
    assert f and f[0].evidence["stable_lr"] == result["stable_lr"]
    assert "2/λ_max" in f[0].message


def test_step_quality_alpha_on_a_quadratic():
    from chainrule.diagnostics.step_quality import alpha

    # f(w) = w^2 from w = 1 along d = -2 lr: the minimum is at lr = 0.5
    for lr, expected in ((0.25, -0.5), (0.5, 0.0), (1.0, 1.0)):
        d = -2 * lr
        w1 = 1 + d
        assert alpha(1.0, 2 * 1 * d, w1**2, 2 * w1 * d) == pytest.approx(expected, abs=1e-12)


def test_monitor_measures_step_quality_of_consecutive_steps():
    x, y = regression()
    cr.manual_seed(0)
    model = nn.Linear(3, 1, bias=False).to(cr.float64)
    loss_fn = lambda o, t: 0.5 * ((o - t) ** 2).mean()  # noqa: E731
    X = x.numpy()
    top = np.linalg.eigvalsh(X.T @ X / len(X)).max()
    for lr, sign in ((0.2 / top, -1), (1.9 / top, 1)):  # full batch GD: under/overshoot
        model = nn.Linear(3, 1, bias=False).to(cr.float64)
        opt = cr.optim.SGD(model.parameters(), lr=lr)
        monitor = GradientMonitor(model, optimizer=opt, step_quality=True)
        for _ in range(12):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            monitor.step(loss)
        steps, alphas = monitor.step_alphas()
        assert list(steps) == list(range(11))
        assert np.sign(np.nanmedian(alphas)) == sign


def _quadratic_fit(lr, epochs, sharpness_every=5):
    """Full-batch gradient descent on 0.5 * mean((Xw - y)^2), whose Hessian is X^T X / n."""
    x, y = regression()
    cr.manual_seed(0)
    model = nn.Linear(3, 1, bias=False).to(cr.float64)
    opt = cr.optim.SGD(model.parameters(), lr=lr)
    loss_fn = lambda o, t: 0.5 * ((o - t) ** 2).mean()  # noqa: E731
    loader = cr.data.DataLoader(cr.data.TensorDataset(x, y), batch_size=len(x))
    monitor = GradientMonitor(model, optimizer=opt)
    callback = cr.train.MonitorCallback(
        monitor, sharpness_every=sharpness_every, sharpness_iters=100
    )
    with np.errstate(all="ignore"):
        cr.train.fit(model, loss_fn, opt, loader, epochs, callbacks=[callback], metrics=(),
                     progress=False)  # fmt: skip
    X = x.numpy()
    return monitor, np.linalg.eigvalsh(X.T @ X / len(X)).max()


def test_automatic_sharpness_on_a_quadratic_cites_lambda_max_in_lr_too_high():
    # a learning rate 1.3x the stability limit 2 / λ_max: gradient descent diverges
    _, top = _quadratic_fit(0.1, 1, sharpness_every=0)
    monitor, _ = _quadratic_fit(1.3 * 2 / top, 30)
    measured = monitor.context()["sharpness"]
    assert [m["step"] for m in measured][:3] == [5, 10, 15]
    assert all(m["lambda_max"] == pytest.approx(top, rel=1e-4) for m in measured)
    f = monitor.report().find("lr_too_high")
    assert f and f[0].evidence["lambda_max"] == pytest.approx(top, rel=1e-4)
    assert f[0].evidence["stable_lr"] == pytest.approx(2 / top, rel=1e-4)
    assert "2/λ_max" in f[0].message and "1.3x that limit" in f[0].message


def test_automatic_sharpness_on_a_quadratic_cites_2_over_lambda_max_in_lr_too_low():
    _, top = _quadratic_fit(0.1, 1, sharpness_every=0)
    monitor, _ = _quadratic_fit(1e-3 * 2 / top, 40, sharpness_every=20)
    assert len(monitor.context()["sharpness"]) == 2
    f = monitor.report().find("lr_too_low")
    assert f and f[0].evidence["stable_lr"] == pytest.approx(2 / top, rel=1e-4)
    assert "2/λ_max" in f[0].message
    # off by default: no measurement
    plain, _ = _quadratic_fit(1e-3 * 2 / top, 10, sharpness_every=0)
    assert plain.context()["sharpness"] == []


def test_automatic_sharpness_leaves_the_training_trajectory_unchanged():
    # dropout (random state) and BatchNorm (running statistics): both must come back as
    # they were after each measurement, and the monitor must not record its forwards.
    def run(every):
        cr.manual_seed(1)
        X, y, _, _ = cr.data.digits_split()
        loader = cr.data.DataLoader(
            cr.data.TensorDataset(X[:128], y[:128]), batch_size=32, shuffle=True, seed=0
        )
        model = nn.Sequential(
            nn.Linear(64, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 10)
        )
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)
        monitor = GradientMonitor(model, optimizer=opt)
        callback = cr.train.MonitorCallback(monitor, sharpness_every=every, sharpness_iters=5)
        cr.train.fit(model, nn.CrossEntropyLoss(), opt, loader, 2, callbacks=[callback],
                     progress=False)  # fmt: skip
        return model, monitor

    base, base_monitor = run(0)
    measured, monitor = run(3)
    assert [m["step"] for m in monitor.context()["sharpness"]] == [3, 6]  # of 8 steps
    for (name, a), (_, b) in zip(
        base.state_dict().items(), measured.state_dict().items(), strict=True
    ):
        assert np.array_equal(a.numpy(), b.numpy()), name
    for metric in base_monitor.history.metrics:
        np.testing.assert_array_equal(
            base_monitor.history.series(metric), monitor.history.series(metric), err_msg=metric
        )
