"""Loss functions with PyTorch's names, arguments and reductions ('mean', 'sum', 'none').

Unlike PyTorch, a regression loss whose input and target shapes differ raises (PyTorch only
warns and broadcasts, which silently computes the wrong loss for (N, 1) vs (N,)). A floating
target of another dtype is cast to the input's dtype, so float32 models stay float32.

Cross-entropy and NLL are one fused primitive each: every variant (class indices or
probabilities, class weights, ignore_index, label smoothing) is written as
``loss_i = -sum_c A_ic * log_softmax(x)_ic`` with coefficients ``A`` built from the target
(one entry per row for class indices), whose gradient w.r.t. the logits is
``softmax(x) * sum_c A_ic - A`` in one step. When the backward pass is recorded
(``create_graph=True``) it is rebuilt from chainrule ops, so second derivatives w.r.t. the
logits are exact; ``A`` counts as a constant there, except for probability targets.
"""

import numpy as np

from ...autograd.engine import record
from ...ops import dispatch as d
from ...ops._softmax import _log_softmax_array
from ...ops._util import as_tensor
from ...tensor import Tensor, to_array
from ._misc import softplus_array

_REDUCTIONS = ("mean", "sum", "none")


def _legacy_reduction(size_average, reduce, reduction):
    """Map PyTorch's deprecated ``size_average``/``reduce`` flags onto ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _check_reduction(name, reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(
            f"{name}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}"
        )


def _reduce(loss, reduction, name):
    _check_reduction(name, reduction)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _pair(name, input, target):
    """Input and target as Tensors of the same shape, the target in the input's float dtype."""
    input, target = as_tensor(input), as_tensor(target)
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: input shape {input.shape} and target shape {target.shape} "
            "differ; they must be equal (chainrule does not broadcast losses)"
        )
    if input.dtype.kind == "f" and target.dtype != input.dtype:
        target = target.to(input.dtype)
    return input, target


def _constant(value, dtype, name, what):
    """An optional weight-like argument as an array of ``dtype`` (no gradient flows into it)."""
    if value is None:
        return None
    array = np.asarray(value._data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{name}: {what} must be numeric, got {array.dtype}")
    return array.astype(dtype, copy=False)


# ----------------------------------------------------------------------------------------------
# regression losses
# ----------------------------------------------------------------------------------------------


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error, ``(input - target)^2`` reduced. Shapes: input and target equal.

    Example:
        >>> pred, target = cr.tensor([1.0, 2.0, 5.0]), cr.tensor([1.0, 0.0, 2.0])
        >>> F.mse_loss(pred, target)
        tensor(4.3333)
        >>> F.mse_loss(pred, target, reduction="sum")
        tensor(13.)
    """
    input, target = _pair("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, _legacy_reduction(size_average, reduce, reduction), "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean absolute error, ``|input - target|`` reduced (gradient 0 where they are equal).

    Example:
        >>> pred, target = cr.tensor([1.0, 2.0, 5.0]), cr.tensor([1.0, 0.0, 2.0])
        >>> F.l1_loss(pred, target)
        tensor(1.6667)
    """
    input, target = _pair("l1_loss", input, target)
    return _reduce(
        (input - target).abs(), _legacy_reduction(size_average, reduce, reduction), "l1_loss"
    )


def _huber_vjp(ctx, g):
    delta, scale = ctx.saved
    return (g * d.clip(ctx.input(0), -delta, delta) * scale,)


def _huber(diff, delta, scale, name):
    """Elementwise ``0.5 d^2`` inside |d| < delta, ``delta (|d| - delta / 2)`` outside, * scale."""
    d = diff._data
    ad = np.abs(d)
    out = np.where(ad < delta, 0.5 * d * d, delta * (ad - 0.5 * delta)) * d.dtype.type(scale)
    return record(out.astype(d.dtype, copy=False), (diff,), _huber_vjp, name, saved=(delta, scale))


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Quadratic for |input - target| < delta, linear (slope delta) beyond; reduced.

    Example:
        >>> pred, target = cr.tensor([1.0, 2.0, 5.0]), cr.tensor([1.0, 0.0, 2.0])
        >>> F.huber_loss(pred, target, reduction="none")
        tensor([0. , 1.5, 2.5])
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    input, target = _pair("huber_loss", input, target)
    return _reduce(_huber(input - target, delta, 1.0, "Huber"), reduction, "huber_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d^2 / beta`` for |d| < beta, ``|d| - beta / 2`` beyond (huber / beta); beta=0 is L1.

    Example:
        >>> pred, target = cr.tensor([1.0, 2.0, 5.0]), cr.tensor([1.0, 0.0, 2.0])
        >>> F.smooth_l1_loss(pred, target, reduction="none")
        tensor([0. , 1.5, 2.5])
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    input, target = _pair("smooth_l1_loss", input, target)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta == 0:
        return _reduce((input - target).abs(), reduction, "smooth_l1_loss")
    return _reduce(
        _huber(input - target, beta, 1.0 / beta, "SmoothL1"), reduction, "smooth_l1_loss"
    )


# ----------------------------------------------------------------------------------------------
# cross-entropy and NLL
# ----------------------------------------------------------------------------------------------


def _n_classes(shape):
    return shape[1] if len(shape) > 1 else shape[0]


def _to_rows(x):
    """(N, C, d1, ...) or (C,) -> (M, C) rows of class scores (array or Tensor)."""
    if x.ndim == 1:
        return x.reshape((1, x.shape[0]))
    if x.ndim == 2:
        return x  # already rows: the common case, no copy
    return d.moveaxis(x, 1, -1).reshape((-1, x.shape[1]))


def _from_rows(rows, shape):
    if len(shape) <= 2:
        return rows.reshape(shape)
    return d.moveaxis(rows.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)), -1, 1)


class _Coefficients:
    """The matrix ``A`` (M, C) of ``loss_i = -sum_c A_ic logp_ic``, stored cheaply.

    ``A = dense + index_weight_i * onehot(index_i)``: the sparse part covers class-index
    targets (one entry per row, no (M, C) matrix needed), the dense part label smoothing and
    probability targets. Either part may be absent.
    """

    def __init__(self, n_rows, dense=None, index=None, index_weight=None, valid=None):
        self.rows = np.arange(n_rows)
        self.dense, self.index, self.index_weight = dense, index, index_weight
        self.valid = valid  # bool (M,) of rows not ignored (ignore_index); None: all rows

    def row_dot(self, logp):
        """``sum_c A_ic logp_ic`` for each row (logp an array, or a Tensor when recorded)."""
        total = 0
        if self.dense is not None:
            total = (logp * self.dense).sum(axis=-1)
        if self.index is not None:
            total = total + logp[self.rows, self.index] * self.index_weight
        return total

    def row_sum(self):
        total = 0
        if self.dense is not None:
            total = self.dense.sum(axis=-1)
        if self.index is not None:
            total = total + self.index_weight
        return total

    def as_dense(self, shape, dtype):
        """``A`` as a full (M, C) matrix (for the NLL gradient and recorded backward passes)."""
        A = np.zeros(shape, dtype)
        if self.index is not None:
            A[self.rows, self.index] = self.index_weight
        return A if self.dense is None else A + self.dense

    def grad(self, p, gs):
        """d loss / d logits for rows of softmax ``p``: ``(p * sum_c A_ic - A) * gs``."""
        row_sum = self.row_sum()
        row_sum = row_sum.reshape((-1, 1)) if not isinstance(row_sum, int) else row_sum
        if d.is_recorded(p):  # recorded: dense; the plain path edits its own arrays in place
            return (p * row_sum - self.as_dense(p.shape, p.dtype)) * gs
        g = p * row_sum
        if self.dense is not None:
            g -= self.dense
        if self.index is not None:
            g[self.rows, self.index] -= self.index_weight
        g *= gs
        return g


def _index_coefficients(name, shape, target, weight, ignore_index, smoothing, dtype):
    """Coefficients and 'mean' divisor for class-index targets (see the module docstring)."""
    expected = () if len(shape) == 1 else (shape[0],) + tuple(shape[2:])
    if target.shape != expected:
        raise ValueError(
            f"{name}: target shape {target.shape} does not match input shape "
            f"{tuple(shape)}: class indices of shape {expected} were expected"
        )
    n_classes = _n_classes(shape)
    t = target.reshape(-1).astype(np.int64, copy=False)
    valid = t != ignore_index
    all_valid = bool(valid.all())
    checked = t if all_valid else t[valid]
    if checked.size and (checked.min() < 0 or checked.max() >= n_classes):
        bad = checked[(checked < 0) | (checked >= n_classes)][0]
        raise IndexError(f"{name}: target class {bad} is out of bounds for {n_classes} classes")
    safe = t if all_valid else np.where(valid, t, 0)
    if weight is None:
        target_weight = np.ones(t.size, dtype) if all_valid else valid.astype(dtype)
    else:
        target_weight = np.where(valid, weight[safe], 0).astype(dtype)
    dense = None
    if smoothing:
        w = np.ones(n_classes, dtype) if weight is None else weight
        dense = (valid[:, None] * w[None, :] * (smoothing / n_classes)).astype(dtype)
    coef = _Coefficients(
        t.size,
        dense,
        safe,
        target_weight * dtype.type(1 - smoothing),
        valid=None if all_valid else valid,
    )
    return coef, float(target_weight.sum())


def _prob_coefficients(target_rows, w, smoothing, n_classes):
    """``A`` for probability targets (array or Tensor rows): weighted, smoothed targets."""
    A = target_rows * (1 - smoothing) + smoothing / n_classes if smoothing else target_rows
    return A if w is None else A * w


def _per_row_grad(g, reduction, divisor, valid=None):
    """The upstream gradient as a factor for each of the M rows.

    With 'mean' over nothing (an empty batch, every target ignored, or all target weights 0)
    the divisor is 0: as in PyTorch, ignored rows still get a zero gradient and the others
    NaN (``0 * g / 0``, their weights being 0), instead of a ZeroDivisionError.
    """
    if reduction == "none":
        return g.reshape((-1, 1))
    if reduction == "sum":
        return g
    if divisor:
        return g * (1.0 / divisor)
    dtype = g.dtype if hasattr(g, "dtype") else np.float64
    factor = np.full((1 if valid is None else valid.size, 1), np.nan, dtype)
    if valid is not None:
        factor[~valid] = 0
    return g * factor


def _reduce_rows(per_row, reduction, divisor, target_shape):
    if reduction == "none":
        return per_row.reshape(target_shape)
    total = per_row.sum()
    if reduction == "sum":
        return total
    if not divisor:  # a mean over nothing (no rows, all ignored or weighted 0): NaN, as torch
        return per_row.dtype.type(np.nan)
    return total / per_row.dtype.type(divisor)


def _cross_entropy_vjp(ctx, g):
    coef, divisor, reduction, logp, w, smoothing = ctx.saved
    shape = ctx.inputs[0].shape
    # The plain backward reuses the forward's arrays; the recorded one recomputes everything from
    # the input Tensors, so that it is differentiable again (same formula).
    if d.is_recorded(g):
        logp = _to_rows(ctx.input(0)).log_softmax(-1)
        if len(ctx.inputs) > 1:
            coef = _Coefficients(
                logp.shape[0],
                _prob_coefficients(_to_rows(ctx.input(1)), w, smoothing, _n_classes(shape)),
            )
    with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 when 'mean' is over nothing
        gs = _per_row_grad(g, reduction, divisor, coef.valid)
        p = d.exp(logp)
        gx = _from_rows(coef.grad(p, gs), shape) if ctx.needs[0] else None
    if len(ctx.inputs) == 1 or not ctx.needs[1]:
        return (gx,) if len(ctx.inputs) == 1 else (gx, None)
    scale = (1 - smoothing) if w is None else w * (1 - smoothing)
    with np.errstate(invalid="ignore", over="ignore"):
        return gx, _from_rows(-(logp * scale) * gs, shape)


def _plain_cross_entropy_vjp(ctx, g):
    rows, t, p = ctx.saved
    if d.is_recorded(g):  # recorded backward: through the composed formula
        logp = ctx.input(0).log_softmax(-1)
        onehot = np.zeros(p.shape, p.dtype)
        onehot[rows, t] = 1
        return ((logp.exp() - onehot) * (g * (1.0 / len(t))),)
    grad = p.copy(order="K")  # keeps the class-major layout (no transposing copy)
    grad[rows, t] -= 1
    grad *= g * (1.0 / len(t))
    return (grad,)


_FEW_CLASSES = 32  # up to this many classes the fast path works class-major


def _plain_cross_entropy(input, target):
    """The common case, (N, C) logits and in-range class indices, mean over the batch: ~half
    the work of the general path. Returns None when the case does not apply."""
    x = input._data
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if x.ndim != 2 or x.dtype.kind != "f" or t.shape != x.shape[:1] or t.dtype.kind not in "iu":
        return None
    # one reduction checks both ends: a negative index read as unsigned is huge
    if not t.size or t.view(f"u{t.itemsize}").max() >= x.shape[1]:
        return None  # empty batch or bad index: the general path says why
    rows = np.arange(len(t))
    if x.shape[1] <= _FEW_CLASSES:
        # Class-major: NumPy reduces a row of 10 classes slowly (a (256, 10) row-wise max
        # takes 12 us), while over the first axis each reduction is one elementwise pass.
        # The probabilities come back as the (N, C) transposed view.
        shifted = np.ascontiguousarray(x.T)
        shifted -= shifted.max(axis=0)
        target_sum = shifted[t, rows].sum()
        p = np.exp(shifted, out=shifted)
        total = p.sum(axis=0)
        loss = (np.log(total).sum() - target_sum) / len(t)
        p /= total
        p = p.T
    else:
        shifted = x - x.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        total = p.sum(axis=1, keepdims=True)
        loss = (np.log(total).sum() - shifted[rows, t].sum()) / len(t)
        p /= total
    return record(
        np.asarray(loss, dtype=x.dtype),
        (input,),
        _plain_cross_entropy_vjp,
        "CrossEntropy",
        saved=(rows, t, p),
        save_inputs=False,
        save_output=False,
    )


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """Softmax cross-entropy of logits, fused (stable log-softmax forward, one-step backward).

    Shapes: input (N, C) or (N, C, d1, ...) or (C,); target class indices (N,) / (N, d1, ...)
    / () of an integer dtype, or class probabilities of the input's shape. ``weight`` (C,)
    rescales classes; 'mean' then divides by the summed weights of the (non-ignored) targets.
    ``ignore_index`` targets contribute nothing. ``label_smoothing`` mixes the target with the
    uniform distribution. No gradient flows into ``weight``.

    Example:
        >>> logits = cr.tensor([[0.0, 0.0], [0.0, 0.0]])
        >>> F.cross_entropy(logits, cr.tensor([0, 1]))
        tensor(0.6931)
        >>> per_place = cr.zeros(4, 5, dtype=cr.int64)  # (N, d1) class indices
        >>> F.cross_entropy(cr.zeros(4, 3, 5), per_place, reduction="none").shape
        (4, 5)
    """
    name = "cross_entropy"
    input = as_tensor(input)
    if (
        weight is None
        and not label_smoothing
        and reduction == "mean"
        and size_average is None
        and reduce is None
        and ignore_index < 0
    ):
        fast = _plain_cross_entropy(input, target)
        if fast is not None:
            return fast
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(name, reduction)
    if input.ndim == 0 or input.dtype.kind != "f":
        raise ValueError(
            f"{name}: input must be floating logits (C,) or (N, C, ...), got "
            f"shape {input.shape} dtype {input.dtype}"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    dtype, shape = input.dtype, input.shape
    n_classes = _n_classes(shape)
    w = _constant(weight, dtype, name, "weight")
    if w is not None and w.shape != (n_classes,):
        raise ValueError(f"{name}: weight must have shape ({n_classes},), got {w.shape}")
    target = target if isinstance(target, Tensor) else Tensor._wrap(to_array(target))
    logp = _log_softmax_array(_to_rows(input._data), -1)
    inputs = (input,)
    if target.dtype.kind == "f":
        if target.shape != shape:
            raise ValueError(
                f"{name}: probability target shape {target.shape} must equal the "
                f"input shape {shape} (or give integer class indices)"
            )
        target = target.to(dtype)
        coef = _Coefficients(
            logp.shape[0], _prob_coefficients(_to_rows(target._data), w, label_smoothing, n_classes)
        )
        divisor, target_shape = logp.shape[0], shape[:1] + shape[2:]
        inputs = (input, target)
    elif target.dtype.kind in "iu":
        coef, divisor = _index_coefficients(
            name, shape, target._data, w, ignore_index, label_smoothing, dtype
        )
        target_shape = target.shape
    else:
        raise TypeError(
            f"{name}: target must hold integer class indices or float "
            f"probabilities, got {target.dtype}"
        )
    out = _reduce_rows(-coef.row_dot(logp), reduction, divisor, target_shape)
    saved = (coef, divisor, reduction, logp, w, label_smoothing)
    return record(
        np.asarray(out, dtype=dtype), inputs, _cross_entropy_vjp, "CrossEntropy", saved=saved
    )


def _nll_vjp(ctx, g):
    coef, divisor, reduction = ctx.saved
    shape = ctx.inputs[0].shape
    M, C = coef.rows.size, _n_classes(shape)
    with np.errstate(invalid="ignore", over="ignore"):  # 'mean' over nothing: g / 0
        gs = _per_row_grad(g, reduction, divisor, coef.valid)
        if d.is_recorded(g):  # recorded backward: dense
            A = coef.as_dense((M, C), ctx.inputs[0].dtype)
            return (_from_rows(-(A * gs), shape),)
        # Only each row's target entry gets a gradient (as in PyTorch): the others stay exactly
        # 0 even when the 'mean' divides by 0, and ignored rows get 0.
        grad = np.zeros((M, C), ctx.inputs[0].dtype)
        keep = coef.rows if coef.valid is None else coef.rows[coef.valid]
        per_row = np.broadcast_to(-(coef.index_weight.reshape((-1, 1)) * gs), (M, 1))[:, 0]
        grad[keep, coef.index[keep]] = per_row[keep]
    return (_from_rows(grad, shape),)


def nll_loss(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
):
    """Negative log-likelihood of log-probabilities: ``-input[n, target[n]]`` (weighted).

    Shapes: input (N, C) or (N, C, d1, ...) or (C,); target int (N,) / (N, d1, ...) / ().
    'mean' divides by the summed weights of the non-ignored targets. Pair with log_softmax.

    Example:
        >>> logp = cr.log(cr.tensor([[0.25, 0.75], [0.5, 0.5]]))
        >>> F.nll_loss(logp, cr.tensor([1, 0]), reduction="none")
        tensor([0.2877, 0.6931])
    """
    name = "nll_loss"
    input = as_tensor(input)
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(name, reduction)
    if input.ndim == 0 or input.dtype.kind != "f":
        raise ValueError(
            f"{name}: input must be floating log-probabilities (C,) or (N, C, ...), "
            f"got shape {input.shape} dtype {input.dtype}"
        )
    target = np.asarray(target._data if isinstance(target, Tensor) else target)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: target must hold integer class indices, got {target.dtype}")
    n_classes = _n_classes(input.shape)
    w = _constant(weight, input.dtype, name, "weight")
    if w is not None and w.shape != (n_classes,):
        raise ValueError(f"{name}: weight must have shape ({n_classes},), got {w.shape}")
    coef, divisor = _index_coefficients(
        name, input.shape, target, w, ignore_index, 0.0, input.dtype
    )
    out = _reduce_rows(-coef.row_dot(_to_rows(input._data)), reduction, divisor, target.shape)
    return record(
        np.asarray(out, dtype=input.dtype),
        (input,),
        _nll_vjp,
        "NllLoss",
        saved=(coef, divisor, reduction),
        save_inputs=False,
    )


# ----------------------------------------------------------------------------------------------
# binary cross-entropy
# ----------------------------------------------------------------------------------------------


def _clamped_log(x):
    """log(x) floored at -100, as PyTorch's BCE does (so log(0) stays finite)."""
    with np.errstate(divide="ignore"):
        return d.clip(d.log(x), -100, None)


def _bce_vjp(ctx, g):
    w = ctx.saved
    x, y = ctx.input(0), ctx.input(1)
    g = g if w is None else g * w
    gx = gy = None
    if ctx.needs[0]:
        denom = x * (1 - x)
        denom = d.clip(denom, 1e-12, None)
        gx = g * (x - y) / denom
    if ctx.needs[1]:
        gy = g * (_clamped_log(1 - x) - _clamped_log(x))
    return gx, gy


def _check_probabilities(name, what, array):
    """Refuse values outside [0, 1], NaN included (PyTorch checks input and target alike)."""
    inside = (array >= 0) & (array <= 1)
    if not inside.all():
        bad = array[~inside][0]
        raise ValueError(
            f"{name}: all elements of {what} should be between 0 and 1 "
            f"(got {bad} at flat index {int(np.argmin(inside.reshape(-1)))})"
        )


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """``-w (y log x + (1 - y) log(1 - x))`` for probabilities x in [0, 1] (logs >= -100).

    Shapes: input and target equal; ``weight`` broadcastable to them. Prefer
    :func:`binary_cross_entropy_with_logits`, which is stable.

    Example:
        >>> F.binary_cross_entropy(cr.tensor([0.5, 0.5]), cr.tensor([1.0, 0.0]))
        tensor(0.6931)
    """
    name = "binary_cross_entropy"
    input, target = _pair(name, input, target)
    x, y = input._data, target._data
    _check_probabilities(name, "input", x)
    _check_probabilities(name, "target", y)
    w = _constant(weight, x.dtype, name, "weight")
    loss = -(y * _clamped_log(x) + (1 - y) * _clamped_log(1 - x))
    if w is not None:
        loss = loss * w
    if loss.shape != x.shape:
        raise ValueError(
            f"{name}: weight of shape {w.shape} does not broadcast to {x.shape} without growing it"
        )
    out = record(
        loss.astype(x.dtype, copy=False), (input, target), _bce_vjp, "BinaryCrossEntropy", saved=w
    )
    return _reduce(out, _legacy_reduction(size_average, reduce, reduction), name)


def _bce_logits_vjp(ctx, g):
    w, pos_weight = ctx.saved
    x, y = ctx.input(0), ctx.input(1)
    g = g if w is None else g * w
    gx = gy = None
    if ctx.needs[0]:
        # d/dx [(1 - y) x + lw softplus(-x)] = (1 - y) - lw sigmoid(-x)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        gx = g * ((1 - y) - lw * d.sigmoid(-x))
    if ctx.needs[1]:
        gy = -x if pos_weight is None else -x + (pos_weight - 1) * d.softplus(-x)
        gy = g * gy
    return gx, gy


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """Sigmoid + binary cross-entropy in one stable formula (finite for logits of +-1000).

    Elementwise ``(1 - y) x + lw * softplus(-x)`` with ``lw = 1 + (pos_weight - 1) y``, which
    for ``pos_weight=None`` is ``max(x, 0) - x y + log1p(exp(-|x|))``. Shapes: input and target
    equal; ``weight`` broadcastable to them, ``pos_weight`` (C,) broadcast over the last dim.

    Example:
        >>> F.binary_cross_entropy_with_logits(cr.tensor([0.0, 1000.0]), cr.tensor([1.0, 1.0]))
        tensor(0.3466)
    """
    name = "binary_cross_entropy_with_logits"
    input, target = _pair(name, input, target)
    x, y = input._data, target._data
    w = _constant(weight, x.dtype, name, "weight")
    pw = _constant(pos_weight, x.dtype, name, "pos_weight")
    lw = 1 if pw is None else 1 + (pw - 1) * y
    loss = (1 - y) * x + lw * softplus_array(-x)
    if w is not None:
        loss = loss * w
    if loss.shape != x.shape:
        raise ValueError(f"{name}: weight/pos_weight do not broadcast to the input shape {x.shape}")
    out = record(
        loss.astype(x.dtype, copy=False),
        (input, target),
        _bce_logits_vjp,
        "BinaryCrossEntropyWithLogits",
        saved=(w, pw),
    )
    return _reduce(out, _legacy_reduction(size_average, reduce, reduction), name)


# ----------------------------------------------------------------------------------------------
# KL divergence
# ----------------------------------------------------------------------------------------------


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: ``target (log target - input)``; input is log-probs.

    ``log_target=True`` takes the target as log-probabilities. Reductions: 'batchmean' (sum /
    batch size, the true KL divergence per sample), 'sum', 'mean' (over all elements), 'none'.

    Example:
        >>> log_q = cr.log(cr.tensor([[0.5, 0.5]]))
        >>> F.kl_div(log_q, cr.tensor([[0.5, 0.5]]), reduction="batchmean")
        tensor(0.)
    """
    name = "kl_div"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(name, reduction, _REDUCTIONS + ("batchmean",))
    input, target = _pair(name, input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target._data > 0
        # xlogy: 0 log 0 = 0, and no log of a non-positive number is ever evaluated.
        safe = d.where(positive, target, 1.0)
        loss = d.where(positive, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, name)
