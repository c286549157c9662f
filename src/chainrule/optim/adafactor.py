"""Adafactor: Adam-like steps with a factored second moment (``torch.optim.Adafactor``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018), with torch's choices. Per step ``t``::

        beta2_t = 1 - t ** beta2_decay;   rho = min(lr, 1 / sqrt(t))
        alpha = max(eps2, rms(p)) * rho                  # a step relative to the weights' scale
        p = p * (1 - lr * weight_decay)
        matrices (the last two dims):  R = lerp(R, mean_cols(g**2), 1 - beta2_t)   (rows)
                                       C = lerp(C, mean_rows(g**2), 1 - beta2_t)   (columns)
                                       v = R @ C / max(mean(R), eps1)
        vectors and scalars:           v = lerp(v, g**2, 1 - beta2_t)
        u = g / sqrt(max(v, eps1**2));  p = p - alpha / max(1, rms(u) / d) * u

    A (rows x cols) weight keeps rows + cols numbers instead of Adam's two full copies.
    ``eps = (eps1, eps2)``, eps1 None meaning the parameter dtype's machine epsilon. State per
    parameter: ``step``, and ``row_var`` and ``col_var`` (matrices) or ``variance``.

    Example::

        opt = cr.optim.Adafactor(model.parameters(), lr=1e-2)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(
            lr=lr,
            beta2_decay=beta2_decay,
            eps=tuple(eps),
            d=d,
            weight_decay=weight_decay,
            foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _state_shape(self, name: str, param_shape: tuple[int, ...]) -> tuple[int, ...]:
        if name == "row_var":
            return param_shape[:-1] + (1,)
        if name == "col_var":
            return param_shape[:-2] + (1,) + param_shape[-1:]
        return param_shape

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr, d, weight_decay = float(group["lr"]), float(group["d"]), float(group["weight_decay"])
        eps1, eps2 = group["eps"]
        eps1 = float(np.finfo(param.dtype).eps) if eps1 is None else float(eps1)
        g = -grad if group["maximize"] else grad
        matrix = param.ndim > 1
        if not state:
            state["step"] = 0
            if matrix:
                state["row_var"] = np.zeros(param.shape[:-1] + (1,), param.dtype)
                state["col_var"] = np.zeros(param.shape[:-2] + (1, param.shape[-1]), param.dtype)
            else:
                state["variance"] = np.zeros_like(param)
        state["step"] += 1
        t = float(state["step"])
        one_minus_beta2 = t ** float(group["beta2_decay"])  # the lerp weight, 1 - beta2_t
        rho = min(lr, 1.0 / math.sqrt(t))
        alpha = max(float(eps2), _rms(param)) * rho  # before the weight decay, as torch
        if weight_decay:
            param *= 1.0 - lr * weight_decay
        sq = g * g
        if matrix:
            row, col = state["row_var"], state["col_var"]
            row += (sq.mean(axis=-1, keepdims=True) - row) * one_minus_beta2
            col += (sq.mean(axis=-2, keepdims=True) - col) * one_minus_beta2
            var = (row @ col) / np.maximum(row.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"]
            variance += (sq - variance) * one_minus_beta2
            var = variance.copy()
        update = g / np.sqrt(np.maximum(var, eps1 * eps1))
        denom = max(1.0, _rms(update) / d)
        param -= update * (alpha / denom)


def _rms(a: np.ndarray) -> float:
    """Root mean square of all entries (0 for an empty array)."""
    return float(np.sqrt(np.mean(np.square(a, dtype=np.float64)))) if a.size else 0.0
