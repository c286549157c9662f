"""Adagrad, as in ``torch.optim.Adagrad``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, effective_grad, implementation_flags


class Adagrad(Optimizer):
    """Adagrad: per-coordinate steps shrinking with the sum of all past squared gradients.

    Per step ``t`` (``s`` starts at ``initial_accumulator_value``)::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (sqrt(s) + eps)

    State per parameter: ``step``, ``sum`` (created at construction, as in torch).

    Example::

        opt = cr.optim.Adagrad(model.parameters(), lr=1e-2)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_nonnegative(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        defaults.update(
            implementation_flags(
                type(self).__name__,
                dict(foreach=foreach, differentiable=differentiable, fused=fused),
            )
        )
        super().__init__(params, defaults)
        # Like torch, state exists from the start (it shows in state_dict before any step).
        for index, group, p in self._indexed_params():
            _init_state(self.state.setdefault(index, {}), p._data, group)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, eps = float(group["lr"]), float(group["eps"])
        g = effective_grad(param, grad, group)
        if not state:  # a parameter added later with add_param_group
            _init_state(state, param, group)
        state["step"] += 1
        clr = lr / (1.0 + (state["step"] - 1) * float(group["lr_decay"]))

        tmp = np.multiply(g, g)  # the only scratch array of the step
        state["sum"] += tmp
        np.sqrt(state["sum"], out=tmp)
        tmp += eps
        np.divide(g, tmp, out=tmp)
        tmp *= clr
        param -= tmp


def _init_state(state: dict[str, Any], param: np.ndarray, group: dict[str, Any]) -> None:
    state["step"] = 0
    state["sum"] = np.full_like(param, float(group["initial_accumulator_value"]))
