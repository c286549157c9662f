"""Multi-tensor optimizer steps (parameters and state as views into flat buffers).

They must give exactly what the per-parameter loop gives (and so match torch.optim), survive
everything a user does to parameters (rebinding ``p.data``, holding ``p.numpy()``, replacing
``p.grad``, a parameter missing its gradient, load_state_dict of the model or the optimizer,
copies), and keep PyTorch's state_dict layout.
"""

import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")

# Small and large parameters: the small ones share one piece of the update, the large
# (over 32K elements) are pieces of their own.
SHAPES = [(6, 5), (6,), (200, 200), (3, 6), (3,), (7,)]
OPTIONS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(OPTIONS)]


def arrays(seed, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


class Pair:
    """The same parameters and optimizer in chainrule and in torch, fed the same gradients."""

    def __init__(self, name, options, shapes=SHAPES, flat=True):
        init = arrays(0, shapes)
        self.cr = [cr.nn.Parameter(cr.tensor(a.copy())) for a in init]
        self.th = [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]
        self.cr_opt = getattr(optim, name)(self.cr, **options)
        self.cr_opt._flat = flat and self.cr_opt._flat
        self.th_opt = getattr(torch.optim, name)(self.th, **options)
        self.k = 0

    def step(self, skip=()):
        self.k += 1
        for i, (p, q, g) in enumerate(
            zip(self.cr, self.th, arrays(self.k, [p.shape for p in self.cr]), strict=True)
        ):
            g = g.astype(p.dtype)
            p.grad = None if i in skip else cr.tensor(g.copy())
            q.grad = None if i in skip else torch.tensor(g.copy())
        self.cr_opt.step()
        self.th_opt.step()

    def check(self):
        for p, q in zip(self.cr, self.th, strict=True):
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)


def flattened(opt, params):
    """True if the params are views into the optimizer's flat buffer for group 0."""
    flat = opt._flats.get(0)
    return flat is not None and all(p._data.base is flat.buffer for p in params)


@pytest.mark.parametrize("name,options", OPTIONS, ids=IDS)
def test_flat_steps_match_torch_and_the_per_parameter_loop_exactly(name, options):
    flat, loop = Pair(name, options), Pair(name, options, flat=False)
    for _ in range(30):
        flat.step()
        loop.step()
    assert flattened(flat.cr_opt, flat.cr)
    assert not flattened(loop.cr_opt, loop.cr)
    flat.check()
    for p, q in zip(flat.cr, loop.cr, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())  # bit-identical
    a, b = flat.cr_opt.state_dict(), loop.cr_opt.state_dict()
    assert a["state"].keys() == b["state"].keys()
    assert len(a["state"]) == (0 if name == "SGD" and not options.get("momentum") else len(SHAPES))
    for i in a["state"]:
        assert a["state"][i].keys() == b["state"][i].keys()
        for key, value in a["state"][i].items():
            np.testing.assert_array_equal(value, b["state"][i][key])
            if isinstance(value, np.ndarray):
                assert value.shape == SHAPES[i]


@pytest.mark.parametrize(
    "name,options", [OPTIONS[1], OPTIONS[5], OPTIONS[8]], ids=["SGD", "Adam", "RMSprop"]
)
def test_state_dict_matches_torch_layout_and_values(name, options):
    pair = Pair(name, options)
    for _ in range(5):
        pair.step()
    mine, theirs = pair.cr_opt.state_dict(), pair.th_opt.state_dict()
    assert mine["param_groups"][0]["params"] == theirs["param_groups"][0]["params"]
    for i, state in theirs["state"].items():
        assert set(mine["state"][i]) == set(state)
        for key, value in state.items():
            # State accumulates float32 rounding of differently ordered formulas.
            np.testing.assert_allclose(
                np.asarray(mine["state"][i][key]), value.numpy(), rtol=1e-4, atol=1e-5
            )


def test_missing_gradient_falls_back_and_stays_exact():
    # Parameter 1 misses its gradient now and then: Adam's step counts then differ between
    # parameters, which one flat update cannot express; the results must still match torch.
    pair = Pair("Adam", dict(lr=0.01))
    for k in range(12):
        pair.step(skip=(1,) if k % 4 == 2 else ())
        pair.check()


def test_rebinding_parameter_data_is_followed():
    pair = Pair("SGD", dict(lr=0.05, momentum=0.9))
    for _ in range(3):
        pair.step()
    new = arrays(99, [SHAPES[2]])[0]
    held = cr.tensor(new.copy())
    pair.cr[2].data = held  # as torch: the parameter now shares held's memory
    pair.th[2].data = torch.tensor(new.copy())
    for _ in range(3):
        pair.step()
        pair.check()
    assert np.shares_memory(held.numpy(), pair.cr[2].numpy())
    np.testing.assert_array_equal(held.numpy(), pair.cr[2].numpy())


def test_rebinding_to_a_fresh_array_reflattens():
    pair = Pair("Adam", dict(lr=0.01))
    pair.step()
    pair.cr[0].data = cr.tensor(arrays(5, [SHAPES[0]])[0])  # nothing else holds the array
    pair.th[0].data = torch.tensor(arrays(5, [SHAPES[0]])[0])
    for _ in range(3):
        pair.step()
        pair.check()
    assert flattened(pair.cr_opt, pair.cr)


def test_arrays_held_by_the_user_keep_aliasing_the_parameters():
    pair = Pair("SGD", dict(lr=0.05, momentum=0.9))
    held = pair.cr[0].numpy()  # held before the first step
    detached = pair.cr[3].data
    for _ in range(3):
        pair.step()
    assert np.shares_memory(held, pair.cr[0].numpy())
    np.testing.assert_array_equal(held, pair.cr[0].numpy())
    np.testing.assert_array_equal(detached.numpy(), pair.cr[3].numpy())
    pair.check()
    # After the flattening, an array taken from a parameter stays live too.
    later = pair.cr[1].numpy()
    before = later.copy()
    pair.step()
    assert np.shares_memory(later, pair.cr[1].numpy())
    assert not np.array_equal(before, later)
    pair.check()


def test_user_replaced_gradient_is_used():
    pair = Pair("SGD", dict(lr=0.1))
    pair.step()
    for p, q in zip(pair.cr, pair.th, strict=True):
        g = np.full(p.shape, 0.5, np.float32)
        p.grad = cr.tensor(g)
        q.grad = torch.tensor(g)
    pair.cr_opt.step()
    pair.th_opt.step()
    pair.check()


def test_wrong_gradient_shape_is_a_clear_error():
    pair = Pair("SGD", dict(lr=0.1))
    pair.step()
    pair.cr[0].grad = cr.tensor(np.zeros(SHAPES[0][::-1], np.float32))  # transposed
    with pytest.raises(ValueError, match="shape"):
        pair.cr_opt.step()


def test_model_load_state_dict_between_steps():
    model = cr.nn.Sequential(cr.nn.Linear(5, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
    reference = cr.nn.Sequential(cr.nn.Linear(5, 8), cr.nn.ReLU(), cr.nn.Linear(8, 3))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = cr.tensor(arrays(1, [(4, 5)])[0]), cr.tensor(np.array([0, 1, 2, 1]))

    def step():
        opt.zero_grad()
        cr.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    step()
    assert flattened(opt, list(model.parameters()))
    model.load_state_dict(reference.state_dict())
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    buf = {i: s["momentum_buffer"].copy() for i, s in opt.state.items()}
    step()
    for (i, p), q in zip(enumerate(model.parameters()), reference.parameters(), strict=True):
        expected = q.numpy() - 0.1 * (0.9 * buf[i] + p.grad.numpy())
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,options", [OPTIONS[1], OPTIONS[5]], ids=["SGD", "Adam"])
def test_optimizer_load_state_dict_resumes_exactly(name, options):
    a = Pair(name, options)
    for _ in range(4):
        a.step()
    saved = a.cr_opt.state_dict()
    params = [cr.nn.Parameter(cr.tensor(p.numpy().copy())) for p in a.cr]
    resumed = getattr(optim, name)(params, **options)
    resumed.load_state_dict(saved)
    for _ in range(4):
        a.step()
        for p, g in zip(params, arrays(a.k, SHAPES), strict=True):
            p.grad = cr.tensor(g)
        resumed.step()
    for p, q in zip(a.cr, params, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    a.check()


def test_state_edited_by_the_user_is_used():
    pair = Pair("SGD", dict(lr=0.05, momentum=0.9))
    for _ in range(2):
        pair.step()
    pair.cr_opt.state[0]["momentum_buffer"] = np.zeros(SHAPES[0], np.float32)
    pair.th_opt.state[pair.th[0]]["momentum_buffer"] = torch.zeros(SHAPES[0])
    for _ in range(3):
        pair.step()
        pair.check()


@pytest.mark.parametrize(
    "clone", [copy.deepcopy, lambda o: pickle.loads(pickle.dumps(o))], ids=["deepcopy", "pickle"]
)
def test_copies_of_model_and_optimizer_step_independently(clone):
    pair = Pair("Adam", dict(lr=0.01))
    for _ in range(3):
        pair.step()
    params2, opt2 = clone((pair.cr, pair.cr_opt))
    for p, g in zip(params2, arrays(50, SHAPES), strict=True):
        p.grad = cr.tensor(g)
    opt2.step()
    for _ in range(2):
        pair.step()
    pair.check()  # the original is unaffected by the copy's step
    assert not np.array_equal(params2[0].numpy(), pair.cr[0].numpy())


def test_mixed_dtypes_fall_back_per_parameter():
    pair = Pair("SGD", dict(lr=0.05, momentum=0.9))
    pair.cr[1].data = cr.tensor(pair.cr[1].numpy().astype(np.float64))
    pair.th[1].data = pair.th[1].data.double()
    for _ in range(3):
        pair.step()
        pair.check()
    assert pair.cr[1].dtype == np.float64


def test_parameter_groups_each_get_their_own_buffer():
    init = arrays(0)
    params = [cr.nn.Parameter(cr.tensor(a)) for a in init]
    opt = optim.Adam([{"params": params[:3]}, {"params": params[3:], "lr": 0.1}], lr=0.01)
    for p, g in zip(params, arrays(1), strict=True):
        p.grad = cr.tensor(g)
    opt.step()
    assert opt._flats[0].buffer is not opt._flats[1].buffer
    assert all(p._data.base is opt._flats[0].buffer for p in params[:3])
    assert all(p._data.base is opt._flats[1].buffer for p in params[3:])


def test_parameters_added_to_a_group_later_are_updated():
    init = arrays(0)
    params = [cr.nn.Parameter(cr.tensor(a.copy())) for a in init]
    th = [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]
    opt, th_opt = (
        optim.SGD(params[:4], lr=0.1, momentum=0.9),
        torch.optim.SGD(th[:4], lr=0.1, momentum=0.9),
    )
    for k in range(4):
        if k == 2:  # the user appends to the group, as torch allows
            opt.param_groups[0]["params"].extend(params[4:])
            th_opt.param_groups[0]["params"].extend(th[4:])
        n = len(opt.param_groups[0]["params"])
        for p, q, g in zip(params[:n], th[:n], arrays(k + 10), strict=False):
            p.grad, q.grad = cr.tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        th_opt.step()
    for p, q in zip(params, th, strict=True):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert flattened(opt, params)


def test_a_new_optimizer_flattens_the_parameters_once_the_old_one_is_gone():
    import gc

    pair = Pair("SGD", dict(lr=0.05, momentum=0.9))
    for _ in range(2):
        pair.step()
    old_buffer = pair.cr_opt._flats[0].buffer
    assert flattened(pair.cr_opt, pair.cr)
    # A second optimizer while the first one lives: it must not take the parameters away
    # (the two would copy them back and forth every step); it runs the per-parameter loop.
    pair.cr_opt = optim.Adam(pair.cr, lr=0.01)
    pair.th_opt = torch.optim.Adam(pair.th, lr=0.01)
    first = pair.cr_opt
    pair.step()
    pair.check()
    assert all(p._data.base is old_buffer for p in pair.cr)
    # Once no optimizer owns the buffer, a new one moves the parameters into its own.
    del old_buffer
    pair.cr_opt = optim.Adam(pair.cr, lr=0.01)
    pair.th_opt = torch.optim.Adam(pair.th, lr=0.01)
    del first
    gc.collect()
    for _ in range(3):
        pair.step()
        pair.check()
    assert flattened(pair.cr_opt, pair.cr)


def test_a_view_held_by_the_user_keeps_parameters_in_a_released_buffer():
    import gc

    pair = Pair("SGD", dict(lr=0.05))
    pair.step()
    part = pair.cr[1].numpy()[2:4]  # a view of a view: NumPy bases it on the flat buffer
    whole = pair.cr[4].numpy()
    pair.cr_opt = optim.SGD(pair.cr, lr=0.05)
    gc.collect()
    for _ in range(2):
        pair.step()
        pair.check()
    assert not flattened(pair.cr_opt, pair.cr)
    assert np.shares_memory(part, pair.cr[1].numpy()) and whole is pair.cr[4].numpy()
    del part, whole
    pair.step()
    pair.check()
    assert flattened(pair.cr_opt, pair.cr)
