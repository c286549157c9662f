"""Adamax, NAdam and RAdam against torch.optim: 100 steps on the shared quadratic problem, state
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
    "name,options", [CASES[1], CASES[4], CASES[7]], ids=["Adamax", "NAdam", "RAdam"]
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
        for k in ("step", "mu_product"):
            if k in s:
                s[k] = s[k].item() if k == "mu_product" else int(s[k])
    cr_opt.load_state_dict(state)
    run(cr_params, cr_opt, th_params, th_opt, problem, 10, start=10)


def test_bad_betas_are_refused():
    p = [cr.zeros(2, requires_grad=True)]
    for cls in (optim.Adamax, optim.NAdam, optim.RAdam):
        with pytest.raises(ValueError, match="beta"):
            cls(p, betas=(1.0, 0.9))
