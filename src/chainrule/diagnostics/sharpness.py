"""The loss surface's sharpness λ_max: the largest eigenvalue of the Hessian of the loss with
respect to the parameters, by power iteration on Hessian-vector products.

Plain gradient descent with step size lr is unstable along a direction of curvature λ when
lr > 2/λ (Cohen et al. 2021, "edge of stability"); ``stable_lr = 2 / λ_max`` is that limit.
For Adam-like optimizers the step is lr * P^-1 * m with P = diag(sqrt(v_hat) + eps), so the
sharpness that matters is λ_max(P^-1 H) (Cohen et al. 2022, "adaptive edge of stability"),
computed as λ_max(P^-1/2 H P^-1/2), which has the same eigenvalues; ``preconditioned`` says
which one was measured.

Each Hessian-vector product is one double backward (``cr.grad(..., create_graph=True)``):
``iters`` of them cost about ``2 * iters`` training steps, so measure on demand or every N
steps.

Example::

    out = cr.diagnostics.sharpness(model, F.cross_entropy, (x, y))
    out["lambda_max"], out["stable_lr"]      # λ_max and 2 / λ_max
"""

import contextlib
import math

import numpy as np

from .. import random as crrandom
from ..autograd import grad
from ..tensor import Tensor


def sharpness(model, loss_fn, batch, optimizer=None, iters=20, tol=1e-3, seed=0):
    """λ_max of the loss Hessian on ``batch`` by power iteration; returns a dict.

    Args:
        model: a ``cr.nn.Module``.
        loss_fn: ``loss_fn(model(x), y)`` -> scalar Tensor.
        batch: ``(x, y)``.
        optimizer: optional; gives the learning rate (``lr``) and, for Adam-like optimizers
            (state ``exp_avg_sq``), the preconditioned sharpness.
        iters: at most this many Hessian-vector products; stops when λ changes < ``tol``.

    Returns:
        ``{'lambda_max', 'stable_lr', 'lr', 'iterations', 'preconditioned'}``; ``stable_lr``
        = 2 / λ_max (inf when λ_max <= 0). The parameters' ``.grad``, the buffers (BatchNorm's
        running statistics) and the global random state (dropout) are left as they were, so a
        measurement in the middle of training leaves the run's trajectory unchanged.
    """
    x, y = batch
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("sharpness: the model has no parameter that requires grad")
    with _untouched(model):
        return _power_iteration(model, loss_fn, x, y, params, optimizer, iters, tol, seed)


def _power_iteration(model, loss_fn, x, y, params, optimizer, iters, tol, seed):
    loss = loss_fn(model(x), y)
    if not isinstance(loss, Tensor) or loss._data.size != 1:
        raise ValueError("sharpness: loss_fn must return a scalar Tensor")
    grads = grad(loss, params, create_graph=True)
    scale = _preconditioner(optimizer, params)
    rng = np.random.default_rng(seed)
    v = [rng.standard_normal(p.shape) for p in params]
    v = _normalised(v)
    lam, it = 0.0, 0
    for it in range(1, iters + 1):
        w = [vi / s if s is not None else vi for vi, s in zip(v, scale, strict=True)]  # P^-1/2 v
        dot = sum(
            (g * Tensor._wrap(wi.astype(g._data.dtype))).sum()
            for g, wi in zip(grads, w, strict=True)
        )
        hv = grad(dot, params, retain_graph=True, allow_unused=True)
        hv = [
            np.zeros(p.shape) if h is None else h._data.astype(np.float64)
            for h, p in zip(hv, params, strict=True)
        ]
        hv = [
            h / s if s is not None else h for h, s in zip(hv, scale, strict=True)
        ]  # P^-1/2 H P^-1/2 v
        new = float(sum(float((a * b).sum()) for a, b in zip(hv, v, strict=True)))
        v = _normalised(hv)
        if v is None:
            lam = 0.0
            break
        if it > 1 and abs(new - lam) <= tol * max(abs(new), 1e-12):
            lam = new
            break
        lam = new
    lr = None
    if optimizer is not None and optimizer.param_groups:
        lr = optimizer.param_groups[0].get("lr")
    return {
        "lambda_max": lam,
        "stable_lr": 2 / lam if lam > 0 else math.inf,
        "lr": lr,
        "iterations": it,
        "preconditioned": any(s is not None for s in scale),
    }


@contextlib.contextmanager
def _untouched(model):
    """Put the model's buffers and the global random state back afterwards: the measuring
    forward in train mode would update BatchNorm's running statistics and draw dropout masks."""
    rng = crrandom.get_rng_state()
    saved = [
        (m, k, b, None if b is None else b._data.copy())
        for m in model.modules()
        for k, b in getattr(m, "_buffers", {}).items()
    ]
    try:
        yield
    finally:
        for m, k, b, data in saved:
            m._buffers[k] = b
            if b is not None:
                if b._data.shape == data.shape:
                    b._data[...] = data
                else:
                    b._data = data
        crrandom.set_rng_state(rng)


@contextlib.contextmanager
def hooks_paused(monitor):
    """Take a gradient monitor's hooks off for a measurement of its own (a sharpness
    forward and backward must not count as the training step it is recording)."""
    handles = list(getattr(monitor, "_handles", None) or [])
    if handles:
        monitor._detach()
    try:
        yield
    finally:
        if handles and not getattr(monitor, "_closed", False):
            monitor._attach()


def _normalised(vs):
    norm = math.sqrt(sum(float((v * v).sum()) for v in vs))
    if not norm or not math.isfinite(norm):
        return None
    return [v / norm for v in vs]


def _preconditioner(optimizer, params):
    """sqrt(sqrt(v_hat) + eps) per weight for Adam-like optimizers (their state has
    ``exp_avg_sq``), else None per parameter."""
    out = [None] * len(params)
    if optimizer is None or not hasattr(optimizer, "_indexed_params"):
        return out
    where = {id(p): k for k, p in enumerate(params)}
    for index, group, p in optimizer._indexed_params():
        st = optimizer.state.get(index) or {}
        v = st.get("exp_avg_sq")
        if v is None or id(p) not in where:
            continue
        beta2 = (group.get("betas") or (0.9, 0.999))[1]
        v_hat = np.asarray(v, dtype=np.float64) / max(1 - beta2 ** max(st.get("step", 1), 1), 1e-12)
        out[where[id(p)]] = np.sqrt(np.sqrt(v_hat) + group.get("eps", 1e-8))
    return out
