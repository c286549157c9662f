"""``torch.linalg``'s functions of matrices, differentiable: norms (``vector_norm``,
``matrix_norm``, ``norm``, ``svdvals``), ``inv``, ``det``, ``slogdet`` and ``solve``. They are
exposed as ``chainrule.linalg.*`` (with ``matmul``, from ``linalg.py``), and ``det``,
``inverse``, ``slogdet`` and ``logdet`` also as ``chainrule.*``, as in torch.

Every function takes a batch of matrices ``(..., n, n)`` (or ``(..., m, n)`` for the norms),
computes with NumPy's LAPACK routines and records one node whose vjp is the standard formula:
``inv``: ``-Y^T g Y^T``; ``det``: ``g`` times the cofactor matrix ``det(A) A^-T``, computed by SVD
so that it holds for singular matrices too; ``logabsdet``: ``g A^-T``; ``solve``: ``gB = A^-T g``,
``gA = -gB X^T``; singular values: ``U diag(g) V^T``. Under ``create_graph=True`` the vjps of
``inv``, ``det``, ``slogdet`` and ``solve`` are recorded (second derivatives work); those of
singular values (``svdvals``, the nuclear and spectral norms) are not and refuse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from .._typing import Dims, DTypeLike, Grad, Grads, TensorLike
from ..autograd.engine import reads_no_input_values, record
from ..backend import xp as np
from ..tensor import Tensor
from . import dispatch as d
from ._util import as_tensor, normalize_dims
from .pointwise import abs as abs_
from .pointwise import to_dtype
from .reduction import amax, amin
from .reduction import norm as _pnorm
from .reduction import sum as sum_
from .shape import permute

if TYPE_CHECKING:
    from ..autograd.engine import Node


class LinAlgError(RuntimeError):
    """Raised when a matrix is singular (``inv``, ``solve``), as ``torch.linalg.LinAlgError``.

    Example:
        >>> try:
        ...     cr.linalg.inv(cr.zeros(2, 2))
        ... except cr.linalg.LinAlgError as e:
        ...     print("singular")
        singular
    """


def _float_input(x: TensorLike, op: str, square: bool = False) -> Tensor:
    t = as_tensor(x)
    if t.dtype.kind not in "fc":
        raise TypeError(
            f"linalg.{op}: expected a floating point tensor as input, got {t.dtype} "
            "(cast it with .float() or .double())"
        )
    if square and (t.ndim < 2 or t.shape[-1] != t.shape[-2]):
        raise ValueError(
            f"linalg.{op}: expected a batch of square matrices (..., n, n), got shape {t.shape}"
        )
    return t


def _mT(a: Grad) -> Grad:
    return a.swapaxes(-1, -2)


def _with_matrix_dims(g: Grad) -> Grad:
    """``g`` of shape ``batch`` as ``batch + (1, 1)``, to scale whole matrices."""
    return g.reshape(tuple(g.shape) + (1, 1))


# ---- inverse ----


def _inv_array(a: np.ndarray, op: str = "inv") -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise LinAlgError(
            f"linalg.{op}: the input matrix is singular (not invertible); its determinant is 0"
        ) from None


@reads_no_input_values
def _inv_vjp(ctx: Node, g: Grad) -> Grads:
    y_t = _mT(ctx.output())
    return (-(y_t @ g @ y_t),)


def inv(A: TensorLike) -> Tensor:
    """The inverse of each square matrix, as ``torch.linalg.inv``; raises :class:`LinAlgError`
    for a singular one.

    Shapes: (..., n, n) -> (..., n, n).

    Example:
        >>> cr.linalg.inv(cr.tensor([[2.0, 0.0], [0.0, 4.0]]))
        tensor([[0.5 , 0.  ],
                [0.  , 0.25]])
    """
    a = _float_input(A, "inv", square=True)
    return record(_inv_array(a._data), (a,), _inv_vjp, "LinalgInv", save_inputs=False)


def _inv_any(a: Grad) -> Grad:
    return inv(a) if isinstance(a, Tensor) else _inv_array(a)


# ---- determinants ----


def _cofactor(a: np.ndarray) -> np.ndarray:
    """The cofactor matrix (the derivative of det) of each matrix, singular ones included:
    with ``A = U S V^T`` it is ``det(U) det(V) U adj(S) V^T``, ``adj(S)_ii`` the product of the
    other singular values."""
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.where(np.eye(n, dtype=bool), 1, s[..., None, :]).prod(axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return (u * (sign[..., None] * others)[..., None, :]) @ vh


def _cofactor_vjp(ctx: Node, g: Grad) -> Grads:
    # C = det(A) A^-T, so <G, dC> = det (<G, A^-T> tr(A^-1 dA) - <G, A^-T dA^T A^-T>): the
    # second derivative of det, for invertible matrices (a singular one raises LinAlgError)
    a = ctx.input(0)
    inv_t = _mT(_inv_any(a))
    det_a = det(a) if isinstance(a, Tensor) else np.linalg.det(a)
    s = (g * inv_t).sum((-2, -1))
    return (_with_matrix_dims(det_a) * (_with_matrix_dims(s) * inv_t - inv_t @ _mT(g) @ inv_t),)


def _cofactor_recorded(a: Tensor) -> Tensor:
    return record(_cofactor(a._data), (a,), _cofactor_vjp, "LinalgCofactor", save_output=False)


def _det_vjp(ctx: Node, g: Grad) -> Grads:
    a = ctx.input(0)
    # the same cofactor matrix on both paths; recorded, it is differentiable again
    cofactor = _cofactor_recorded(a) if isinstance(a, Tensor) else _cofactor(a)
    return (_with_matrix_dims(g) * cofactor,)


def det(A: TensorLike) -> Tensor:
    """The determinant of each square matrix, as ``torch.linalg.det`` (``torch.det``).

    Shapes: (..., n, n) -> (...).

    Example:
        >>> cr.linalg.det(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor(-2.)
    """
    a = _float_input(A, "det", square=True)
    return record(np.linalg.det(a._data), (a,), _det_vjp, "LinalgDet", save_output=False)


class SlogdetResult(NamedTuple):
    """``slogdet``'s result, as ``torch.return_types.slogdet``: ``sign`` (-1, 0 or 1; no
    gradient) and ``logabsdet`` (``log |det A|``).

    Example:
        >>> cr.linalg.slogdet(cr.tensor([[-2.0, 0.0], [0.0, 1.0]])).sign
        tensor(-1.)
    """

    sign: Tensor
    logabsdet: Tensor


def _logabsdet_vjp(ctx: Node, g: Grad) -> Grads:
    return (_with_matrix_dims(g) * _mT(_inv_any(ctx.input(0))),)


def slogdet(A: TensorLike) -> SlogdetResult:
    """``(sign, logabsdet)`` of each square matrix: ``det A = sign * exp(logabsdet)`` without
    overflow, as ``torch.linalg.slogdet``. The gradient flows through ``logabsdet``.

    Shapes: (..., n, n) -> two of (...).

    Example:
        >>> sign, logabsdet = cr.linalg.slogdet(cr.tensor([[2.0, 0.0], [0.0, -3.0]]))
        >>> sign, logabsdet.exp()
        (tensor(-1.), tensor(6.))
    """
    a = _float_input(A, "slogdet", square=True)
    sign, logabsdet = np.linalg.slogdet(a._data)
    out = record(logabsdet, (a,), _logabsdet_vjp, "LinalgSlogdet", save_output=False)
    return SlogdetResult(Tensor._wrap(np.asarray(sign)), out)


def logdet(A: TensorLike) -> Tensor:
    """``log(det A)`` of each square matrix: NaN where the determinant is negative, -inf where
    it is 0, as ``torch.logdet``.

    Shapes: (..., n, n) -> (...).

    Example:
        >>> cr.logdet(cr.tensor([[2.0, 0.0], [0.0, 3.0]])).exp()
        tensor(6.)
    """
    sign, logabsdet = slogdet(A)
    with np.errstate(divide="ignore", invalid="ignore"):
        return logabsdet + np.log(sign._data)


# ---- solve ----


def _solve_any(a: Grad, b: Grad) -> Grad:
    return solve(a, b) if isinstance(a, Tensor) else _solve_array(a, b)


def _solve_array(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise LinAlgError(
            "linalg.solve: the input matrix A is singular; the system has no unique solution"
        ) from None


def _solve_vjp(ctx: Node, g: Grad) -> Grads:
    a, x = ctx.input(0), ctx.output()
    g_b = _solve_any(_mT(a), g)
    g_a = d.sum_to(-(g_b @ _mT(x)), ctx._inputs[0].shape) if ctx.needs[0] else None
    return g_a, (d.sum_to(g_b, ctx._inputs[1].shape) if ctx.needs[1] else None)


def solve(A: TensorLike, B: TensorLike, *, left: bool = True) -> Tensor:
    """``X`` with ``A X = B`` (``X A = B`` when ``left=False``), as ``torch.linalg.solve``.

    ``B`` is a batch of vectors when it is 1-d or has ``A``'s shape less its last dim, else a
    batch of matrices; batch dims broadcast.

    Shapes: A (..., n, n); B (..., n, k) -> (..., n, k), or B (..., n) -> (..., n).

    Example:
        >>> A = cr.tensor([[2.0, 0.0], [0.0, 4.0]])
        >>> cr.linalg.solve(A, cr.tensor([2.0, 2.0]))
        tensor([1. , 0.5])
    """
    a, b = _float_input(A, "solve", square=True), _float_input(B, "solve")
    if a.dtype != b.dtype:
        raise TypeError(f"linalg.solve: A and B must have the same dtype, got {a.dtype}, {b.dtype}")
    if not left:
        return solve(a.mT, b.mT).mT
    if b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1]):
        return solve(a, b.unsqueeze(-1)).squeeze(-1)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(
            f"linalg.solve: B of shape {b.shape} does not fit A of shape {a.shape} "
            "(expected (..., n, k) or (..., n))"
        )
    out = _solve_array(a._data, b._data)
    return record(out, (a, b), _solve_vjp, "LinalgSolve", save_inputs=(True, False))


# ---- norms ----


def _svdvals_vjp(ctx: Node, g: Grad) -> Grads:
    if isinstance(g, Tensor):
        raise NotImplementedError(
            "linalg.svdvals (and matrix_norm's 'nuc', 2, -2): the backward cannot be recorded "
            "(create_graph=True); use the Frobenius norm or compute the penalty without it"
        )
    u, vh = ctx.saved
    return ((u * g[..., None, :]) @ vh,)


def svdvals(A: TensorLike) -> Tensor:
    """Singular values of each matrix, largest first, as ``torch.linalg.svdvals``; the gradient
    is ``U diag(g) V^T`` (well defined for distinct singular values).

    Shapes: (..., m, n) -> (..., min(m, n)).

    Example:
        >>> cr.linalg.svdvals(cr.tensor([[3.0, 0.0], [0.0, -4.0]]))
        tensor([4., 3.])
    """
    a = _float_input(A, "svdvals")
    if a.ndim < 2:
        raise ValueError(f"linalg.svdvals: expected a batch of matrices, got shape {a.shape}")
    u, s, vh = np.linalg.svd(a._data, full_matrices=False)
    return record(s, (a,), _svdvals_vjp, "LinalgSvdvals", saved=(u, vh), save_inputs=False)


def vector_norm(
    x: TensorLike,
    ord: float = 2,
    dim: Dims = None,
    keepdim: bool = False,
    *,
    dtype: DTypeLike | None = None,
) -> Tensor:
    """``(sum |x|^ord)^(1/ord)`` over ``dim`` (all elements when None), as
    ``torch.linalg.vector_norm``: ``ord`` a number, ``inf`` (max ``|x|``), ``-inf`` (min) or 0
    (the count of non-zeros, no gradient). ``dtype`` casts ``x`` first.

    Shapes: ``x`` with ``dim`` removed (kept as 1 with ``keepdim``).

    Example:
        >>> cr.linalg.vector_norm(cr.tensor([3.0, -4.0]))
        tensor(5.)
        >>> cr.linalg.vector_norm(cr.tensor([[1.0, -2.0], [3.0, 0.0]]), ord=1, dim=1)
        tensor([3., 3.])
    """
    t = _float_input(x, "vector_norm")
    if dtype is not None:
        t = to_dtype(t, dtype)
    if ord == 0:
        dims = None if dim is None else normalize_dims(dim, t.ndim, "vector_norm")
        count = (t._data != 0).sum(axis=dims, keepdims=keepdim)
        return Tensor._wrap(np.asarray(count, dtype=t.dtype))
    if dim is None and keepdim:  # reduce everything, keep every dim as 1
        dim = tuple(range(t.ndim))
    return _pnorm(t, p=ord, dim=dim, keepdim=keepdim)


def _matrix_dims(dim: Sequence[int], ndim: int, op: str) -> tuple[int, int]:
    if len(dim) != 2:
        raise ValueError(f"linalg.{op}: dim must be a pair of dims, got {dim}")
    rows, cols = (int(i) % max(ndim, 1) for i in dim)
    if ndim < 2 or rows == cols:
        raise ValueError(f"linalg.{op}: dims {tuple(dim)} are not two distinct dims of {ndim}")
    return rows, cols


def matrix_norm(
    A: TensorLike,
    ord: float | str = "fro",
    dim: tuple[int, int] = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: DTypeLike | None = None,
) -> Tensor:
    """A norm of each matrix (over the two dims ``dim``), as ``torch.linalg.matrix_norm``:
    ``'fro'`` (Frobenius), ``'nuc'`` (sum of singular values), 2 / -2 (largest / smallest
    singular value), 1 / -1 (max / min column sum of ``|A|``), ``inf`` / ``-inf`` (max / min row
    sum).

    Shapes: (..., m, n) -> (...), or with ``keepdim`` (..., 1, 1).

    Example:
        >>> A = cr.tensor([[1.0, -2.0], [3.0, 4.0]])
        >>> cr.linalg.matrix_norm(A, ord=1)
        tensor(6.)
        >>> cr.linalg.matrix_norm(A).pow(2)
        tensor(30.)
    """
    a = _float_input(A, "matrix_norm")
    if dtype is not None:
        a = to_dtype(a, dtype)
    rows, cols = _matrix_dims(dim, a.ndim, "matrix_norm")
    if ord == "fro":
        return _pnorm(a, p=2, dim=(rows, cols), keepdim=keepdim)
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(a.ndim) if i not in (rows, cols)]
        s = svdvals(permute(a, (*rest, rows, cols)))
        out = sum_(s, -1) if ord == "nuc" else (amax(s, -1) if ord == 2 else amin(s, -1))
        return out.unsqueeze(min(rows, cols)).unsqueeze(max(rows, cols)) if keepdim else out
    if ord in (1, -1, np.inf, -np.inf):
        summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
        pick = amax if ord in (1, np.inf) else amin
        out = pick(sum_(abs_(a), summed, keepdim=True), over, keepdim=True)
        return out if keepdim else out.squeeze((rows, cols))
    raise ValueError(f"linalg.matrix_norm: unsupported ord {ord!r}")


def norm(
    A: TensorLike,
    ord: float | str | None = None,
    dim: Dims = None,
    keepdim: bool = False,
    *,
    dtype: DTypeLike | None = None,
) -> Tensor:
    """A vector or matrix norm, as ``torch.linalg.norm``: with ``dim`` an int (or one dim) a
    :func:`vector_norm`, with a pair a :func:`matrix_norm`; with ``dim=None`` the 2-norm of all
    elements when ``ord`` is None, else a vector norm of a 1-d or matrix norm of a 2-d input.

    Shapes: the input with ``dim`` removed (kept as 1 with ``keepdim``).

    Example:
        >>> A = cr.tensor([[3.0, 0.0], [0.0, 4.0]])
        >>> cr.linalg.norm(A)
        tensor(5.)
        >>> cr.linalg.norm(A, ord=2)
        tensor(4.)
        >>> cr.linalg.norm(A, dim=1)
        tensor([3., 4.])
    """
    t = _float_input(A, "norm")
    if isinstance(dim, int) or (isinstance(dim, (tuple, list)) and len(dim) == 1):
        return vector_norm(t, 2 if ord is None else ord, dim, keepdim, dtype=dtype)  # type: ignore[arg-type]
    if dim is not None:
        return matrix_norm(t, "fro" if ord is None else ord, tuple(dim), keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(t, 2, None, keepdim, dtype=dtype)
    if t.ndim == 1:
        return vector_norm(t, ord, None, keepdim, dtype=dtype)  # type: ignore[arg-type]
    if t.ndim == 2:
        return matrix_norm(t, ord, (-2, -1), keepdim, dtype=dtype)
    raise ValueError(
        f"linalg.norm: with ord={ord!r} and dim=None the input must be 1-d or 2-d, got shape "
        f"{t.shape}; give dim"
    )
