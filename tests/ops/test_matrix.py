"""torch.linalg's functions of matrices (ops/matrix.py, exposed as chainrule.linalg): values,
dtypes and gradients against PyTorch, batched, and gradcheck in float64."""

import numpy as np
import pytest
from helpers import check_grad, compare_with_torch

import chainrule as cr

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4, 4))  # a batch of (well-conditioned enough) square matrices
M = RNG.standard_normal((2, 3, 5))  # a batch of rectangular ones
INF = float("inf")


def both(name):
    return getattr(cr.linalg, name), getattr(torch.linalg, name)


@pytest.mark.parametrize("name", ["inv", "det"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inv_det_match_torch(name, dtype):
    ours, theirs = both(name)
    tol = 1e-10 if dtype == np.float64 else 1e-3
    compare_with_torch(ours, theirs, [A.astype(dtype)], atol=tol, rtol=tol)
    compare_with_torch(ours, theirs, [A[0].astype(dtype)], atol=tol, rtol=tol)


def test_slogdet_and_logdet_match_torch():
    compare_with_torch(cr.linalg.slogdet, torch.linalg.slogdet, [A], atol=1e-10)
    spd = A @ A.transpose(0, 2, 1) + np.eye(4)  # positive determinant: logdet is finite
    compare_with_torch(cr.logdet, torch.logdet, [spd], atol=1e-10)
    assert np.isnan(cr.logdet(cr.tensor([[-1.0]])).item())
    assert cr.logdet(cr.zeros(2, 2)).item() == -INF


def test_det_gradient_of_singular_matrices_matches_torch():
    rank2 = A[0][:, :2] @ A[1][:2, :]  # rank 2 of 4: every cofactor is 0
    rank3 = A[0][:, :3] @ A[1][:3, :]  # rank 3: the cofactor matrix is not 0
    compare_with_torch(cr.linalg.det, torch.linalg.det, [np.stack([rank2, rank3])], atol=1e-10)


def test_det_gradient_of_a_rank_deficient_matrix_is_its_cofactor_matrix():
    # torch returns zeros here; the derivative of det (a polynomial) is the cofactor matrix
    a = np.array([[-1.0, 0.5, 0.0], [-0.5, 0.0, 0.0], [0.0, -0.5, 0.0]])
    x = cr.tensor(a, requires_grad=True)
    cr.linalg.det(x).backward()
    expected = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            expected[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    np.testing.assert_allclose(x.grad.numpy(), expected, atol=1e-12)
    assert np.abs(expected).max() == 0.5
    check_grad(cr.linalg.det, a)


@pytest.mark.parametrize(
    "b_shape",
    [(3, 4, 2), (4,), (3, 4), (2, 3, 4, 1)],
    ids=["matrices", "vector", "batch-of-vectors", "broadcast"],
)
def test_solve_matches_torch(b_shape):
    B = RNG.standard_normal(b_shape)
    compare_with_torch(cr.linalg.solve, torch.linalg.solve, [A, B], atol=1e-10)


def test_solve_right_side_and_single_matrix():
    B = RNG.standard_normal((3, 2, 4))
    compare_with_torch(
        lambda a, b: cr.linalg.solve(a, b, left=False),
        lambda a, b: torch.linalg.solve(a, b, left=False),
        [A, B],
        atol=1e-10,
    )
    compare_with_torch(cr.linalg.solve, torch.linalg.solve, [A[0], A[1]], atol=1e-10)


@pytest.mark.parametrize("ord", [2, 1, INF, -INF, 3, 0.5, -1, 0])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), ((0, 2), True), (None, True)])
def test_vector_norm_matches_torch(ord, dim, keepdim):
    compare_with_torch(
        lambda x: cr.linalg.vector_norm(x, ord, dim, keepdim),
        lambda x: torch.linalg.vector_norm(x, ord, dim, keepdim),
        [M],
        atol=1e-10,
    )


def test_vector_norm_ties_and_zeros_share_the_gradient_as_torch():
    x = np.array([3.0, -3.0, 1.0, 0.0])
    for ord in (INF, 2, 1):
        compare_with_torch(
            lambda t, o=ord: cr.linalg.vector_norm(t, o),
            lambda t, o=ord: torch.linalg.vector_norm(t, o),
            [x],
        )
    compare_with_torch(cr.linalg.vector_norm, torch.linalg.vector_norm, [np.zeros(3)])
    out = cr.linalg.vector_norm(cr.tensor([1, 2], dtype=cr.float32), dtype=cr.float64)
    assert out.dtype == cr.float64


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, INF, -INF])
@pytest.mark.parametrize("dim, keepdim", [((-2, -1), False), ((0, 2), True), ((2, 1), False)])
def test_matrix_norm_matches_torch(ord, dim, keepdim):
    compare_with_torch(
        lambda x: cr.linalg.matrix_norm(x, ord, dim, keepdim),
        lambda x: torch.linalg.matrix_norm(x, ord, dim, keepdim),
        [M],
        atol=1e-10,
    )


@pytest.mark.parametrize(
    "x, kwargs",
    [
        (M, {}),
        (M, {"dim": 1}),
        (M, {"dim": (0, 2)}),
        (M, {"ord": 3, "dim": (1,)}),
        (M[0], {"ord": "nuc"}),
        (M[0], {"ord": -INF}),
        (M[0, 0], {"ord": 1}),
        (M, {"ord": INF, "dim": (1, 2), "keepdim": True}),
    ],
)
def test_norm_matches_torch(x, kwargs):
    compare_with_torch(
        lambda t: cr.linalg.norm(t, **kwargs),
        lambda t: torch.linalg.norm(t, **kwargs),
        [x],
        atol=1e-10,
    )


def test_svdvals_matches_torch():
    compare_with_torch(cr.linalg.svdvals, torch.linalg.svdvals, [M], atol=1e-10)


@pytest.mark.parametrize(
    "fn, arrays, gradgrad",
    [
        (cr.linalg.inv, (A,), True),
        (cr.linalg.det, (A,), True),
        (lambda a: cr.linalg.slogdet(a).logabsdet, (A,), True),
        (cr.linalg.solve, (A, RNG.standard_normal((3, 4, 2))), True),
        (cr.linalg.solve, (A, RNG.standard_normal((3, 4))), True),  # batch of vectors
        (lambda m: cr.linalg.matrix_norm(m, "nuc"), (M,), False),
        (lambda m: cr.linalg.matrix_norm(m, 2), (M,), False),
        (lambda m: cr.linalg.matrix_norm(m, 1), (M,), True),
        (lambda m: cr.linalg.vector_norm(m, 3, dim=(0, 2)), (M,), True),
        (lambda m: cr.linalg.norm(m), (M,), True),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_gradcheck(fn, arrays, gradgrad):
    check_grad(fn, *arrays, gradgrad=gradgrad)


def test_tensor_methods_and_top_level_names_as_torch():
    x = cr.tensor(A)
    t = torch.tensor(A)
    np.testing.assert_allclose(x.det().numpy(), t.det().numpy(), rtol=1e-10)
    np.testing.assert_allclose(cr.inverse(x).numpy(), torch.inverse(t).numpy(), rtol=1e-10)
    np.testing.assert_allclose(x.inverse().numpy(), t.inverse().numpy(), rtol=1e-10)
    sign, logabsdet = cr.slogdet(x)
    np.testing.assert_allclose(sign.numpy(), torch.slogdet(t).sign.numpy())
    np.testing.assert_allclose(x.slogdet().logabsdet.numpy(), t.slogdet().logabsdet.numpy())


def test_errors():
    with pytest.raises(cr.linalg.LinAlgError, match="singular"):
        cr.linalg.inv(cr.ones(2, 2))
    with pytest.raises(RuntimeError, match="singular"):  # LinAlgError is a RuntimeError
        cr.linalg.solve(cr.ones(2, 2), cr.ones(2))
    with pytest.raises(TypeError, match="floating point"):
        cr.linalg.det(cr.tensor([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="square"):
        cr.linalg.inv(cr.ones(2, 3))
    with pytest.raises(ValueError, match="does not fit"):
        cr.linalg.solve(cr.eye(4), cr.ones(2, 4))  # torch refuses this shape too
    with pytest.raises(TypeError, match="same dtype"):
        cr.linalg.solve(cr.eye(2), cr.ones(2, dtype=cr.float64))
    x = cr.tensor(M, requires_grad=True)
    (g,) = cr.autograd.grad(cr.linalg.matrix_norm(x, "nuc").sum(), x, create_graph=False)
    assert g.shape == M.shape
    with pytest.raises(NotImplementedError, match="create_graph"):
        cr.autograd.grad(cr.linalg.matrix_norm(x, "nuc").sum(), x, create_graph=True)
