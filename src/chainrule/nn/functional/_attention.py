"""``scaled_dot_product_attention``: softmax(Q K^T * scale + mask) V, as torch's."""

import math

import numpy as np

from ...ops import softmax, where
from ...tensor import Tensor
from ._misc import dropout


def scaled_dot_product_attention(
    query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False
):
    """Attention of ``query`` (..., L, E) over ``key`` (..., S, E) and ``value`` (..., S, Ev)
    -> (..., L, Ev), built from differentiable ops.

    ``attn_mask`` (broadcastable to (..., L, S)): bool, True where attention is *allowed*
    (the opposite of ``nn.MultiheadAttention``'s masks, as in torch), or float, added to the
    scores. ``is_causal=True`` allows position i to see keys 0..i only (no ``attn_mask`` then).
    ``scale`` defaults to 1 / sqrt(E). ``dropout_p`` drops attention weights (always, as torch:
    pass ``dropout_p=p if self.training else 0``). ``enable_gqa`` lets H_q be a multiple of the
    key/value heads (dim -3), which are then repeated.

    Example:
        >>> q, k, v = cr.ones(2, 4, 8), cr.ones(2, 6, 8), cr.ones(2, 6, 3)
        >>> F.scaled_dot_product_attention(q, k, v).shape
        (2, 4, 3)
        >>> q, k, v = cr.ones(1, 2, 8), cr.ones(1, 2, 8), cr.ones(1, 2, 1)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True)
        tensor([[[1.],
                 [1.]]])
    """
    L, S = query.shape[-2], key.shape[-2]
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
        )
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key, value = (_repeat_heads(t, groups) for t in (key, value))
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = Tensor._wrap(np.tril(np.ones((L, S), dtype=bool)))
    if attn_mask is not None:
        if not isinstance(attn_mask, Tensor):
            attn_mask = Tensor._wrap(np.asarray(attn_mask))
        if attn_mask.dtype == np.bool_:
            attn_mask = Tensor._wrap(np.where(attn_mask._data, 0.0, -np.inf).astype(scores.dtype))
        scores = scores + attn_mask
    weights = safe_softmax(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return weights @ value


def _repeat_heads(t, groups):
    """(..., Hkv, S, D) -> (..., Hkv * groups, S, D), each head repeated ``groups`` times."""
    shape = tuple(t.shape)
    lead, (h, s, d) = shape[:-3], shape[-3:]
    return t.unsqueeze(-3).expand(*lead, h, groups, s, d).reshape(*lead, h * groups, s, d)


def safe_softmax(scores):
    """Softmax over the last dim, except that a row of only -inf gives zeros (not NaN) and passes
    no gradient: torch's rule for attention in which a query may see no key."""
    dead = np.all(scores._data == -np.inf, axis=-1, keepdims=True)
    if not dead.any():
        return softmax(scores, -1)
    dead = Tensor._wrap(dead)
    return where(dead, 0.0, softmax(where(dead, 0.0, scores), -1))
