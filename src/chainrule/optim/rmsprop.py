"""RMSprop, as in ``torch.optim.RMSprop``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, effective_grad, implementation_flags


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    Per step (``v``, ``g_avg``, ``b`` start at zero)::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        g_avg = alpha * g_avg + (1 - alpha) * g          # centered only
        d = sqrt(v - g_avg**2) if centered else sqrt(v)
        b = momentum * b + g / (d + eps)                 # if momentum > 0
        p = p - lr * b            (or p - lr * g / (d + eps) without momentum)

    State per parameter: ``step``, ``square_avg``, plus ``momentum_buffer`` (momentum > 0) and
    ``grad_avg`` (centered).

    Example::

        opt = cr.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.99, centered=True)
    """

    _flat = True  # elementwise update: one call runs on a whole group (see Optimizer)
    _flat_scratch = 1 << 62  # a scratch as large as any piece

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        defaults.update(
            implementation_flags(
                type(self).__name__,
                dict(capturable=capturable, foreach=foreach, differentiable=differentiable),
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
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        g = effective_grad(param, grad, group)
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        square_avg = state["square_avg"]

        tmp = np.multiply(g, g, out=scratch)  # the only scratch array of the step
        tmp *= 1.0 - alpha
        square_avg *= alpha
        square_avg += tmp
        if group["centered"]:
            grad_avg = state["grad_avg"]
            np.subtract(g, grad_avg, out=tmp)
            tmp *= 1.0 - alpha
            grad_avg += tmp  # lerp towards g, like torch's
            np.multiply(grad_avg, grad_avg, out=tmp)
            np.subtract(square_avg, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(square_avg, out=tmp)
        tmp += eps
        np.divide(g, tmp, out=tmp)
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += tmp
            np.multiply(buf, lr, out=tmp)
        else:
            tmp *= lr
        param -= tmp
