"""NAdam: Adam with Nesterov momentum (``torch.optim.NAdam``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .adamax import _check_betas
from .optimizer import Optimizer, check_nonnegative, effective_grad, implementation_flags


class NAdam(Optimizer):
    """NAdam (Dozat, 2016), with PyTorch's momentum schedule. Per step ``t``::

        mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
        d = sqrt(v / (1 - beta2**t)) + eps
        p -= lr * (1 - mu_t) / (1 - prod(mu_1..mu_t)) * g / d
        p -= lr * mu_{t+1} / (1 - prod(mu_1..mu_{t+1})) * m / d

    ``weight_decay`` is an L2 term, or decoupled (as AdamW) with ``decoupled_weight_decay``.
    State per parameter: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``.

    Example::

        opt = cr.optim.NAdam(model.parameters(), lr=2e-3)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        _check_betas(betas)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
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
        decay = float(group["momentum_decay"])
        g = _decayed_grad(param, grad, group, lr, wd)
        if not state:
            state.update(
                step=0,
                mu_product=1.0,
                exp_avg=np.zeros_like(param),
                exp_avg_sq=np.zeros_like(param),
            )
        state["step"] += 1
        t = state["step"]
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * decay))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (g - m) * (1.0 - beta1)
        v *= beta2
        v += (1.0 - beta2) * g * g
        denom = np.sqrt(v / (1.0 - beta2**t)) + eps
        param -= (lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        param -= (lr * mu_next / (1.0 - mu_product * mu_next)) * m / denom


def _decayed_grad(
    param: np.ndarray, grad: np.ndarray, group: dict[str, Any], lr: float, wd: float
) -> np.ndarray:
    """Decoupled decay shrinks ``param`` in place; otherwise the L2 term joins the gradient."""
    if group["decoupled_weight_decay"]:
        if wd:
            param *= 1.0 - lr * wd
        return np.negative(grad) if group["maximize"] else grad
    return effective_grad(param, grad, group)


__all__ = ["NAdam"]
