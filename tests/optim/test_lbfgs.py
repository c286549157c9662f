"""LBFGS against torch.optim.LBFGS: the same trajectory on small problems, both line searches."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


def _rosenbrock(lib, x):
    return (
        (1 - x[0]) ** 2
        + 100 * (x[1] - x[0] ** 2) ** 2
        + (1 - x[2]) ** 2
        + 100 * (x[2] - x[1] ** 2) ** 2
    )


def _run(lib, opt_cls, start, steps, **kw):
    x = lib.tensor(start, requires_grad=True)
    opt = opt_cls([x], **kw)
    losses, points = [], []

    def closure():
        opt.zero_grad()
        loss = _rosenbrock(lib, x)
        loss.backward()
        return loss

    for _ in range(steps):
        losses.append(float(opt.step(closure).detach()))
        points.append(x.detach().numpy().copy())
    state = opt.state[x] if lib is torch else opt.state[0]
    return np.array(losses), np.array(points), state["func_evals"], state["n_iter"]


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize(
    "kw", [dict(), dict(history_size=3, max_iter=5), dict(lr=0.5, max_iter=7, max_eval=9)]
)
def test_rosenbrock_trajectory_matches_torch(line_search, kw):
    start = np.array([-1.2, 1.0, 0.5])
    lr = kw.pop("lr", 1 if line_search else 0.1)
    ours = _run(cr, cr.optim.LBFGS, start, 6, lr=lr, line_search_fn=line_search, **kw)
    theirs = _run(torch, torch.optim.LBFGS, start, 6, lr=lr, line_search_fn=line_search, **kw)
    # Float64 rounding differs between the libraries' kernels and accumulates over ~100
    # iterations of Rosenbrock's valley: agreement to ~1e-7 relative, far from a different path.
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-9)
    assert ours[2:] == theirs[2:]  # the same number of evaluations and iterations


def test_strong_wolfe_converges_on_rosenbrock():
    losses, points, _, _ = _run(
        cr, cr.optim.LBFGS, np.array([-1.2, 1.0, 0.5]), 10, lr=1, line_search_fn="strong_wolfe"
    )
    np.testing.assert_allclose(points[-1], [1, 1, 1], atol=1e-4)
    assert losses[-1] < 1e-8


def _fit_least_squares(lib, X, y):
    model = lib.nn.Linear(3, 1).double()
    with lib.no_grad():
        model.weight.copy_(lib.tensor([[0.1, -0.2, 0.3]], dtype=lib.float64))
        model.bias.copy_(lib.tensor([0.05], dtype=lib.float64))
    opt = lib.optim.LBFGS(
        model.parameters(), lr=1, history_size=2, max_iter=4, line_search_fn="strong_wolfe"
    )
    Xt, yt = lib.tensor(X), lib.tensor(y)

    def closure():
        opt.zero_grad()
        loss = ((model(Xt) - yt) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    return np.concatenate([model.weight.detach().numpy().ravel(), model.bias.detach().numpy()])


def test_least_squares_model_matches_torch():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal((20, 1))
    np.testing.assert_allclose(
        _fit_least_squares(cr, X, y), _fit_least_squares(torch, X, y), rtol=1e-9
    )


def test_lbfgs_checks_and_state_roundtrip():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="line_search_fn"):
        cr.optim.LBFGS([x], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="parameter groups"):
        cr.optim.LBFGS([{"params": [x]}, {"params": [cr.zeros(1, requires_grad=True)]}])
    opt = cr.optim.LBFGS([x], max_iter=2)
    with pytest.raises(RuntimeError, match="closure"):
        opt.step()

    def closure():
        opt.zero_grad()
        loss = (x**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    saved = opt.state_dict()
    twin_x = cr.tensor(x.detach().numpy().copy(), requires_grad=True)
    twin = cr.optim.LBFGS([twin_x], max_iter=2)
    twin.load_state_dict(saved)
    opt.step(closure)

    def twin_closure():
        twin.zero_grad()
        loss = (twin_x**2).sum()
        loss.backward()
        return loss

    twin.step(twin_closure)
    np.testing.assert_array_equal(twin_x.detach().numpy(), x.detach().numpy())
