"""The torch functions of ``ops/composite.py`` against PyTorch on chosen inputs (NaN, infinities,
ties, integers, zeros, method forms): values, dtypes and gradients (``lib`` is ``chainrule`` or
``torch``); the in-place forms, the settings and the errors. Finite differences and second
derivatives on random shapes are in the op table (``chainrule.testing.op_table``)."""

import math
import re
import warnings

import numpy as np
import pytest
from helpers import compare_with_torch

import chainrule as cr

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)
NAN, INF = float("nan"), float("inf")


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, shape)


def ints(*shape, high=5):
    return rng.integers(0, high, shape)


WITH_NAN = np.array([[1.0, NAN, 3.0, 0.5], [NAN, NAN, NAN, NAN], [2.0, -1.0, 4.0, 0.0]])
IDX = np.array([[2, 0], [1, 1]])

# (name, fn(lib, *tensors), inputs, grad): grad True or "torch" compares gradients with torch;
# "fd" and False do not (torch's own backward fails there, or returns a zero tensor it cannot
# convert; those gradients are checked by finite differences in the op table)
CASES = [
    ("concat", lambda m, a, b: m.concat([a, b], 1), [r(2, 3), r(2, 2)], True),
    ("hstack", lambda m, a, b: m.hstack([a, b]), [r(2, 3), r(2, 1)], True),
    ("hstack_1d", lambda m, a, b: m.hstack((a, b)), [r(3), r(2)], True),
    ("vstack", lambda m, a, b: m.vstack([a, b]), [r(3), r(2, 3)], True),
    ("row_stack", lambda m, a, b: m.row_stack([a, b]), [r(3), r(3)], True),
    ("dstack", lambda m, a, b: m.dstack([a, b]), [r(2, 3), r(2, 3, 2)], True),
    ("column_stack", lambda m, a, b: m.column_stack([a, b]), [r(3), r(3, 2)], True),
    ("atleast_3d", lambda m, a, b, c: m.atleast_3d(a, b, c), [r(), r(2), r(2, 3)], True),
    ("atleast_2d", lambda m, a: m.atleast_2d(a), [r(4)], True),
    ("tensor_split_n", lambda m, a: m.tensor_split(a, 3, dim=1), [r(2, 7)], True),
    ("tensor_split_idx", lambda m, a: a.tensor_split([1, 5, -1]), [r(7, 2)], True),
    ("hsplit", lambda m, a: m.hsplit(a, 2), [r(3, 4)], True),
    ("vsplit", lambda m, a: m.vsplit(a, [1]), [r(3, 4)], True),
    ("dsplit", lambda m, a: m.dsplit(a, 2), [r(1, 2, 4)], True),
    ("split_with_sizes", lambda m, a: a.split_with_sizes([1, 3], 1), [r(2, 4)], True),
    ("unflatten", lambda m, a: a.unflatten(1, (2, -1)), [r(3, 6)], True),
    ("movedim", lambda m, a: m.movedim(a, (0, 2), (2, 0)), [r(2, 3, 4)], True),
    ("moveaxis", lambda m, a: a.moveaxis(-1, 0), [r(2, 3, 4)], True),
    ("swapdims", lambda m, a: a.swapdims(0, 2), [r(2, 3, 4)], True),
    ("select", lambda m, a: m.select(a, 1, -1), [r(2, 3, 4)], True),
    ("ravel", lambda m, a: a.t().ravel(), [r(2, 3)], True),
    ("take", lambda m, a, i: m.take(a, i), [r(3, 4), np.array([[0, 11], [-1, 5]])], True),
    ("take_along_dim", lambda m, a, i: m.take_along_dim(a, i, 1), [r(2, 3), IDX], True),
    (
        "take_along_dim_bc",
        lambda m, a, i: m.take_along_dim(a, i, 0),
        [r(3, 1), ints(2, 4, high=3)],
        True,
    ),
    (
        "take_along_dim_flat",
        lambda m, a, i: m.take_along_dim(a, i),
        [r(2, 3), np.array([5, 0])],
        True,
    ),
    ("fliplr", lambda m, a: m.fliplr(a), [r(2, 3)], True),
    ("flipud", lambda m, a: m.flipud(a), [r(2, 3)], True),
    ("rot90", lambda m, a: m.rot90(a), [r(2, 3)], True),
    ("rot90_k3", lambda m, a: m.rot90(a, 3, (1, 2)), [r(2, 3, 4)], True),
    ("rot90_k2", lambda m, a: a.rot90(-2, [0, 1]), [r(2, 3)], True),
    ("diag_embed", lambda m, a: m.diag_embed(a), [r(2, 3)], True),
    ("diag_embed_offset", lambda m, a: m.diag_embed(a, 1, 0, 2), [r(2, 3)], True),
    ("diag_embed_neg", lambda m, a: m.diag_embed(a, -2), [r(3)], True),
    ("diagflat", lambda m, a: m.diagflat(a, -1), [r(2, 2)], True),
    ("broadcast_tensors", lambda m, a, b: m.broadcast_tensors(a, b), [r(2, 1), r(3)], True),
    ("cartesian_prod", lambda m, a, b: m.cartesian_prod(a, b), [r(2), r(3)], True),
    ("combinations", lambda m, a: m.combinations(a, 2), [r(4)], True),
    ("combinations_rep", lambda m, a: m.combinations(a, 3, with_replacement=True), [r(3)], True),
    ("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), [r(2, 3), r(2), r()], True),
    ("vander", lambda m, a: m.vander(a, 4), [r(3)], "fd"),
    ("vander_inc", lambda m, a: m.vander(a, increasing=True), [r(3)], "fd"),
    ("vander_int", lambda m, a: m.vander(a, 3), [ints(3)], False),
    (
        "fmax",
        lambda m, a, b: m.fmax(a, b),
        [np.array([1.0, NAN, 2.0, NAN, 3.0]), np.array([NAN, 2.0, 2.0, NAN, 1.0])],
        "torch",
    ),
    (
        "fmin",
        lambda m, a, b: a.fmin(b),
        [np.array([1.0, NAN, 2.0, NAN, 3.0]), np.array([NAN, 2.0, 2.0, NAN, 1.0])],
        "torch",
    ),
    ("fmax_bc", lambda m, a, b: m.fmax(a, b), [r(2, 3), r(3)], True),
    ("frac", lambda m, a: m.frac(a), [np.array([1.5, -1.25, 3.25, -0.5])], True),
    ("frac_int_points", lambda m, a: m.frac(a), [np.array([3.0, -2.0, 0.0])], "torch"),
    ("fix", lambda m, a: m.fix(a), [r(4)], True),
    ("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5), [r(2, 3), r(3), r(2, 1)], True),
    (
        "addcdiv",
        lambda m, a, b, c: a.addcdiv(b, c, value=-2),
        [r(2, 3), r(2, 3), r(2, 3, low=0.5)],
        True,
    ),
    ("addmv", lambda m, a, b, c: m.addmv(a, b, c, beta=0.5, alpha=2), [r(2), r(2, 3), r(3)], True),
    (
        "addmv_beta0",
        lambda m, a, b, c: m.addmv(a, b, c, beta=0),
        [np.array([NAN, 1.0]), r(2, 3), r(3)],
        True,
    ),
    (
        "addmm_beta0",
        lambda m, a, b, c: m.addmm(a, b, c, beta=0, alpha=2),
        [np.array([NAN, 1.0]), r(2, 3), r(3, 2)],
        True,
    ),
    ("addr", lambda m, a, b, c: m.addr(a, b, c, alpha=3), [r(2, 3), r(2), r(3)], True),
    (
        "addbmm",
        lambda m, a, b, c: m.addbmm(a, b, c, beta=2),
        [r(2, 2), r(3, 2, 4), r(3, 4, 2)],
        True,
    ),
    (
        "logical_xor",
        lambda m, a, b: m.logical_xor(a, b),
        [np.array([0.0, 1.0, 2.0, 0.0]), np.array([0, 0, 3, 1])],
        False,
    ),
    ("atan2", lambda m, a, b: m.atan2(a, b), [r(2, 3), r(3)], True),
    ("arctan2", lambda m, a, b: m.arctan2(a, b), [r(3), r(3)], True),
    ("asinh", lambda m, a: m.asinh(a), [r(5)], True),
    ("acosh", lambda m, a: m.acosh(a), [r(5, low=1.1, high=3.0)], True),
    ("atanh", lambda m, a: a.atanh(), [r(5, low=-0.9, high=0.9)], True),
    ("acosh_domain", lambda m, a: m.acosh(a), [np.array([0.5, 1.0, 2.0])], False),
    ("atanh_domain", lambda m, a: m.atanh(a), [np.array([-1.0, 1.0, 2.0])], False),
    ("hypot", lambda m, a, b: m.hypot(a, b), [r(2, 3), r(3)], True),
    ("deg2rad", lambda m, a: m.deg2rad(a), [r(3)], True),
    ("rad2deg_int", lambda m, a: m.rad2deg(a), [ints(3)], False),
    ("sinc", lambda m, a: m.sinc(a), [np.array([0.0, 0.5, -1.5, 2.25])], True),
    ("logit", lambda m, a: m.logit(a), [r(4, low=0.05, high=0.95)], True),
    ("logit_eps", lambda m, a: m.logit(a, eps=0.2), [np.array([0.1, 0.5, 0.9, 0.3])], True),
    (
        "xlogy",
        lambda m, a, b: m.xlogy(a, b),
        [np.array([0.0, 2.0, 0.0, 1.5, 0.0]), np.array([0.0, 3.0, 2.0, 0.5, NAN])],
        False,
    ),
    ("xlogy_grad", lambda m, a, b: m.xlogy(a, b), [r(2, 3), r(3, low=0.5)], True),
    ("logaddexp", lambda m, a, b: m.logaddexp(a, b), [r(2, 3, low=-50, high=50), r(3)], True),
    (
        "logaddexp_inf",
        lambda m, a, b: m.logaddexp(a, b),
        [np.array([INF, -INF, INF, 1e4]), np.array([INF, -INF, -INF, 1e4])],
        False,
    ),
    ("logaddexp2", lambda m, a, b: m.logaddexp2(a, b), [r(4), r(4)], True),
    ("exp2", lambda m, a: m.exp2(a), [r(4)], True),
    ("exp2_int", lambda m, a: m.exp2(a), [ints(4)], False),
    ("float_power", lambda m, a: m.float_power(a, 3), [r(4)], True),
    ("float_power_t", lambda m, a, b: a.float_power(b), [r(4, low=0.5), r(4)], True),
    ("copysign", lambda m, a, b: m.copysign(a, b), [r(2, 3), np.array([-0.5, 0.5, -2.0])], True),
    (
        "copysign_zeros",
        lambda m, a, b: m.copysign(a, b.detach()),
        [r(2, 3), np.array([-0.0, 0.0, -2.0])],
        "torch",
    ),
    ("signbit", lambda m, a: m.signbit(a), [np.array([-0.0, 0.0, -2.0, 3.0])], False),
    ("sgn", lambda m, a: m.sgn(a), [np.array([-0.5, 0.0, 2.0])], False),
    ("sgn_grad", lambda m, a: m.sgn(a), [np.array([-0.5, 0.3, 2.0])], "fd"),
    ("isposinf", lambda m, a: m.isposinf(a), [np.array([INF, -INF, NAN, 1.0])], False),
    ("isneginf", lambda m, a: a.isneginf(), [np.array([INF, -INF, NAN, 1.0])], False),
    ("isreal", lambda m, a: m.isreal(a), [r(3)], False),
    ("erfc", lambda m, a: m.erfc(a), [r(4)], True),
    ("nansum", lambda m, a: m.nansum(a, 1), [WITH_NAN], "torch"),
    ("nansum_all", lambda m, a: a.nansum(), [WITH_NAN], "torch"),
    ("nanmean", lambda m, a: m.nanmean(a, 1, keepdim=True), [WITH_NAN[[0, 2]]], "torch"),
    ("nanmean_all_nan_row", lambda m, a: m.nanmean(a, 1), [WITH_NAN], False),
    (
        "count_nonzero",
        lambda m, a: m.count_nonzero(a, dim=1),
        [np.array([[0, 1, 2], [0, 0, 3]])],
        False,
    ),
    (
        "count_nonzero_all",
        lambda m, a: a.count_nonzero(),
        [np.array([[0.0, 1.0], [-0.0, 2.0]])],
        False,
    ),
    ("aminmax", lambda m, a: tuple(m.aminmax(a, dim=0)), [r(3, 4)], True),
    ("msort", lambda m, a: m.msort(a), [r(4, 3)], True),
    ("kthvalue", lambda m, a: tuple(m.kthvalue(a, 2, 1)), [r(3, 5)], True),
    ("kthvalue_keep", lambda m, a: tuple(a.kthvalue(3, 0, True)), [r(4, 2)], True),
    (
        "mode",
        lambda m, a: tuple(m.mode(a, 1)),
        [np.array([[2, 1, 2, 1, 3], [5, 5, 4, 4, 4]])],
        False,
    ),
    (
        "mode_float",
        lambda m, a: tuple(a.mode(0)),
        [np.array([[1.0, 2.0], [1.0, 3.0], [2.0, 3.0]])],
        "torch",
    ),
    ("quantile", lambda m, a: m.quantile(a, 0.3), [r(3, 4)], True),
    (
        "quantile_dim",
        lambda m, a, q: m.quantile(a, q, dim=1, keepdim=True),
        [r(3, 5), np.array([0.1, 0.55, 0.9])],  # no rank on an integer (a kink)
        True,
    ),
    (
        "quantile_modes",
        lambda m, a: [
            m.quantile(a, 0.4, 0, interpolation=i)
            for i in ("lower", "higher", "midpoint", "nearest")
        ],
        [r(6, 2)],
        "torch",
    ),
    ("quantile_keep_all", lambda m, a: m.quantile(a, 0.5, keepdim=True), [r(2, 3)], True),
    ("quantile_nan", lambda m, a: m.quantile(a, 0.5, 1), [WITH_NAN], False),
    ("nanquantile", lambda m, a: m.nanquantile(a, 0.4, 1), [WITH_NAN], False),
    ("nanquantile_grad", lambda m, a: m.nanquantile(a, 0.4, 1), [WITH_NAN[[0, 2]]], "torch"),
    ("nanmedian", lambda m, a: m.nanmedian(a), [WITH_NAN], "torch"),
    ("nanmedian_dim", lambda m, a: tuple(m.nanmedian(a, 1)), [WITH_NAN[[0, 2]]], "torch"),
    ("nanmedian_all_nan", lambda m, a: m.nanmedian(a, 1).values, [WITH_NAN], False),
    ("cov", lambda m, a: m.cov(a), [r(3, 5)], True),
    (
        "cov_weighted",
        lambda m, a, f, w: m.cov(a, correction=0, fweights=f, aweights=w),
        [r(2, 4), np.array([1, 2, 1, 3]), r(4, low=0.1, high=1)],
        True,
    ),
    ("cov_1d", lambda m, a: m.cov(a), [r(5)], True),
    ("corrcoef", lambda m, a: m.corrcoef(a), [r(3, 6)], True),
    ("mv", lambda m, a, b: m.mv(a, b), [r(2, 3), r(3)], True),
    ("inner", lambda m, a, b: m.inner(a, b), [r(2, 3), r(4, 3)], True),
    ("inner_scalar", lambda m, a, b: m.inner(a, b), [r(), r(2, 3)], True),
    ("tensordot", lambda m, a, b: m.tensordot(a, b, 2), [r(2, 3, 4), r(3, 4, 5)], True),
    (
        "tensordot_pairs",
        lambda m, a, b: m.tensordot(a, b, ([0, 2], [2, 0])),
        [r(2, 3, 4), r(4, 5, 2)],
        True,
    ),
    ("tensordot_0", lambda m, a, b: m.tensordot(a, b, 0), [r(2), r(3)], True),
    ("kron", lambda m, a, b: m.kron(a, b), [r(2, 3), r(2, 2)], True),
    ("kron_dims", lambda m, a, b: m.kron(a, b), [r(3), r(2, 2)], True),
    ("cross", lambda m, a, b: m.cross(a, b, dim=1), [r(2, 3), r(2, 3)], True),
    ("linalg_cross", lambda m, a, b: m.linalg.cross(a, b), [r(4, 3), r(1, 3)], True),
    ("cdist", lambda m, a, b: m.cdist(a, b), [r(4, 3), r(5, 3)], True),
    ("cdist_p1", lambda m, a, b: m.cdist(a, b, p=1), [r(2, 4, 3), r(2, 5, 3)], True),
    ("cdist_pinf", lambda m, a, b: m.cdist(a, b, p=INF), [r(4, 3), r(2, 3)], True),
    ("cdist_p3", lambda m, a, b: m.cdist(a, b, p=3), [r(4, 3), r(2, 3)], True),
    (
        "cdist_zero",
        lambda m, a, b: m.cdist(a, b),
        [np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[1.0, 2.0]])],
        True,
    ),
    ("pdist", lambda m, a: m.pdist(a), [r(4, 3)], True),
    ("vdot", lambda m, a, b: m.vdot(a, b), [r(4), r(4)], True),
    ("ger", lambda m, a, b: m.ger(a, b), [r(2), r(3)], True),
    ("matrix_power", lambda m, a: m.matrix_power(a, 5), [r(2, 3, 3, low=-0.7, high=0.7)], True),
    ("matrix_power_0", lambda m, a: m.linalg.matrix_power(a, 0), [r(3, 3)], False),
    ("matrix_power_neg", lambda m, a: a.matrix_power(-2), [r(3, 3) + 3 * np.eye(3)], True),
    ("index_fill", lambda m, a, i: a.index_fill(1, i, -1.0), [r(2, 4), np.array([0, 2])], True),
    (
        "index_copy",
        lambda m, a, i, s: a.index_copy(0, i, s),
        [r(4, 2), np.array([3, 0]), r(2, 2)],
        True,
    ),
    ("unfold", lambda m, a: a.unfold(1, 2, 2), [r(2, 5)], True),
    ("unfold_overlap", lambda m, a: a.unfold(0, 3, 1), [r(5, 2)], True),
    ("unfold_full", lambda m, a: a.unfold(-1, 4, 3), [r(2, 4)], True),
    (
        "masked_scatter",
        lambda m, a, b: a.masked_scatter(m.tensor([[True, False, True], [False, True, False]]), b),
        [r(2, 3), r(5)],
        True,
    ),
    (
        "index_put_accumulate",
        lambda m, a, b: a.index_put((m.tensor([0, 0, 2]), m.tensor([1, 1, 0])), b, accumulate=True),
        [r(3, 2), r(3)],
        True,
    ),
    ("index_put", lambda m, a, b: a.index_put((m.tensor([2, 0]),), b), [r(3, 2), r(2)], True),
    ("sum_to_size", lambda m, a: a.sum_to_size(1, 3), [r(4, 2, 3)], True),
    ("argwhere", lambda m, a: m.argwhere(a), [np.array([[0.0, 1.0], [2.0, 0.0]])], False),
    (
        "unique_consecutive",
        lambda m, a: m.unique_consecutive(a, return_inverse=True, return_counts=True),
        [np.array([1, 1, 2, 2, 3, 1, 1])],
        False,
    ),
    (
        "unique_consecutive_dim",
        lambda m, a: m.unique_consecutive(a, return_counts=True, dim=0),
        [np.array([[1, 2], [1, 2], [3, 4], [1, 2]])],
        False,
    ),
    ("isin", lambda m, a, b: m.isin(a, b), [ints(3, 4), np.array([1, 3])], False),
    ("isin_invert", lambda m, a, b: m.isin(a, b, invert=True), [ints(5), np.array([0])], False),
    ("bucketize", lambda m, a, b: m.bucketize(a, b), [r(3, 4), np.array([-1.0, 0.0, 1.0])], False),
    (
        "bucketize_right",
        lambda m, a, b: m.bucketize(a, b, right=True),
        [np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0])],
        False,
    ),
    ("unravel_index", lambda m, a: m.unravel_index(a, (3, 4)), [np.array([0, 5, 11, -1])], False),
    ("trapezoid", lambda m, a: m.trapezoid(a), [r(3, 5)], True),
    ("trapezoid_x", lambda m, a, x: m.trapezoid(a, x, dim=1), [r(2, 4), np.sort(r(4))], True),
    ("trapz_dx", lambda m, a: m.trapz(a, dx=0.5, dim=0), [r(4, 2)], True),
    (
        "cumulative_trapezoid",
        lambda m, a, x: m.cumulative_trapezoid(a, x),
        [r(2, 5), np.sort(r(5))],
        True,
    ),
    (
        "logcumsumexp",
        lambda m, a: m.logcumsumexp(a, 1),
        [np.array([[-1000.0, -1000.0, 0.0], [5.0, 1.0, 800.0]])],
        True,
    ),
    (
        "scatter_reduce_ties",
        lambda m, a, b: [
            a.scatter_reduce(0, m.tensor([0, 0, 1, 1]), b, r, include_self=inc)
            for r in ("sum", "mean", "amax", "amin")
            for inc in (True, False)
        ],
        [np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0, 5.0])],
        True,
    ),
    (
        "scatter_reduce_prod",
        lambda m, a, b: a.scatter_reduce(1, m.tensor([[0, 0, 2]]), b, "prod"),
        [r(1, 3), r(1, 3)],
        False,
    ),
    ("cosine_similarity", lambda m, a, b: m.cosine_similarity(a, b), [r(3, 4), r(3, 4)], True),
    ("pairwise_distance", lambda m, a, b: m.pairwise_distance(a, b), [r(3, 4), r(3, 4)], True),
]


@pytest.mark.parametrize("name, fn, inputs, grad", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(name, fn, inputs, grad):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(
            lambda *t: fn(cr, *t),
            lambda *t: fn(torch, *t),
            inputs,
            grad=grad in (True, "torch"),
            atol=1e-6,
            rtol=1e-6,
        )


IN_PLACE = [
    ("abs_", (), r(2, 3)),
    ("frac_", (), r(2, 3)),
    ("atan2_", (r(3),), r(2, 3)),
    ("logit_", (0.1,), r(2, 3, low=0.05, high=0.95)),
    ("clamp_min_", (0.0,), r(2, 3)),
    ("addcmul_", (r(3), r(2, 3)), r(2, 3)),
    ("index_fill_", (1, np.array([0, 2]), 5.0), r(2, 3)),
    ("cumsum_", (1,), r(2, 3)),
    ("tril_", (), r(3, 3)),
    ("sqrt_", (), r(2, 3, low=0.5)),
]


@pytest.mark.parametrize("name, args, data", IN_PLACE, ids=[c[0] for c in IN_PLACE])
def test_in_place_forms_match_torch(name, args, data):
    def run(lib):
        leaf = lib.tensor(data, requires_grad=True)
        x = leaf * 1.0
        same = getattr(x, name)(*[lib.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
        assert same is x
        x.sum().backward()
        return x.detach().numpy(), leaf.grad.numpy()

    for ours, theirs in zip(run(cr), run(torch), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def test_the_surface_torch_programs_reach():
    x = cr.ones(2, 3)
    assert (
        cr.is_complex(x) is False
        and x.is_signed()
        and not cr.tensor([1], dtype=cr.uint8).is_signed()
    )
    assert cr.is_nonzero(cr.tensor([2.0])) and x.is_same_size(cr.zeros(2, 3))
    with pytest.raises(RuntimeError, match="single truth value"):
        cr.is_nonzero(x)
    assert x.ndimension() == 2 and x.byte().dtype == cr.uint8 and x.short().dtype == cr.int16
    assert x.char().dtype == cr.int8 and cr.detach(x) is not x
    assert isinstance(x.dtype, cr.dtype) and cr.complex64 == np.complex64
    for a in (cr.bool, cr.uint8, cr.int32, cr.int64, cr.float32, cr.float64):
        for b in (cr.bool, cr.uint8, cr.int32, cr.int64, cr.float32, cr.float64):
            assert cr.can_cast(a, b) == torch.can_cast(_torch_dtype(a), _torch_dtype(b)), (a, b)
    cr.use_deterministic_algorithms(True)
    assert cr.are_deterministic_algorithms_enabled()
    cr.use_deterministic_algorithms(False)


def _torch_dtype(dtype):
    return getattr(torch, "bool" if dtype == np.bool_ else str(dtype))


def test_asarray_shares_memory_as_torch():
    a = np.zeros(3, np.float32)
    cr.asarray(a)[0] = 1.0
    assert a[0] == 1.0
    copied = cr.asarray(a, copy=True)
    copied[1] = 5.0
    assert a[1] == 0.0
    with pytest.raises(ValueError, match="copy=False"):
        cr.asarray([1.0, 2.0], copy=False)
    assert cr.asarray([1, 2]).dtype == torch.asarray([1, 2]).numpy().dtype
    assert cr.asarray(a, requires_grad=True).requires_grad


def test_num_threads_round_trip():
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1
    finally:
        cr.set_num_threads(before)
    assert cr.get_num_threads() == before
    with pytest.raises(ValueError):
        cr.set_num_threads(0)


def test_print_options_as_torch():
    # the same rounded numbers, elisions and notation as torch (torch pads decimals with zeros
    # and chainrule with spaces, as NumPy does)
    values = np.linspace(-1.5, 2.25, 8).astype(np.float32)
    try:
        for options in ({"precision": 2}, {"sci_mode": True}, {"threshold": 5, "edgeitems": 1}):
            cr.set_printoptions(**options)
            torch.set_printoptions(**options)
            ours, theirs = repr(cr.tensor(values)), repr(torch.tensor(values))
            assert _numbers(ours) == _numbers(theirs), (options, ours, theirs)
            assert ("..." in ours) == ("..." in theirs) and ("e" in ours) == ("e" in theirs)
    finally:
        cr.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    assert repr(cr.tensor([1.23456])) == "tensor([1.2346])"


def _numbers(text):
    return [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[+-]\d+)?", text)]


def test_in_place_comparison_writes_ones_and_zeros_as_torch():
    ours, theirs = cr.tensor([0.2, 0.7]), torch.tensor([0.2, 0.7])
    assert ours.lt_(0.5).tolist() == theirs.lt_(0.5).tolist() == [1.0, 0.0]


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: cr.tensor_split(cr.ones(3), 0), RuntimeError, "positive"),
        (lambda: cr.hsplit(cr.ones(2, 5), 2), RuntimeError, "not divisible"),
        (lambda: cr.vsplit(cr.ones(3), 3), RuntimeError, "at least 2 dims"),
        (lambda: cr.movedim(cr.ones(2, 3), (0, 1), 0), RuntimeError, "differ in length"),
        (lambda: cr.rot90(cr.ones(2, 2), 1, (0, 0)), RuntimeError, "must differ"),
        (lambda: cr.take(cr.ones(2, 2), cr.tensor([4])), IndexError, "out of range"),
        (lambda: cr.kthvalue(cr.ones(3), 4), IndexError, "out of range"),
        (lambda: cr.cross(cr.ones(2, 4), cr.ones(2, 4), dim=1), RuntimeError, "size 3"),
        (lambda: cr.tensordot(cr.ones(2, 3), cr.ones(4, 3), 1), RuntimeError, "differ"),
        (lambda: cr.cdist(cr.ones(2, 3), cr.ones(2, 4)), RuntimeError, "expected"),
        (lambda: cr.quantile(cr.ones(3), 1.5), RuntimeError, r"\[0, 1\]"),
        (lambda: cr.matrix_power(cr.ones(2, 3), 2), RuntimeError, "square"),
        (lambda: cr.broadcast_tensors(cr.ones(2), cr.ones(3)), ValueError, "broadcast"),
        (lambda: cr.addcdiv(cr.ones(2), cr.tensor([1]), cr.tensor([2])), RuntimeError, "Integer"),
    ],
)
def test_errors_name_the_op(call, error, message):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=message):
            call()


def test_cross_without_dim_takes_the_first_dim_of_size_3_and_warns_as_torch():
    a, b = r(3, 3), r(3, 3)
    with pytest.warns(UserWarning):
        ours = cr.cross(cr.tensor(a), cr.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.cross(torch.tensor(a), torch.tensor(b))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_sinc_and_logaddexp_gradients_at_their_special_points():
    for lib in (cr, torch):
        x = lib.tensor([0.0, 1e-30], requires_grad=True)
        lib.sinc(x).sum().backward()
        assert x.grad.numpy().tolist() == [0.0, 0.0], lib
    x = cr.tensor([math.log(2.0)] * 2, requires_grad=True)
    cr.logaddexp(x[0], x[1]).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.5])


def test_fill_diagonal_and_apply_and_map_as_torch():
    for shape, wrap in (((2, 3), False), ((7, 3), True), ((7, 3), False), ((3, 3, 3), False)):
        ours, theirs = cr.zeros(*shape), torch.zeros(*shape)
        ours.fill_diagonal_(2.0, wrap=wrap)
        theirs.fill_diagonal_(2.0, wrap=wrap)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    leaf = cr.ones(2, 2, requires_grad=True)
    x = leaf * 3.0
    x.fill_diagonal_(0.0)
    x.sum().backward()
    assert leaf.grad.tolist() == [[0.0, 3.0], [3.0, 0.0]]
    assert cr.tensor([1.0, 2.0]).apply_(lambda v: v + 1).tolist() == [2.0, 3.0]
    assert cr.tensor([1.0, 2.0]).map_(cr.tensor(3.0), lambda a, b: a * b).tolist() == [3.0, 6.0]
    with pytest.raises(RuntimeError, match="requires grad"):
        cr.ones(2, requires_grad=True).apply_(abs)


def test_tensor_attributes_of_real_tensors_as_torch():
    ours, theirs = cr.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    for name in ("H", "mH", "real"):
        np.testing.assert_array_equal(getattr(ours, name).numpy(), getattr(theirs, name).numpy())
    for name in ("adjoint", "conj", "resolve_conj", "resolve_neg", "is_conj", "is_neg"):
        a, b = getattr(ours, name)(), getattr(theirs, name)()
        assert (a == b) if isinstance(b, bool) else np.array_equal(a.numpy(), b.numpy())
    assert ours.nbytes == theirs.nbytes and ours.itemsize == theirs.itemsize
    assert ours[1:, 1:].storage_offset() == theirs[1:, 1:].storage_offset()
    assert ours[1].data_ptr() - ours.data_ptr() == theirs[1].data_ptr() - theirs.data_ptr()
    with pytest.raises(RuntimeError, match="non-complex"):
        getattr(ours, "imag")  # noqa: B009
    with pytest.raises(RuntimeError):
        getattr(theirs, "imag")  # noqa: B009
    assert ours.new(2, 3).shape == tuple(theirs.new(2, 3).shape)
    assert ours.new([1, 2]).tolist() == theirs.new([1, 2]).tolist()
    assert ours.pin_memory() is ours and not ours.is_pinned() and ours.share_memory_() is ours
    leaf = cr.ones(2, requires_grad=True)
    y = leaf * 2
    assert not y.retains_grad
    y.retain_grad()
    assert y.retains_grad
    for name in ("absolute", "arccos", "divide", "multiply", "subtract", "greater", "not_equal"):
        assert hasattr(ours, name) and hasattr(ours, name + "_"), name


def test_creation_and_settings_of_torch_programs():
    for name in (
        "hann_window",
        "hamming_window",
        "blackman_window",
        "bartlett_window",
        "kaiser_window",
    ):
        for n, periodic in ((0, True), (1, False), (5, True), (6, False)):
            ours, theirs = getattr(cr, name)(n, periodic), getattr(torch, name)(n, periodic)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6, err_msg=name)
            assert ours.dtype == theirs.numpy().dtype
    assert cr.scalar_tensor(3).dtype == torch.scalar_tensor(3).numpy().dtype
    assert cr.empty_strided((2, 3), (1, 2)).stride() == torch.empty_strided((2, 3), (1, 2)).stride()
    data = bytearray(b"\x01\x00\x02\x00")
    assert cr.frombuffer(data, dtype=cr.int16).tolist() == [1, 2]
    assert cr.broadcast_shapes((2, 1), (3,), 1) == tuple(torch.broadcast_shapes((2, 1), (3,), 1))
    with pytest.raises(RuntimeError, match="broadcast"):
        cr.broadcast_shapes((2,), (3,))
    assert cr.typename(cr.ones(1, dtype=cr.float64)) == torch.typename(
        torch.ones(1, dtype=torch.float64)
    )
    assert cr.typename(cr.nn.Linear(1, 1)) == "chainrule.nn.modules.linear.Linear"
    cr.set_float32_matmul_precision("medium")
    assert cr.get_float32_matmul_precision() == "medium"
    cr.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError):
        cr.set_float32_matmul_precision("low")
    try:
        cr.set_default_tensor_type(cr.DoubleTensor)
        assert cr.tensor([1.0]).dtype == cr.float64
    finally:
        cr.set_default_tensor_type("torch.FloatTensor")
    assert cr.tensor([1.0]).dtype == cr.float32
    assert cr.set_flush_denormal(True) is False and cr.get_num_interop_threads() >= 1


def test_functions_torch_has_at_the_top_level():
    x = cr.tensor([-1.0, 2.0])
    assert cr.relu_(x) is x and x.tolist() == [0.0, 2.0]
    assert cr.sigmoid_(cr.zeros(1)).tolist() == [0.5]
    images = cr.ones(1, 1, 4, 4)
    np.testing.assert_allclose(
        cr.conv2d(images, cr.ones(2, 1, 3, 3)).numpy(),
        torch.conv2d(torch.ones(1, 1, 4, 4), torch.ones(2, 1, 3, 3)).numpy(),
    )
    assert cr.layer_norm(cr.ones(2, 3), (3,)).shape == (2, 3)
    assert cr.max_pool2d(images, 2).shape == tuple(
        torch.max_pool2d(torch.ones(1, 1, 4, 4), 2).shape
    )
    with pytest.raises(AttributeError):
        getattr(cr, "no_such_function_")  # noqa: B009


@pytest.mark.parametrize(
    "fn, inputs, grad",
    [
        (lambda m, a, b: m.gcd(a, b), [np.array([12, -18, 0]), np.array([8, 12, 5])], False),
        (lambda m, a, b: m.lcm(a, b), [np.array([4, 6, 0]), np.array([6, -4, 3])], False),
        # (torch's ldexp gradient is 0 for a negative integer exponent: 2 ** -1 in integers)
        (lambda m, a, b: m.ldexp(a, b), [r(3), np.array([2, 1, 0])], True),
        (lambda m, a, b: m.ldexp(a, b), [r(3), np.array([2, -1, 0])], False),
        (lambda m, a: m.frexp(a), [np.array([8.0, 0.75, -3.0, 0.0])], False),
        (
            lambda m, a, b: m.nextafter(a, b),
            [np.array([1.0, 1.0, 0.0]), np.array([2.0, 0.0, -1.0])],
            False,
        ),
        (lambda m, a: m.renorm(a, 2, 0, 1.0), [np.array([[3.0, 4.0], [0.3, 0.4]])], True),
        (lambda m, a: a.renorm(1, 1, 0.5), [r(3, 2)], True),
        (lambda m, a, b: m.select_scatter(a, b, 1, -1), [r(2, 3, 4), r(2, 4)], True),
        (lambda m, a, b: a.slice_scatter(b, 1, 1, None, 2), [r(2, 5), r(2, 2)], True),
        (lambda m, a, b: m.diagonal_scatter(a, b), [r(3, 3), r(3)], True),
        (lambda m, a, b: m.diagonal_scatter(a, b, 1), [r(3, 4), r(3)], True),
        (lambda m, a, b: m.diagonal_scatter(a, b, 0, 0, 2), [r(3, 2, 3), r(2, 3)], True),
        (lambda m, a, b: m.diagonal_scatter(a, b, -1, 1, 2), [r(2, 3, 3), r(2, 2)], True),
        (lambda m, a, b: a.put(m.tensor([0, 5, -1]), b), [r(2, 3), r(3)], True),
        (lambda m, a, b: a.put(m.tensor([0, 0, 4]), b, accumulate=True), [r(2, 3), r(3)], True),
    ],
)
def test_bit_functions_and_functional_writes_match_torch(fn, inputs, grad):
    compare_with_torch(lambda *t: fn(cr, *t), lambda *t: fn(torch, *t), inputs, grad=grad)
