"""The backward pass itself: graph walk, memory, accumulation, hooks, modes and its errors."""

import gc
import weakref

import numpy as np
import pytest

import chainrule as cr


def test_chain_of_ten_thousand_ops_differentiates_without_recursion():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001**10_000] * 2, rtol=1e-9)


def test_graph_is_released_after_backward_and_has_no_cycles():
    x = cr.randn(3, requires_grad=True)
    hidden = x.exp()
    probe = weakref.ref(hidden)
    node_probe = weakref.ref(hidden.grad_fn)
    loss = (hidden * x).sum()  # mul reads hidden (for x's gradient)
    del hidden
    assert probe() is not None, "the graph keeps the values its backward reads"
    loss.backward()
    del loss
    assert probe() is None and node_probe() is None  # freed by refcounting alone, no gc pass
    gc.collect()


def test_a_node_keeps_only_what_its_backward_reads():
    # ReLU reads its output, add reads nothing: their intermediate inputs are freed at once
    # (PyTorch's saved tensors), while their nodes stay to carry the gradient.
    x = cr.randn(4, 3, requires_grad=True)
    w = cr.randn(3, 3, requires_grad=True)
    h = x @ w
    h_probe, h_node = weakref.ref(h), weakref.ref(h.grad_fn)
    y = cr.relu(h)
    out = (y + h).sum()
    del h, y
    assert h_probe() is None and h_node() is not None
    out.backward()
    xn, wn = x.numpy().astype(np.float64), w.numpy().astype(np.float64)
    hn = xn @ wn
    g = (hn > 0) + 1.0  # d(relu(h) + h)/dh
    np.testing.assert_allclose(x.grad.numpy(), g @ wn.T, rtol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), xn.T @ g, rtol=1e-5)


def test_an_unsaved_input_is_still_seen_while_it_is_alive():
    x = cr.randn(3, requires_grad=True)
    h = x * 2
    node = cr.relu(h).grad_fn
    assert node.inputs[0] is h  # a graph tool sees the tensor itself while someone holds it
    del h
    (stand_in,) = node.inputs
    assert stand_in.shape == (3,) and stand_in.dtype == np.float32 and stand_in.requires_grad
    with pytest.raises(AttributeError, match="not saved for backward"):
        _ = stand_in._data


def test_keep_input_values_makes_nodes_keep_every_input():
    from chainrule.autograd.engine import KEEP_INPUT_VALUES

    x = cr.randn(3, requires_grad=True)
    token = KEEP_INPUT_VALUES.set(True)
    try:
        kept = cr.relu(x * 2).grad_fn
    finally:
        KEEP_INPUT_VALUES.reset(token)
    dropped = cr.relu(x * 2).grad_fn
    np.testing.assert_array_equal(kept.inputs[0]._data, x.detach().numpy() * 2)
    with pytest.raises(AttributeError, match="not saved for backward"):
        _ = dropped.inputs[0]._data


def test_create_graph_through_an_output_nothing_holds():
    # exp's vjp reads its output; the sum after it does not keep it: the saved values stand in
    x = cr.tensor([0.5, 1.0], dtype=cr.float64, requires_grad=True)
    loss = x.exp().sum()
    (g,) = cr.grad(loss, [x], create_graph=True)
    (gg,) = cr.grad(g.sum(), [x])
    np.testing.assert_allclose(gg.numpy(), np.exp([0.5, 1.0]), rtol=1e-12)


def test_graph_without_backward_is_freed_when_result_is_dropped():
    gc.disable()
    try:
        x = cr.randn(3, requires_grad=True)
        y = x.tanh() * 3
        probe = weakref.ref(y.grad_fn)
        del y
        assert probe() is None
    finally:
        gc.enable()


def test_gradients_accumulate_across_backward_calls():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_a_tensor_used_twice_gets_the_sum_of_both_paths():
    x = cr.tensor(2.0, requires_grad=True)
    y = x * x + x.exp() - x
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 2 + np.exp(2) - 1, rel=1e-6)


def test_shared_upstream_gradient_is_not_aliased_between_leaves():
    a = cr.tensor([1.0, 2.0], requires_grad=True)
    b = cr.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data += 10
    np.testing.assert_allclose(b.grad.numpy(), [1, 1])


def test_second_backward_through_freed_graph_raises_clear_error():
    x = cr.randn(3, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = cr.randn(3, requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)


def test_backward_on_non_scalar_needs_gradient():
    x = cr.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar outputs.*shape \\(3,\\)"):
        (x * 2).backward()
    (x * 2).backward(cr.ones(3))
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])


def test_backward_without_grad_fn_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.ones(2).sum().backward()


def test_no_grad_records_nothing_and_enable_grad_restores():
    x = cr.randn(3, requires_grad=True)
    with cr.no_grad():
        y = x * 2
        with cr.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_as_decorator_and_is_restored_after_exceptions():
    @cr.no_grad()
    def f(t):
        return t * 2

    x = cr.randn(2, requires_grad=True)
    assert not f(x).requires_grad
    with pytest.raises(ZeroDivisionError):
        with cr.no_grad():
            raise ZeroDivisionError
    assert cr.is_grad_enabled()


def test_retain_grad_keeps_intermediate_gradient():
    x = cr.randn(3, requires_grad=True)
    h = x * 2
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy(), rtol=1e-6)
    assert (x * 3).grad is None


def test_hook_sees_gradient_and_can_replace_it():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = h.register_hook(lambda g: g * 0 + 1)
    (h * h).sum().backward()
    np.testing.assert_allclose(seen[0], 2 * h.numpy())
    np.testing.assert_allclose(x.grad.numpy(), [3, 3])  # the replacement flowed on
    handle.remove()
    assert len(h._hooks) == 1


def test_leaf_hook_runs_once_on_the_total_gradient():
    x = cr.tensor([1.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.item()))
    (x * 2 + x * 3).sum().backward()
    assert calls == [5.0]


def test_in_place_change_after_use_is_detected():
    x = cr.randn(3, requires_grad=True)
    h = x * 1
    y = (h * h).sum()
    with cr.no_grad():
        h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_in_place_change_through_a_view_is_detected():
    x = cr.randn(2, 3, requires_grad=True)
    h = x + 0
    y = (h * h).sum()
    with cr.no_grad():
        h.view(6)[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_in_place_on_leaf_requiring_grad_is_refused():
    x = cr.randn(3, requires_grad=True)
    with pytest.raises(
        RuntimeError,
        match="a leaf Variable that requires grad is being used in an in-place operation",
    ):
        x.add_(1)
    with cr.no_grad():
        x.add_(1)  # allowed: the optimizer's way


def test_grad_returns_only_requested_gradients_and_leaves_grad_untouched():
    x = cr.randn(3, requires_grad=True)
    w = cr.randn(3, requires_grad=True)
    (gx,) = cr.grad((x * w).sum(), [x])
    np.testing.assert_allclose(gx.numpy(), w.numpy())
    assert x.grad is None and w.grad is None


def test_grad_unused_input_raises_unless_allowed():
    x, z = cr.randn(2, requires_grad=True), cr.randn(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used in the graph"):
        cr.grad((x * 2).sum(), [x, z])
    gx, gz = cr.grad((x * 2).sum(), [x, z], allow_unused=True)
    assert gz is None


def test_hessian_vector_product_with_create_graph():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    A = cr.tensor(a + a.T, dtype=cr.float64)
    x = cr.tensor(rng.standard_normal(4), requires_grad=True)
    v = cr.tensor(rng.standard_normal(4))
    f = 0.5 * (x @ (A @ x)) + x.sin().sum()
    (g,) = cr.grad(f, [x], create_graph=True)
    (hv,) = cr.grad((g * v).sum(), [x])
    expected = (a + a.T) @ v.numpy() - np.sin(x.numpy()) * v.numpy()
    np.testing.assert_allclose(hv.numpy(), expected, rtol=1e-10)


def test_gradient_penalty_backward_through_grad():
    x = cr.randn(5, dtype=cr.float64, requires_grad=True)
    w = cr.randn(5, dtype=cr.float64, requires_grad=True)
    out = (x * w).tanh().sum()
    (gx,) = cr.grad(out, [x], create_graph=True)
    penalty = (gx * gx).sum()
    penalty.backward()
    assert w.grad is not None and np.isfinite(w.grad.numpy()).all()
    assert cr.autograd.gradcheck(
        lambda w_: (cr.grad((x * w_).tanh().sum(), [x], create_graph=True)[0] ** 2).sum(), (w,)
    )


def test_backward_inputs_argument_accumulates_only_there():
    x, w = cr.randn(3, requires_grad=True), cr.randn(3, requires_grad=True)
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None and w.grad is not None


def test_detect_anomaly_names_the_op_and_user_line_forward():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        with pytest.raises(
            FloatingPointError, match="'Log' produced Inf in its forward.*test_engine.py"
        ):
            cr.log(x)


def test_detect_anomaly_catches_nan_first_appearing_in_backward():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        y = cr.sqrt(x).sum()  # finite forward, but d sqrt / dx at 0 is inf
        with pytest.raises(FloatingPointError, match="'Sqrt' produced Inf in its backward"):
            y.backward()


def test_without_anomaly_mode_nan_passes_silently():
    x = cr.tensor([0.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = cr.log(x)
    assert np.isinf(y.numpy()).all()


def test_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: incompatible shapes \(2, 3\) and \(4,\)"):
        cr.ones(2, 3) + cr.ones(4)
    with pytest.raises(ValueError, match=r"matmul: incompatible shapes \(2, 3\) and \(4, 5\)"):
        cr.ones(2, 3) @ cr.ones(4, 5)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape.*\(2, 3\).*\(4,\)"):
        cr.ones(2, 3).reshape(4)
    with pytest.raises(ValueError, match=r"cat: shapes"):
        cr.cat([cr.ones(2, 3), cr.ones(3, 2)], 0)


class Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x * ctx.scale, None


def test_custom_function_first_and_second_derivatives():
    x = cr.randn(4, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: Cube.apply(t, 2.0), (x,))
    assert cr.autograd.gradgradcheck(lambda t: Cube.apply(t, 2.0), (x,))
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name == "Cube"


def test_gradcheck_reports_worst_element_of_a_wrong_gradient():
    class Wrong(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    x = cr.randn(2, 3, dtype=cr.float64, requires_grad=True)
    with pytest.raises(
        cr.autograd.GradcheckError,
        match=r"input 0 \(shape \(2, 3\)\), element \(\d, \d\): analytic",
    ):
        cr.autograd.gradcheck(Wrong.apply, (x,))
    assert cr.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_repr_shows_grad_fn():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    assert "requires_grad=True" in repr(x)


def test_grad_with_respect_to_an_intermediate_tensor():
    x = cr.randn(3, requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    (gh,) = cr.grad(y, [h], retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy(), rtol=1e-6)
    gh2, gx = cr.grad(y, [h, x])
    np.testing.assert_allclose(gx.numpy(), 8 * x.numpy(), rtol=1e-6)
    np.testing.assert_allclose(gh2.numpy(), gh.numpy())


def test_anomaly_error_carries_the_op_phase_and_inputs():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        with pytest.raises(cr.autograd.engine.AnomalyError) as info:
            cr.log(x)
    assert info.value.op == "Log" and info.value.phase == "forward"


def test_gradients_of_many_slices_are_summed_correctly():
    x = cr.randn(6, 3, requires_grad=True)
    parts = [x[t] * (t + 1) for t in range(6)] + [x[1:3].sum(0), x[::2][0]]
    sum(p.sum() for p in parts).backward()
    expected = np.repeat(np.arange(1, 7, dtype=np.float32)[:, None], 3, 1)
    expected[1:3] += 1
    expected[0] += 1
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_hook_on_an_intermediate_runs_after_the_tensor_object_is_gone():
    x = cr.randn(3, requires_grad=True)
    seen = []

    def build():
        y = x * 2
        y.register_hook(lambda g: seen.append(g.numpy().copy()))
        return (y * 3).sum()

    build().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [3, 3, 3])


def _structure(fn):
    """A grad_fn graph as nested (name, [children]) lists: AccumulateGrad as ("leaf", index of
    its variable in `leaves`), constants as None."""

    def walk(node, leaves):
        if node is None:
            return None
        if not node.next_functions and hasattr(node, "variable"):
            return ("leaf", next(i for i, t in enumerate(leaves) if t is node.variable))
        return (node.name(), [(walk(n, leaves), k) for n, k in node.next_functions])

    return walk


def test_next_functions_and_name_as_torch():
    torch = pytest.importorskip("torch")

    def program(lib, a, b):
        h = lib.exp(a * 2) + b  # a constant 2, two leaves
        return (h * h.sigmoid()).sum() - lib.ones(3).sum()  # a shared intermediate

    graphs = []
    for lib in (cr, torch):
        a, b = lib.ones(3, requires_grad=True), lib.ones(3, requires_grad=True)
        out = program(lib, a, b)
        graphs.append(_structure(out.grad_fn)(out.grad_fn, [a, b]))
    assert graphs[0] == graphs[1]
    assert graphs[0][0] == "SubBackward0"
    y = cr.ones(2, requires_grad=True) * 3
    assert y.grad_fn.name == "Mul" and y.grad_fn.name() == "MulBackward0"
    (acc, k), (const, _) = y.grad_fn.next_functions
    assert k == 0 and const is None and acc.name() == "torch::autograd::AccumulateGrad"
    assert acc == y.grad_fn.next_functions[0][0] and acc.next_functions == ()
    y.sum().backward()
    assert y.grad_fn.next_functions == ()  # freed by backward, with the saved values


def test_next_functions_make_no_reference_cycle():
    gc.collect()
    gc.disable()
    try:
        x = cr.ones(3, requires_grad=True)
        y = (x * 2).exp()
        edges = y.grad_fn.next_functions
        node = weakref.ref(y.grad_fn)
        del y, edges
        assert node() is None  # freed by reference counting alone
    finally:
        gc.enable()


def test_a_leaf_has_one_accumulate_grad_while_it_lives_and_it_goes_with_the_leaf():
    from chainrule.autograd import engine

    w = cr.randn(3, requires_grad=True)
    y = (w * 2).sum()
    (first,) = [f for f, _ in y.grad_fn.next_functions[0][0].next_functions if f is not None]
    (again,) = [f for f, _ in y.grad_fn.next_functions[0][0].next_functions if f is not None]
    assert first is again and first.variable is w  # graph walkers may key on id()
    probe = weakref.ref(w)
    del w, y, again
    gc.collect()
    assert probe() is None and first.variable is None  # held weakly: no leak
    assert all(acc.variable is not None for acc in engine._ACCUMULATORS.values())
