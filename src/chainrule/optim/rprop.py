"""Rprop: resilient backpropagation, sign-based steps with per-element step sizes
(``torch.optim.Rprop``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, check_nonnegative, implementation_flags


class Rprop(Optimizer):
    """Rprop (Riedmiller & Braun, 1993). Per element, each step::

        s = sign(g * g_prev)                     # did the gradient keep its sign?
        step_size *= etaplus if s > 0, etaminus if s < 0, 1 otherwise,
                     clamped to [step_size_min, step_size_max]
        g = 0 where the sign flipped             # no move, and no flip counted next step
        p = p - sign(g) * step_size;  g_prev = g

    Full-batch training is what it is made for. ``step_size`` starts at ``lr``. State per
    parameter: ``step``, ``prev``, ``step_size``.

    Example::

        opt = cr.optim.Rprop(model.parameters(), lr=0.01, etas=(0.5, 1.2))
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        maximize: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
    ) -> None:
        check_nonnegative(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize)
        defaults.update(
            implementation_flags(
                "Rprop", dict(capturable=capturable, foreach=foreach, differentiable=differentiable)
            )
        )
        super().__init__(params, defaults)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        etaminus, etaplus = (float(e) for e in group["etas"])
        smallest, largest = (float(s) for s in group["step_sizes"])
        g = -grad if group["maximize"] else grad.copy()  # g is changed below: never ``grad``
        if not state:
            state.update(
                step=0,
                prev=np.zeros_like(param),
                step_size=np.full_like(param, float(group["lr"])),
            )
        state["step"] += 1
        sign = np.sign(g * state["prev"])
        factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0)).astype(param.dtype)
        step_size = state["step_size"]
        step_size *= factor
        np.clip(step_size, smallest, largest, out=step_size)
        g[factor == param.dtype.type(etaminus)] = 0  # as torch: compared after the substitution
        param -= np.sign(g) * step_size
        state["prev"][...] = g
