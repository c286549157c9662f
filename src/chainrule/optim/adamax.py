"""Adamax: Adam with the infinity norm in place of the squared-gradient average (``torch.optim.Adamax``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, effective_grad, implementation_flags


class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7.1). Per step ``t``::

        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u

    State per parameter: ``step``, ``exp_avg``, ``exp_inf``.

    Example::

        opt = cr.optim.Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr, eps=eps, weight_decay=weight_decay)
        _check_betas(betas)
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize
        )
        defaults.update(
            implementation_flags(
                type(self).__name__,
                dict(foreach=foreach, differentiable=differentiable, capturable=capturable),
            )
        )
        super().__init__(
            params,
            defaults,
        )

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        g = effective_grad(param, grad, group)
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(param), exp_inf=np.zeros_like(param))
        state["step"] += 1
        m, u = state["exp_avg"], state["exp_inf"]
        m += (g - m) * (1.0 - beta1)
        u *= beta2
        np.maximum(u, np.abs(g) + eps, out=u)
        param -= (lr / (1.0 - beta1 ** state["step"])) * m / u


def _check_betas(betas: tuple[float, float]) -> None:
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta} (must be in [0, 1))")
