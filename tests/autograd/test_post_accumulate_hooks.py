"""Post-accumulate grad hooks and queue_callback: the engine points DDP builds on."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import engine


def test_hook_runs_early_with_final_grad_and_callback_runs_last():
    w1 = cr.nn.Parameter(cr.randn(3, 4))
    w2 = cr.nn.Parameter(cr.randn(4, 2))
    events = []

    def on_w2(p):
        events.append(("w2", p.grad.numpy().copy()))
        engine.queue_callback(lambda: events.append(("end", w1.grad is not None)))

    w1.register_post_accumulate_grad_hook(lambda p: events.append(("w1", p.grad.numpy().copy())))
    w2.register_post_accumulate_grad_hook(on_w2)
    x = cr.randn(5, 3)
    ((x @ w1).relu() @ w2).sum().backward()
    assert [e[0] for e in events] == ["w2", "w1", "end"]  # w2's grad is final first
    np.testing.assert_array_equal(events[0][1], w2.grad.numpy())
    np.testing.assert_array_equal(events[1][1], w1.grad.numpy())
    assert events[2][1] is True  # every .grad set before callbacks


def test_hook_sees_accumulated_grad_and_leaf_used_twice():
    w = cr.nn.Parameter(cr.ones(3))
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.numpy().copy()))
    (w * 2).sum().backward()
    ((w * 3).sum() + (w * w).sum()).backward()  # w read by two nodes: one call, full grad
    np.testing.assert_allclose(seen[0], [2, 2, 2])
    np.testing.assert_allclose(seen[1], [2 + 3 + 2, 7, 7])
    assert len(seen) == 2
    handle.remove()
    w.sum().backward()
    assert len(seen) == 2


def test_hook_on_non_leaf_and_callback_outside_backward_raise():
    w = cr.nn.Parameter(cr.ones(3))
    with pytest.raises(RuntimeError, match="leaf"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)
    with pytest.raises(RuntimeError, match="queue_callback"):
        engine.queue_callback(lambda: None)


def test_matches_torch_order_of_values():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((3, 3)).astype(np.float32)
    got = {}
    cw = cr.nn.Parameter(cr.tensor(w))
    cw.register_post_accumulate_grad_hook(lambda p: got.setdefault("cr", p.grad.numpy().copy()))
    (cr.tensor(x) @ cw).tanh().sum().backward()
    tw = torch.nn.Parameter(torch.tensor(w))

    def keep(p):
        got["t"] = p.grad.numpy().copy()

    tw.register_post_accumulate_grad_hook(keep)
    (torch.tensor(x) @ tw).tanh().sum().backward()
    np.testing.assert_allclose(got["cr"], got["t"], rtol=1e-5)
