"""Optimizer ``load_state_dict``: a dict that loads is one the next ``step()`` can use.

Each case is a state dict of the right shapes that does not fit the optimizer: it used to load,
and the next ``step()`` raised half-way, with some parameters already updated.
"""

import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

KINDS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "Adam": lambda p: optim.Adam(p, lr=0.01),
    "AdamW": lambda p: optim.AdamW(p, lr=0.01),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
}


def _stepped(kind):
    params = [cr.tensor(np.ones(n, np.float32), requires_grad=True) for n in (2, 3)]
    opt = KINDS[kind](params)
    for p in params:
        p.grad = cr.ones(p.shape)
    opt.step()
    return params, opt


def _first_array_entry(state):
    return next(k for k, v in state.items() if isinstance(v, np.ndarray))


def _mutate(saved, case):
    bad = copy.deepcopy(saved)
    last = bad["state"][1]
    entry = _first_array_entry(last)
    if case == "array entry missing":
        del last[entry]
    elif case == "array entry None":
        last[entry] = None
    elif case == "array entry a list":
        last[entry] = [1.0, 2.0, 3.0]
    elif case == "array entry an int array":
        last[entry] = np.zeros(3, np.int64)
    elif case == "array entry a string":
        last[entry] = "abc"
    elif case == "array entry a number":
        last[entry] = 0.5  # the update would rebind it and never change the saved one
    elif case == "negative step":
        last["step"] = -1
    elif case == "betas not a pair":
        bad["param_groups"][0]["betas"] = 0.9
    elif case == "amsgrad switched on":
        bad["param_groups"][0]["amsgrad"] = True
    return bad


CASES = [
    (kind, case)
    for kind in KINDS
    for case in (
        "array entry missing",
        "array entry None",
        "array entry a list",
        "array entry an int array",
        "array entry a string",
        "array entry a number",
        "negative step",
    )
    if not (kind == "SGD" and case in ("array entry missing", "array entry None", "negative step"))
] + [("Adam", "betas not a pair"), ("AdamW", "betas not a pair"), ("Adam", "amsgrad switched on")]


@pytest.mark.parametrize(("kind", "case"), CASES)
def test_a_state_that_cannot_step_is_refused_and_nothing_changes(kind, case):
    _, source = _stepped(kind)
    saved = source.state_dict()
    params, opt = _stepped(kind)
    before = copy.deepcopy(opt.state_dict()), [p.numpy().copy() for p in params]
    with pytest.raises(ValueError, match="does not fit|of parameter 1 must be"):
        opt.load_state_dict(_mutate(saved, case))
    after = opt.state_dict()
    assert after["param_groups"] == before[0]["param_groups"]
    for i, state in before[0]["state"].items():
        for k, v in state.items():
            np.testing.assert_array_equal(after["state"][i][k], v)
    opt.load_state_dict(saved)  # the intact dict loads, and steps
    opt.step()
    assert all(not np.array_equal(p.numpy(), b) for p, b in zip(params, before[1], strict=True))


def test_sgd_momentum_buffer_none_still_loads():
    """PyTorch's SGD saves momentum_buffer None before its first step: that is valid."""
    params, opt = _stepped("SGD")
    saved = opt.state_dict()
    saved["state"][1]["momentum_buffer"] = None
    opt.load_state_dict(saved)
    opt.step()
    assert opt.state[1]["momentum_buffer"].shape == (3,)


def test_a_torch_nadam_state_with_its_0d_mu_product_loads_and_steps_as_torch():
    """PyTorch keeps mu_product as a 0-d tensor; it was refused for the parameter's shape."""
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Parameter(torch.ones(3))
    their_opt = torch.optim.NAdam([theirs], lr=0.1)
    for _ in range(2):
        theirs.grad = torch.arange(3.0)
        their_opt.step()
    saved = their_opt.state_dict()
    saved["state"] = {
        k: {n: v.numpy() if torch.is_tensor(v) else v for n, v in s.items()}
        for k, s in saved["state"].items()
    }
    ours = cr.tensor(np.ones(3, np.float32), requires_grad=True)
    ours._data[...] = theirs.detach().numpy()
    opt = optim.NAdam([ours], lr=0.1)
    opt.load_state_dict(saved)
    theirs.grad, ours.grad = torch.arange(3.0), cr.tensor(np.arange(3, dtype=np.float32))
    their_opt.step()
    opt.step()
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-5)
