import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics.explain import GradientPath, explain_gradient


def _tiny(batch=1, outputs=1, seed=0):
    """x (batch, 3) -> tanh(x @ W1) (batch, 4) -> @ W2 (batch, outputs) -> squared error."""
    cr.manual_seed(seed)
    x = cr.randn(batch, 3)
    W1 = cr.randn(3, 4, requires_grad=True)
    W2 = cr.randn(4, outputs, requires_grad=True)
    loss = ((cr.tanh(x @ W1) @ W2 - 1.0) ** 2).mean()
    return loss, W1, W2


def test_steps_follow_the_single_path_and_telescope():
    loss, W1, _ = _tiny()
    path = explain_gradient(loss, W1)
    assert isinstance(path, GradientPath) and path.n_paths == 1
    assert path.gradient.dtype == cr.float32
    assert [s.op for s in path.steps] == ["Mean", "Pow", "Sub", "Matmul", "Tanh", "Matmul"]
    assert [s.shape for s in path.steps] == [(), (1, 1), (1, 1), (1, 1), (1, 4), (1, 4)]
    assert W1.grad is None  # its own backward writes no .grad
    loss.backward()  # and the graph is still usable
    np.testing.assert_allclose(path.gradient.numpy(), W1.grad.numpy(), rtol=1e-6)
    # One chain: the cumulative product is the norm of dL/d(input) at each depth.
    assert path.steps[-1].cumulative == pytest.approx(np.linalg.norm(W1.grad.numpy()), rel=1e-5)
    for s in path.steps:
        assert s.local_gain == pytest.approx(s.grad_out_norm / s.grad_in_norm)


def test_scalar_chain_equals_backward():
    loss, W1, _ = _tiny()
    path = explain_gradient(loss, W1, index=(0, 0))
    assert path.chain_matches is True
    assert [f.top for f in path.chain][0] == "L" and path.chain[-1].bottom == "w[0, 0]"
    assert len(path.chain) == len(path.steps)  # one scalar factor per op
    assert path.chain_product == pytest.approx(float(np.prod([f.value for f in path.chain])))
    loss.backward()
    assert path.backward_value == pytest.approx(float(W1.grad.numpy()[0, 0]), rel=1e-6)
    assert path.chain_product == pytest.approx(float(W1.grad.numpy()[0, 0]), rel=1e-4)
    text = str(path)
    assert "∂L/∂w[0, 0] = ∂L/∂Pow[0, 0] · ∂Pow[0, 0]/∂Sub[0, 0]" in text and "matches" in text


def test_scalar_chain_ends_with_the_backward_gradient_where_the_weight_fans_out():
    loss, W1, W2 = _tiny(outputs=2)
    path = explain_gradient(loss, W1, index=(2, 1))
    # w -> h[0, 1] -> tanh[0, 1] -> both outputs: the chain stops at tanh[0, 1].
    assert [(f.top, f.bottom) for f in path.chain] == [
        ("L", "Tanh[0, 1]"),
        ("Tanh[0, 1]", "Matmul[0, 1]"),
        ("Matmul[0, 1]", "w[2, 1]"),
    ]
    assert path.chain_matches is True
    assert "reaches 2 elements" in path.chain_note


def test_no_chain_when_the_batch_fans_out_at_once():
    loss, W1, _ = _tiny(batch=5)
    path = explain_gradient(loss, W1, index=(0, 0))
    assert path.chain is None and path.chain_matches is None
    assert "no scalar chain" in path.chain_note and "5 elements" in path.chain_note
    assert path.backward_value == pytest.approx(float(path.gradient.numpy()[0, 0]))


def test_dead_relu_gives_a_zero_chain():
    w = cr.tensor([[-2.0]], requires_grad=True)
    loss = (cr.relu(cr.tensor([[1.0]]) @ w) * 3).sum()
    path = explain_gradient(loss, w, index=(0, 0))
    assert path.chain_product == 0.0 and path.backward_value == 0.0 and path.chain_matches
    assert path.chain[0].value == 0.0


def test_collapse_and_blow_up_are_marked():
    w = cr.tensor(1.0, requires_grad=True)
    h = w
    for _ in range(8):
        h = cr.sigmoid(h)  # each sigmoid passes on at most 1/4
    path = explain_gradient(h * 1.0, w)
    assert path.collapsed_at is not None and path.exploded_at is None
    assert path.steps[path.collapsed_at].cumulative < 1e-3
    assert all(s.cumulative >= 1e-3 for s in path.steps[: path.collapsed_at])
    assert "collapsed" in str(path)
    h = w
    for _ in range(5):
        h = h * 10.0
    path = explain_gradient(h, w)
    assert path.exploded_at == 3 and "blew up" in str(path)
    assert [s.local_gain for s in path.steps] == pytest.approx([10.0] * 5)


def test_an_intermediate_tensor_as_the_target():
    cr.manual_seed(0)
    x = cr.randn(2, 3)
    W = cr.randn(3, 4, requires_grad=True)
    h = cr.tanh(x @ W)
    loss = (h * h).mean()
    path = explain_gradient(loss, h)
    assert [s.op for s in path.steps] == ["Mean", "Mul"] and path.n_paths == 2
    h.retain_grad()
    loss.backward()
    np.testing.assert_allclose(path.gradient.numpy(), h.grad.numpy(), rtol=1e-6)


def test_several_paths_are_counted_and_the_dominant_one_shown():
    cr.manual_seed(0)
    x = cr.randn(4, 3)
    W = cr.randn(3, 3, requires_grad=True)
    loss = ((x @ W) @ W).sum() + 0.001 * W.sum()  # three paths to W
    path = explain_gradient(loss, W, index=(0, 0))
    assert path.n_paths == 3 and len(path.paths) == 3
    finals = [p[-1].cumulative for p in path.paths]
    assert finals == sorted(finals, reverse=True) and path.steps is path.paths[0]
    assert path.chain is None and "3 paths" in path.chain_note


def test_module_hook_identities_are_skipped():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    calls = []
    model[1].register_full_backward_hook(lambda m, gi, go: calls.append(m))
    loss = model(cr.randn(1, 3)).sum()
    path = explain_gradient(loss, model[0].weight, index=(1, 2))
    assert [s.op for s in path.steps] == ["Sum", "Linear", "Tanh", "Linear"]
    assert path.chain_matches is True
    assert len(calls) == 1  # the one side backward pass; the per-op probes call no hook


def test_many_paths_follow_one_greedy_path():
    w = cr.tensor(1.1, requires_grad=True)
    h = w
    for _ in range(5):
        h = h * h  # 2**5 = 32 paths to w
    path = explain_gradient(h, w)
    assert path.n_paths == 32 and len(path.paths) == 1
    assert [s.op for s in path.steps] == ["Mul"] * 5
    assert path.gradient.item() == pytest.approx(32 * 1.1**31, rel=1e-5)


def test_gradient_matches_pytorch():
    torch = pytest.importorskip("torch")
    loss, W1, W2 = _tiny(batch=3, outputs=2, seed=4)
    path = explain_gradient(loss, W1)
    cr.manual_seed(4)
    x = torch.tensor(cr.randn(3, 3).numpy())
    w1 = torch.tensor(cr.randn(3, 4).numpy(), requires_grad=True)
    w2 = torch.tensor(cr.randn(4, 2).numpy())
    ((torch.tanh(x @ w1) @ w2 - 1.0) ** 2).mean().backward()
    np.testing.assert_allclose(path.gradient.numpy(), w1.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_errors_name_the_problem():
    loss, W1, W2 = _tiny()
    with pytest.raises(IndexError, match="shape \\(3, 4\\)"):
        explain_gradient(loss, W1, index=(3, 0))
    with pytest.raises(ValueError, match="scalar"):
        explain_gradient(W1 * 2, W1)
    other = cr.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="does not depend"):
        explain_gradient(loss, other)
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        explain_gradient(loss, W1)


def test_paths_follow_the_producer_of_each_input_when_the_op_ran():
    # h feeds `h + 1`, then is scaled in place: the add read h before the in-place mul, so its
    # path goes straight to the matmul; only the second use of h passes through the mul
    cr.manual_seed(0)
    w = cr.randn(3, 2, requires_grad=True)
    h = cr.randn(4, 3) @ w
    y = h + 1
    h.mul_(3)
    result = explain_gradient(y.sum() + h.sum(), w)
    assert result.n_paths == 2
    ops = sorted([s.op for s in path] for path in result.paths)
    assert ops == [["Add", "Sum", "Add", "Matmul"], ["Add", "Sum", "Mul", "Matmul"]]
