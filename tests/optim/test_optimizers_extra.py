"""Adamax, NAdam, RAdam, Rprop, ASGD and Adafactor against torch.optim: 100 steps on the shared quadratic problem, state
keys and values, and a torch state dict loaded mid-run."""

import numpy as np
import pytest
from tests.optim.test_optimizers import (
    build,
    groups,
    make_problem,
    quadratic_grads,
    run,
    torch_state_to_numpy,
)

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")

CASES = [
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=1e-2)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1)),  # rectified from step 6
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("ASGD", dict(lr=0.01)),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.6, t0=20, weight_decay=0.1)),  # averaging on
    ("ASGD", dict(lr=0.05, t0=0, maximize=True)),
    ("Adafactor", dict(lr=0.01)),
    (
        "Adafactor",
        dict(lr=0.05, beta2_decay=-0.5, eps=(1e-20, 1e-2), d=1.5, weight_decay=0.1, maximize=True),
    ),
]


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_torch_for_100_steps(name, options):
    problem = make_problem()
    cr_params, cr_opt, th_params, th_opt = build(name, options, problem[0])
    run(cr_params, cr_opt, th_params, th_opt, problem, 100)
    assert all(p.numpy().dtype == np.float32 for p in cr_params)
    mine, theirs = cr_opt.state_dict()["state"], th_opt.state_dict()["state"]
    assert sorted(mine) == sorted(theirs)
    for i in theirs:
        assert sorted(mine[i]) == sorted(theirs[i])
        for key, value in theirs[i].items():
            np.testing.assert_allclose(
                np.asarray(mine[i][key], dtype=np.float64),
                np.asarray(value, dtype=np.float64),
                rtol=1e-4,
                atol=1e-6,
            )


@pytest.mark.parametrize(
    "name,options",
    [CASES[1], CASES[4], CASES[7], CASES[10], CASES[12], CASES[15]],
    ids=["Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "Adafactor"],
)
def test_load_torch_state_dict_continues_like_torch(name, options):
    problem = make_problem(2)
    _, _, th_params, th_opt = build(name, options, problem[0])
    for k in range(10):
        grads = quadratic_grads([q.detach().numpy() for q in th_params], problem, k)
        for q, g in zip(th_params, grads, strict=False):
            q.grad = torch.tensor(g)
        th_opt.step()
    cr_params = [cr.tensor(q.detach().numpy().copy(), requires_grad=True) for q in th_params]
    cr_opt = getattr(optim, name)(groups(cr_params, 1.0), **options)
    state = torch_state_to_numpy(th_opt.state_dict())
    for s in state["state"].values():  # torch keeps step and mu_product as 0-d tensors
        for k in ("step", "mu_product", "eta", "mu"):
            if k in s:
                s[k] = int(s[k]) if k == "step" else s[k].item()
    cr_opt.load_state_dict(state)
    run(cr_params, cr_opt, th_params, th_opt, problem, 10, start=10)


def test_bad_betas_are_refused():
    p = [cr.zeros(2, requires_grad=True)]
    for cls in (optim.Adamax, optim.NAdam, optim.RAdam):
        with pytest.raises(ValueError, match="beta"):
            cls(p, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="Invalid eta values: 1.0, 1.2"):
        optim.Rprop(p, etas=(1.0, 1.2))
    with pytest.raises(ValueError, match="lr"):
        optim.ASGD(p, lr=-1.0)


def test_asgd_average_is_the_mean_of_the_iterates_after_t0():
    # mu = 1 / max(1, t - t0) set after step t is used at step t + 1: ax copies p up to step
    # t0 + 2, then averages the iterates from that step on
    p = cr.zeros(3, requires_grad=True)
    opt = optim.ASGD([p], lr=0.1, lambd=0.0, t0=0)
    seen = []
    for k in range(5):
        p.grad = cr.tensor(np.full(3, float(k + 1), np.float32))
        opt.step()
        seen.append(p.numpy().copy())
    ax = opt.state_dict()["state"][0]["ax"]
    np.testing.assert_allclose(ax, np.mean(seen[1:], axis=0), rtol=1e-6)
    assert repr(opt).startswith("ASGD (")


def test_adafactor_factors_the_last_two_dims_of_a_batch_of_matrices_like_torch():
    rng = np.random.default_rng(0)
    init = rng.standard_normal((2, 3, 4)).astype(np.float32)
    p, q = cr.tensor(init.copy(), requires_grad=True), torch.tensor(init.copy(), requires_grad=True)
    ours, theirs = optim.Adafactor([p], lr=0.05), torch.optim.Adafactor([q], lr=0.05)
    for _ in range(20):
        g = rng.standard_normal((2, 3, 4)).astype(np.float32)
        p.grad, q.grad = cr.tensor(g), torch.tensor(g)
        ours.step()
        theirs.step()
    np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-4, atol=1e-6)
    state = ours.state_dict()["state"][0]
    assert state["row_var"].shape == (2, 3, 1) and state["col_var"].shape == (2, 1, 4)
    with pytest.raises(ValueError, match="beta2_decay should be <= 0"):
        optim.Adafactor([p], beta2_decay=0.5)
    with pytest.raises(ValueError, match="Clipping threshold d should be >= 1"):
        optim.Adafactor([p], d=0.5)


@pytest.mark.parametrize(
    "name",
    [
        "SGD",
        "Adam",
        "AdamW",
        "RMSprop",
        "Adagrad",
        "Adadelta",
        "Adamax",
        "NAdam",
        "RAdam",
        "Rprop",
        "ASGD",
    ],
)
def test_implementation_flags_are_accepted_and_kept_like_torch(name):
    p, q = cr.nn.Parameter(cr.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    ours, theirs = getattr(optim, name)([p]), getattr(torch.optim, name)([q])
    assert ours.param_groups[0].keys() == theirs.param_groups[0].keys()
    for key in ("foreach", "capturable", "differentiable", "fused"):
        if key in theirs.param_groups[0]:
            assert ours.param_groups[0][key] == theirs.param_groups[0][key]
    getattr(optim, name)([p], foreach=False)
    # nanoGPT checks `"fused" in inspect.signature(torch.optim.AdamW).parameters`
    import inspect

    theirs_sig = inspect.signature(getattr(torch.optim, name)).parameters
    ours_sig = inspect.signature(getattr(optim, name)).parameters
    for key in ("foreach", "capturable", "differentiable", "fused"):
        assert (key in ours_sig) == (key in theirs_sig), key
    with pytest.raises(NotImplementedError, match="differentiable"):
        getattr(optim, name)([p], differentiable=True)
    with pytest.raises(TypeError, match="unexpected keyword"):
        getattr(optim, name)([p], fast=True)


def test_step_hooks_run_around_every_step_and_can_be_removed():
    import copy

    p = cr.nn.Parameter(cr.ones(2))
    opt = optim.SGD([p], lr=0.1)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", args)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", args)))
    p.grad = cr.ones(2)
    opt.step()
    pre.remove()
    opt.step()
    assert [c[0] for c in calls] == ["pre", "post", "post"]

    def closure():
        return cr.tensor(3.0)

    swapped = optim.SGD([p], lr=0.1)
    swapped.register_step_pre_hook(lambda o, args, kwargs: ((closure,), {}))
    assert float(swapped.step()) == 3.0  # the hook replaced the arguments
    twin = copy.deepcopy(opt)  # hooks are not copied, as in torch
    assert not twin._step_pre_hooks and not twin._step_post_hooks
    lbfgs = optim.LBFGS([p])
    seen = []
    lbfgs.register_step_post_hook(lambda o, a, k: seen.append(1))
    lbfgs.step(lambda: (p**2).sum())
    assert seen == [1]
