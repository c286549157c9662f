"""In-place operations: recorded inside a graph as PyTorch does, and never a silently wrong gradient.

Each case runs the same program under PyTorch and chainrule and compares values and gradients,
or checks that both refuse.
"""

import numpy as np
import pytest
from helpers import check_grad

import chainrule as cr

torch = pytest.importorskip("torch")

X = np.array([0.5, -1.0, 2.0, 3.0])
W = np.array([1.5, 2.0, -0.5, 0.25])


def run(lib, program):
    """Run ``program(lib, x, w)`` on fresh float64 leaves; return (output values, x.grad, w.grad)."""
    x = lib.tensor(X.copy(), dtype=lib.float64, requires_grad=True)
    w = lib.tensor(W.copy(), dtype=lib.float64, requires_grad=True)
    out = program(lib, x, w)
    (out * out).sum().backward()
    grads = [None if t.grad is None else np.asarray(t.grad.detach().numpy()) for t in (x, w)]
    return np.asarray(out.detach().numpy()), *grads


def same_as_torch(program):
    ours, theirs = run(cr, program), run(torch, program)
    for a, b in zip(ours, theirs, strict=True):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _iadd(lib, x, w):
    h = x * 2
    h += w
    return h


def _setitem_tensor(lib, x, w):
    h = x * 1
    h[1:3] = w[0:2] * 3
    return h


def _setitem_advanced(lib, x, w):
    h = x.sin()
    h[lib.tensor([0, 3])] = w[1]
    return h


def _relu_(lib, x, w):
    h = x * w
    h.relu_()
    return h


def _mul_by_number(lib, x, w):
    h = x + w
    h.mul_(2)
    return h


def _mul_by_tensor(lib, x, w):  # the old h is needed for w's gradient: a copy is kept
    h = x * 1
    h.mul_(w)
    return h


def _view_edit(lib, x, w):  # an edit through a view is recorded on its base
    h = x * 1
    h[1:] += w[1:]
    h[0:2].mul_(3)
    return h


def _zero_leaf_gets_history(lib, x, w):  # a leaf without grad becomes part of the graph
    z = lib.zeros(4, dtype=lib.float64)
    z[0:2] = w[2:] * 2
    return z + x


def _fill_and_clamp(lib, x, w):
    h = x * w
    h.clamp_(-1, 1)
    h[0:1].fill_(5.0)
    return h


@pytest.mark.parametrize(
    "program",
    [
        _iadd,
        _setitem_tensor,
        _setitem_advanced,
        _relu_,
        _mul_by_number,
        _mul_by_tensor,
        _view_edit,
        _zero_leaf_gets_history,
        _fill_and_clamp,
    ],
)
def test_in_place_ops_in_a_graph_match_torch(program):
    same_as_torch(program)


def test_in_place_op_becomes_the_grad_fn_and_keeps_the_tensor():
    x = cr.randn(3, requires_grad=True)
    h = x * 2
    before = h
    h += 1
    assert h is before and h.grad_fn.name == "Add" and h._version == 1
    h.relu_()
    assert h.grad_fn.name == "Relu"


def _refusal(lib, program):
    try:
        run(lib, program)
    except RuntimeError as e:
        return str(e)
    return None


def _overwrite_saved_input(lib, x, w):
    h = x + 0
    y = h * w  # Mul saves h
    h.add_(1)
    return y


def _overwrite_saved_output(lib, x, w):
    h = x.exp()  # Exp saves its output
    h.mul_(2)
    return h


def _overwrite_saved_output_no_grad(lib, x, w):
    h = x.tanh()
    with lib.no_grad():
        h.mul_(2)
    return h


def _overwrite_saved_output_through_detach(lib, x, w):
    h = x.sigmoid()
    h.detach().mul_(2)
    return h


def _overwrite_saved_output_of_relu_view(lib, x, w):
    h = (x * w).relu()
    with lib.no_grad():
        h[0] = 7.0
    return h


@pytest.mark.parametrize(
    "program",
    [
        _overwrite_saved_input,
        _overwrite_saved_output,
        _overwrite_saved_output_no_grad,
        _overwrite_saved_output_through_detach,
        _overwrite_saved_output_of_relu_view,
    ],
)
def test_overwriting_a_saved_value_raises_at_backward_like_torch(program):
    theirs = _refusal(torch, program)
    ours = _refusal(cr, program)
    assert theirs is not None and "modified by an inplace operation" in theirs
    assert ours is not None and "modified by an in-place operation" in ours
    assert "expected version 0" in ours and "is at version 1" in ours


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "relu", "sqrt"])
def test_saved_output_edited_under_no_grad_names_the_op(op):
    x = cr.tensor([0.5, 1.0, 2.0], requires_grad=True)
    y = getattr(x, op)()
    with cr.no_grad():
        y.mul_(3)
    with pytest.raises(
        RuntimeError,
        match=rf"output 0 of {op.capitalize()}Backward.*version 1; "
        "expected version 0",
    ):
        y.sum().backward()


def test_leaf_requiring_grad_refuses_in_place_in_grad_mode_only():
    w = cr.randn(3, requires_grad=True)
    for edit in (lambda: w.add_(1), lambda: w.__setitem__(0, 1.0), lambda: w.relu_()):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            edit()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        w[0:2].mul_(2)
    with cr.no_grad():
        w.add_(1)
        w[0] = 5.0
    assert w.is_leaf and w._version == 2


def test_in_place_on_a_reshaped_view_in_a_graph_is_recorded_on_its_base():
    x = cr.randn(2, 3, requires_grad=True)
    h = x * 1
    h.reshape(6).mul_(2)  # as in PyTorch: h changes, and so does its gradient
    np.testing.assert_array_equal(h.numpy(), 2 * x.numpy())
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 2.0))
    with pytest.raises(RuntimeError, match="view made by Flip"):
        (x * 1).flip(0).mul_(2)


def _in_place_through_a_permuted_view(lib, x, w):
    h = (x * 1).reshape(2, 2)
    p = h.permute(1, 0)
    p.mul_(w.reshape(2, 2))  # recorded on h, as for a reshaped view
    return h * p.sum()


def test_in_place_on_a_permuted_view_in_a_graph_is_recorded_on_its_base():
    same_as_torch(_in_place_through_a_permuted_view)


def test_no_grad_in_place_just_writes_and_bumps_the_version():
    x = cr.tensor([1.0, 2.0])
    x.add_(1).mul_(2)
    x[0] = 0.0
    np.testing.assert_array_equal(x.numpy(), [0.0, 6.0])
    assert x._version == 3 and x.grad_fn is None and not x.requires_grad


def test_in_place_int_tensor_refuses_a_float_result_like_torch():
    x = cr.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.add_(cr.tensor([0.5, 0.5]))
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).add_(torch.tensor([0.5, 0.5]))


def test_second_derivative_through_an_in_place_op():
    def f(lib):
        x = lib.tensor([0.3, -0.7], dtype=lib.float64, requires_grad=True)
        h = x * x
        h.mul_(x)  # h = x^3, recorded in place
        (g,) = lib.autograd.grad(h.sum(), [x], create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), [x])
        return np.asarray(g.detach().numpy()), np.asarray(gg.numpy())

    for a, b in zip(f(cr), f(torch), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_hooks_and_retain_grad_across_an_in_place_op_follow_torch():
    def f(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = x * 2
        h.retain_grad()
        seen = []
        h.register_hook(lambda g: seen.append(("before", g.detach().numpy().copy())))
        h.mul_(3)
        h.register_hook(lambda g: seen.append(("after", g.detach().numpy().copy())))
        (h * h).sum().backward()
        return h.grad.numpy(), x.grad.numpy(), seen

    ours, theirs = f(cr), f(torch)
    np.testing.assert_allclose(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1])
    assert [k for k, _ in ours[2]] == [k for k, _ in theirs[2]] == ["after", "before"]
    for (_, a), (_, b) in zip(ours[2], theirs[2], strict=True):
        np.testing.assert_allclose(a, b)


def _stale_views(lib, x, w):  # views made before their base changed are re-made (replay)
    h = x * 1
    a, b, c = h[1:], h.reshape(2, 2), h.t() if hasattr(h, "t") else h.T
    h.mul_(w)
    return a.sum() + (b * 2).sum() + c[0] + h


def _edit_one_view_use_another(lib, x, w):
    h = x * 1
    a, b = h[0:2], h[1:3]
    a.mul_(w[0:2])
    return (b * 3).sum() + h


def _view_of_a_view_after_the_base_changed(lib, x, w):
    h = x * 1
    inner = h[1:]
    outer = inner.reshape(3, 1)
    h += w
    return outer.sum() * h


@pytest.mark.parametrize(
    "program", [_stale_views, _edit_one_view_use_another, _view_of_a_view_after_the_base_changed]
)
def test_views_of_a_tensor_changed_in_place_follow_its_new_history(program):
    same_as_torch(program)


def _write_into_a_reshaped_fresh_buffer(lib, x, w):  # the buffer's base is gone: allowed
    buf = lib.zeros(8, dtype=lib.float64).reshape(2, 4)
    buf[0] = x * w
    buf[1] = w
    return buf.sum(0)


def test_writing_graph_values_into_a_buffer_without_history_matches_torch():
    same_as_torch(_write_into_a_reshaped_fresh_buffer)


def test_writing_graph_values_into_memory_a_live_view_shares_is_refused():
    w = cr.randn(2, requires_grad=True)
    z = cr.zeros(4)
    view = z[0:2]
    with pytest.raises(RuntimeError, match="shares its memory with another live tensor"):
        z[0:2] = w * 2  # view would silently miss its new dependence on w
    assert view.grad_fn is None and not z.requires_grad


# ---- in-place shape changes: unsqueeze_, squeeze_, t_, transpose_, swapaxes_, swapdims_ ----


def _unsqueeze_(lib, x, w):
    h = x * w
    h.unsqueeze_(0)
    return h * x


def _t_then_mul_(lib, x, w):
    h = (x * w).reshape(2, 2)
    h.t_()
    h.mul_(x.reshape(2, 2))  # reads the old h for x's gradient
    return h


def _transpose_then_matmul(lib, x, w):
    h = x.reshape(2, 2) * 1
    h.transpose_(0, 1)
    return h @ w.reshape(2, 2)


def _squeeze_(lib, x, w):
    h = x.reshape(1, 4, 1) * w.reshape(1, 4, 1)
    h.squeeze_(0)
    h.squeeze_()
    return h.exp()


def _swapaxes_and_swapdims_(lib, x, w):
    h = x.reshape(2, 2).exp()  # exp's saved output is unaffected: its grad reads no h later
    g = h * 1
    g.swapaxes_(0, 1)
    g.add_(w.reshape(2, 2))
    g.swapdims_(1, 0)
    return g * w.reshape(2, 2)


def _chain_then_value_op(lib, x, w):
    h = x * w
    h.unsqueeze_(0).unsqueeze_(2)
    h.mul_(3)
    h.squeeze_()
    return h.sin()


def _unsqueeze_a_view_then_change_base(lib, x, w):
    h = x * 1
    v = h[1:]
    v.unsqueeze_(0)
    h += w  # v is re-made from the changed base, in its new shape
    return v.sum() * h


def _unsqueeze_a_view_then_write_through_it(lib, x, w):
    h = x * 1
    v = h[1:]
    v.unsqueeze_(0)
    v.mul_(w[1:])  # recorded on the base h
    return h


@pytest.mark.parametrize(
    "program",
    [
        _unsqueeze_,
        _t_then_mul_,
        _transpose_then_matmul,
        _squeeze_,
        _swapaxes_and_swapdims_,
        _chain_then_value_op,
        _unsqueeze_a_view_then_change_base,
        _unsqueeze_a_view_then_write_through_it,
    ],
)
def test_in_place_shape_changes_match_torch(program):
    same_as_torch(program)


def test_in_place_shape_changes_gradcheck():
    def fn(x, w):
        h = (x * w).reshape(2, 2)
        h.t_()
        h.mul_(x.reshape(2, 2))
        h.unsqueeze_(1)
        return h.squeeze_(1).transpose_(0, 1) @ w.reshape(2, 2)

    check_grad(fn, X.copy(), W.copy())


def test_in_place_shape_changes_bump_the_version_and_refuse_like_torch():
    for lib in (cr, torch):
        w = lib.ones(3, requires_grad=True)
        h = w * 2
        y = h * w  # saves h in its old shape
        before = h._version
        assert h.unsqueeze_(0) is h and tuple(h.shape) == (1, 3) and h._version == before + 1
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            y.sum().backward()
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            w.unsqueeze_(0)
        with lib.no_grad():
            w.unsqueeze_(0).t_()
        assert tuple(w.shape) == (3, 1)
    x = cr.zeros(2, 3)
    x.t_()
    assert x.shape == (3, 2) and x._version == 1


def test_in_place_shape_change_of_a_tensor_with_live_views_is_refused():
    # torch re-makes such views by strides; chainrule's views would keep the old shape's
    # history, so it refuses instead of risking a wrong gradient
    h = cr.ones(2, 3, requires_grad=True) * 2
    view = h[0]
    with pytest.raises(RuntimeError, match="shares its memory with another live tensor"):
        h.t_()
    assert h.shape == (2, 3) and view.shape == (3,)
    del view
    assert h.t_().shape == (3, 2)


@pytest.mark.parametrize("grad_mode", [False, True])
@pytest.mark.parametrize(
    "write, message",
    [
        (lambda t: t.copy_(cr.randn(4, 5)), r"copy_: .*shape \(4, 5\).*\(2, 3\)"),
        (lambda t: t.copy_(cr.randn(4, 2, 3)), r"copy_: .*shape \(4, 2, 3\).*\(2, 3\)"),
        (lambda t: t.__setitem__(0, cr.randn(5)), r"__setitem__: .*shape \(5,\).*\(3,\)"),
        (lambda t: t.__setitem__((slice(None), 0), [1.0, 2.0, 3.0]), r"\(3,\).*\(2,\)"),
    ],
)
def test_writes_of_the_wrong_shape_name_the_op_and_both_shapes(write, message, grad_mode):
    x = cr.randn(2, 3, requires_grad=grad_mode)
    t = x * 1.0
    before = t.numpy().copy()
    with pytest.raises(ValueError, match=message):
        write(t)
    np.testing.assert_array_equal(t.numpy(), before)  # nothing written
    assert t._version == 0


def test_fill_takes_a_number_or_a_zero_dim_tensor_like_torch():
    torch = pytest.importorskip("torch")
    assert cr.zeros(3).fill_(cr.tensor(2.0)).tolist() == torch.zeros(3).fill_(2.0).tolist()
    with pytest.raises(RuntimeError):
        torch.zeros(3).fill_(torch.ones(3))
    with pytest.raises(RuntimeError, match=r"fill_: .*shape \(3,\)"):
        cr.zeros(3).fill_(cr.ones(3))
