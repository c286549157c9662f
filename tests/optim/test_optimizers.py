"""Optimizers against torch.optim: same parameters, same hand-made gradients, 100 steps."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-5, 1e-6
SHAPES = [(5, 3), (3,), (4,)]  # the third parameter never gets a gradient

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("SGD", dict(lr=0.002, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.01)),
]


def make_problem(seed=0):
    """Initial arrays, a fixed quadratic (scale, target) and per-step noise, all float32."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    scale = [rng.uniform(0.5, 2.0, s).astype(np.float32) for s in SHAPES]
    target = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    noise = [[0.1 * rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(200)]
    return init, scale, target, noise


def quadratic_grads(arrays, problem, k):
    """Gradient of sum(scale/2 * (p - target)^2) plus step k's noise, for the first two params."""
    _, scale, target, noise = problem
    return [scale[i] * (arrays[i] - target[i]) + noise[k][i] for i in range(2)]


def groups(params, lr):
    # Two groups with different learning rates; the gradient-less param sits in the second.
    return [{"params": [params[0]]}, {"params": params[1:], "lr": lr * 0.5}]


def build(name, options, init):
    cr_params = [cr.tensor(a.copy(), requires_grad=True) for a in init]
    th_params = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    lr = options.get("lr", 1.0)
    cr_opt = getattr(optim, name)(groups(cr_params, lr), **options)
    th_opt = getattr(torch.optim, name)(groups(th_params, lr), **options)
    return cr_params, cr_opt, th_params, th_opt


def set_grads(cr_params, th_params, grads):
    for p, q, g in zip(cr_params, th_params, grads, strict=False):
        p.grad = cr.tensor(g.copy())
        q.grad = torch.tensor(g.copy())


def run(cr_params, cr_opt, th_params, th_opt, problem, steps, start=0, check_every_step=True):
    for k in range(start, start + steps):
        grads = quadratic_grads([p.numpy() for p in cr_params], problem, k)
        set_grads(cr_params, th_params, grads)
        cr_opt.step()
        th_opt.step()
        if check_every_step:
            for p, q in zip(cr_params, th_params, strict=True):
                np.testing.assert_allclose(
                    p.numpy(), q.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=f"step {k}"
                )


def torch_state_to_numpy(state_dict):
    """torch.optim's state_dict with every tensor replaced by a NumPy array."""
    state = {
        i: {k: (v.detach().numpy().copy() if torch.is_tensor(v) else v) for k, v in s.items()}
        for i, s in state_dict["state"].items()
    }
    return {"state": state, "param_groups": [dict(g) for g in state_dict["param_groups"]]}


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_for_100_steps(name, options):
    problem = make_problem()
    cr_params, cr_opt, th_params, th_opt = build(name, options, problem[0])
    run(cr_params, cr_opt, th_params, th_opt, problem, 100)

    assert all(p.numpy().dtype == np.float32 for p in cr_params)
    np.testing.assert_array_equal(cr_params[2].numpy(), problem[0][2])  # no grad: untouched
    mine, theirs = cr_opt.state_dict()["state"], th_opt.state_dict()["state"]
    assert sorted(mine) == sorted(theirs)  # same keys: 0, 1
    for i in theirs:
        assert sorted(mine[i]) == sorted(theirs[i])
        for key, value in theirs[i].items():
            if key == "step":
                assert mine[i][key] == int(value)
            else:
                assert mine[i][key].dtype == np.float32
                np.testing.assert_allclose(mine[i][key], value.numpy(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name,options", CASES[::2], ids=[n for n, _ in CASES[::2]])
def test_state_dict_round_trip_continues_identically(name, options):
    problem = make_problem(1)
    params_a, opt_a, th_params, th_opt = build(name, options, problem[0])
    run(params_a, opt_a, th_params, th_opt, problem, 10, check_every_step=False)
    saved = opt_a.state_dict()

    params_b = [cr.tensor(p.numpy().copy(), requires_grad=True) for p in params_a]
    opt_b = getattr(optim, name)(groups(params_b, 123.0), **{**options, "lr": 123.0})
    opt_b.load_state_dict(saved)
    assert opt_b.param_groups[1]["lr"] == opt_a.param_groups[1]["lr"]
    for k in range(10, 20):
        grads = quadratic_grads([p.numpy() for p in params_a], problem, k)
        for pa, pb, g in zip(params_a, params_b, grads, strict=False):
            pa.grad, pb.grad = cr.tensor(g.copy()), cr.tensor(g.copy())
        opt_a.step()
        opt_b.step()
    for pa, pb in zip(params_a, params_b, strict=True):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())


def test_state_dict_is_a_snapshot():
    problem = make_problem()
    params, opt, th_params, th_opt = build("Adam", dict(lr=0.01), problem[0])
    run(params, opt, th_params, th_opt, problem, 3, check_every_step=False)
    saved = opt.state_dict()
    before = saved["state"][0]["exp_avg"].copy()
    run(params, opt, th_params, th_opt, problem, 3, start=3, check_every_step=False)
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], before)
    assert saved["state"][0]["step"] == 3
    assert saved["param_groups"][0]["params"] == [0]
    assert saved["param_groups"][1]["params"] == [1, 2]


@pytest.mark.parametrize(
    "name,options",
    [CASES[2], CASES[6], CASES[11], CASES[15], CASES[17]],
    ids=["SGD", "Adam", "RMSprop", "Adagrad", "Adadelta"],
)
def test_load_torch_state_dict_continues_like_torch(name, options):
    problem = make_problem(2)
    _, _, th_params, th_opt = build(name, options, problem[0])
    for k in range(10):  # torch alone for 10 steps
        grads = quadratic_grads([q.detach().numpy() for q in th_params], problem, k)
        for q, g in zip(th_params, grads, strict=False):
            q.grad = torch.tensor(g)
        th_opt.step()

    cr_params = [cr.tensor(q.detach().numpy().copy(), requires_grad=True) for q in th_params]
    cr_opt = getattr(optim, name)(groups(cr_params, 1.0), **options)
    cr_opt.load_state_dict(torch_state_to_numpy(th_opt.state_dict()))
    assert cr_opt.state[0].get("step", 10) == 10  # SGD keeps no step count
    run(cr_params, cr_opt, th_params, th_opt, problem, 10, start=10)


def test_skips_params_without_grad_and_bumps_versions():
    p = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    q = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.SGD([p, q], lr=0.5, momentum=0.9)
    p.grad = cr.tensor(np.ones(3, np.float32))
    v_p, v_q = p._version, q._version
    opt.step()
    np.testing.assert_allclose(p.numpy(), 0.5)
    np.testing.assert_array_equal(q.numpy(), 1.0)
    assert (p._version, q._version) == (v_p + 1, v_q)
    assert list(opt.state) == [0]


@pytest.mark.parametrize(
    "name,options",
    [
        ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True)),
        ("Adam", dict(weight_decay=0.1, maximize=True)),
        ("AdamW", dict(maximize=True)),
        ("RMSprop", dict(weight_decay=0.1, centered=True)),
        ("Adagrad", dict(weight_decay=0.1)),
        ("Adadelta", dict(weight_decay=0.1)),
    ],
)
def test_never_writes_into_grad(name, options):
    p = cr.tensor(np.arange(4, dtype=np.float32), requires_grad=True)
    shared = np.array([0.5, -1.0, 2.0, 0.0], np.float32)
    p.grad = cr.from_numpy(shared)  # shares the array
    opt = getattr(optim, name)([p], **options)
    for _ in range(3):
        opt.step()
    np.testing.assert_array_equal(shared, [0.5, -1.0, 2.0, 0.0])
    assert p.grad.numpy() is shared
    assert p.numpy().dtype == np.float32


def test_float64_params_stay_float64():
    p = cr.tensor(np.ones(3, np.float64), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = cr.tensor(np.ones(3, np.float64))
    opt.step()
    assert p.numpy().dtype == np.float64
    assert opt.state[0]["exp_avg"].dtype == np.float64


def test_zero_grad():
    p = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    shared = np.ones(2, np.float32)
    p.grad = cr.from_numpy(shared)  # shares the array
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), 0.0)
    np.testing.assert_array_equal(shared, 1.0)  # the old array was not written into
    opt.zero_grad()
    assert p.grad is None


def test_step_with_closure_returns_its_loss():
    p = cr.tensor(np.array([3.0], np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(9.0)
    np.testing.assert_allclose(p.numpy(), [3.0 - 0.25 * 6.0])


def test_step_runs_the_closure_with_grad_enabled_inside_no_grad():
    # As torch's step: the closure records its graph even when step() is called under no_grad.
    p = cr.tensor(np.array([3.0], np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.25)
    modes = []

    def closure():
        modes.append(cr.is_grad_enabled())
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with cr.no_grad():
        loss = opt.step(closure)
        assert not cr.is_grad_enabled()  # restored after the closure
    assert modes == [True]
    assert loss.item() == pytest.approx(9.0)
    np.testing.assert_allclose(p.numpy(), [3.0 - 0.25 * 6.0])


def test_add_param_group_fills_defaults():
    a = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    b = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.Adam([a], lr=0.01, betas=(0.8, 0.9))
    opt.add_param_group({"params": b, "lr": 0.1})
    assert opt.param_groups[1]["lr"] == 0.1
    assert opt.param_groups[1]["betas"] == (0.8, 0.9)
    assert opt.param_groups[1]["params"] == [b]
    assert "Parameter Group 1" in repr(opt)


def test_bad_arguments_are_named():
    p = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    with pytest.raises(ValueError, match="learning rate|lr"):
        optim.SGD([p], lr=-1.0)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="Tensors"):
        optim.SGD([p, np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    p.grad = cr.tensor(np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(2,\)"):
        opt.step()


def test_load_state_dict_rejects_mismatches():
    a = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    b = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.Adam([a, b])
    a.grad, b.grad = cr.tensor(np.ones(2, np.float32)), cr.tensor(np.ones(3, np.float32))
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="has 2 parameters"):
        optim.Adam([a]).load_state_dict(saved)
    with pytest.raises(ValueError, match="exp_avg.*shape"):
        optim.Adam([b, a]).load_state_dict(saved)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


def _stepped_adam():
    a = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    b = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.01)
    a.grad, b.grad = cr.tensor(np.ones(2, np.float32)), cr.tensor(np.ones(3, np.float32))
    opt.step()
    return opt


def _corrupt(saved, where):
    import copy

    bad = copy.deepcopy(saved)
    if where == "last state shape":
        bad["state"][1]["exp_avg"] = np.zeros(7, np.float32)
    elif where == "last state dtype":
        bad["state"][1]["exp_avg_sq"] = np.array(["x"] * 3)
    elif where == "step nan":
        bad["state"][1]["step"] = float("nan")
    elif where == "lr not a number":
        bad["param_groups"][0]["lr"] = "fast"
    elif where == "flag not a bool":
        bad["param_groups"][0]["amsgrad"] = 3.5
    elif where == "group not a dict":
        bad["param_groups"][0] = [0, 1]
    elif where == "state key not an index":
        bad["state"]["one"] = bad["state"].pop(1)
    elif where == "state entry not a dict":
        bad["state"][1] = 5
    return bad


@pytest.mark.parametrize(
    "where",
    [
        "last state shape",
        "last state dtype",
        "step nan",
        "lr not a number",
        "flag not a bool",
        "group not a dict",
        "state key not an index",
        "state entry not a dict",
    ],
)
def test_load_state_dict_is_all_or_nothing(where):
    """A bad late entry used to leave the state replaced and the groups half merged."""
    source = _stepped_adam()
    source.param_groups[0]["lr"] = 0.5
    saved = source.state_dict()
    opt = _stepped_adam()
    before_state = {i: {k: np.copy(v) for k, v in s.items()} for i, s in opt.state.items()}
    before_groups = [dict(g) for g in opt.param_groups]
    with pytest.raises(ValueError):
        opt.load_state_dict(_corrupt(saved, where))
    assert opt.param_groups == before_groups
    assert opt.state.keys() == before_state.keys()
    for i, s in before_state.items():
        for k, v in s.items():
            np.testing.assert_array_equal(opt.state[i][k], v)
    opt.load_state_dict(saved)  # the intact dict still loads
    assert opt.param_groups[0]["lr"] == 0.5


def test_state_dict_survives_save_and_load(tmp_path):
    problem = make_problem(3)
    params, opt, th_params, th_opt = build("Adam", dict(lr=0.01, amsgrad=True), problem[0])
    run(params, opt, th_params, th_opt, problem, 5, check_every_step=False)
    cr.serialization.save(opt.state_dict(), tmp_path / "opt.npz")
    loaded = cr.serialization.load(tmp_path / "opt.npz")
    assert sorted(loaded["state"]) == [0, 1]
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    fresh = optim.Adam(groups([cr.tensor(p.numpy().copy()) for p in params], 0.01), amsgrad=True)
    fresh.load_state_dict(loaded)
    np.testing.assert_array_equal(fresh.state[1]["max_exp_avg_sq"], opt.state[1]["max_exp_avg_sq"])


def test_large_parameter_update_in_chunks_is_exact():
    from chainrule.optim.optimizer import add_scaled_

    rng = np.random.default_rng(0)
    p = rng.standard_normal((300, 500)).astype(np.float32)  # 150,000 > one chunk
    g = rng.standard_normal((300, 500)).astype(np.float32)
    expected = p - np.float32(0.1) * g
    add_scaled_(p, -0.1, g)
    np.testing.assert_array_equal(p, expected)
    assert p.dtype == np.float32


class _HandWrittenSGD(cr.optim.Optimizer):
    """An optimizer written as in PyTorch tutorials: its own step, state keyed by parameter."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @cr.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "buf" not in state:
                    state["buf"] = p.grad.clone()
                else:
                    state["buf"].mul_(group["momentum"]).add_(p.grad)
                p.add_(state["buf"], alpha=-group["lr"])


def test_subclass_with_its_own_step_keys_state_by_parameter_like_torch():
    torch = pytest.importorskip("torch")
    w0 = np.array([1.0, -2.0, 0.5], dtype=np.float32)
    ours = cr.nn.Parameter(cr.tensor(w0))
    theirs = torch.nn.Parameter(torch.tensor(w0))
    opt = _HandWrittenSGD([ours])
    ref = torch.optim.SGD([theirs], lr=0.1, momentum=0.9)
    for _ in range(3):
        opt.zero_grad()
        (ours**2).sum().backward()
        opt.step()
        ref.zero_grad()
        (theirs**2).sum().backward()
        ref.step()
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6)
    assert ours in opt.state and 0 in opt.state and opt.state[ours] is opt.state[0]
    assert list(opt.state_dict()["state"]) == [0]
    twin = _HandWrittenSGD([ours])
    twin.load_state_dict(opt.state_dict())
    np.testing.assert_allclose(twin.state[ours]["buf"].numpy(), opt.state[0]["buf"].numpy())
    assert cr.zeros(1) not in opt.state  # a tensor the optimizer does not hold
    sched = cr.optim.lr_scheduler.StepLR(opt, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the subclass's step counts as optimizer.step()
        opt.step()
        sched.step()
