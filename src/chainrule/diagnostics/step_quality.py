"""Cockpit's step-size quality α (Schneider, Dangel & Hennig, NeurIPS 2021).

Along the direction d of one optimizer step, fit a quadratic q(τ) = a τ² + b τ + c (least
squares) to what is measured at both ends: the loss L0 and the directional slope g0·d before
the step (τ = 0), the loss L1 and the slope g1·d after it (τ = 1; the next step's loss and
gradient). With τ* = -b / (2a) the minimum of q, the step lands at
``α = (1 - τ*) / τ*`` on a scale where -1 is the start and 0 the minimum: α < 0 undershoots
(the learning rate could be larger), α ≈ 0 lands at the minimum, α > 0 overshoots (α = 1 lands
as high on the far side as it started).

Example::

    alpha(2.0, -4.0, 0.5, 1.0)     # q(τ) = 2 - 4τ + ... : a step that overshoots a little
"""

import math

import numpy as np

# The four equations q(0) = L0, q'(0) = s0, q(1) = L1, q'(1) = s1 in the unknowns (a, b, c).
_DESIGN = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0], [2.0, 1.0, 0.0]])


def alpha(loss0, slope0, loss1, slope1):
    """Step-size quality α from the losses and directional slopes before/after a step; NaN
    when the fitted quadratic has no minimum along the step direction (a <= 0 or b >= 0)."""
    values = np.array([loss0, slope0, loss1, slope1], dtype=np.float64)
    if not np.isfinite(values).all():
        return math.nan
    (a, b, _), *_ = np.linalg.lstsq(_DESIGN, values, rcond=None)
    if a <= 0 or b >= 0:
        return math.nan
    tau = -b / (2 * a)
    return float((1 - tau) / tau)


class StepQuality:
    """Keeps what α needs between two consecutive recorded steps (a copy of the weights at the
    step's start and the previous step's direction), for a list of parameters."""

    def __init__(self, params):
        self.params = [p for p in params if p.requires_grad]
        self.before = None
        self.prev = None  # (step, loss, slope0, direction) of the previous step
        self.values = []  # (step, alpha)

    def start(self):
        """At the step's first forward: copy the weights."""
        self.before = [p._data.astype(np.float64) for p in self.params]

    def finish(self, step, loss):
        """After the optimizer step: close the previous step's α, open this one's."""
        grads = [None if p.grad is None else p.grad._data for p in self.params]
        if self.before is None or loss is None or any(g is None for g in grads):
            self.prev, self.before = None, None
            return
        if self.prev is not None and self.prev[0] == step - 1:
            pstep, ploss, pslope, pdir = self.prev
            slope1 = sum(
                float(np.dot(g.ravel(), d.ravel())) for g, d in zip(grads, pdir, strict=True)
            )
            self.values.append((pstep, alpha(ploss, pslope, loss, slope1)))
        direction = [p._data - w for p, w in zip(self.params, self.before, strict=True)]
        slope0 = sum(
            float(np.dot(g.ravel(), d.ravel())) for g, d in zip(grads, direction, strict=True)
        )
        self.prev, self.before = (step, loss, slope0, direction), None
