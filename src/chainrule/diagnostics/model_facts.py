"""What the monitor reads off the model and the data: a layer's initial gain fan_in*Var(W),
a recurrent matrix's largest singular value, the learning rate, optimizer membership, and the
input statistics (dtype, RMS, NaN share) behind ``unscaled_input``.
"""

import math

import numpy as np

from .statistics import _sumsq

NAN = float("nan")


def _input_facts(x, old):
    """dtype, RMS, largest |x| and non-finite share of a model input (the worst seen so far)."""
    a = x._data
    facts = {"dtype": str(a.dtype), "float": a.dtype.kind in "fc", "shape": tuple(a.shape)}
    if a.dtype.kind in "fc" and a.size:
        ss = _sumsq(a)  # finite exactly when every entry is
        bad, vals = 0.0, a
        if not math.isfinite(ss):
            finite = np.isfinite(a)
            bad = 1.0 - np.count_nonzero(finite) / a.size
            vals = a[finite]
            ss = _sumsq(vals)
        peak = max(float(vals.max()), -float(vals.min())) if vals.size else NAN
        facts.update(nonfinite=bad, rms=math.sqrt(ss / max(vals.size, 1)), max_abs=peak)
    elif a.size:
        facts.update(nonfinite=0.0, rms=NAN, max_abs=float(np.abs(a).max()))
    if old:
        facts["nonfinite"] = max(facts.get("nonfinite", 0.0), old.get("nonfinite", 0.0))
        for k in ("rms", "max_abs"):
            if math.isfinite(old.get(k, NAN)) and not old.get(k, NAN) <= facts.get(k, NAN):
                facts[k] = old[k]
    return facts


def _weight_of(layer, params):
    """The layer's main weight: its first parameter with 2 or more dims."""
    for k in layer.param_columns:
        if params[k][1]._data.ndim >= 2:
            return params[k][1]._data
    return None


def _init_gain(layer, params):
    """fan_in * Var(W) of the layer's weight (He et al. 2015 eq. 10 / Glorot & Bengio 2010)."""
    w = _weight_of(layer, params)
    if w is None or not w.size:
        return None
    if layer.type.startswith(("RNN", "LSTM", "GRU")):
        w = getattr(layer.module, "weight_hh_l0", getattr(layer.module, "weight_hh", None))
        w = None if w is None else w._data
        if w is None:
            return None
    fan_in = int(np.prod(w.shape[1:]))
    return float(fan_in * np.mean(np.square(w, dtype=np.float64)))


def _sigma_max(module):
    """Largest singular value of a plain RNN's recurrent matrix (Pascanu et al. 2013)."""
    if type(module).__name__ not in ("RNN", "RNNCell"):
        return None
    w = getattr(module, "weight_hh_l0", getattr(module, "weight_hh", None))
    if w is None or not np.isfinite(w._data).all():
        return None
    return float(np.linalg.norm(w._data.astype(np.float64), 2))


def _lr(optimizer):
    if optimizer is None or not optimizer.param_groups:
        return None
    lr = optimizer.param_groups[0].get("lr")
    return float(lr) if isinstance(lr, (int, float, np.floating)) else None


def _optimizer_membership(optimizer, params):
    if optimizer is None:
        return [None] * len(params)
    held = {id(p) for g in optimizer.param_groups for p in g["params"]}
    return [id(p) in held for _, p in params]
