"""RAdam: Adam with a rectified adaptive step (``torch.optim.RAdam``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .adamax import _check_betas
from .nadam import _decayed_grad
from .optimizer import Optimizer, check_nonnegative, implementation_flags


class RAdam(Optimizer):
    """RAdam (Liu et al., 2019). Per step ``t``, with ``rho_inf = 2 / (1 - beta2) - 1``::

        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        if rho_t > 5:  p -= lr * m_hat * r_t * sqrt(1 - beta2**t) / (sqrt(v) + eps)
                       with r_t = sqrt((rho_t-4)(rho_t-2) rho_inf / ((rho_inf-4)(rho_inf-2) rho_t))
        else:          p -= lr * m_hat                       (plain momentum while v is unreliable)

    ``weight_decay`` is an L2 term, or decoupled with ``decoupled_weight_decay``.

    Example::

        opt = cr.optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr, eps=eps, weight_decay=weight_decay)
        _check_betas(betas)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        defaults.update(
            implementation_flags(
                type(self).__name__,
                dict(foreach=foreach, capturable=capturable, differentiable=differentiable),
            )
        )
        super().__init__(
            params,
            defaults,
        )

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        g = _decayed_grad(param, grad, group, lr, wd)
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (g - m) * (1.0 - beta1)
        v *= beta2
        v += (1.0 - beta2) * g * g
        bc1, bc2 = 1.0 - beta1**t, 1.0 - beta2**t
        m_hat = m / bc1
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * t * beta2**t / bc2
        if rho_t > 5.0:
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            param -= m_hat * lr * (math.sqrt(bc2) / (np.sqrt(v) + eps)) * rect
        else:
            param -= m_hat * lr
