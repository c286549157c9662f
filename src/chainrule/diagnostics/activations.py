"""One table of activation functions as the diagnostics see them.

For each activation: its largest slope, the slope as a function of its *output* (the monitor
only sees outputs), the band of outputs where the slope is below ``SLOPE_FRACTION`` of that
maximum (derived from the formula, not typed in), whether its units can die (ReLU-like: slope 0
on a half-line), ``fan_in * Var(W)`` that keeps the signal's scale after it, and E[f'(z)^2] near
z = 0 (the factor it contributes to a layer's variance gain).

Saturation bands, from ``f'(y) < c * max f'`` with c = ``SLOPE_FRACTION`` = 0.1:

* sigmoid, f' = y (1 - y) <= 1/4: outside ((1 - sqrt(1 - c)) / 2, (1 + sqrt(1 - c)) / 2)
  = (0.0257, 0.9743);
* tanh, f' = 1 - y^2 <= 1: |y| > sqrt(1 - c) = 0.9487;
* softsign, f' = (1 - |y|)^2 <= 1: |y| > 1 - sqrt(c) = 0.6838;
* hardtanh(lo, hi): f' = 0 at y <= lo or y >= hi.

How an output is recognised: an activation module by its class (``ACTIVATION_MODULES``), a
functional activation by the vector-Jacobian product its graph node carries (the function object,
probed once from the op itself, so it does not depend on op-name strings), and ``softsign`` (made
of ``x / (|x| + 1)``) by that structure.

Example::

    from chainrule.diagnostics.activations import ACTIVATIONS, saturation_band
    saturation_band("sigmoid")      # (0.02565, 0.97435)
    ACTIVATIONS["sigmoid"].max_slope   # 0.25
"""

import math
from dataclasses import dataclass

import numpy as np

SLOPE_FRACTION = 0.1  # "saturated": the slope is below 10 % of the activation's maximum


@dataclass(frozen=True)
class Activation:
    """What the diagnostics know about one activation function.

    Attributes:
        name: the kind ('tanh', 'relu', ...).
        max_slope: max |f'(z)|.
        slope: f' as a function of the output y (None where f' is not a function of y).
        relu_like: units can die (f' = 0 on a half-line: relu, relu6).
        saturating: f' tends to 0 at both ends (sigmoid, tanh, softsign, hardtanh).
        init_gain: fan_in * Var(W) that keeps the signal's scale (He 2 for ReLU-like,
            LeCun/Xavier 1 otherwise; sigmoid would need 16, which nobody uses).
        factor: E[f'(z)^2] near z = 0 (1/2 for ReLU: half the units pass).
    """

    name: str
    max_slope: float
    slope: object = None
    relu_like: bool = False
    saturating: bool = False
    init_gain: float = 1.0
    factor: float = 1.0


ACTIVATIONS = {
    a.name: a
    for a in (
        Activation("sigmoid", 0.25, lambda y: y * (1 - y), saturating=True, factor=1 / 16),
        Activation("tanh", 1.0, lambda y: 1 - y * y, saturating=True),
        Activation("softsign", 1.0, lambda y: (1 - np.abs(y)) ** 2, saturating=True),
        Activation("hardtanh", 1.0, saturating=True),
        Activation("relu", 1.0, relu_like=True, init_gain=2.0, factor=0.5),
        Activation("relu6", 1.0, relu_like=True, init_gain=2.0, factor=0.5),
        Activation("leaky_relu", 1.0, init_gain=2.0, factor=0.5),
        Activation("elu", 1.0, init_gain=2.0, factor=0.5),
        Activation("selu", 1.0),
        Activation("gelu", 1.13, init_gain=2.0, factor=0.5),
        Activation("silu", 1.1, init_gain=2.0, factor=0.5),
        Activation("softplus", 1.0, init_gain=2.0, factor=0.25),
    )
}

SATURATING = tuple(k for k, a in ACTIVATIONS.items() if a.saturating)
RELU_LIKE = tuple(k for k, a in ACTIVATIONS.items() if a.relu_like)
# fan_in * Var(W) wanted after each activation, and E[f'(0)^2]; None: no activation (linear).
RECOMMENDED_GAIN = {**{k: a.init_gain for k, a in ACTIVATIONS.items()}, None: 1.0}
ACTIVATION_FACTOR = {**{k: a.factor for k, a in ACTIVATIONS.items()}, None: 1.0}

# Activation modules by class name (subclasses are matched through their bases).
ACTIVATION_MODULES = {
    "ReLU": "relu",
    "ReLU6": "relu6",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Hardtanh": "hardtanh",
    "Softsign": "softsign",
    "LeakyReLU": "leaky_relu",
    "ELU": "elu",
    "SELU": "selu",
    "GELU": "gelu",
    "SiLU": "silu",
    "Softplus": "softplus",
}


def saturation_band(kind, fraction=SLOPE_FRACTION):
    """(lo, hi): outputs of ``kind`` outside this open interval have slope < ``fraction`` * max.

    Derived from the formula of f' in terms of the output (see the module docstring)."""
    if kind == "sigmoid":  # y (1 - y) = fraction / 4
        r = math.sqrt(1 - fraction)
        return (1 - r) / 2, (1 + r) / 2
    if kind == "tanh":  # 1 - y^2 = fraction
        r = math.sqrt(1 - fraction)
        return -r, r
    if kind == "softsign":  # (1 - |y|)^2 = fraction
        r = 1 - math.sqrt(fraction)
        return -r, r
    if kind == "hardtanh":
        return -1.0, 1.0
    raise KeyError(f"saturation_band: {kind!r} does not saturate; saturating: {SATURATING}")


def module_kind(module):
    """The activation kind of an activation module (by class, then by base class), or None."""
    for cls in type(module).__mro__:
        kind = ACTIVATION_MODULES.get(cls.__name__)
        if kind:
            if kind == "hardtanh" and _bounds_of(module) == (0.0, 6.0):
                return "relu6"
            return kind
    return None


def module_bounds(module, kind):
    """(min_val, max_val) of a hardtanh module, else None."""
    return _bounds_of(module) if kind == "hardtanh" else None


def _bounds_of(module):
    lo, hi = getattr(module, "min_val", None), getattr(module, "max_val", None)
    return None if lo is None else (float(lo), float(hi))


# ---- functional activations: the vjp function object of their graph node ----

_VJP_KINDS = None  # vjp code -> kind, probed on first use


def _identity(node):
    """What an op is: the code of its vjp (a closure made per call shares its code object)."""
    return getattr(node.vjp, "__code__", node.vjp)


def _probe():
    """Record each activation once on a tiny tensor and keep its node's vjp function."""
    from .. import nn, tensor

    F = nn.functional
    x = tensor(np.array([0.5, -0.5]), requires_grad=True)
    probes = {
        "sigmoid": F.sigmoid,
        "tanh": F.tanh,
        "relu": F.relu,
        "hardtanh": F.hardtanh,
        "leaky_relu": F.leaky_relu,
        "elu": F.elu,
        "gelu": F.gelu,
        "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
        "silu": F.silu,
        "softplus": F.softplus,
        "div": lambda t: t / (t.abs() + 1),
        "abs": lambda t: t.abs(),
        "add": lambda t: t + 1,
    }
    kinds = {}
    for kind, fn in probes.items():
        node = fn(x)._node
        if node is not None:
            kinds.setdefault(
                _identity(node), kind.replace("_tanh", "") if kind == "gelu_tanh" else kind
            )
    return kinds


_OUTPUT_KINDS = None  # vjp function -> 'softmax', 'log_softmax', 'sigmoid' / loss kinds


def _probe_outputs():
    """The vjps of the ops that end a model (probabilities) and of the losses."""
    from .. import nn, tensor

    F = nn.functional
    x = tensor(np.array([[0.5, -0.5, 0.1], [0.2, 0.3, -1.0]]), requires_grad=True)
    y = tensor(np.array([0, 2]))
    p = tensor(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    probes = {
        "softmax": lambda: F.softmax(x, dim=1),
        "log_softmax": lambda: F.log_softmax(x, 1),
        "sigmoid": lambda: F.sigmoid(x),
        "cross_entropy": lambda: F.cross_entropy(x, y),
        "cross_entropy_w": lambda: F.cross_entropy(x, y, label_smoothing=0.1),
        "nll": lambda: F.nll_loss(x, y),
        "bce_logits": lambda: F.binary_cross_entropy_with_logits(x, p),
        "bce": lambda: F.binary_cross_entropy(F.sigmoid(x), p),
    }
    kinds = {}
    for kind, fn in probes.items():
        node = fn()._node
        if node is not None:
            kinds.setdefault(_identity(node), kind.replace("_w", ""))
    return kinds


def _output_table():
    global _OUTPUT_KINDS
    if _OUTPUT_KINDS is None:
        _OUTPUT_KINDS = _probe_outputs()
    return _OUTPUT_KINDS


def output_kind(node):
    """'softmax', 'log_softmax' or 'sigmoid' when ``node`` makes probabilities (or their
    logs), else None."""
    if node is None:
        return None
    kind = _output_table().get(_identity(node))
    return kind if kind in ("softmax", "log_softmax", "sigmoid") else None


def loss_kind(node):
    """'cross_entropy', 'nll', 'bce_logits' or 'bce' for the node of a loss, else None."""
    if node is None:
        return None
    kind = _output_table().get(_identity(node))
    return kind if kind in ("cross_entropy", "nll", "bce_logits", "bce") else None


def _vjp_kind(node):
    global _VJP_KINDS
    if _VJP_KINDS is None:
        _VJP_KINDS = _probe()
    return _VJP_KINDS.get(_identity(node))


def node_kind(node):
    """(kind, source tensor, hardtanh bounds) when ``node`` is an activation applied to a
    tensor, else (None, None, None). ``selu`` and ``elu`` share a vjp; their constants tell."""
    if node is None or not node.inputs:
        return None, None, None
    kind = _vjp_kind(node)
    if kind in ("abs", "add"):
        return None, None, None
    if kind == "div":
        return ("softsign", node.inputs[0], None) if _is_softsign(node) else (None, None, None)
    if kind == "hardtanh":
        lo, hi = (float(b) for b in node.saved)
        return (
            ("relu6", node.inputs[0], None)
            if (lo, hi) == (0.0, 6.0)
            else ("hardtanh", node.inputs[0], (lo, hi))
        )
    if kind == "elu" and isinstance(node.saved, tuple) and node.saved[1] != 1.0:
        kind = "selu"
    return kind, (node.inputs[0] if kind else None), None


def _is_softsign(node):
    """x / (|x| + 1): the denominator is Add(Abs(x), 1) of the same x."""
    x, den = node.inputs[0], node.inputs[1]
    add = den._node
    if add is None or _vjp_kind(add) != "add" or not add.inputs:
        return False
    ab = add.inputs[0]._node
    one = add.inputs[1]._data if len(add.inputs) > 1 else None
    return (
        ab is not None
        and _vjp_kind(ab) == "abs"
        and ab.inputs[0] is x
        and one is not None
        and one.size == 1
        and float(one.reshape(())) == 1.0
    )


# ---- measured shares ----


def saturated_share(kind, a, bounds=None, out=None):
    """Share of entries of the activation output ``a`` in the saturation band of ``kind``.

    ``out``: an optional bool buffer of ``a``'s shape (no temporaries)."""
    if kind == "hardtanh":  # flat at and beyond [min_val, max_val]
        (lo, hi), below, above = bounds or (-1.0, 1.0), np.less_equal, np.greater_equal
    else:
        (lo, hi), below, above = saturation_band(kind), np.less, np.greater
    if out is None:
        out = np.empty(a.shape, dtype=bool)
    return (
        np.count_nonzero(below(a, lo, out=out)) + np.count_nonzero(above(a, hi, out=out))
    ) / a.size


def dead_share(a, sequence=False):
    """Share of units whose output is <= 0 for every example (units: axis 1, or the last axis
    of a sequence)."""
    if a.ndim < 2:
        return float(not np.any(a > 0))
    if a.ndim == 2:
        peak = a.max(axis=0)
    else:
        axis = a.ndim - 1 if sequence else 1
        peak = a.max(axis=tuple(d for d in range(a.ndim) if d != axis))
    return np.count_nonzero(~(peak > 0)) / peak.size
