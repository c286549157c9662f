"""Matrix products: ``matmul`` for every rank NumPy accepts, ``mm``, ``bmm``, ``einsum``, and the
fused ``linear``. This module is also ``chainrule.linalg``: it re-exports ``torch.linalg``'s
functions of matrices from ``matrix.py`` (``inv``, ``det``, ``solve``, the norms...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._typing import Grad, Grads, TensorLike
from ..autograd.engine import record
from ..autograd.grad_mode import _MODE, PLAIN_NO_GRAD
from ..backend import gemm
from ..backend import xp as np
from . import dispatch as d
from ._util import as_tensor, shape_error, sum_to
from .matrix import (
    LinAlgError,
    SlogdetResult,
    det,
    inv,
    matrix_norm,
    norm,
    slogdet,
    solve,
    svdvals,
    vector_norm,
)

# What chainrule.linalg offers (torch.linalg's names), besides the products.
__all__ = [
    "LinAlgError",
    "SlogdetResult",
    "bmm",
    "cross",
    "det",
    "dot",
    "einsum",
    "inv",
    "linear",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "mm",
    "norm",
    "outer",
    "slogdet",
    "solve",
    "svdvals",
    "vector_norm",
]

if TYPE_CHECKING:
    from ..autograd.engine import Node
    from ..tensor import Tensor


def _mT(a: Grad) -> Grad:
    return a.swapaxes(-1, -2)


def _matmul_vjp(ctx: Node, g: Grad) -> Grads:
    a, b = ctx.input(0), ctx.input(1)
    sa, sb = ctx._inputs[0].shape, ctx._inputs[1].shape
    # Promote vectors to matrices as matmul does, so one pair of formulas covers every rank.
    a2 = a.reshape((1,) + sa) if len(sa) == 1 else a
    b2 = b.reshape(sb + (1,)) if len(sb) == 1 else b
    g2 = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if len(sa) == 1 else g
    g2 = g2.reshape(g2.shape + (1,)) if len(sb) == 1 else g2
    ga = sum_to(g2 @ _mT(b2), a2.shape).reshape(sa) if ctx.needs[0] else None
    gb = sum_to(_mT(a2) @ g2, b2.shape).reshape(sb) if ctx.needs[1] else None
    return ga, gb


def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    """Matrix product with NumPy's rules: (n,k)@(k,m), batched (..., n, k)@(..., k, m), vectors.

    Example:
        >>> cr.matmul(cr.tensor([[1.0, 2.0]]), cr.tensor([[3.0], [4.0]]))
        tensor([[11.]])
        >>> (cr.ones(5, 2, 3) @ cr.ones(3, 4)).shape
        (5, 2, 4)
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got {a.shape} and {b.shape}")
    try:
        out = a._data @ b._data
    except ValueError:
        raise shape_error(
            "matmul",
            a.shape,
            b.shape,
            f": inner dims {a.shape[-1]} and {b.shape[-2 if b.ndim > 1 else 0]} differ",
        ) from None
    return record(out, (a, b), _matmul_vjp, "Matmul", save_output=False)


def _linear_vjp(ctx: Node, g: Grad) -> Grads:
    x, w = ctx.input(0), ctx.input(1)
    g2 = g.reshape((-1, g.shape[-1]))
    if ctx.create_graph:  # Tensors: recorded products
        gx = (g2 @ w).reshape(ctx._inputs[0].shape) if ctx.needs[0] else None
        gw = _mT(g2) @ x.reshape((-1, x.shape[-1])) if ctx.needs[1] else None
    else:  # arrays: each product on the BLAS thread count that suits its size
        gx = gemm(g2, w).reshape(ctx._inputs[0].shape) if ctx.needs[0] else None
        gw = gemm(_mT(g2), x.reshape((-1, x.shape[-1]))) if ctx.needs[1] else None
    gb = g2.sum(axis=0) if len(ctx.needs) > 2 and ctx.needs[2] else None
    return gx, gw, gb


def linear(x: TensorLike, weight: TensorLike, bias: TensorLike | None = None) -> Tensor:
    """``x @ weight.T + bias``, fused: one GEMM forward, two GEMMs and a sum backward.

    Shapes: x (..., in), weight (out, in), bias (out,) -> (..., out).

    Example:
        >>> x, w, b = cr.ones(8, 3), cr.ones(2, 3), cr.tensor([0.0, 1.0])
        >>> y = cr.linear(x, w, b)
        >>> y.shape
        (8, 2)
        >>> y[0]
        tensor([3., 4.])
    """
    x, weight = as_tensor(x), as_tensor(weight)
    xs, ws = x._data.shape, weight._data.shape
    if not xs or len(ws) != 2 or xs[-1] != ws[1]:
        raise shape_error("linear", xs, ws, " (expected input (..., in) and weight (out, in))")
    if len(xs) == 2 and ws[0] >= 64 and _MODE.get() is PLAIN_NO_GRAD:
        # Inference: OpenBLAS computes (W @ x.T).T 5-25 % faster than x @ W.T at these sizes.
        # The result is a transposed (F-ordered) view; elementwise ops and the next layer keep
        # that layout cheaply. Training keeps the row-major product: its backward and the
        # elementwise ops between layers are faster on row-major arrays.
        out = gemm(weight._data, x._data.T).T
    else:
        out = gemm(x._data, weight._data.T)
    if bias is None:
        return record(out, (x, weight), _linear_vjp, "Linear", save_output=False)
    bias = as_tensor(bias)
    if bias._data.shape != (ws[0],):
        raise shape_error("linear", ws, bias._data.shape, " (bias must be (out,))")
    out += bias._data
    return record(out, (x, weight, bias), _linear_vjp, "Linear", save_output=False)


def outer(a: TensorLike, b: TensorLike) -> Tensor:
    """Outer product of two 1-d tensors: ``out[i, j] = a[i] * b[j]``.

    Shapes: (n,), (m,) -> (n, m).

    Example:
        >>> cr.outer(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 10.0, 100.0]))
        tensor([[  1.,  10., 100.],
                [  2.,  20., 200.]])
    """
    a, b = as_tensor(a), as_tensor(b)
    return matmul(a.reshape(-1, 1), b.reshape(1, -1))


def dot(a: TensorLike, b: TensorLike) -> Tensor:
    """Inner product of two 1-d tensors of the same length, a 0-d tensor.

    Shapes: (n,), (n,) -> ().

    Example:
        >>> cr.dot(cr.tensor([1.0, 2.0, 3.0]), cr.tensor([4.0, 5.0, 6.0]))
        tensor(32.)
    """
    return matmul(as_tensor(a), as_tensor(b))


def mm(a: TensorLike, b: TensorLike) -> Tensor:
    """Matrix product of two matrices: (n, k) @ (k, m) -> (n, m) (no broadcasting, as torch.mm).

    Example:
        >>> cr.mm(cr.eye(2), cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([[1., 2.],
                [3., 4.]])
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: both operands must be matrices, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def bmm(a: TensorLike, b: TensorLike) -> Tensor:
    """Batched matrix product: (B, n, k) @ (B, k, m) -> (B, n, m) (no broadcasting, as torch.bmm).

    Example:
        >>> cr.bmm(cr.ones(4, 2, 3), cr.ones(4, 3, 5)).shape
        (4, 2, 5)
    """
    a, b = as_tensor(a), as_tensor(b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"bmm: expected (B, n, k) and (B, k, m) with the same B, got {a.shape} and {b.shape}"
        )
    return matmul(a, b)


# ---- einsum ----

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_array(spec: str, *arrays: np.ndarray) -> np.ndarray:
    return np.einsum(spec, *arrays, optimize=len(arrays) > 2)


def _parse_einsum(equation: str, tensors: list[Tensor]) -> tuple[list[str], str]:
    """Operand subscripts and output subscript with ``...`` spelt out as letters; operands whose
    ``...`` dims broadcast are expanded first (so every letter has one size)."""
    eq = equation.replace(" ", "")
    lhs, rhs = eq.split("->") if "->" in eq else (eq, None)
    subs = lhs.split(",")
    if len(subs) != len(tensors):
        raise ValueError(f"einsum: {equation!r} names {len(subs)} operands, {len(tensors)} given")
    ell = ""
    if "..." in eq:
        free = [c for c in _LETTERS if c not in eq]
        counts = [
            t.ndim - (len(s) - 3) if "..." in s else 0 for s, t in zip(subs, tensors, strict=True)
        ]
        ell = "".join(free[: max(counts)])
        shapes = [
            t.shape[s.index("...") : s.index("...") + n] if "..." in s else ()
            for s, t, n in zip(subs, tensors, counts, strict=True)
        ]
        full = np.broadcast_shapes(*shapes)
        for i, (s, t, n) in enumerate(zip(subs, tensors, counts, strict=True)):
            if "..." not in s:
                continue
            at = s.index("...")
            subs[i] = s.replace("...", ell[len(ell) - n :] if n else "")
            if shapes[i] != full[len(full) - n :] or n < len(full):
                lead = t.shape[:at] + (1,) * (len(full) - n) + t.shape[at:]
                target = t.shape[:at] + full + t.shape[at + n :]
                tensors[i] = t.reshape(lead).expand(*target)
                subs[i] = subs[i][:at] + ell + subs[i][at + n :]
    for s, t in zip(subs, tensors, strict=True):
        if len(s) != t.ndim:
            raise ValueError(f"einsum: subscripts {s!r} do not match an operand of shape {t.shape}")
    if rhs is None:
        once = sorted(c for c in set("".join(subs)) if "".join(subs).count(c) == 1 and c not in ell)
        rhs = ell + "".join(once)
    else:
        rhs = rhs.replace("...", ell)
    return subs, rhs


def _einsum_vjp(ctx: Node, g: Grad) -> Grads:
    subs, rhs = ctx.saved
    sizes = {
        c: n
        for s, t in zip(subs, ctx._inputs, strict=True)
        for c, n in zip(s, t.shape, strict=True)
    }
    free = iter(c for c in _LETTERS if c not in sizes)
    grads = []
    for i, need in enumerate(ctx.needs):
        if not need:
            grads.append(None)
            continue
        specs, operands = [rhs], [g]
        for j, s in enumerate(subs):
            if j != i:
                specs.append(s)
                operands.append(ctx.input(j))
        # A letter repeated in this operand (a diagonal) gets a fresh letter tied by an identity.
        target, seen = "", set()
        for c in subs[i]:
            if c in seen:
                new = next(free)
                specs.append(c + new)
                operands.append(np.eye(sizes[c], dtype=g.dtype))
                c = new
            seen.add(c)
            target += c
        # A letter only this operand has was summed away: its gradient is constant along it.
        for c in target:
            if c not in "".join(specs):
                specs.append(c)
                operands.append(np.ones(sizes.get(c, 0), dtype=g.dtype))
        spec = ",".join(specs) + "->" + target
        grads.append(d.einsum(spec, *operands))
    return tuple(grads)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, as torch.einsum: ``einsum("bij,bjk->bik", a, b)`` is a batched matmul.

    Supports implicit output (``"ij,jk"``), ``...`` broadcasting, repeated subscripts (diagonals
    and traces) and any number of operands; differentiable in every operand.

    Example:
        >>> a, b = cr.ones(2, 3, 4), cr.ones(2, 4, 5)
        >>> cr.einsum("bij,bjk->bik", a, b).shape
        (2, 3, 5)
        >>> cr.einsum("ii->", cr.eye(3))
        tensor(3.)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = operands[0]
    tensors = [as_tensor(t) for t in operands]
    subs, rhs = _parse_einsum(equation, tensors)
    spec = ",".join(subs) + "->" + rhs
    try:
        out = _einsum_array(spec, *(t._data for t in tensors))
    except ValueError as e:
        raise ValueError(
            f"einsum: {equation!r} with shapes {[t.shape for t in tensors]}: {e}"
        ) from None
    return record(
        np.asarray(out), tuple(tensors), _einsum_vjp, "Einsum", saved=(subs, rhs), save_output=False
    )


def cross(input: TensorLike, other: TensorLike, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (default the last), broadcast (as
    ``torch.linalg.cross``).

    Example:
        >>> cr.linalg.cross(cr.tensor([0.0, 1.0, 0.0]), cr.tensor([0.0, 0.0, 1.0]))
        tensor([1., 0., 0.])
    """
    from .composite import cross as cross_along  # (composite builds on this module)

    return cross_along(input, other, dim)


def matrix_power(A: TensorLike, n: int) -> Tensor:
    """``A`` multiplied by itself ``n`` times (see ``cr.matrix_power``).

    Example:
        >>> cr.linalg.matrix_power(cr.eye(2) * 2, 2)
        tensor([[4., 0.],
                [0., 4.]])
    """
    from .composite import matrix_power as power

    return power(A, n)
