import copy
import pickle

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(8, 2)
        self.register_buffer("steps", cr.zeros(1))
        self.register_buffer("scratch", cr.zeros(3), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


# ---- Parameter ----


def test_parameter_from_tensor_array_and_list():
    t = cr.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, cr.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.dtype == cr.float32
    assert p.numpy() is t.numpy()  # shares memory like torch
    assert nn.Parameter(np.zeros(3, dtype=np.float64)).dtype == cr.float64
    assert nn.Parameter([1.0, 2.0]).dtype == cr.float32
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert type(p * 2) is cr.Tensor  # ops give plain tensors
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_parameter_deepcopy_and_pickle_stay_parameters():
    p = nn.Parameter(cr.randn(3))
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert isinstance(q, nn.Parameter) and q.requires_grad
        np.testing.assert_array_equal(q.numpy(), p.numpy())
        assert q.numpy() is not p.numpy()


# ---- registration and iteration ----


def test_registration_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "fc1.weight",
        "fc1.bias",
        "fc2.weight",
        "fc2.bias",
    ]
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(net.parameters(recurse=False))) == 0
    assert list(net.state_dict()) == ["steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]


def test_state_dict_order_matches_torch():
    torch = pytest.importorskip("torch")

    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(4, 8)
            self.act = torch.nn.ReLU()
            self.fc2 = torch.nn.Linear(8, 2)
            self.register_buffer("steps", torch.zeros(1))
            self.register_buffer("scratch", torch.zeros(3), persistent=False)

    assert list(Net().state_dict()) == list(TNet().state_dict())


def test_setattr_replaces_and_none_slots():
    net = Net()
    net.fc1 = nn.Linear(4, 8)  # re-registering keeps the position
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    with pytest.raises(TypeError, match="parameter 'weight'"):
        net.fc1.weight = cr.randn(8, 4)  # a plain tensor cannot replace a Parameter
    net.fc1.bias = None
    assert "fc1.bias" not in net.state_dict()
    with pytest.raises(TypeError, match="buffer 'steps'"):
        net.steps = np.zeros(1)
    del net.act
    assert [n for n, _ in net.named_children()] == ["fc1", "fc2"]


def test_setattr_before_init_is_a_clear_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(cr.zeros(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Bad()


def test_register_errors_and_get_submodule():
    net = Net()
    with pytest.raises(KeyError, match="contain"):
        net.register_buffer("a.b", cr.zeros(1))
    with pytest.raises(KeyError, match="already exists"):
        net.register_buffer("fc1", cr.zeros(1))
    with pytest.raises(TypeError):
        net.register_parameter("w", cr.zeros(1))
    with pytest.raises(TypeError):
        net.add_module("m", object())
    assert net.get_submodule("fc2") is net.fc2
    with pytest.raises(AttributeError, match="nope"):
        net.get_submodule("nope")
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        _ = net.missing


def test_shared_parameters_listed_once_but_saved_under_each_name():
    a = nn.Linear(3, 3)
    seq = nn.Sequential(a, a)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_forward_missing_raises():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(cr.zeros(1))


# ---- modes, gradients, dtypes ----


def test_train_eval_recursive():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert net.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    net = Net()
    net(cr.randn(3, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    old = net.fc1.weight.grad
    net.zero_grad(set_to_none=False)
    assert np.all(net.fc1.weight.grad.numpy() == 0) and net.fc1.weight.grad is not old
    assert np.any(old.numpy() != 0)  # the old array was not overwritten
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_order_and_to_double():
    net = Net()
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    assert visited == ["Linear", "ReLU", "Linear", "Net"]
    w = net.fc1.weight
    net.double()
    assert net.fc1.weight is w and w.dtype == cr.float64 and net.steps.dtype == cr.float64
    assert net(cr.randn(2, 4, dtype=cr.float64)).dtype == cr.float64
    net.to(cr.float32)
    assert w.dtype == cr.float32
    assert net.to("cpu") is net
    with pytest.raises(RuntimeError, match="CPU"):
        net.to("cuda")
    bn = nn.BatchNorm1d(3).double()
    assert bn.num_batches_tracked.dtype == cr.int64  # integer buffers are not cast


def test_deepcopy_module_is_independent():
    net = Net()
    clone = copy.deepcopy(net)
    clone.fc1.weight.numpy()[...] = 0
    assert np.any(net.fc1.weight.numpy() != 0)
    assert isinstance(clone.fc1.weight, nn.Parameter)


# ---- state dict ----


def test_state_dict_is_detached_and_shares_memory():
    net = Net()
    sd = net.state_dict()
    assert not sd["fc1.weight"].requires_grad
    assert sd["fc1.weight"].numpy() is net.fc1.weight.numpy()
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight


def test_load_state_dict_roundtrip_numpy_and_tensors():
    a, b = Net(), Net()
    result = b.load_state_dict({k: v.numpy().astype(np.float64) for k, v in a.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (_, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert b.fc1.weight.dtype == cr.float32  # cast to the parameter's dtype
    b.load_state_dict(Net().state_dict())


def test_load_state_dict_reports_everything_and_changes_nothing():
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    bad = {k: v.numpy() + 1 for k, v in Net().state_dict().items()}
    del bad["fc2.bias"]
    bad["fc1.weight"] = np.zeros((3, 3), np.float32)
    bad["extra"] = np.zeros(1)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(bad)
    msg = str(err.value)
    assert 'Missing key(s) in state_dict: "fc2.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra"' in msg
    assert "size mismatch for fc1.weight" in msg and "(3, 3)" in msg and "(8, 4)" in msg
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])  # nothing was written


def test_load_state_dict_non_strict():
    net = Net()
    partial = {"fc1.weight": np.ones((8, 4), np.float32), "other": np.zeros(2)}
    result = net.load_state_dict(partial, strict=False)
    assert "fc2.bias" in result.missing_keys and result.unexpected_keys == ["other"]
    assert np.all(net.fc1.weight.numpy() == 1)
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict({"fc1.weight": np.ones((1, 4))}, strict=False)


@pytest.mark.parametrize(
    "bad_value, message",
    [
        (np.array(["a"] * 2), "fc2.bias is not numeric"),
        (None, "fc2.bias is not numeric"),
        ({"nested": 1}, "fc2.bias is not numeric"),
        (np.ones(2, np.complex64), "fc2.bias is complex"),
        (np.ones(3, np.float32), "size mismatch for fc2.bias"),
    ],
)
@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_bad_last_value_writes_nothing(bad_value, message, strict):
    """A bad value in a late key used to leave the earlier keys already overwritten."""
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    versions = [p._version for p in net.parameters()]
    new = {k: v.numpy() + 1 for k, v in Net().state_dict().items()}
    new["fc2.bias"] = bad_value
    with pytest.raises(RuntimeError, match=message):
        net.load_state_dict(new, strict=strict)
    for k, v in net.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert [p._version for p in net.parameters()] == versions


def test_load_state_dict_casts_ints_and_bools_and_shares_nothing():
    net = Net()
    sd = {k: np.ones(v.shape, np.int64) for k, v in net.state_dict().items()}
    sd["fc1.bias"] = np.ones(8, bool)
    net.load_state_dict(sd)
    assert net.fc1.bias.dtype == cr.float32 and np.all(net.fc1.bias.numpy() == 1)
    same = {k: v.numpy() for k, v in net.state_dict().items()}
    same_arrays = {k: v.copy() for k, v in same.items()}
    sd32 = {k: v.astype(np.float32) for k, v in same.items()}
    net.load_state_dict(sd32)
    sd32["fc1.weight"][...] = 5  # the module holds a copy, not the caller's array
    np.testing.assert_array_equal(net.fc1.weight.numpy(), same_arrays["fc1.weight"])


# ---- hooks ----


def test_forward_hooks_and_removal():
    lin = nn.Linear(3, 2)
    seen = []
    h1 = lin.register_forward_pre_hook(lambda m, args: seen.append(("pre", args[0].shape)))
    h2 = lin.register_forward_hook(lambda m, args, out: seen.append(("post", out.shape)))
    lin(cr.randn(5, 3))
    assert seen == [("pre", (5, 3)), ("post", (5, 2))]
    h1.remove()
    h2.remove()
    lin(cr.randn(5, 3))
    assert len(seen) == 2


def test_hooks_can_replace_input_and_output():
    lin = nn.Linear(3, 2)
    lin.register_forward_pre_hook(lambda m, args: args[0] * 0)
    lin.register_forward_hook(lambda m, args, out: out + 100)
    out = lin(cr.randn(4, 3))
    np.testing.assert_allclose(
        out.numpy(), np.broadcast_to(lin.bias.numpy() + 100, (4, 2)), rtol=1e-6
    )


def test_full_backward_hook_matches_torch_for_linear():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    v = rng.standard_normal((5, 2)).astype(np.float32)
    lin, tlin = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    lin.load_state_dict({k: t.detach().numpy() for k, t in tlin.state_dict().items()})
    ours, theirs = [], []
    lin.register_full_backward_hook(lambda m, gi, go: ours.append((gi, go)))
    tlin.register_full_backward_hook(lambda m, gi, go: theirs.append((gi, go)))
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ((lin(xc) * cr.tensor(v)).sum() * 2).backward()
    ((tlin(xt) * torch.tensor(v)).sum() * 2).backward()
    assert len(ours) == 1 and len(theirs) == 1
    (gi, go), (tgi, tgo) = ours[0], theirs[0]
    assert len(gi) == len(tgi) == 1 and len(go) == len(tgo) == 1
    np.testing.assert_allclose(go[0].numpy(), tgo[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(gi[0].numpy(), tgi[0].numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_full_backward_hook_sees_only_this_module_gradient():
    # x is also used outside the module: grad_input must hold only the module's share.
    lin = nn.Linear(2, 2, bias=False)
    lin.weight.numpy()[...] = np.eye(2, dtype=np.float32)
    got = []
    lin.register_full_backward_hook(lambda m, gi, go: got.append(gi[0].numpy().copy()))
    x = cr.ones(1, 2, requires_grad=True)
    (lin(x).sum() + 10 * x.sum()).backward()
    np.testing.assert_allclose(got[0], [[1, 1]])
    np.testing.assert_allclose(x.grad.numpy(), [[11, 11]])


def test_full_backward_hook_without_input_grad_and_replacement():
    lin = nn.Linear(3, 2)
    calls = []
    lin.register_full_backward_hook(lambda m, gi, go: calls.append((gi, go)))
    lin(cr.randn(4, 3)).sum().backward()  # input needs no grad: fires on grad_output
    assert len(calls) == 1 and calls[0][0] == (None,) and calls[0][1][0].shape == (4, 2)

    doubler = nn.Linear(3, 3)
    doubler.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    x = cr.randn(2, 3, requires_grad=True)
    doubler(x).sum().backward()
    assert np.all(x.grad.numpy() == 0)


def test_full_backward_hook_fires_per_call_and_handle_removes():
    lin = nn.Linear(2, 2)
    count = []
    h = lin.register_full_backward_hook(lambda m, gi, go: count.append(1))
    x = cr.randn(3, 2, requires_grad=True)
    lin(lin(x)).sum().backward()
    assert len(count) == 2
    h.remove()
    lin(x).sum().backward()
    assert len(count) == 2
    with cr.no_grad():
        lin.register_full_backward_hook(lambda m, gi, go: count.append(1))
        lin(x)  # no graph, nothing wrapped, no error


def test_full_backward_hook_multi_input_module():
    class Add(nn.Module):
        def forward(self, a, scale, b):
            return a * scale + b

    m = Add()
    got = []
    m.register_full_backward_hook(lambda mod, gi, go: got.append(gi))
    a, b = cr.randn(3, requires_grad=True), cr.randn(3)
    m(a, 2.0, b).sum().backward()
    gi = got[0]
    assert len(gi) == 2 and gi[1] is None  # one entry per tensor argument
    np.testing.assert_allclose(gi[0].numpy(), 2 * np.ones(3))


# ---- repr ----


def test_repr_matches_torch_format():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(
        nn.Linear(4, 3),
        nn.ReLU(),
        nn.Sequential(nn.Dropout(0.1), nn.Tanh()),
        nn.LayerNorm(3),
        nn.BatchNorm1d(3),
        nn.Flatten(),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 3),
        torch.nn.ReLU(),
        torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Tanh()),
        torch.nn.LayerNorm(3),
        torch.nn.BatchNorm1d(3),
        torch.nn.Flatten(),
    )
    assert repr(ours) == repr(theirs)


# ---- forward hook options: with_kwargs, prepend, always_call (PyTorch's) ----


class _Scale(nn.Module):
    def forward(self, x, scale=1.0):
        if scale == 0:
            raise ValueError("scale 0")
        return x * scale


@pytest.mark.parametrize("lib", ["cr", "torch"])
def test_forward_hook_options_behave_as_in_pytorch(lib):
    torch = pytest.importorskip("torch")
    m = _Scale() if lib == "cr" else type("S", (torch.nn.Module,), {"forward": _Scale.forward})()
    tensor = cr.tensor if lib == "cr" else torch.tensor
    seen = []

    def pre(module, args, kwargs):
        seen.append(("pre", dict(kwargs)))
        return args, {**kwargs, "scale": kwargs.get("scale", 1.0) * 2}

    def post(module, args, kwargs, out):
        seen.append(("post", kwargs["scale"], float(out.sum())))

    m.register_forward_pre_hook(pre, with_kwargs=True)
    m.register_forward_hook(post, with_kwargs=True)
    m.register_forward_hook(lambda mod, a, o: seen.append(("first",)), prepend=True)
    out = m(tensor([1.0, 2.0]), scale=3.0)
    assert float(out.sum()) == 18.0  # the pre-hook doubled the keyword
    assert seen == [("pre", {"scale": 3.0}), ("first",), ("post", 6.0, 18.0)]
    failed = []
    m.register_forward_hook(lambda mod, a, o: failed.append(o), always_call=True)
    with pytest.raises(ValueError, match="scale 0"):
        m(tensor([1.0]), scale=0.0)
    assert failed == [None]  # ran although forward raised, with no output
    bad = _Scale() if lib == "cr" else None
    if bad is not None:  # chainrule's message for a wrong return value
        bad.register_forward_pre_hook(lambda mod, a, k: a, with_kwargs=True)
        with pytest.raises(RuntimeError, match="with_kwargs"):
            bad(cr.tensor([1.0]))


def _renaming(base):
    """A layer that renamed its parameter ``w`` to ``weight`` and still loads old checkpoints
    (the _load_from_state_dict override libraries write)."""

    class Renamed(base.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = base.nn.Parameter(base.zeros(2))

        def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
            if prefix + "w" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")
            super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    return Renamed


def test_load_from_state_dict_override_and_hooks_match_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (cr, torch):
        model = lib.nn.Sequential(_renaming(lib)(), lib.nn.Linear(2, 1))
        calls = []

        def forgive(module, keys, calls=calls):
            calls.append(sorted(keys.missing_keys))
            keys.missing_keys.clear()

        model[1].register_load_state_dict_post_hook(forgive)
        model.register_load_state_dict_pre_hook(
            lambda module, sd, prefix, *rest, calls=calls: calls.append(sorted(sd))
        )
        sd = {"0.w": np.array([1.0, 2.0], dtype=np.float32), "1.weight": np.ones((1, 2))}
        sd = {k: lib.tensor(v, dtype=lib.float32) for k, v in sd.items()}
        out = model.load_state_dict(sd)  # 1.bias missing, forgiven by the post hook
        results.append((model[0].weight.tolist(), calls, out.missing_keys, out.unexpected_keys))
        bad = dict(sd, **{"1.extra": lib.ones(1), "extra": lib.ones(1)})
        with pytest.raises(RuntimeError, match="Unexpected key"):
            model.load_state_dict(bad)
        results.append(model.load_state_dict(bad, strict=False).unexpected_keys)
    assert results[0] == results[2]
    assert results[1] == results[3]


def test_load_state_dict_assign_gives_new_memory():
    lin = nn.Linear(2, 2)
    old = lin.weight._data
    value = np.full((2, 2), 3.0, dtype=np.float32)
    lin.load_state_dict({"weight": value, "bias": np.zeros(2)}, assign=True)
    assert lin.weight._data is not old and np.all(old != 3.0)
    np.testing.assert_array_equal(lin.weight.numpy(), value)
    value[0, 0] = 9  # the module holds its own copy
    assert lin.weight.numpy()[0, 0] == 3.0
