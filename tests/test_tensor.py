"""Tensor construction, dtype rules, attributes and conversions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr


def test_python_numbers_get_default_dtype_and_numpy_keeps_its_own():
    assert cr.tensor([1.0, 2.0]).dtype == cr.float32
    assert cr.tensor([1, 2]).dtype == cr.int64
    assert cr.tensor([True]).dtype == cr.bool
    assert cr.tensor(np.zeros(2)).dtype == cr.float64
    assert cr.tensor(np.zeros(2, np.float32)).dtype == cr.float32


def test_set_default_dtype():
    try:
        cr.set_default_dtype(cr.float64)
        assert cr.tensor([1.5]).dtype == cr.float64 and cr.zeros(2).dtype == cr.float64
    finally:
        cr.set_default_dtype(cr.float32)
    with pytest.raises(TypeError):
        cr.set_default_dtype(cr.int64)


def test_scalar_operations_keep_tensor_dtype_and_arrays_promote():
    x = cr.ones(3)
    assert (x * 2.5).dtype == cr.float32 and (2 - x).dtype == cr.float32
    assert (cr.arange(3) * 2.5).dtype == cr.float32  # int tensor, float scalar
    assert (cr.arange(3) + 1).dtype == cr.int64
    assert (x + np.ones(3)).dtype == cr.float64  # NumPy promotion
    assert (x + cr.ones(3, dtype=cr.float64)).dtype == cr.float64


def test_constructors():
    cr.manual_seed(0)
    a = cr.randn(2, 3)
    cr.manual_seed(0)
    np.testing.assert_array_equal(a.numpy(), cr.randn(2, 3).numpy())
    assert cr.zeros(2, 3).shape == (2, 3) and cr.ones((4,)).numpy().sum() == 4
    assert cr.full((2,), 7).dtype == cr.int64 and cr.full((2,), 7.0).dtype == cr.float32
    assert cr.arange(5).tolist() == [0, 1, 2, 3, 4] and cr.arange(0, 1, 0.5).dtype == cr.float32
    assert cr.linspace(0, 1, 5).numpy()[-1] == 1 and cr.eye(3).numpy().trace() == 3
    r = cr.rand(1000)
    assert 0 <= r.numpy().min() and r.numpy().max() < 1 and r.dtype == cr.float32
    i = cr.randint(0, 4, (100,))
    assert i.dtype == cr.int64 and set(i.tolist()) <= {0, 1, 2, 3}
    assert cr.zeros_like(a).shape == a.shape and cr.ones_like(a).numpy().all()
    assert cr.empty(3).shape == (3,)
    arr = np.arange(3.0)
    t = cr.from_numpy(arr)
    arr[0] = 9
    assert t.numpy()[0] == 9  # shares memory
    assert cr.tensor(arr).numpy() is not arr  # copies


def test_attributes_and_conversions():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert x.shape == (2, 2) and x.ndim == 2 and x.size(1) == 2 and x.numel() == 4
    assert x.is_leaf and x.T.shape == (2, 2) and not x.T.is_leaf
    assert x[0, 1].item() == 2.0 and x.tolist() == [[1, 2], [3, 4]]
    assert float(x.sum()) == 10.0 and len(x) == 2
    d = x.detach()
    assert not d.requires_grad and d.numpy() is x.numpy()
    assert isinstance(x.numpy(), np.ndarray)
    with pytest.raises(ValueError, match="one-element"):
        x.item()
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2], requires_grad=True)


def test_comparisons_give_bool_tensors_without_grad():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == cr.bool and not m.requires_grad and m.tolist() == [False, True, True]
    assert (x == 2).tolist() == [False, True, False]


def test_argmax_argmin_have_no_gradient():
    x = cr.tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    assert x.argmax().item() == 2 and x.argmax(1).tolist() == [1, 0]
    assert x.argmin(0).tolist() == [0, 1] and not x.argmax(1).requires_grad


def test_max_ties_split_gradient_like_pytorch():
    x = cr.tensor([3.0, 1.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.5, 0.0, 0.5]
    y = cr.tensor([[3.0, 3.0]], requires_grad=True)
    y.max(1)[0].sum().backward()  # max(dim): the gradient goes to the returned index
    assert y.grad.tolist() == [[1.0, 0.0]]


def test_repeated_index_gradients_accumulate():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


@settings(max_examples=40, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=3))
def test_broadcast_gradients_reduce_to_each_input_shape(shapes):
    a_shape, b_shape = shapes.input_shapes
    a = cr.randn(*a_shape, dtype=cr.float64, requires_grad=True)
    b = cr.randn(*b_shape, dtype=cr.float64, requires_grad=True)
    (a * b + a).sum().backward()
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    ones = np.ones(shapes.result_shape)
    expected_b = (ones * a.numpy()).sum(axis=tuple(range(len(shapes.result_shape) - len(b_shape))))
    np.testing.assert_allclose(b.grad.numpy().sum(), expected_b.sum(), rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), st.data())
def test_sum_over_random_dims_matches_numpy_and_gradient_is_ones(shape, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    x = cr.randn(*shape, dtype=cr.float64, requires_grad=True)
    out = x.sum(dim, keepdim=data.draw(st.booleans()))
    np.testing.assert_allclose(out.numpy().reshape(-1), x.numpy().sum(dim).reshape(-1))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape))


def test_numpy_axis_aliases():
    x = cr.randn(2, 3)
    np.testing.assert_allclose(
        x.sum(axis=1, keepdims=True).numpy(), x.numpy().sum(1, keepdims=True), rtol=1e-6
    )
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.sum(bogus=1)


def test_data_is_a_detached_tensor_sharing_memory_as_in_torch():
    torch = pytest.importorskip("torch")
    values = [1.0, 2.0, 3.0, 4.0]
    p, tp = cr.nn.Parameter(cr.tensor(values)), torch.nn.Parameter(torch.tensor(values))
    p.grad, tp.grad = cr.full((4,), 0.5), torch.full((4,), 0.5)
    assert isinstance(p.data, cr.Tensor) and not p.data.requires_grad and p.data.grad_fn is None
    np.testing.assert_allclose(p.data.std().item(), tp.data.std().item(), rtol=1e-6)  # unbiased
    p.data += -0.1 * p.grad  # manual SGD, the textbook idiom
    tp.data += -0.1 * tp.grad
    p.data.add_(cr.ones(4))
    tp.data.add_(torch.ones(4))
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-6)
    assert p.requires_grad and p.is_leaf
    p.data = cr.zeros(2)  # assignment replaces the values
    assert p.shape == (2,) and p.requires_grad


def test_assigning_data_makes_saved_values_stale():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    x.data = cr.tensor([5.0, 6.0])
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_complex_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="complex tensors.*cannot require gradients"):
        cr.tensor([1 + 2j], requires_grad=True)
    z = cr.tensor([1 + 2j, 3 - 1j])
    with pytest.raises(RuntimeError, match="complex"):
        z.requires_grad_()
    assert z.dtype.kind == "c"  # complex values themselves are fine


@pytest.mark.parametrize("bad", [["a"], "abc", None, [None, 1.0], np.array([object()]), [{"a": 1}]])
def test_tensor_refuses_non_numbers(bad):
    with pytest.raises(TypeError, match="cannot build a tensor|not a numeric dtype"):
        cr.tensor(bad)


def test_tensor_refuses_non_numeric_dtype():
    with pytest.raises(TypeError, match="not a numeric dtype"):
        cr.tensor([1, 2], dtype=object)


def test_legacy_tensor_constructor_as_torch():
    torch = pytest.importorskip("torch")
    for args in [(2, 3), (4,), (), (0, 2)]:
        ours, theirs = cr.Tensor(*args), torch.Tensor(*args)
        assert ours.shape == tuple(theirs.shape) and ours.dtype == cr.float32
    assert cr.Tensor(cr.Size([2, 3])).shape == (2, 3)
    # data: lists and arrays of any dtype become the default float dtype as in torch
    arrays = [np.arange(3), np.array([1.5, 2.0]), np.array([True, False]), np.array(3.0)]
    arrays.append(np.arange(4, dtype=np.uint8).reshape(2, 2))
    for data in ([1, 2], [[1.5], [2.0]], [True, False], *arrays):
        np.testing.assert_array_equal(cr.Tensor(data).numpy(), torch.Tensor(data).numpy())
        assert cr.Tensor(data).dtype == cr.float32 and cr.Tensor(data).shape == np.shape(data)
    # an array of the default dtype is shared, as torch shares it; other dtypes are copied
    shared, copied = np.zeros(2, np.float32), np.zeros(2, np.float64)
    cr.Tensor(shared).add_(1.0)
    cr.Tensor(copied).add_(1.0)
    assert shared.tolist() == [1.0, 1.0] and copied.tolist() == [0.0, 0.0]
    # a tensor keeps its dtype and memory (torch.Tensor(t) is an alias of t)
    ints = cr.tensor([1, 2])
    assert (
        cr.Tensor(ints).dtype == cr.int64
        and torch.Tensor(torch.tensor([1, 2])).dtype == torch.int64
    )
    # the library's own arrays keep their dtype where torch's results have it
    assert cr.from_numpy(np.arange(3)).dtype == cr.int64
    assert cr.nn.Parameter(np.zeros(2)).dtype == cr.float64
    try:
        cr.set_default_dtype(cr.float64)
        assert cr.Tensor(2).dtype == cr.float64 and cr.Tensor([1]).dtype == cr.float64
        assert cr.Tensor(np.arange(2)).dtype == cr.float64
    finally:
        cr.set_default_dtype(cr.float32)
    with pytest.raises(TypeError, match="sizes"):
        cr.Tensor(2, "a")
    # internal callers that pass a Python number still get a scalar, not a size
    assert cr.as_tensor(3).shape == () and cr.as_tensor(3).item() == 3
    assert cr.where(cr.tensor([True, False]), 1, 0).tolist() == [1, 0]


def test_type_names_as_torch():
    torch = pytest.importorskip("torch")
    for dt in ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8"]:
        ours = cr.zeros(2, dtype=getattr(cr, dt)).type()
        assert ours == torch.zeros(2, dtype=getattr(torch, dt)).type()
    assert cr.tensor([True]).type() == torch.tensor([True]).type() == "torch.BoolTensor"
    x = cr.tensor([1.5, 2.0])
    assert x.type("torch.DoubleTensor").dtype == cr.float64
    assert x.type("chainrule.LongTensor").tolist() == [1, 2]
    assert x.type(cr.IntTensor).dtype == cr.int32
    assert x.type(cr.float16).dtype == cr.float16
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.NoSuchTensor")


@pytest.mark.parametrize(
    "shape, view",
    [
        ((2, 3), lambda t: t.t()),
        ((2, 3, 4), lambda t: t.permute(2, 0, 1)),
        ((4, 6), lambda t: t[:, ::2]),
        ((3, 1, 2), lambda t: t.transpose(0, 1)),
        ((5,), lambda t: t[1:3]),
        ((2, 3), lambda t: t.expand(4, 2, 3)),
    ],
)
def test_strides_and_contiguity_as_torch(shape, view):
    torch = pytest.importorskip("torch")
    ours, theirs = view(cr.zeros(*shape)), view(torch.zeros(*shape))
    assert ours.stride() == theirs.stride() and ours.stride(-1) == theirs.stride(-1)
    assert ours.is_contiguous() == theirs.is_contiguous()
    made, made_torch = ours.contiguous(), theirs.contiguous()
    assert made.stride() == made_torch.stride() and made.is_contiguous()
    assert (made is ours) == (made_torch is theirs) == ours.is_contiguous()
    assert ours.element_size() == theirs.element_size()


def test_contiguous_copy_stays_in_the_graph():
    x = cr.randn(3, 4, requires_grad=True)
    y = x.t().contiguous()
    (y * cr.arange(3.0)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(np.arange(3.0)[:, None], (3, 4)))
