"""Similarities and distances between rows: ``cosine_similarity``, ``pairwise_distance``,
``normalize``. Built from recorded ops; formulas as PyTorch's (eps placement included)."""

from ...ops import pdist as ops_pdist
from ...ops._util import as_tensor


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


pdist = ops_pdist  # one op, one place: ops/composite.py (torch.pdist is the same)
