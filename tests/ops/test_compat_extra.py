"""``masked_select``, ``median``, ``nan_to_num``, ``diff``, ``cummax`` / ``cummin``,
``searchsorted``, ``heaviside``, ``dist`` and ``baddbmm`` against PyTorch: edge inputs (ties,
NaN, integers, broadcasting), method forms, errors, and gradchecks on random shapes. Their
fixed-shape gradients against PyTorch are in the op table (test_op_table.py)."""

import numpy as np
import pytest
from helpers import check_grad, compare_with_torch

import chainrule as cr

torch = pytest.importorskip("torch")
NAN, INF = float("nan"), float("inf")


def same(got, want):
    """Same dtype, shape and values (NaN equals NaN); tuples compared item by item."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            same(g, w)
        return
    assert str(got.dtype) == str(want.dtype).replace("torch.", ""), (got.dtype, want.dtype)
    assert got.shape == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-6, atol=1e-7)


def both(fn, *arrays):
    """``fn`` run with chainrule and with torch on tensors of the same arrays."""
    ours = fn(cr, *[cr.tensor(a) for a in arrays])
    theirs = fn(torch, *[torch.tensor(a) for a in arrays])
    return ours, theirs


TIES = np.array([[2.0, 1.0, 2.0, 3.0, 2.0], [5.0, 5.0, 4.0, 4.0, 6.0]])
WITH_NAN = np.array([[1.0, NAN, 3.0, NAN, 0.0], [2.0, 2.0, 1.0, 2.0, -1.0]])
INTS = np.array([[3, 1, 1, 2, 1], [0, 4, 4, 9, -2]])

FORWARD = [
    ("masked_select", lambda m, x: m.masked_select(x, x > 1.5), TIES),
    ("masked_select_broadcast", lambda m, x: x[0].masked_select(m.tensor([[True], [False]])), TIES),
    ("median_all", lambda m, x: m.median(x), TIES),
    ("median_all_even", lambda m, x: x[:, :4].median(), TIES),
    ("median_all_nan", lambda m, x: m.median(x), WITH_NAN),
    ("median_all_int", lambda m, x: m.median(x), INTS),
    ("median_dim", lambda m, x: tuple(m.median(x, 1)), TIES),
    ("median_dim_nan", lambda m, x: tuple(m.median(x, dim=1)), WITH_NAN),
    ("median_dim0_keep", lambda m, x: tuple(x.median(0, keepdim=True)), INTS),
    ("nan_to_num", lambda m, x: m.nan_to_num(x), np.array([NAN, INF, -INF, 1.5], np.float32)),
    (
        "nan_to_num_values",
        lambda m, x: x.nan_to_num(nan=-1.0, posinf=7.0, neginf=-7.0),
        np.array([NAN, INF, -INF, 1.5]),
    ),
    ("nan_to_num_int", lambda m, x: m.nan_to_num(x), INTS),
    ("diff", lambda m, x: m.diff(x), INTS),
    ("diff_n2_dim0", lambda m, x: m.diff(x, n=2, dim=0), TIES),
    ("diff_bool", lambda m, x: m.diff(x > 1), INTS),
    ("diff_too_many", lambda m, x: x.diff(n=7), TIES),
    (
        "diff_prepend_append",
        lambda m, x: m.diff(x, dim=1, prepend=x[:, :2], append=x[:, -1:] * 2),
        TIES,
    ),
    ("cummax", lambda m, x: tuple(m.cummax(x, 1)), TIES),
    ("cummax_nan", lambda m, x: tuple(x.cummax(1)), WITH_NAN),
    ("cummin_nan", lambda m, x: tuple(m.cummin(x, dim=1)), WITH_NAN),
    ("cummin_int_dim0", lambda m, x: tuple(x.cummin(0)), INTS),
    ("cummax_0d", lambda m, x: tuple(m.cummax(x[0, 0], 0)), TIES),
    ("heaviside", lambda m, x: m.heaviside(x - 2, m.tensor(0.5, dtype=x.dtype)), TIES),
    ("heaviside_nan", lambda m, x: x.heaviside(x * 0 + 7), WITH_NAN),
    ("heaviside_int", lambda m, x: m.heaviside(x - 1, x), INTS),
    ("dist", lambda m, x: m.dist(x[0], x[1]), TIES),
    ("dist_p0", lambda m, x: x[0].dist(x[1], 0), TIES),
    ("dist_inf", lambda m, x: m.dist(x, x[1], float("inf")), TIES),
    ("dist_1_5", lambda m, x: m.dist(x, x[:1], 1.5), TIES),
]


@pytest.mark.parametrize("name,fn,data", FORWARD, ids=[f[0] for f in FORWARD])
def test_forward_matches_torch(name, fn, data):
    same(*both(fn, data))


def test_result_types_are_torchs_named_tuples():
    x = cr.tensor(TIES)
    for result, fields in (
        (cr.median(x, 1), ("values", "indices")),
        (cr.cummax(x, 1), ("values", "indices")),
        (x.cummin(0), ("values", "indices")),
    ):
        assert result._fields == fields
    assert type(cr.median(x, 1)).__name__ == type(torch.median(torch.tensor(TIES), 1)).__name__


SEQ = np.array([1.0, 3.0, 3.0, 5.0])  # (NaN in a sequence: torch's answer depends on its search)
ROWS = np.array([[1, 4, 9, 16], [-3, 0, 3, 6]])


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, s, r: m.searchsorted(s, m.tensor([[0.0, 3.0], [5.0, 9.0]])),
        lambda m, s, r: m.searchsorted(s, m.tensor([3.0, NAN, 6.0]), right=True),
        lambda m, s, r: m.searchsorted(s, m.tensor([3.0, 4.0]), side="right", out_int32=True),
        lambda m, s, r: m.searchsorted(s, 3.0),
        lambda m, s, r: m.searchsorted(r, m.tensor([[4, 5], [0, 7]])),
        lambda m, s, r: m.searchsorted(r, m.tensor([[4], [3]]), right=True),
        lambda m, s, r: m.searchsorted(
            m.tensor([5, 1, 3]), m.tensor([2, 4, 6]), sorter=m.tensor([1, 2, 0])
        ),
    ],
)
def test_searchsorted_matches_torch(fn):
    same(*both(fn, SEQ, ROWS))


def test_baddbmm_matches_torch_including_beta_zero_and_method():
    rng = np.random.default_rng(0)
    c, a, b = (
        rng.standard_normal((3, 2, 4)),
        rng.standard_normal((3, 2, 5)),
        rng.standard_normal((3, 5, 4)),
    )
    compare_with_torch(
        lambda c, a, b: c.baddbmm(a, b, beta=0.25, alpha=-1.5),
        lambda c, a, b: c.baddbmm(a, b, beta=0.25, alpha=-1.5),
        [c, a, b],
        atol=1e-10,
        rtol=1e-10,
    )
    c[0, 0, 0] = NAN  # ignored with beta=0, as torch
    same(*both(lambda m, c, a, b: m.baddbmm(c, a, b, beta=0), c, a, b))
    assert not np.isnan(cr.baddbmm(cr.tensor(c), cr.tensor(a), cr.tensor(b), beta=0).numpy()).any()


def test_median_and_cummax_gradients_go_where_torch_sends_them():
    # ties: the whole-tensor median shares the gradient; cummax sends it to the latest index
    for fn in (
        lambda m, x: m.median(x),
        lambda m, x: m.median(x, 1).values,
        lambda m, x: m.cummax(x, 1).values,
        lambda m, x: x.cummin(0).values,
    ):
        compare_with_torch(lambda x, fn=fn: fn(cr, x), lambda x, fn=fn: fn(torch, x), [TIES])


def test_nan_to_num_gradient_is_zero_at_replaced_entries():
    data = np.array([NAN, 1.5, INF, -INF, -2.0])
    compare_with_torch(
        lambda x: cr.nan_to_num(x, posinf=9.0, neginf=-9.0) * 3,
        lambda x: torch.nan_to_num(x, posinf=9.0, neginf=-9.0) * 3,
        [data],
    )
    x = cr.tensor(data, requires_grad=True)
    cr.nan_to_num(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0, 0.0, 1.0])


def test_gradcheck_on_random_shapes():
    rng = np.random.default_rng(7)
    for _ in range(3):
        shape = tuple(rng.integers(1, 5, size=rng.integers(1, 4)))
        x = rng.standard_normal(shape)
        d = int(rng.integers(0, len(shape)))
        check_grad(lambda x, d=d: cr.cummax(x, d).values, x)
        check_grad(lambda x, d=d: cr.cummin(x, d).values, x)
        check_grad(lambda x, d=d: cr.median(x, d).values, x)
        check_grad(lambda x: cr.median(x) * x, x, gradgrad=True)
        check_grad(lambda x, d=d: cr.diff(x, 1, d), x, gradgrad=True)
        check_grad(lambda x: cr.masked_select(x, cr.tensor(x > 0)), x, gradgrad=True)
        check_grad(lambda x: cr.nan_to_num(x) * x, x, gradgrad=True)
        y = rng.standard_normal(shape[-1:])
        check_grad(lambda x, y: cr.dist(x, y), x, y, gradgrad=True)
        check_grad(lambda x, y: cr.dist(x, y, 3), x, y)
    b, n, k, m = rng.integers(1, 4, size=4)
    check_grad(
        lambda c, a, bb: cr.baddbmm(c, a, bb, beta=0.5, alpha=2.0),
        rng.standard_normal((n, m)),
        rng.standard_normal((b, n, k)),
        rng.standard_normal((b, k, m)),
        gradgrad=True,
    )


def test_heaviside_and_searchsorted_are_not_differentiable():
    x = cr.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    assert not cr.heaviside(x, cr.tensor(0.5)).requires_grad
    assert not cr.searchsorted(cr.tensor([0.0, 1.0]), x).requires_grad


@pytest.mark.parametrize(
    "call,exc,match",
    [
        (lambda: cr.masked_select(cr.ones(2), cr.tensor([1, 0])), RuntimeError, "bool mask"),
        (lambda: cr.median(cr.zeros(0)), RuntimeError, "empty"),
        (lambda: cr.median(cr.zeros(2, 0), 1), IndexError, "size 0"),
        (lambda: cr.diff(cr.tensor(1.0)), RuntimeError, "one-dimensional"),
        (lambda: cr.diff(cr.ones(3), n=-1), RuntimeError, "non-negative"),
        (
            lambda: cr.heaviside(cr.ones(2), cr.tensor(1, dtype=cr.int64)),
            RuntimeError,
            "different dtypes",
        ),
        (
            lambda: cr.searchsorted(cr.ones(2, 3), cr.ones(3, 1)),
            RuntimeError,
            "leading dims",
        ),
        (lambda: cr.searchsorted(cr.ones(3), 1.0, side="up"), RuntimeError, "side"),
        (
            lambda: cr.searchsorted(cr.ones(3), 1.0, right=True, side="left"),
            RuntimeError,
            "contradict",
        ),
        (
            lambda: cr.baddbmm(cr.ones(3, 3), cr.ones(1, 2, 2), cr.ones(1, 2, 2)),
            RuntimeError,
            "broadcast",
        ),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_in_place_forms_match_torch_and_record_gradients():
    rng = np.random.default_rng(3)
    c, a, b = (
        rng.standard_normal((2, 3, 4)),
        rng.standard_normal((2, 3, 5)),
        rng.standard_normal((2, 5, 4)),
    )
    compare_with_torch(
        lambda c, a, b: (c * 1).baddbmm_(a, b, beta=0.5, alpha=2.0),
        lambda c, a, b: (c * 1).baddbmm_(a, b, beta=0.5, alpha=2.0),
        [c, a, b],
        atol=1e-10,
        rtol=1e-10,
    )
    data = np.array([NAN, 1.5, INF, -INF])
    compare_with_torch(
        lambda x: (x * 2).nan_to_num_(1.0, 5.0, -5.0),
        lambda x: (x * 2).nan_to_num_(1.0, 5.0, -5.0),
        [data],
    )
    x = cr.tensor(data)
    assert x.nan_to_num_() is x and np.isfinite(x.numpy()).all()


def test_lerp_in_place_matches_torch_and_records_in_a_graph():
    a = np.array([0.0, 1.0, 4.0], dtype=np.float32)
    b = np.array([2.0, 2.0, 2.0], dtype=np.float32)
    ours, theirs = cr.tensor(a), torch.tensor(a)
    assert ours.lerp_(cr.tensor(b), 0.25) is ours
    theirs.lerp_(torch.tensor(b), 0.25)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    w = cr.tensor(b, requires_grad=True)
    h = cr.tensor(a) * 1
    h.lerp_(w, 0.5)
    h.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [0.5, 0.5, 0.5])


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv_match_torch_with_gradients(name):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((1, 3))
    c = rng.uniform(0.5, 2.0, (2, 1))
    compare_with_torch(
        lambda x, y, z: getattr(cr, name)(x, y, z, value=-0.5),
        lambda x, y, z: getattr(torch, name)(x, y, z, value=-0.5),
        [a, b, c],
    )
    ours, theirs = cr.tensor(a), torch.tensor(a)
    getattr(ours, name + "_")(cr.tensor(b), cr.tensor(c), value=2)
    getattr(theirs, name + "_")(torch.tensor(b), torch.tensor(c), value=2)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    check_grad(lambda x, y, z: getattr(cr, name)(x, y, z, value=0.3), a, b, c)
    with pytest.raises(RuntimeError, match="Integer division"):
        cr.addcdiv(cr.ones(2), cr.tensor([1, 2]), cr.tensor([1, 2]))


@pytest.mark.parametrize(
    "name, args",
    [
        ("sqrt_", ()),
        ("log1p_", ()),
        ("clamp_min_", (0.2,)),
        ("lt_", (0.5,)),
        ("logical_not_", ()),
        ("cumsum_", (1,)),
        ("tril_", (-1,)),
        ("remainder_", (0.3,)),
        ("round_", ()),
    ],
)
def test_in_place_forms_match_torch(name, args):
    x = np.random.default_rng(4).uniform(0.1, 1.0, (3, 3)).astype(np.float32)
    ours, theirs = cr.tensor(x), torch.tensor(x)
    assert getattr(ours, name)(*args) is ours
    getattr(theirs, name)(*args)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="can't be cast"):
        cr.tensor([1, 2]).sqrt_()


def test_add_and_sub_alpha_match_torch():
    a, b = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    for fn in ("add", "sub"):
        compare_with_torch(
            lambda x, y, f=fn: getattr(cr, f)(x, y, alpha=-3),
            lambda x, y, f=fn: getattr(torch, f)(x, y, alpha=-3),
            [a, b],
        )
    np.testing.assert_array_equal(
        cr.tensor([1, 2]).add(cr.tensor([1, 1]), alpha=2).numpy(),
        torch.tensor([1, 2]).add(torch.tensor([1, 1]), alpha=2).numpy(),
    )
