"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_``, ``get_total_norm`` and
``clip_grads_with_norm_``, as in ``torch.nn.utils``.

Both replace ``p.grad._data`` with a new array instead of writing into it: a gradient array may be
shared with other tensors, which must not change.
"""

import math
import warnings

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


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of the norms of ``tensors`` (a Tensor or an iterable of them), as a
    0-d tensor: the norm of all their entries taken together (``inf``: the largest |entry|).

    ``error_if_nonfinite`` raises ``RuntimeError`` for a NaN or infinite total; ``foreach`` is
    accepted for PyTorch compatibility and ignored.

    Example:
        >>> cr.nn.utils.get_total_norm([cr.tensor([3.0]), cr.tensor([4.0])])
        tensor(5.)
    """
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = [t for t in tensors if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(np.zeros((), dtype=np.float32))
    norms = np.stack([_vector_norm(t._data, norm_type) for t in tensors])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` "
            "is non-finite, so it cannot be clipped. To scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    return Tensor._wrap(np.asarray(total))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` by ``max_norm / (total_norm + 1e-6)`` when that is
    below 1; ``total_norm`` is given (e.g. by :func:`get_total_norm`, maybe reduced across
    processes first). Returns None.

    Example:
        >>> w = cr.nn.Parameter(cr.zeros(2))
        >>> w.grad = cr.tensor([3.0, 4.0])
        >>> cr.nn.utils.clip_grads_with_norm_([w], 1.0, cr.nn.utils.get_total_norm([w.grad]))
        >>> w.grad
        tensor([0.6, 0.8])
    """
    total = total_norm._data if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    clip_coef = float(max_norm) / (total + 1e-6)  # computed in the gradients' dtype, like torch
    if not clip_coef >= 1.0:  # also scales when NaN, as torch does
        with np.errstate(invalid="ignore"):  # inf * 0 -> NaN is torch's result too
            for g in _grads(parameters):
                g._data = g._data * np.asarray(clip_coef).astype(g._data.dtype)


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
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of :func:`clip_grad_norm_` (warns with a FutureWarning, as torch does)."""
    warnings.warn(
        "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
        "`torch.nn.utils.clip_grad_norm_`.",
        FutureWarning,
        stacklevel=2,
    )
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient entry into ``[-clip_value, clip_value]``.

    Example::

        cr.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    clip_value = float(clip_value)
    for g in _grads(parameters):
        g._data = np.clip(g._data, -clip_value, clip_value)
