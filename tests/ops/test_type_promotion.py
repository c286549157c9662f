"""Type promotion against PyTorch: result dtype and values of every operator over a dtype grid.

Each check runs the same expression on chainrule and on torch. Where torch raises, chainrule must
raise too; otherwise both the dtype and the values must match (exactly for integers and bools).
Operand kinds: tensor with tensor, tensor with a Python number (both orders), and a 0-d tensor
with a tensor (both orders). Gradients of promoted float results flow back in each input's dtype.
"""

import operator
import warnings

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
# Values per dtype; the second set has no zeros (right operands of /, //, %), and small integers
# (exponents of **, where the product must not overflow differently).
VALUES = {
    "bool": ([True, False, True, True], [True, True, True, True]),
    "uint8": ([5, 3, 200, 0], [2, 3, 1, 7]),
    "int32": ([5, -3, 7, 0], [2, -3, 1, 3]),
    "int64": ([5, -3, 7, 0], [-2, 3, 1, 2]),
    "float32": ([1.5, -2.25, 7.0, 0.0], [0.5, -1.5, 2.0, 3.0]),
    "float64": ([1.5, -2.25, 7.0, 0.0], [-0.5, 1.5, 2.0, 0.75]),
}
SCALARS = [2, -3, 2.5, True]

BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
}
KINDS = ["tensor_tensor", "tensor_scalar", "scalar_tensor", "zerodim_tensor", "tensor_zerodim"]


def _pair(lib, dtype, values):
    return lib.tensor(values, dtype=getattr(lib, dtype))


def _run(fn, *args):
    """``fn(*args)``'s result, or the exception it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # log(-1) is nan in both
            return fn(*args)
    except Exception as e:  # noqa: BLE001 (any error counts as "raised")
        return e


def _mismatch(label, got, want):
    """A description of how chainrule's result ``got`` differs from torch's ``want``, or None."""
    if isinstance(want, Exception):
        return (
            None
            if isinstance(got, Exception)
            else f"{label}: torch raises {type(want).__name__} ({want}), chainrule returns {got!r}"
        )
    if isinstance(got, Exception):
        return f"{label}: chainrule raises {type(got).__name__}: {got}"
    want_dtype = str(want.dtype).replace("torch.", "")
    if str(got.dtype) != want_dtype:
        return f"{label}: dtype {got.dtype}, torch {want_dtype}"
    g, w = got.numpy(), want.numpy()
    if g.dtype.kind == "f":
        ok = np.allclose(g, w, rtol=1e-6, atol=0, equal_nan=True)
    else:
        ok = np.array_equal(g, w)
    return None if ok else f"{label}: values {g.tolist()}, torch {w.tolist()}"


def _operands(kind, lib, da, db):
    """(left, right) for an operand kind; ``db`` names the dtype or the Python scalar."""
    left, right = VALUES[da][0], VALUES[db][1] if db in VALUES else None
    if kind == "tensor_tensor":
        return _pair(lib, da, left), _pair(lib, db, right)
    if kind == "tensor_scalar":
        return _pair(lib, da, left), db
    if kind == "scalar_tensor":
        return db, _pair(lib, da, VALUES[da][1])
    if kind == "zerodim_tensor":
        return _pair(lib, da, left[0]), _pair(lib, db, right)
    return _pair(lib, da, left), _pair(lib, db, right[1])  # tensor_zerodim


def _cases(kind):
    second = SCALARS if "scalar" in kind else DTYPES
    return [(da, db) for da in DTYPES for db in second]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("op", list(BINARY))
def test_binary_op_dtype_and_values_match_torch(op, kind):
    fn = BINARY[op]
    errors = []
    for da, db in _cases(kind):
        got = _run(lambda lib: fn(*_operands(kind, lib, da, db)), cr)  # noqa: B023 (called now)
        want = _run(lambda lib: fn(*_operands(kind, lib, da, db)), torch)  # noqa: B023
        errors.append(_mismatch(f"{da} {op} {db!r} ({kind})", got, want))
    errors = [e for e in errors if e]
    assert not errors, "\n".join(errors)


def _unary(lib, name, make, arg, dtype):
    return getattr(lib, name)(make(arg, dtype=getattr(lib, dtype)))


UNARY = [
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "rsqrt",
    "sigmoid",
    "tanh",
    "sin",
    "cos",
    "erf",
    "abs",
    "neg",
    "sign",
    "floor",
    "ceil",
    "trunc",
    "round",
    "log10",
    "log2",
    "sinh",
    "cosh",
    "tan",
    "asin",
    "acos",
    "atan",
]


@pytest.mark.parametrize("name", UNARY)
def test_unary_function_dtype_and_values_match_torch(name):
    errors = []
    for dtype in DTYPES:
        values = VALUES[dtype][0] if dtype.startswith(("bool", "uint")) else [0.5, -0.25, 2, 0]
        if dtype.startswith("int"):
            values = [1, -1, 2, 0]
        got = _run(_unary, cr, name, cr.tensor, values, dtype)
        want = _run(_unary, torch, name, torch.tensor, values, dtype)
        errors.append(_mismatch(f"{name}({dtype})", got, want))
        for shape in [(), (2, 0)]:  # 0-d and empty inputs
            got = _run(_unary, cr, name, cr.ones, shape, dtype)
            want = _run(_unary, torch, name, torch.ones, shape, dtype)
            errors.append(_mismatch(f"{name}({dtype}, shape {shape})", got, want))
    errors = [e for e in errors if e]
    assert not errors, "\n".join(errors)


def test_the_issue_examples():
    pred, y = cr.tensor([0, 1, 1, 2]), cr.tensor([0, 1, 2, 2])
    assert (pred == y).sum() / len(y) == 0.75
    img = cr.tensor([[0, 51, 255]], dtype=cr.uint8)
    assert (img / 255).dtype == cr.float32 and np.allclose((img / 255).numpy(), [[0, 0.2, 1]])
    assert (cr.tensor([3, -3]) / 2).tolist() == [1.5, -1.5]
    s = cr.sigmoid(cr.tensor([0, 2]))
    assert s.dtype == cr.float32 and np.allclose(s.numpy(), [0.5, 0.880797])
    for f in (cr.exp, cr.log, cr.sqrt):
        assert f(cr.tensor([1, 4])).dtype == cr.float32


def test_default_dtype_decides_int_and_float_scalar_results():
    cr.set_default_dtype(cr.float64)
    try:
        assert (cr.arange(3) * 2.5).dtype == cr.float64
        assert (cr.arange(3) / 2).dtype == cr.float64
        assert cr.exp(cr.arange(3)).dtype == cr.float64
        assert (cr.ones(2, dtype=cr.float32) * 2.5).dtype == cr.float32
    finally:
        cr.set_default_dtype(cr.float32)


def test_integer_division_by_zero_raises_as_torch_and_float_gives_inf():
    for expr in (
        lambda m: m.tensor([5, -5]) // 0,
        lambda m: m.tensor([5, -5]) % 0,
        lambda m: m.tensor([1]) // m.tensor([0]),
    ):
        assert isinstance(_run(expr, torch), Exception)
        with pytest.raises(RuntimeError, match="division by zero"):
            expr(cr)
    got = cr.tensor([5.0, -5.0, 0.0]) // 0
    want = torch.tensor([5.0, -5.0, 0.0]) // 0
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(
        (cr.tensor([5.0, -5.0]) % 0.0).numpy(), (torch.tensor([5.0, -5.0]) % 0.0).numpy()
    )


def test_integer_tensor_to_negative_tensor_powers_as_torch():
    base, exps = [2, 1, -1, -1, 3], [-1, -3, -3, -2, 2]
    got = cr.tensor(base) ** cr.tensor(exps)
    want = torch.tensor(base) ** torch.tensor(exps)
    assert got.tolist() == want.tolist()
    with pytest.raises(RuntimeError, match="negative integer powers"):
        cr.tensor([2]) ** -1


@pytest.mark.parametrize("mode", [None, "floor", "trunc"])
def test_div_rounding_modes_match_torch(mode):
    for a, b in [([7, -7, 6, -6], [2, 2, -4, 4]), ([7.5, -7.5, 1.0], [2.0, 2.0, -0.3])]:
        got = cr.div(cr.tensor(a), cr.tensor(b), rounding_mode=mode)
        want = torch.div(torch.tensor(a), torch.tensor(b), rounding_mode=mode)
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    fmod = cr.fmod(cr.tensor([7, -7, 7.5]), cr.tensor([3, 3, -2]))
    np.testing.assert_allclose(
        fmod.numpy(), torch.fmod(torch.tensor([7, -7, 7.5]), torch.tensor([3, 3, -2])).numpy()
    )


GRAD_CASES = [
    # (expression, float inputs' dtypes) with an int tensor i and a bool tensor m as constants
    (lambda x, i, m: x * i, ["float32"]),
    (lambda x, i, m: i / x, ["float32"]),
    (lambda x, i, m: (x + m) ** 2, ["float64"]),
    (lambda x, y, i, m: x * y, ["float32", "float64"]),  # 1-d float32, 1-d float64
    (lambda x, i, m: x % 0.7 + (x // 0.3).detach(), ["float32"]),
    (lambda x, y, i, m: x % y, ["float64", "float64"]),
    (lambda x, y, i, m: x * y[0], ["float32", "float64"]),  # 0-d float64 stays float32
    (lambda x, i, m: x**i, ["float32"]),
]


@pytest.mark.parametrize("case", range(len(GRAD_CASES)))
def test_gradients_flow_through_promotion_in_each_inputs_dtype(case):
    fn, dtypes = GRAD_CASES[case]
    rng = np.random.default_rng(case)
    arrays = [rng.uniform(0.5, 2.0, 4).astype(d) for d in dtypes]
    ints, mask = [1, 2, 3, 2], [True, False, True, True]
    cx = [cr.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    cout = fn(*cx, cr.tensor(ints), cr.tensor(mask))
    tout = fn(*tx, torch.tensor(ints), torch.tensor(mask))
    assert str(cout.dtype) == str(tout.dtype).replace("torch.", "")
    np.testing.assert_allclose(cout.detach().numpy(), tout.detach().numpy(), rtol=1e-5)
    cout.sum().backward()
    tout.sum().backward()
    for c, t in zip(cx, tx, strict=True):
        assert c.grad.dtype == c.dtype
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-5)


def test_comparisons_with_non_numbers_are_not_elementwise():
    assert (cr.tensor([1, 2]) == None) is False  # noqa: E711 (the operator itself is tested)
    assert (cr.tensor([1, 2]) != "a") is True


def test_result_type_and_promote_types_match_torch():
    for da in DTYPES:
        for db in DTYPES:
            want = torch.promote_types(getattr(torch, da), getattr(torch, db))
            assert str(cr.promote_types(getattr(cr, da), getattr(cr, db))) == str(want)[6:]
            a, b = cr.ones(2, dtype=getattr(cr, da)), cr.ones((), dtype=getattr(cr, db))
            ta, tb = (
                torch.ones(2, dtype=getattr(torch, da)),
                torch.ones((), dtype=getattr(torch, db)),
            )
            assert str(cr.result_type(a, b)) == str(torch.result_type(ta, tb))[6:]
            for s in SCALARS:
                assert str(cr.result_type(a, s)) == str(torch.result_type(ta, s))[6:]
