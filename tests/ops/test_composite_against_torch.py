"""The data-science functions of ops/composite.py against PyTorch (a second, independent set of
cases, written with the port programs): values, dtypes, shapes,
gradients (through compare_with_torch) and edge cases (NaN, ties, empty, errors)."""

import numpy as np
import pytest
from helpers import check_grad, compare_with_torch

import chainrule as cr

torch = pytest.importorskip("torch")
RNG = np.random.default_rng(0)


def _f(*shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True)])
def test_nansum_nanmean_match_torch(dim, keepdim):
    x = _f(4, 3)
    x[1, 2] = x[3, 0] = np.nan
    for name in ("nansum", "nanmean"):
        compare_with_torch(
            lambda t, n=name: getattr(cr, n)(t, dim=dim, keepdim=keepdim),
            lambda t, n=name: getattr(torch, n)(t, dim=dim, keepdim=keepdim),
            [x],
        )
    all_nan = np.full((2, 2), np.nan)
    assert np.isnan(cr.nanmean(cr.tensor(all_nan), dim=0).numpy()).all()


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
@pytest.mark.parametrize("q", [0.37, [0.0, 0.5, 0.9, 1.0]])
def test_quantile_matches_torch(interpolation, q):
    x = _f(3, 7).astype(np.float32)
    for dim, keepdim in [(None, False), (1, False), (0, True)]:
        compare_with_torch(
            lambda t, dim=dim, keepdim=keepdim: cr.quantile(
                t,
                cr.tensor(q) if isinstance(q, list) else q,
                dim,
                keepdim,
                interpolation=interpolation,
            ),
            lambda t, dim=dim, keepdim=keepdim: torch.quantile(
                t,
                torch.tensor(q) if isinstance(q, list) else q,
                dim,
                keepdim,
                interpolation=interpolation,
            ),
            [x],
        )


def test_quantile_nan_and_nanquantile_match_torch():
    x = _f(3, 5).astype(np.float32)
    x[0, 1] = np.nan
    x[2] = np.nan
    for name in ("quantile", "nanquantile"):
        ours = getattr(cr, name)(cr.tensor(x), 0.3, dim=1).numpy()
        theirs = getattr(torch, name)(torch.tensor(x), 0.3, dim=1).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    with pytest.raises(RuntimeError, match="range"):
        cr.quantile(cr.tensor(x), 1.5)


def test_mode_kthvalue_match_torch():
    x = np.array([[2, 1, 2, 1, 3], [5, 5, 4, 4, 4]])
    ours, theirs = cr.mode(cr.tensor(x), 1), torch.mode(torch.tensor(x), 1)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    y = _f(4, 6)
    compare_with_torch(
        lambda t: cr.kthvalue(t, 3, dim=1, keepdim=True),
        lambda t: torch.kthvalue(t, 3, dim=1, keepdim=True),
        [y],
    )
    compare_with_torch(lambda t: t.mode(0).values, lambda t: t.mode(0).values, [y.round()])


def test_bucketize_and_isin_match_torch():
    x, b = np.array([[0.5, 3.0], [7.0, 1.0]]), np.array([1.0, 3.0, 5.0])
    for right in (False, True):
        np.testing.assert_array_equal(
            cr.bucketize(cr.tensor(x), cr.tensor(b), right=right).numpy(),
            torch.bucketize(torch.tensor(x), torch.tensor(b), right=right).numpy(),
        )
    e, t = np.array([[1, 2], [3, 4]]), np.array([4, 1, 9])
    for invert in (False, True):
        np.testing.assert_array_equal(
            cr.isin(cr.tensor(e), cr.tensor(t), invert=invert).numpy(),
            torch.isin(torch.tensor(e), torch.tensor(t), invert=invert).numpy(),
        )
    assert cr.isin(cr.tensor([1, 2]), 2).tolist() == [False, True]


def test_stacking_helpers_match_torch():
    a, b = _f(3), _f(3)
    m, n = _f(2, 3), _f(2, 3)
    for name, args in [
        ("hstack", [a, b]),
        ("hstack", [m, n]),
        ("vstack", [a, b]),
        ("vstack", [m, a]),
        ("dstack", [m, n]),
        ("column_stack", [a, m.T]),
        ("row_stack", [a, b]),
    ]:
        compare_with_torch(
            lambda *t, nm=name: getattr(cr, nm)(list(t)),
            lambda *t, nm=name: getattr(torch, nm)(list(t)),
            args,
        )
    for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for shape in [(), (3,), (2, 3)]:
            ours = getattr(cr, name)(cr.zeros(shape))
            theirs = getattr(torch, name)(torch.zeros(shape))
            assert tuple(ours.shape) == tuple(theirs.shape), (name, shape)
        assert len(getattr(cr, name)(cr.zeros(2), cr.zeros(3))) == 2


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, float("inf")])
@pytest.mark.parametrize("rows", [4, 30])
def test_cdist_matches_torch_both_ways_of_computing(p, rows):
    x1, x2 = _f(rows, 3), _f(5, 3)
    x2[0] = x1[0]  # a zero distance: zero gradient, not NaN
    compare_with_torch(
        lambda a, b: cr.cdist(a, b, p=p),
        lambda a, b: torch.cdist(a, b, p=p),
        [x1, x2],
        atol=1e-5,
    )
    compare_with_torch(
        lambda a, b: cr.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
        lambda a, b: torch.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
        [_f(2, 4, 3), _f(2, 5, 3)],
    )


def test_tensordot_mv_logaddexp_match_torch():
    compare_with_torch(cr.tensordot, torch.tensordot, [_f(3, 4, 5), _f(4, 5, 2)])
    compare_with_torch(
        lambda a, b: cr.tensordot(a, b, dims=([0, 2], [2, 0])),
        lambda a, b: torch.tensordot(a, b, dims=([0, 2], [2, 0])),
        [_f(3, 4, 5), _f(5, 2, 3)],
    )
    compare_with_torch(
        lambda a, b: cr.tensordot(a, b, 0), lambda a, b: torch.tensordot(a, b, 0), [_f(2), _f(3)]
    )
    compare_with_torch(cr.mv, torch.mv, [_f(3, 4), _f(4)])
    a, b = _f(5), _f(5)
    a[0], b[0] = -np.inf, -np.inf
    a[1], b[1] = 800.0, 801.0
    compare_with_torch(cr.logaddexp, torch.logaddexp, [a, b], grad=False)
    compare_with_torch(cr.logaddexp, torch.logaddexp, [_f(3, 1), _f(4)])


def test_indices_and_selection_match_torch():
    x = _f(3, 5)
    idx = np.argsort(x, axis=1)[:, :2]
    compare_with_torch(
        lambda t: cr.take_along_dim(t, cr.tensor(idx), dim=1),
        lambda t: torch.take_along_dim(t, torch.tensor(idx), dim=1),
        [x],
    )
    compare_with_torch(
        lambda t: cr.take_along_dim(t, cr.tensor([0, 7, 14])),
        lambda t: torch.take_along_dim(t, torch.tensor([0, 7, 14])),
        [x],
    )
    v = _f(4)
    for r, rep in [(2, False), (3, False), (2, True)]:
        compare_with_torch(
            lambda t, r=r, rep=rep: cr.combinations(t, r, rep),
            lambda t, r=r, rep=rep: torch.combinations(t, r, rep),
            [v],
        )
    compare_with_torch(cr.cartesian_prod, torch.cartesian_prod, [_f(2), _f(3)])
    for args in [(4, 4), (3, 5, 1), (5, 3, -1)]:
        np.testing.assert_array_equal(cr.triu_indices(*args).numpy(), torch.triu_indices(*args))
        np.testing.assert_array_equal(cr.tril_indices(*args).numpy(), torch.tril_indices(*args))
    y = np.array([[0, 1, 2], [0, 0, 3]])
    for dim in (None, 0, 1, (0, 1)):
        np.testing.assert_array_equal(
            cr.count_nonzero(cr.tensor(y), dim=dim).numpy(),
            torch.count_nonzero(torch.tensor(y), dim=dim).numpy(),
        )


def test_reshaping_helpers_match_torch():
    x = _f(2, 3, 4, 5)
    for src, dst in [(0, -1), ((0, 2), (3, 0)), (-1, 1)]:
        compare_with_torch(
            lambda t, s=src, d=dst: cr.movedim(t, s, d),
            lambda t, s=src, d=dst: torch.movedim(t, s, d),
            [x],
        )
        compare_with_torch(
            lambda t, s=src, d=dst: t.moveaxis(s, d),
            lambda t, s=src, d=dst: t.moveaxis(s, d),
            [x],
        )
    compare_with_torch(lambda t: t.swapdims(0, 2), lambda t: t.swapdims(0, 2), [x])
    compare_with_torch(lambda t: t.unflatten(3, (5, -1)), lambda t: t.unflatten(3, (5, -1)), [x])
    compare_with_torch(lambda t: t.ravel(), lambda t: t.ravel(), [x])


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin", "prod"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_torch(reduce, include_self):
    base = _f(3, 4)
    src = _f(5, 4)
    src[1, 0] = src[0, 0]  # a tie for amax/amin
    index = np.array([[0, 2, 0, 1], [0, 2, 2, 1], [2, 0, 0, 1], [0, 0, 2, 1], [2, 2, 2, 1]])
    grad = reduce != "prod"
    compare_with_torch(
        lambda b, s: b.scatter_reduce(0, cr.tensor(index), s, reduce, include_self=include_self),
        lambda b, s: b.scatter_reduce(0, torch.tensor(index), s, reduce, include_self=include_self),
        [base, src],
        grad=grad,
    )
    ours, theirs = cr.tensor(base), torch.tensor(base)
    ours.scatter_reduce_(1, cr.tensor(index[:3]), cr.tensor(src[:3]), reduce)
    theirs.scatter_reduce_(1, torch.tensor(index[:3]), torch.tensor(src[:3]), reduce)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_scatter_reduce_integer_mean_and_errors():
    b = np.array([10, 0, 5])
    s, i = np.array([1, 2, 4]), np.array([0, 0, 2])
    np.testing.assert_array_equal(
        cr.tensor(b).scatter_reduce(0, cr.tensor(i), cr.tensor(s), "mean").numpy(),
        torch.tensor(b).scatter_reduce(0, torch.tensor(i), torch.tensor(s), "mean").numpy(),
    )
    with pytest.raises(RuntimeError, match="reduce argument"):
        cr.zeros(2).scatter_reduce(0, cr.tensor([0]), cr.ones(1), "max")


def test_gradchecks():
    check_grad(lambda t: cr.quantile(t, 0.3, dim=1), _f(3, 6))
    check_grad(lambda a, b: cr.cdist(a, b, p=3.0), _f(3, 2), _f(4, 2))
    check_grad(lambda a, b: cr.logaddexp(a, b), _f(4), _f(4), gradgrad=True)
