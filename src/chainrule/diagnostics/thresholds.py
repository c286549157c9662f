"""The thresholds of the verdicts, and where each comes from.

A rule reads the scalar series a :class:`~chainrule.diagnostics.GradientMonitor` recorded (or the
one batch of :func:`~chainrule.diagnostics.check`) and returns findings. Each finding has a
``kind``, the ``layers`` it concerns, ``evidence`` (numbers) and ranked ``remedies`` that name
the layer.

Thresholds (``THRESHOLDS``; every ``report()`` call can override them by keyword) and where
they come from:

* ``vanishing_ratio = 1e-2`` / ``exploding_ratio = 1e2``: the back-propagated gradient at the
  first layer's output over the one at the last layer's output (or at the first over the last
  time step of a recurrent layer). Glorot & Bengio (2010) and He et al. (2015) derive the
  initialisations that keep this ratio near 1 (each layer multiplies the gradient's variance by
  ``fan * Var(W) * E[f'(z)^2]``, so any deviation compounds geometrically with depth). Two
  orders of magnitude is our convention for "the first layers learn 100x slower than the last".
  Through time, Pascanu et al. (2013) show that the largest singular value of the recurrent
  matrix below ``1/gamma`` (gamma = max |f'|, 1 for tanh) is sufficient for vanishing, above it
  necessary for exploding; the ratio measures which actually happens.
* ``layer_gain_low = 0.5`` / ``layer_gain_high = 2``: the pre-flight check flags a layer whose
  variance gain (forward or backward) leaves this band: a factor 2 per layer is 2^20 = 1e6 over
  20 layers (Glorot & Bengio 2010, section 4.2.1; He et al. 2015, section 2.2).
* ``saturated_share = 0.25``: share of sigmoid/tanh outputs where the derivative is below 10 %
  of its maximum (|tanh| > 0.949, sigmoid outside [0.026, 0.974]). Glorot & Bengio (2010,
  section 3) show saturated sigmoid layers stall learning.
* ``dead_share = 0.5``: share of ReLU units that output 0 for every example of the batch; their
  weights receive no gradient ("dying ReLU", Lu et al. 2019). Deep ReLU stacks at He
  initialisation already show up to about a third of units silent on a given batch (their inputs
  grow correlated with depth), hence one half.
* ``update_ratio_target = 1e-3``: Karpathy's heuristic (CS231n, "Babysitting the learning
  process") that ``||dW|| / ||W||`` per step should be around 1e-3. ``update_ratio_high = 1e-2``
  with a loss that does not fall, or ``update_ratio_extreme = 1e-1`` alone, means the learning
  rate is too high; ``update_ratio_low = 1e-4`` with a flat loss means it is too low, and
  ``update_ratio_very_low = 1e-5`` means it is too low even while the loss still moves.
* ``loss_spike = 2``: the loss rose above twice its first recorded value: divergence.
* ``loss_flat = 0.01``: the loss improved by less than 1 % over the recorded window.
* ``min_steps_lr = 5``: the update-ratio and flat-loss verdicts need this many recorded losses
  (divergence is reported at once).
* ``clip_often = 0.5``: gradient clipping acting on more than half the steps means the step size
  is set by the clipping threshold, not the learning rate (Pascanu et al. 2013 meant clipping for
  rare spikes).
* ``window = 20``: verdicts use the median of the last 20 recorded (finite) steps.

Learning evidence (a symptom that does not hurt learning is a note, not a warning; AUTOTRAINER
reports gradient problems only when the model also fails to converge):

* ``learning_improvement = 0.1``: the loss fell 10 % (and is below ``baseline_margin`` of a
  trivial predictor's loss when that is known): the model learns.
* ``learned_share = 0.25``: the loss is below a quarter of the trivial baseline (or of its
  start): it learned well; oscillation and heavy saturation no longer matter.
* ``loss_slow = 0.2``: under 20 % improvement over the run is slow (``lr_too_low``,
  ``not_learning``); ``min_steps_learning = 30`` steps before ``not_learning``;
  ``baseline_margin = 0.9``: within 10 % of the trivial predictor's loss (log K for K classes).
* ``trend_t = 3``, ``loss_still_falling = 0.05``: the loss still falls when the least-squares
  slope of its last half is significant (t-statistic below -3) and, kept up for as many steps
  again, would take another 5 % off its start; such a run learns slowly, it is not
  ``not_learning``.
* ``saturated_severe = 0.5``: half the units saturated is a warning even while the model learns
  (DeepDiagnosis' > 50 %); ``saturated_pinned = 0.95``: the units pass no gradient (an error).
* ``oscillation_window = 50``, ``oscillation_swing = 0.3``: the loss changes by 30 % of its
  level from step to step over the last 50 steps (AUTOTRAINER's unstable loss, on the loss).
* ``overfit_rise = 0.1``: the validation loss 10 % above its minimum while the training loss
  falls (UMLAUT).
* ``input_rms_high = 10``: inputs far outside the unit range (UMLAUT).
"""

THRESHOLDS = {
    "vanishing_ratio": 1e-2,
    "exploding_ratio": 1e2,
    "layer_gain_low": 0.5,
    "layer_gain_high": 2.0,
    "saturated_share": 0.25,
    "dead_share": 0.5,
    "update_ratio_target": 1e-3,
    "update_ratio_high": 1e-2,
    "update_ratio_extreme": 1e-1,
    "update_ratio_low": 1e-4,
    "update_ratio_very_low": 1e-5,
    "loss_spike": 2.0,
    "loss_flat": 0.01,
    "min_steps_lr": 5,
    "clip_often": 0.5,
    "window": 20,
    "saturated_pinned": 0.95,
    "saturated_severe": 0.5,
    "learned_share": 0.25,
    "learning_improvement": 0.1,
    "loss_slow": 0.2,
    "min_steps_learning": 30,
    "baseline_margin": 0.9,
    "trend_t": 3.0,
    "loss_still_falling": 0.05,
    "oscillation_window": 50,
    "oscillation_swing": 0.3,
    "overfit_rise": 0.1,
    "input_rms_high": 10.0,
}

SOURCES = {
    "vanishing_ratio": "Glorot & Bengio 2010; He et al. 2015 (variance-preserving initialisation)",
    "exploding_ratio": "Glorot & Bengio 2010; He et al. 2015; Pascanu et al. 2013 (through time)",
    "layer_gain_low": "Glorot & Bengio 2010 sec. 4.2.1; He et al. 2015 sec. 2.2",
    "layer_gain_high": "Glorot & Bengio 2010 sec. 4.2.1; He et al. 2015 sec. 2.2",
    "saturated_share": "Glorot & Bengio 2010 sec. 3 (saturation of sigmoid layers)",
    "dead_share": "Lu et al. 2019, 'Dying ReLU and initialization'",
    "update_ratio_target": "Karpathy, CS231n 'Babysitting the learning process' (~1e-3)",
    "update_ratio_high": "10x Karpathy's ~1e-3 update-to-weight ratio",
    "update_ratio_extreme": "100x Karpathy's ~1e-3 update-to-weight ratio",
    "update_ratio_low": "1/10 of Karpathy's ~1e-3 update-to-weight ratio",
    "update_ratio_very_low": "1/100 of the ~1e-3 ratio: weights practically frozen, whatever the loss does",
    "loss_spike": "convention: loss above twice its starting value means divergence",
    "loss_flat": "convention: under 1 % improvement over the window",
    "min_steps_lr": "convention",
    "clip_often": "Pascanu et al. 2013 (clipping is meant for rare gradient spikes)",
    "window": "convention",
    "saturated_severe": "convention: half the units saturated is a warning even while the "
    "model learns (DeepDiagnosis: > 50 % of sigmoid/tanh pre-activations "
    "saturated)",
    "learned_share": "convention: the loss fell below a quarter of a trivial predictor's",
    "saturated_pinned": "convention: (almost) every unit on the flat ends passes no gradient",
    "learning_improvement": "convention: the loss fell 10 % (AUTOTRAINER reports gradient "
    "problems only when the model also fails to converge)",
    "loss_slow": "convention: under 20 % improvement over the run is slow",
    "min_steps_learning": "convention",
    "baseline_margin": "convention: within 10 % of a trivial predictor's loss (DeepDiagnosis, "
    "UMLAUT)",
    "trend_t": "statistics: a slope three standard errors below zero",
    "loss_still_falling": "convention: the current slope would take another 5 % off the loss "
    "in as many steps again",
    "oscillation_window": "convention",
    "oscillation_swing": "AUTOTRAINER's unstable-loss check, on the loss: step-to-step changes "
    "of 30 % of its level",
    "overfit_rise": "UMLAUT: validation loss rising while the training loss falls",
    "input_rms_high": "UMLAUT: inputs far outside the unit range",
}
