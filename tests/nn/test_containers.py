from collections import OrderedDict

import numpy as np
import pytest
from helpers import compare_modules

import chainrule as cr
from chainrule import nn


def test_sequential_indexing_len_iteration_append():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    seq.append(c)
    assert seq[2] is c and list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    assert [n for n, _ in sub.named_children()] == ["1", "2"]  # keys kept, as in torch
    with pytest.raises(IndexError, match="out of range"):
        seq[3]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh) and [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    del seq[1]
    assert len(seq) == 2
    assert seq(cr.randn(4, 2)).shape == (4, 1)


def test_sequential_ordered_dict_and_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(
        OrderedDict([("fc", nn.Linear(4, 3)), ("act", nn.Tanh()), ("out", nn.Linear(3, 2))])
    )
    theirs = torch.nn.Sequential(
        OrderedDict(
            [
                ("fc", torch.nn.Linear(4, 3)),
                ("act", torch.nn.Tanh()),
                ("out", torch.nn.Linear(3, 2)),
            ]
        )
    )
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    compare_modules(ours, theirs, [x])
    assert repr(ours) == repr(theirs)


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.insert(0, nn.Tanh())
    assert isinstance(layers[0], nn.Tanh) and isinstance(layers[-1], nn.ReLU)
    del layers[0]
    assert [n for n, _ in layers.named_children()] == ["0", "1", "2", "3"]
    layers += [nn.Sigmoid()]
    assert len(layers) == 5 and isinstance(layers[1:3], nn.ModuleList)
    with pytest.raises(NotImplementedError):
        layers(cr.zeros(1))


def test_module_dict():
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    assert list(heads) == ["a", "b"] and "a" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    heads["c"] = nn.ReLU()
    assert isinstance(heads.pop("c"), nn.ReLU) and "c" not in heads
    assert [k for k, _ in heads.items()] == ["a", "b"]
    heads.clear()
    assert len(heads) == 0


def test_identity_flatten_unflatten():
    x = cr.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused=True)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_flatten_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    compare_modules(nn.Flatten(), torch.nn.Flatten(), [x])


def test_residual_adds_block_output_and_passes_gradient_both_ways():
    block = nn.Linear(3, 3, bias=False)
    block.weight.numpy()[...] = 2 * np.eye(3, dtype=np.float32)
    res = nn.Residual(block)
    x = cr.ones(2, 3, requires_grad=True)
    y = res(x)
    np.testing.assert_allclose(y.numpy(), 3 * np.ones((2, 3)))
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.ones((2, 3)))  # 1 (skip) + 2 (block)
    assert list(res.state_dict()) == ["block.weight"]
    assert repr(res).startswith("Residual(\n  (block): Linear(")
    with pytest.raises(ValueError, match="must keep the shape"):
        nn.Residual(nn.Linear(3, 2))(cr.randn(2, 3))
    with pytest.raises(TypeError):
        nn.Residual(lambda x: x)


def test_sequential_without_graph_gives_the_same_values_and_never_changes_a_seen_tensor():
    import numpy as np

    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    x = cr.randn(16, 4)
    with_graph = model(x).detach().numpy()
    with cr.no_grad():
        without = model(x).numpy()
    np.testing.assert_array_equal(with_graph, without)  # bit for bit
    seen = []  # a hook on the Linear keeps its output: the ReLU must not write into it
    model[2].register_forward_hook(lambda m, args, out: seen.append(out))
    with cr.no_grad():
        np.testing.assert_array_equal(model(x).numpy(), with_graph)
    assert (seen[0].numpy() < 0).any()  # still the pre-activation
