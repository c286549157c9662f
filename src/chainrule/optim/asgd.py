"""ASGD: SGD with Polyak-Ruppert iterate averaging (``torch.optim.ASGD``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, effective_grad, implementation_flags


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky, 1992). Per step ``t`` (``eta`` starts at ``lr``, ``mu``
    at 1)::

        g = g + weight_decay * p
        p = p * (1 - lambd * eta) - eta * g
        ax = p if mu == 1 else ax + mu * (p - ax)      # the running average of the iterates
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu = 1 / max(1, t - t0)    # used next step: ax averages the iterates from step t0 + 2

    The parameters follow SGD; ``state[p]["ax"]`` holds the average to evaluate with. State per
    parameter: ``step``, ``eta``, ``mu``, ``ax``.

    Example::

        opt = cr.optim.ASGD(model.parameters(), lr=0.01, t0=1000)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr, weight_decay=weight_decay)
        defaults = dict(
            lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize
        )
        defaults.update(
            implementation_flags(
                "ASGD", dict(foreach=foreach, differentiable=differentiable, capturable=capturable)
            )
        )
        super().__init__(params, defaults)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, lambd = float(group["lr"]), float(group["lambd"])
        alpha, t0 = float(group["alpha"]), float(group["t0"])
        g = effective_grad(param, grad, group)
        if not state:
            state.update(step=0, eta=lr, mu=1.0, ax=np.zeros_like(param))
        state["step"] += 1
        eta = float(state["eta"])
        param *= 1.0 - lambd * eta
        param -= eta * g
        ax = state["ax"]
        if float(state["mu"]) != 1.0:
            ax += (param - ax) * float(state["mu"])
        else:
            ax[...] = param
        state["eta"] = lr / (1.0 + lambd * lr * state["step"]) ** alpha
        state["mu"] = 1.0 / max(1.0, state["step"] - t0)
