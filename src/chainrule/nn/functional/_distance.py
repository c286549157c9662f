"""Similarities and distances between rows: ``cosine_similarity``, ``pairwise_distance``,
``normalize``. Built from recorded ops; formulas as PyTorch's (eps placement included)."""

import numpy as np

from ...ops import where
from ...ops._util import as_tensor
from ...tensor import Tensor


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1 * x2, dim) / (max(|x1|, eps) * max(|x2|, eps))``, broadcasting ``x1`` and ``x2``.

    Shapes: (N, D) and (N, D) -> (N,) for ``dim=1``.

    Example:
        >>> a, b = cr.tensor([[1.0, 0.0], [1.0, 1.0]]), cr.tensor([[2.0, 0.0], [-1.0, -1.0]])
        >>> F.cosine_similarity(a, b)
        tensor([ 1., -1.])
    """
    a, b = as_tensor(x1), as_tensor(x2)
    na = (a * a).sum(dim=dim, keepdim=True).sqrt().clamp(min=eps)
    nb = (b * b).sum(dim=dim, keepdim=True).sqrt().clamp(min=eps)
    return ((a / na) * (b / nb)).sum(dim=dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dim: (N, D), (N, D) -> (N,).

    Example:
        >>> F.pairwise_distance(cr.tensor([[0.0, 0.0]]), cr.tensor([[3.0, 4.0]]), eps=0.0)
        tensor([5.])
    """
    a, b = as_tensor(x1), as_tensor(x2)
    diff = a - b + eps
    return diff.norm(p, dim=-1, keepdim=keepdim)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``x / max(||x||_p, eps)`` along ``dim``.

    Example:
        >>> F.normalize(cr.tensor([[3.0, 4.0]]))
        tensor([[0.6, 0.8]])
    """
    x = as_tensor(input)
    return x / x.norm(p, dim=dim, keepdim=True).clamp(min=eps)


def pdist(input, p=2.0):
    """The p-norm distance between every pair of rows i < j of (N, M) input, in the order of
    ``triu_indices(N, 1)``: (N, M) -> (N * (N - 1) / 2,). A zero distance gets a zero gradient.

    Example:
        >>> F.pdist(cr.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]]))
        tensor([5.    , 1.    , 4.2426])
    """
    x = as_tensor(input)
    if x.ndim != 2:
        raise ValueError(f"pdist: expected a 2-d input (N, M), got shape {tuple(x.shape)}")
    if p < 0:
        raise ValueError(f"pdist: only supports non-negative p values, got {p}")
    i, j = np.triu_indices(x.shape[0], 1)
    diff = x[i] - x[j]
    # equal rows: the norm's derivative at 0 is undefined (NaN for p != 1, 2); torch's is 0
    same = Tensor._wrap(~diff.detach().numpy().any(axis=-1, keepdims=True))
    safe = where(same, diff * 0 + 1, diff)
    if 0 < p < 1:  # |0| ** (p - 1) is infinite: as torch, a zero coordinate gets no gradient
        a = safe.abs()
        zero = Tensor._wrap(a.detach().numpy() == 0)
        dist = where(zero, a * 0, where(zero, a * 0 + 1, a) ** p).sum(-1) ** (1.0 / p)
    else:
        dist = safe.norm(p, dim=-1)
    return where(same.squeeze(-1), dist * 0, dist)
