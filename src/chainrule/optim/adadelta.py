"""Adadelta, as in ``torch.optim.Adadelta``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, effective_grad, implementation_flags


class Adadelta(Optimizer):
    """Adadelta: steps sized by the ratio of running RMS of past updates and of gradients.

    Per step (``v``, ``u`` start at zero)::

        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g
        d = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        p = p - lr * d

    State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).

    Example::

        opt = cr.optim.Adadelta(model.parameters(), lr=1.0, rho=0.9)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr, eps=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho} (must be in [0, 1])")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        defaults.update(
            implementation_flags(
                type(self).__name__,
                dict(foreach=foreach, capturable=capturable, differentiable=differentiable),
            )
        )
        super().__init__(params, defaults)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        g = effective_grad(param, grad, group)
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]

        tmp = np.multiply(g, g)  # scratch 1
        tmp *= 1.0 - rho
        square_avg *= rho
        square_avg += tmp
        np.add(square_avg, eps, out=tmp)
        np.sqrt(tmp, out=tmp)  # tmp = std of the gradients
        delta = np.add(acc_delta, eps)  # scratch 2
        np.sqrt(delta, out=delta)
        delta /= tmp
        delta *= g
        np.multiply(delta, delta, out=tmp)
        tmp *= 1.0 - rho
        acc_delta *= rho
        acc_delta += tmp
        delta *= lr
        param -= delta
