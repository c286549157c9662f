"""L-BFGS, as ``torch.optim.LBFGS``: a quasi-Newton method that re-evaluates the model through a
closure, with an optional strong-Wolfe line search.

The algorithm and its stopping rules are PyTorch's (after Nocedal & Wright, *Numerical
Optimization*, algorithms 7.4 and 3.5-3.6, and minFunc's cubic interpolation), so a run takes the
same steps as PyTorch's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .optimizer import Optimizer, _call_with_grad


def _cubic_minimum(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """Minimiser of the cubic through (x1, f1, slope g1) and (x2, f2, slope g2), clipped to
    ``bounds`` (default: between x1 and x2); the midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2.0
    d2 = float(np.sqrt(disc))
    if x1 <= x2:
        x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(
    evaluate: Callable[[float], tuple[float, np.ndarray]],
    t: float,
    d: np.ndarray,
    f: float,
    g: np.ndarray,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, np.ndarray, float, int]:
    """Find a step ``t`` along ``d`` meeting the strong Wolfe conditions.

    ``evaluate(t)`` returns (loss, flat gradient) at ``x + t d``. Returns
    ``(loss, gradient, t, evaluations)``. Phase 1 grows the step until a bracket holds a
    minimum; phase 2 ("zoom") shrinks the bracket by cubic interpolation.
    """
    d_norm = np.abs(d).max()
    f_new, g_new = evaluate(t)
    evals, ls_iter = 1, 0
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # Extrapolate: the next trial step lies beyond t (at most 10 t).
        t_next = _cubic_minimum(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10)
        )
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_minimum(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # Stay at least 10% of the bracket away from its ends, unless that already failed.
        top, bottom = max(bracket), min(bracket)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insufficient_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = (
                t,
                f_new,
                g_new,
                gtd_new,
            )
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = (
                t,
                f_new,
                g_new,
                gtd_new,
            )
    return bracket_f[low], bracket_g[low], bracket[low], evals


class LBFGS(Optimizer):
    """Limited-memory BFGS. ``step(closure)`` runs up to ``max_iter`` iterations, calling
    ``closure()`` (zero the grads, compute the loss, ``backward()``, return the loss) whenever it
    needs a new loss and gradient; it returns the loss of the first evaluation.

    Args:
        params: the parameters (one group only, as in PyTorch).
        lr: step length (the first iteration of a run is scaled by min(1, 1 / |g|_1)).
        max_iter: iterations per ``step``.
        max_eval: closure evaluations per ``step`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when max |gradient| is at most this.
        tolerance_change: stop when the step or the change in loss is below this.
        history_size: number of (step, gradient change) pairs kept.
        line_search_fn: None (fixed step ``lr``) or ``"strong_wolfe"``.

    Example::

        opt = cr.optim.LBFGS(model.parameters(), lr=1, line_search_fn="strong_wolfe")
        def closure():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss
        opt.step(closure)
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: Any = None,
    ) -> None:
        if isinstance(lr, (int, float)) and lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            )
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ---- flat views of all parameters ----
    def _flat_grad(self) -> np.ndarray:
        parts = [
            np.zeros(p._data.size, p._data.dtype)
            if p.grad is None
            else p.grad._data.reshape(-1).astype(p._data.dtype, copy=False)
            for p in self._params
        ]
        return np.concatenate(parts)

    def _add_step(self, t: float, d: np.ndarray) -> None:
        start = 0
        for p in self._params:
            n = p._data.size
            p._data += (
                (t * d[start : start + n]).reshape(p._data.shape).astype(p._data.dtype, copy=False)
            )
            p._bump_version()
            start += n

    def _set_params(self, arrays: Sequence[np.ndarray]) -> None:
        for p, a in zip(self._params, arrays, strict=True):
            np.copyto(p._data, a)
            p._bump_version()

    def _evaluate(self, closure: Callable[[], Any]) -> tuple[float, np.ndarray]:
        return float(_call_with_grad(closure)), self._flat_grad()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One call: up to ``max_iter`` L-BFGS iterations. Returns the first loss."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that recomputes the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state.setdefault(0, {"func_evals": 0, "n_iter": 0})
        self._opt_called = True

        orig_loss = _call_with_grad(closure)
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if np.abs(g).max() <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        dirs, steps, rho = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag = state.get("H_diag")
        g_prev, loss_prev = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -g
                dirs, steps, rho, h_diag = [], [], [], 1.0
            else:
                y, s = g - g_prev, d * t
                ys = float(y @ s)
                if ys > 1e-10:  # keep the pair only if curvature is positive
                    if len(dirs) == history_size:
                        dirs.pop(0), steps.pop(0), rho.pop(0)
                    dirs.append(y), steps.append(s), rho.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                d = self._two_loop(g, dirs, steps, rho, h_diag)
            g_prev, loss_prev = g.copy(), loss
            t = min(1.0, 1.0 / np.abs(g).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = float(g @ d)
            if gtd > -tol_change:  # not a descent direction
                break

            ls_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                start = [p._data.copy() for p in self._params]

                def evaluate(
                    step: float, d: np.ndarray = d, start: list[np.ndarray] = start
                ) -> tuple[float, np.ndarray]:
                    self._add_step(step, d)
                    out = self._evaluate(closure)
                    self._set_params(start)
                    return out

                loss, g, t, ls_evals = _strong_wolfe(evaluate, t, d, loss, g, gtd)
                self._add_step(t, d)
                converged = np.abs(g).max() <= tol_grad
            else:
                self._add_step(t, d)
                converged = False
                if n_iter != max_iter:
                    loss, g = self._evaluate(closure)
                    converged = np.abs(g).max() <= tol_grad
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals

            if n_iter == max_iter or evals >= max_eval or converged:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - loss_prev) < tol_change:
                break

        state.update(
            d=d,
            t=t,
            old_dirs=dirs,
            old_stps=steps,
            ro=rho,
            H_diag=h_diag,
            prev_flat_grad=g_prev,
            prev_loss=loss_prev,
        )
        return orig_loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` of an LBFGS (its state is one flat history, not per
        parameter)."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "optimizer state_dict must be a dict with the keys 'state' and 'param_groups'"
            )
        self._match_groups(state_dict["param_groups"])
        self.state = {int(k): copy.deepcopy(v) for k, v in state_dict["state"].items()}
        saved = state_dict["param_groups"][0]
        self.param_groups[0].update({k: v for k, v in saved.items() if k != "params"})

    @staticmethod
    def _two_loop(
        g: np.ndarray,
        dirs: list[np.ndarray],
        steps: list[np.ndarray],
        rho: list[float],
        h_diag: float,
    ) -> np.ndarray:
        """-H g for the L-BFGS inverse-Hessian estimate H (Nocedal & Wright, algorithm 7.4)."""
        q = -g
        alpha = [0.0] * len(dirs)
        for i in range(len(dirs) - 1, -1, -1):
            alpha[i] = float(steps[i] @ q) * rho[i]
            q = q - alpha[i] * dirs[i]
        r = q * h_diag
        for i in range(len(dirs)):
            beta = float(dirs[i] @ r) * rho[i]
            r = r + (alpha[i] - beta) * steps[i]
        return r
