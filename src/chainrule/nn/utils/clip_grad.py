"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``, as in ``torch.nn.utils``.

Both replace ``p.grad._data`` with a new array instead of writing into it: a gradient array may be
shared with other tensors, which must not change.
"""

import math

import numpy as np

from ...tensor import Tensor


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _vector_norm(array, norm_type):
    """``norm_type``-norm of all entries, in the array's dtype (like ``torch.linalg.vector_norm``)."""
    flat = np.abs(array.ravel())
    if flat.size == 0:
        return flat.dtype.type(0)
    if norm_type == math.inf:
        return flat.max()
    if norm_type == -math.inf:
        return flat.min()
    if norm_type == 0:
        return flat.dtype.type(np.count_nonzero(flat))
    if norm_type == 2:
        return np.sqrt(np.dot(flat, flat))
    return np.sum(flat**norm_type) ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of the per-parameter gradient norms (``inf`` gives
    the largest absolute entry). When ``max_norm / (total + 1e-6) < 1`` every gradient is
    multiplied by that coefficient. Parameters without ``.grad`` are ignored.

    Args:
        parameters: a Tensor or an iterable of Tensors.
        max_norm (float): the largest allowed total norm.
        norm_type (float): order of the norm; ``float('inf')`` for the max norm.
        error_if_nonfinite (bool): raise ``RuntimeError`` if the total norm is NaN or infinite.
        foreach: accepted for PyTorch compatibility; ignored.

    Returns:
        Tensor: the total norm *before* clipping, a 0-d tensor (compare it with ``max_norm`` to
        see whether clipping acted).

    Example::

        loss.backward()
        total = cr.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if not grads:
        return Tensor._wrap(np.zeros((), dtype=np.float32))
    norms = np.stack([_vector_norm(g._data, norm_type) for g in grads])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` "
            "is non-finite, so it cannot be clipped. To scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    clip_coef = max_norm / (total + 1e-6)  # computed in the gradients' dtype, like torch
    if not clip_coef >= 1.0:  # also scales when NaN, as torch does
        with np.errstate(invalid="ignore"):  # inf * 0 -> NaN is torch's result too
            for g in grads:
                g._data = g._data * clip_coef.astype(g._data.dtype)
    return Tensor._wrap(np.asarray(total))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry into ``[-clip_value, clip_value]``.

    Example::

        cr.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g._data = np.clip(g._data, -clip_value, clip_value)
