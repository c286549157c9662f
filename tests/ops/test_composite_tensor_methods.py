"""The tensor functions and methods of ops/composite.py against PyTorch (a second, independent
set of cases, written with the port programs): values, dtypes, shapes and gradients."""

import numpy as np
import pytest
from helpers import check_grad, compare_with_torch

import chainrule as cr

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)


def _f(*shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize(
    "name, make_args",
    [
        ("fliplr", lambda: [_f(3, 4)]),
        ("flipud", lambda: [_f(3, 4)]),
        ("kron", lambda: [_f(2, 3), _f(3, 2)]),
        ("kron", lambda: [_f(3), _f(2, 2)]),
        ("inner", lambda: [_f(2, 3), _f(4, 3)]),
        ("hypot", lambda: [_f(3), _f(2, 3)]),
        ("deg2rad", lambda: [_f(3)]),
        ("rad2deg", lambda: [_f(3)]),
        ("cov", lambda: [_f(3, 7)]),
        ("corrcoef", lambda: [_f(3, 7)]),
        ("diag_embed", lambda: [_f(2, 3)]),
        ("diagflat", lambda: [_f(2, 2)]),
        ("xlogy", lambda: [np.abs(_f(4)), np.abs(_f(4)) + 0.1]),
        ("trapezoid", lambda: [_f(3, 5)]),
        ("cumulative_trapezoid", lambda: [_f(3, 5)]),
    ],
)
def test_functions_match_torch(name, make_args):
    compare_with_torch(getattr(cr, name), getattr(torch, name), make_args())


def test_argument_forms_match_torch():
    x = _f(2, 3, 4)
    for k, dims in [(1, (1, 2)), (2, (0, 2)), (3, (0, 1)), (-1, (1, 2))]:
        compare_with_torch(
            lambda t, k=k, d=dims: cr.rot90(t, k, d),
            lambda t, k=k, d=dims: torch.rot90(t, k, d),
            [x],
        )
    compare_with_torch(
        lambda a, b: cr.cross(a, b, dim=1),
        lambda a, b: torch.cross(a, b, dim=1),
        [_f(4, 3), _f(4, 3)],
    )
    compare_with_torch(
        lambda t: cr.diag_embed(t, offset=1), lambda t: torch.diag_embed(t, offset=1), [_f(3)]
    )
    compare_with_torch(
        lambda t: cr.diag_embed(t, offset=-2), lambda t: torch.diag_embed(t, offset=-2), [_f(2, 2)]
    )
    compare_with_torch(
        lambda y, s: cr.trapezoid(y, s),
        lambda y, s: torch.trapezoid(y, s),
        [_f(2, 5), np.sort(_f(5))],
    )
    compare_with_torch(
        lambda y: cr.trapz(y, dx=0.5, dim=0), lambda y: torch.trapz(y, dx=0.5, dim=0), [_f(4, 2)]
    )
    compare_with_torch(
        lambda t: cr.logcumsumexp(t, 1), lambda t: torch.logcumsumexp(t, 1), [_f(2, 6) * 30]
    )
    compare_with_torch(
        lambda t: cr.logit(t, eps=1e-3),
        lambda t: torch.logit(t, eps=1e-3),
        [np.array([0.0, 0.3, 1.0, 0.9])],
    )
    compare_with_torch(cr.frac, torch.frac, [_f(5) * 4])
    compare_with_torch(
        lambda t: cr.float_power(t, 3),
        lambda t: torch.float_power(t, 3),
        [_f(3).astype(np.float32)],
    )
    compare_with_torch(
        lambda t: cr.cov(t, correction=0), lambda t: torch.cov(t, correction=0), [_f(8)]
    )


def test_logcumsumexp_keeps_small_terms_before_a_large_one():
    x = np.array([[0.0, 0.0, 1000.0, -5.0], [-1000.0, -1000.0, 3.0, -np.inf]])
    compare_with_torch(lambda t: cr.logcumsumexp(t, 1), lambda t: torch.logcumsumexp(t, 1), [x])


def test_erfinv_matches_torch_with_gradient():
    x = np.concatenate([np.linspace(-0.999, 0.999, 41), [0.0]]).astype(np.float32)
    compare_with_torch(cr.erfinv, torch.erfinv, [x])
    edge = np.array([-1.0, 1.0, 1.5], dtype=np.float32)
    np.testing.assert_array_equal(
        cr.erfinv(cr.tensor(edge)).numpy(), torch.erfinv(torch.tensor(edge)).numpy()
    )
    t = cr.tensor(x.copy())
    t.erfinv_()
    np.testing.assert_allclose(
        t.numpy(), torch.erfinv(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6
    )
    check_grad(cr.erfinv, np.linspace(-0.9, 0.9, 7), gradgrad=True)


def test_joining_and_splitting_match_torch():
    compare_with_torch(
        lambda a, b, c: cr.block_diag(a, b, c),
        lambda a, b, c: torch.block_diag(a, b, c),
        [_f(2, 2), _f(3), _f(1, 2)],
    )
    x = _f(10, 3)
    for arg in (3, 4, [2, 5], [0, 9, 12]):
        ours = cr.tensor_split(cr.tensor(x), arg)
        theirs = torch.tensor_split(torch.tensor(x), arg)
        assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    a, b = cr.broadcast_tensors(cr.ones(3, 1), cr.zeros(4))
    assert a.shape == b.shape == (3, 4)
    assert cr.broadcast_shapes((2, 1), (1, 5), 5) == torch.broadcast_shapes((2, 1), (1, 5), 5)
    assert cr.concat([cr.ones(1), cr.zeros(2)]).tolist() == [1.0, 0.0, 0.0]


def test_selection_and_inplace_forms_match_torch():
    m = np.array([[0, 1, 0], [2, 0, 3]])
    np.testing.assert_array_equal(
        cr.argwhere(cr.tensor(m)).numpy(), torch.argwhere(torch.tensor(m))
    )
    seq = np.array([1, 1, 2, 2, 2, 3, 1, 1])
    ours = cr.unique_consecutive(cr.tensor(seq), return_inverse=True, return_counts=True)
    theirs = torch.unique_consecutive(torch.tensor(seq), return_inverse=True, return_counts=True)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    lo, hi = cr.aminmax(cr.tensor(m), dim=1)
    tlo, thi = torch.aminmax(torch.tensor(m), dim=1)
    assert lo.tolist() == tlo.tolist() and hi.tolist() == thi.tolist()
    x = _f(3, 4)
    compare_with_torch(
        lambda t: t.index_fill(1, cr.tensor([0, 2]), -1.0),
        lambda t: t.index_fill(1, torch.tensor([0, 2]), -1.0),
        [x],
    )
    compare_with_torch(
        lambda t, s: t.index_copy(0, cr.tensor([2, 0]), s),
        lambda t, s: t.index_copy(0, torch.tensor([2, 0]), s),
        [x, _f(2, 4)],
    )
    for wrap in (False, True):
        a, b = cr.zeros(7, 3), torch.zeros(7, 3)
        a.fill_diagonal_(5.0, wrap=wrap)
        b.fill_diagonal_(5.0, wrap=wrap)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    t = cr.tensor([-0.0, 1.0, -2.0])
    assert cr.signbit(t).tolist() == torch.signbit(torch.tensor([-0.0, 1.0, -2.0])).tolist()
    assert cr.logical_xor(cr.tensor([1, 0]), cr.tensor([1, 1])).tolist() == [False, True]
    assert cr.sgn(t).tolist() == [0.0, 1.0, -1.0]


def test_memory_facts_match_torch():
    for dtype in ("float32", "float64", "int64", "uint8", "bool"):
        ours = cr.zeros(3, 5, dtype=getattr(cr, dtype))
        theirs = torch.zeros(3, 5, dtype=getattr(torch, dtype))
        assert ours.element_size() == theirs.element_size()
        assert ours.nbytes == theirs.nbytes and ours.itemsize == theirs.itemsize
        assert ours.is_contiguous()


def test_can_cast_matches_torch():
    names = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
    for a in names:
        for b in names:
            assert cr.can_cast(getattr(cr, a), getattr(cr, b)) == torch.can_cast(
                getattr(torch, a), getattr(torch, b)
            ), (a, b)
