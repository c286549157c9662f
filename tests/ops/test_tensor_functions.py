"""Tensor functions and methods real PyTorch programs use, compared with PyTorch.

Gradients of the differentiable ones are checked by the op table (test_op_table.py); here are
their forward results on integer and edge inputs, the non-differentiable ones (logical
reductions, closeness, histograms, sorting indices), the factories ``new_*``, formatting, the
dtype aliases, and the errors bad input gets.
"""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

X = np.array([[3.0, -1.0, 2.0, 2.0], [0.0, 5.0, -4.0, 1.5], [7.0, 0.5, 0.5, -2.0]], np.float32)
INTS = np.array([[3, 0, 2], [0, 0, 1]], np.int64)


def same(got, want):
    """Same dtype, shape and values (NaN equals NaN); tuples compared item by item."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            same(g, w)
        return
    if isinstance(want, torch.Tensor):
        assert str(got.dtype) == str(want.dtype).replace("torch.", ""), (got.dtype, want.dtype)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)
    else:
        assert got == want


FORWARD = [
    ("all", lambda m, x, i: m.all(x > 0)),
    ("all_dim", lambda m, x, i: (x > -3).all(dim=1)),
    ("all_keepdim", lambda m, x, i: i.all(0, keepdim=True)),
    ("any", lambda m, x, i: m.any(i)),
    ("any_dim_neg", lambda m, x, i: (x > 4).any(-1)),
    ("isclose", lambda m, x, i: m.isclose(x, x + 1e-6)),
    ("isclose_tol", lambda m, x, i: x.isclose(x * 1.01, rtol=0.02, atol=0)),
    (
        "isclose_nan",
        lambda m, x, i: m.isclose(
            m.tensor([float("nan"), 1.0]), m.tensor([float("nan"), 1.0]), equal_nan=True
        ),
    ),
    ("allclose", lambda m, x, i: m.allclose(x, x + 1e-6)),
    ("allclose_false", lambda m, x, i: x.allclose(x + 1e-3)),
    ("equal", lambda m, x, i: m.equal(x, x.clone())),
    ("equal_shape", lambda m, x, i: m.equal(x, x[:2])),
    ("equal_values", lambda m, x, i: i.equal(i + 1)),
    ("histc", lambda m, x, i: m.histc(x, bins=5)),
    ("histc_range", lambda m, x, i: x.histc(bins=4, min=-2, max=3)),
    ("histc_constant", lambda m, x, i: m.histc(m.ones(3), bins=4)),
    ("histogram", lambda m, x, i: tuple(m.histogram(x, bins=3))),
    ("histogram_range", lambda m, x, i: tuple(x.histogram(4, range=(-1.0, 5.0)))),
    ("histogram_edges", lambda m, x, i: tuple(m.histogram(x, m.tensor([-5.0, 0.0, 1.0, 8.0])))),
    ("histogram_weight", lambda m, x, i: tuple(m.histogram(x, 2, weight=x.abs(), density=True))),
    ("sort_ints", lambda m, x, i: tuple(m.sort(i, dim=1))),
    ("sort_desc_ties", lambda m, x, i: tuple(x.sort(dim=1, descending=True, stable=True))),
    ("sort_ties_stable", lambda m, x, i: tuple(m.sort(i, dim=0, stable=True))),
    ("sort_nan", lambda m, x, i: tuple(m.sort(m.tensor([1.0, float("nan"), -1.0])))),
    (
        "sort_nan_desc",
        lambda m, x, i: tuple(m.sort(m.tensor([1.0, float("nan"), -1.0]), descending=True)),
    ),
    ("argsort", lambda m, x, i: m.argsort(x, dim=0)),
    ("argsort_desc", lambda m, x, i: x.argsort(descending=True)),
    ("topk", lambda m, x, i: tuple(m.topk(x, 2))),
    ("topk_dim0_smallest", lambda m, x, i: tuple(x.topk(1, dim=0, largest=False))),
    ("topk_ints", lambda m, x, i: tuple(i.topk(2))),
    ("cumsum_int", lambda m, x, i: m.cumsum(i, 1)),
    ("cumsum_bool", lambda m, x, i: (i > 0).cumsum(0)),
    ("cumsum_dtype", lambda m, x, i: i.cumsum(1, dtype=m.float64)),
    ("cumprod_int", lambda m, x, i: m.cumprod(i + 1, 1)),
    ("gather_int", lambda m, x, i: m.gather(i, 1, m.tensor([[2, 2], [0, 1]]))),
    ("scatter_int", lambda m, x, i: i.scatter(1, m.tensor([[0], [2]]), 9)),
    (
        "scatter_add_big_src",
        lambda m, x, i: m.zeros(2, 3).scatter_add(1, m.tensor([[0, 0], [2, 1]]), m.ones(3, 3)),
    ),
    ("scatter_one_hot", lambda m, x, i: m.zeros(3, 4).scatter(1, m.tensor([[1], [3], [0]]), 1.0)),
    ("index_select_int", lambda m, x, i: i.index_select(0, m.tensor([1, 1, 0]))),
    ("masked_fill_int", lambda m, x, i: i.masked_fill(i > 0, -1)),
    (
        "masked_fill_broadcast",
        lambda m, x, i: x.masked_fill(m.tensor([True, False, True, False]), float("-inf")),
    ),
    ("masked_fill_keeps_dtype", lambda m, x, i: i.masked_fill(i == 0, 2.7)),
    ("mm_int", lambda m, x, i: m.mm(i, i.t())),
    ("bmm", lambda m, x, i: m.bmm(x.reshape(3, 1, 4), x.reshape(3, 4, 1))),
    ("einsum_transpose", lambda m, x, i: m.einsum("ij->ji", x)),
    ("einsum_implicit", lambda m, x, i: m.einsum("ij,kj", x, x)),
    ("einsum_spaces", lambda m, x, i: m.einsum("i j , j -> i", x, x[0])),
    ("einsum_int", lambda m, x, i: m.einsum("ij,ij->i", i, i)),
    (
        "einsum_broadcast",
        lambda m, x, i: m.einsum("...j,...j->...", x.reshape(3, 1, 4), x.reshape(1, 3, 4)),
    ),
    ("narrow_neg", lambda m, x, i: x.narrow(-1, -3, 2)),
    ("t_vector", lambda m, x, i: m.t(x[0])),
    ("roll_neg", lambda m, x, i: m.roll(i, -1, 1)),
    ("tril_neg", lambda m, x, i: m.tril(x, -1)),
    ("triu_int", lambda m, x, i: i.triu(1)),
    ("meshgrid_ij", lambda m, x, i: m.meshgrid(m.arange(3), m.arange(2), indexing="ij")),
    (
        "meshgrid_xy",
        lambda m, x, i: m.meshgrid([m.arange(3), m.arange(2), m.arange(4)], indexing="xy"),
    ),
    ("log10", lambda m, x, i: m.log10(i + 1)),
    ("log2", lambda m, x, i: (i + 1).log2()),
    ("sinh_cosh", lambda m, x, i: (m.sinh(x), x.cosh())),
    ("trig", lambda m, x, i: (m.tan(x), m.atan(i), (x / 10).asin(), m.acos(x / 10))),
    (
        "logical",
        lambda m, x, i: (m.logical_and(i, x[:2, :3]), m.logical_or(i, i[0]), m.logical_not(i)),
    ),
    ("nan_checks", lambda m, x, i: (m.isnan(x / 0), m.isinf(x / 0), (x / 0).isfinite())),
]


@pytest.mark.parametrize("name", [c[0] for c in FORWARD])
def test_forward_matches_torch(name):
    fn = dict(FORWARD)[name]
    with np.errstate(all="ignore"):
        got = fn(cr, cr.tensor(X), cr.tensor(INTS))
    want = fn(torch, torch.tensor(X), torch.tensor(INTS))
    same(got, want)


def test_sort_and_topk_return_named_values_and_indices():
    v, i = cr.sort(cr.tensor([3.0, 1.0, 2.0]))
    assert v.tolist() == [1.0, 2.0, 3.0] and i.tolist() == [1, 2, 0]
    top = cr.tensor([3.0, 1.0, 2.0]).topk(2)
    assert top.values.tolist() == [3.0, 2.0] and top.indices.tolist() == [0, 2]
    assert cr.tensor([[1.0, 4.0]]).max(1).indices.tolist() == [1]


def test_cumprod_gradient_through_zeros_matches_torch():
    data = np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 0.0, 1.5, 2.0], [1.0, 2.0, 3.0, 0.0]])
    v = np.random.default_rng(0).standard_normal(data.shape)
    c = cr.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    (cr.cumprod(c, 1) * cr.tensor(v)).sum().backward()
    (torch.cumprod(t, 1) * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_masked_fill_gradient_to_a_0d_tensor_value():
    x = np.array([[0.5, -1.0], [2.0, -3.0]])
    cx, cv = cr.tensor(x, requires_grad=True), cr.tensor(1.5, dtype=cr.float64, requires_grad=True)
    tx, tv = (
        torch.tensor(x, requires_grad=True),
        torch.tensor(1.5, dtype=torch.float64, requires_grad=True),
    )
    (cx.masked_fill(cx < 0, cv) * cr.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    (tx.masked_fill(tx < 0, tv) * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy())
    assert float(cv.grad) == float(tv.grad) == 6.0


def _f32(x):
    return cr.float32 if isinstance(x, cr.Tensor) else torch.float32


def test_new_factories_keep_the_tensors_dtype():
    for dtype in ("float64", "int32", "bool"):
        c = cr.zeros(2, dtype=getattr(cr, dtype))
        t = torch.zeros(2, dtype=getattr(torch, dtype))
        makers = {
            "zeros": lambda x: x.new_zeros(2, 3),
            "ones": lambda x: x.new_ones((3,)),
            "full": lambda x: x.new_full((2, 2), 1),
            "tensor": lambda x: x.new_tensor([1, 0]),
            "empty": lambda x: x.new_empty(4),
            "as": lambda x: x.new_zeros(2, dtype=_f32(x)),
        }
        for name, make in makers.items():
            got, want = make(c), make(t)
            assert got.shape == tuple(want.shape)
            assert str(got.dtype) == str(want.dtype).replace("torch.", "")
            if name != "empty":
                assert got.tolist() == want.tolist()
    w = cr.zeros(2).new_ones(3, requires_grad=True)
    assert w.requires_grad and w.is_leaf
    with pytest.raises(RuntimeError, match="CPU"):
        cr.zeros(2).new_zeros(2, device="cuda")


def test_format_of_0d_tensors_and_nelement():
    loss = cr.tensor(0.123456)
    assert f"{loss:.2f}" == f"{torch.tensor(0.123456):.2f}" == "0.12"
    assert f"{cr.tensor(7):>4d}" == "   7"
    assert f"{cr.tensor([1.0, 2.0])}" == str(cr.tensor([1.0, 2.0]))
    assert cr.ones(2, 3).nelement() == 6


def test_dtype_aliases_match_torch():
    for name in ("float", "double", "half", "long", "int", "bool", "short", "float16", "uint8"):
        assert str(getattr(cr, name)) == str(getattr(torch, name)).replace("torch.", "")
    x = cr.tensor([1.5, -2.0])
    for method in ("float", "double", "half", "long", "int", "bool"):
        got, want = getattr(x, method)(), getattr(torch.tensor([1.5, -2.0]), method)()
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        assert got.tolist() == want.tolist()


def test_in_place_forms_match_torch():
    for lib in (cr, torch):
        x = lib.zeros(3, 4)
        x.scatter_(1, lib.tensor([[1], [3], [0]]), 1.0)
        x.scatter_add_(0, lib.tensor([[2, 2, 0, 1]]), lib.ones(1, 4))
        x.masked_fill_(x > 1.5, -1.0)
        if lib is cr:
            got = x.numpy().copy()
    np.testing.assert_array_equal(got, x.numpy())
    w = cr.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w.masked_fill_(cr.tensor([True, False, True]), 1.0)


BAD = [
    (lambda: cr.mm(cr.ones(2, 3, 4), cr.ones(4, 2)), ValueError, "mm: both operands"),
    (lambda: cr.bmm(cr.ones(2, 3, 4), cr.ones(3, 4, 2)), ValueError, "bmm"),
    (
        lambda: cr.gather(cr.ones(2, 3), 1, cr.tensor([[3]])),
        IndexError,
        "gather: index out of range",
    ),
    (lambda: cr.gather(cr.ones(2, 3), 1, cr.tensor([0])), ValueError, "gather: index has 1 dims"),
    (lambda: cr.gather(cr.ones(2, 3), 1, cr.tensor([[0.0]])), TypeError, "integer"),
    (lambda: cr.gather(cr.ones(2, 3), 2, cr.tensor([[0]])), IndexError, "dim 2 is out of range"),
    (
        lambda: cr.ones(2, 3).scatter(1, cr.tensor([[0]]), cr.ones(2, 3), reduce="add"),
        NotImplementedError,
        "scatter_add",
    ),
    (lambda: cr.index_select(cr.ones(2, 3), 0, cr.tensor([[0]])), ValueError, "1-d"),
    (lambda: cr.ones(2, 3).masked_fill(cr.ones(2, 3), 0), TypeError, "bool"),
    (lambda: cr.ones(2, 3).masked_fill(cr.tensor([True, False]), 0), ValueError, "broadcast"),
    (lambda: cr.einsum("ij,jk", cr.ones(2, 3)), ValueError, "names 2 operands"),
    (lambda: cr.einsum("ijk", cr.ones(2, 3)), ValueError, "do not match"),
    (lambda: cr.einsum("ij,jk", cr.ones(2, 3), cr.ones(4, 2)), ValueError, "einsum"),
    (lambda: cr.ones(3).narrow(0, 2, 2), IndexError, "narrow"),
    (lambda: cr.ones(2, 2, 2).t(), ValueError, "at most 2 dims"),
    (lambda: cr.tril(cr.ones(3)), ValueError, "at least 2 dims"),
    (lambda: cr.topk(cr.ones(3), 4), ValueError, "k=4"),
    (lambda: cr.histc(cr.tensor([1, 2]), 3), TypeError, "floating"),
    (lambda: cr.meshgrid(cr.ones(2), indexing="yx"), ValueError, "indexing"),
    (lambda: cr.roll(cr.ones(2, 2), (1, 1), 0), ValueError, "shifts"),
    (lambda: cr.ones(2, 3).all(dim=3), IndexError, "all: dim 3"),
]


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_input_gets_a_clear_error(case):
    fn, error, message = BAD[case]
    with pytest.raises(error, match=message):
        fn()


EINSUM = [
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("i,i->", [(4,), (4,)]),
    ("ij->j", [(3, 4)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("bij,jk", [(2, 3, 4), (4, 5)]),
    ("ii->", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("ij,ij,ij->i", [(2, 3)] * 3),
    ("b...,b->...", [(2, 3, 4), (2,)]),
    ("...,...->...", [(3, 1), (1, 4)]),
    ("ik,jk->ijk", [(2, 3), (4, 3)]),
    ("ijk->kji", [(2, 3, 4)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_values_and_gradients_match_torch(equation, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    c = [cr.tensor(a, requires_grad=True) for a in arrays]
    t = [torch.tensor(a, requires_grad=True) for a in arrays]
    cout, tout = cr.einsum(equation, *c), torch.einsum(equation, *t)
    np.testing.assert_allclose(cout.numpy(), tout.detach().numpy(), rtol=1e-10)
    v = rng.standard_normal(tuple(tout.shape))
    (cout * cr.tensor(v)).sum().backward()
    (tout * torch.tensor(v)).sum().backward()
    for a, b in zip(c, t, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
