"""Stochastic gradient descent, with optional (Nesterov) momentum, as in ``torch.optim.SGD``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import (
    _CHUNK,
    Optimizer,
    add_scaled_,
    check_nonnegative,
    effective_grad,
    implementation_flags,
)


class SGD(Optimizer):
    """Stochastic gradient descent.

    Per step (``g`` = gradient, ``b`` = momentum buffer, first step ``b = g``)::

        g = g + weight_decay * p            # if weight_decay
        b = momentum * b + (1 - dampening) * g
        g = g + momentum * b if nesterov else b
        p = p - lr * g                      # p + lr * g with maximize=True

    State per parameter: ``momentum_buffer`` (only when ``momentum != 0``).

    Example::

        opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    """

    _flat = True  # elementwise update: one call runs on a whole group (see Optimizer)
    _flat_scratch = _CHUNK

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_nonnegative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        defaults.update(
            implementation_flags(
                "SGD", dict(foreach=foreach, differentiable=differentiable, fused=fused)
            )
        )
        super().__init__(params, defaults)

    def _update(
        self,
        param: np.ndarray,
        grad: np.ndarray,
        state: dict[str, Any],
        group: dict[str, Any],
        scratch: np.ndarray | None = None,
    ) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        g = effective_grad(param, grad, group)
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= momentum
                dampening = float(group["dampening"])
                buf += g if dampening == 0 else g * (1.0 - dampening)
            g = g + momentum * buf if group["nesterov"] else buf
        add_scaled_(param, -lr, g, scratch)
