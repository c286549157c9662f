"""Adam and AdamW (decoupled weight decay), as in ``torch.optim.Adam`` / ``torch.optim.AdamW``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, effective_grad, implementation_flags


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient and of its square.

    Per step ``t`` (``m``, ``v`` start at zero)::

        g = g + weight_decay * p                 # L2 penalty (Adam)
        p = p * (1 - lr * weight_decay)          # decoupled instead (AdamW)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                    # amsgrad: use v_max below instead of v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq`` (and ``max_exp_avg_sq`` with
    ``amsgrad``).

    Example::

        opt = cr.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999))
    """

    _flat = True  # elementwise update: one call runs on a whole group (see Optimizer)
    _flat_scratch = 1 << 62  # a scratch as large as any piece

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_nonnegative(lr=lr, eps=eps, weight_decay=weight_decay)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} (must be in [0, 1))")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        defaults.update(
            implementation_flags(
                type(self).__name__,
                dict(
                    foreach=foreach,
                    capturable=capturable,
                    differentiable=differentiable,
                    fused=fused,
                ),
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
        lr, eps, weight_decay = (
            float(group["lr"]),
            float(group["eps"]),
            float(group["weight_decay"]),
        )
        beta1, beta2 = (float(b) for b in group["betas"])
        if group["decoupled_weight_decay"]:
            if weight_decay:
                param *= 1.0 - lr * weight_decay
            g = np.negative(grad) if group["maximize"] else grad
        else:
            g = effective_grad(param, grad, group)
        if not state:
            _init_state(state, param, group["amsgrad"])
        state["step"] += 1
        m, v = state["exp_avg"], state["exp_avg_sq"]

        tmp = np.subtract(g, m, out=scratch)  # the only scratch array of the step
        tmp *= 1.0 - beta1
        m += tmp  # m <- m + (1 - beta1) (g - m), a lerp like torch's
        v *= beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - beta2
        v += tmp
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])

        step = state["step"]
        step_size = lr / (1.0 - beta1**step)
        np.sqrt(v, out=tmp)
        tmp /= math.sqrt(1.0 - beta2**step)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        param -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step.

    Example::

        opt = cr.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
        )


def _init_state(state: dict[str, Any], param: np.ndarray, amsgrad: bool) -> None:
    state["step"] = 0
    state["exp_avg"] = np.zeros_like(param)
    state["exp_avg_sq"] = np.zeros_like(param)
    if amsgrad:
        state["max_exp_avg_sq"] = np.zeros_like(param)
