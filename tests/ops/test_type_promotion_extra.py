"""Type-promotion corners checked against PyTorch: where, clamp, minimum/maximum on small
integer and bool dtypes, the int64 accumulator of sum/prod/cumsum, in-place casts, 0-d tensors,
and pow's derivative at 0 ** 0."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


def _pair(values, dtype):
    return cr.tensor(values, dtype=getattr(cr, dtype)), torch.tensor(
        values, dtype=getattr(torch, dtype)
    )


def _same(c, t):
    assert str(c.dtype) == str(t.dtype).replace("torch.", ""), (c.dtype, t.dtype)
    np.testing.assert_array_equal(c.numpy(), t.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("other", [0.5, 2, True, "tensor64"])
def test_where_promotes_like_torch(dtype, other):
    mask = [True, False, True]
    c, t = _pair([1, 0, 1], dtype)
    if other == "tensor64":
        co, to = (
            cr.tensor([2.0, 3.0, 4.0], dtype=cr.float64),
            torch.tensor([2.0, 3.0, 4.0], dtype=torch.float64),
        )
    else:
        co = to = other
    _same(cr.where(cr.tensor(mask), c, co), torch.where(torch.tensor(mask), t, to))
    _same(cr.where(cr.tensor(mask), co, c), torch.where(torch.tensor(mask), to, t))


@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("bounds", [(0.5, 2.5), (1, 3), (None, 1.5), (0, None)])
def test_clamp_promotes_like_torch(dtype, bounds):
    c, t = _pair([0, 1, 2, 5], dtype)
    _same(cr.clamp(c, *bounds), torch.clamp(t, *bounds))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["minimum", "maximum"])
def test_minimum_maximum_on_every_dtype(dtype, fn):
    a = [0, 3, 1, 0, 1] if dtype != "bool" else [0, 1, 1, 0, 0]
    b = [2, 0, 1, 0, 1] if dtype != "bool" else [1, 0, 1, 0, 1]
    (ca, ta), (cb, tb) = _pair(a, dtype), _pair(b, dtype)
    _same(getattr(cr, fn)(ca, cb), getattr(torch, fn)(ta, tb))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["sum", "prod", "cumsum"])
def test_accumulating_reductions_use_int64_like_torch(dtype, fn):
    c, t = _pair([1, 0, 1, 1], dtype)
    args = (0,) if fn == "cumsum" else ()
    _same(getattr(cr, fn)(c, *args), getattr(torch, fn)(t, *args))


def test_sum_of_uint8_does_not_wrap():
    c, t = _pair([200, 200, 200], "uint8")
    _same(cr.sum(c), torch.sum(t))


@pytest.mark.parametrize("dtype", ["uint8", "int32", "int64", "bool"])
def test_inplace_float_into_integer_raises_like_torch(dtype):
    c, t = _pair([1, 0], dtype)
    with pytest.raises(RuntimeError, match="can't be cast"):
        t += 0.5
    with pytest.raises(RuntimeError, match="can't be cast"):
        c += 0.5
    np.testing.assert_array_equal(c.numpy(), t.numpy())  # left unchanged


@pytest.mark.parametrize("op", ["mul", "add", "sub", "div"])
def test_zero_dim_tensor_does_not_widen_a_dimensioned_one(op):
    c0, t0 = cr.tensor(2.0, dtype=cr.float64), torch.tensor(2.0, dtype=torch.float64)
    c, t = _pair([1.0, 3.0], "float32")
    _same(getattr(cr, op)(c0, c), getattr(torch, op)(t0, t))
    _same(getattr(cr, op)(c, c0), getattr(torch, op)(t, t0))


def test_pow_derivative_at_zero_to_the_zero_matches_torch():
    values_a, values_b = [0.0, 0.0, 2.0, 0.0], [0.0, 2.0, 0.0, 0.5]
    ca = cr.tensor(values_a, requires_grad=True)
    cb = cr.tensor(values_b, requires_grad=True)
    ta = torch.tensor(values_a, requires_grad=True)
    tb = torch.tensor(values_b, requires_grad=True)
    (ca**cb).sum().backward()
    (ta**tb).sum().backward()
    np.testing.assert_allclose(ca.grad.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(cb.grad.numpy(), tb.grad.numpy())
    # and the same with the backward recorded
    ga, gb = cr.autograd.grad((ca**cb).sum(), (ca, cb), create_graph=True)
    np.testing.assert_allclose(ga.numpy(), ta.grad.numpy())
    np.testing.assert_allclose(gb.numpy(), tb.grad.numpy())


@pytest.mark.parametrize("dtype", ["uint8", "int32", "float32", "float64"])
def test_relu_keeps_dtype_and_the_sign_of_zero(dtype):
    values = [-0.0, -1.0, 2.0, 0.0] if dtype.startswith("float") else [0, 1, 2, 0]
    c, t = _pair(values, dtype)
    out, ref = cr.relu(c), torch.relu(t)
    _same(out, ref)
    np.testing.assert_array_equal(np.signbit(out.numpy()), np.signbit(ref.numpy()))
    _same(cr.nn.functional.relu(c), ref)
