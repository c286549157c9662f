"""Names people know: layers as ``fc1 · Linear 64→128 · tanh``, metrics in plain words.

The monitor names a layer by its module path (``model.named_modules()``): inside an
``nn.Sequential`` that is an index such as ``0``, ``2``, ``4`` or ``3.block.1``. For the report a
layer is called by its own name when it has one (``fc1``, ``encoder.rnn``), and otherwise by its
type and rank (``Linear 1``, ``Linear 2``...), followed by its shape and the activation after it.

Example::

    labels = layer_labels(monitor)        # {'0': 'Linear 1 · 64→128 · relu', ...}
    metric_words("out_grad_norm")         # 'gradient at the layer output (norm)'
"""

import re

# Metric key -> (plain words, unit). The unit is shown next to numbers; "" when unitless.
METRICS = {
    "out_grad_norm": ("gradient at the layer output", "L2 norm"),
    "grad_norm": ("weight gradient", "L2 norm"),
    "weight_norm": ("weight size", "L2 norm"),
    "update_ratio": ("update / weight per step", "ratio ||ΔW|| / ||W||"),
    "saturated_frac": ("saturated units", "share of outputs"),
    "dead_frac": ("dead units", "share of units"),
    "zero_frac": ("zero gradient entries", "share"),
    "nonfinite_frac": ("NaN/Inf gradient entries", "share"),
    "has_grad": ("received a gradient", "0/1"),
    "loss": ("loss", ""),
    "time_ratio": ("gradient through time, first / last step", "ratio"),
    "clip_total_norm": ("total gradient before clipping", "L2 norm"),
}

_INDEX_PATH = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def metric_words(key):
    """Plain words for a metric or evidence key (``out_grad_norm`` -> ``gradient at the layer
    output``); unknown keys get their underscores replaced."""
    if key in METRICS:
        return METRICS[key][0]
    return str(key).replace("_", " ")


def metric_unit(key):
    """The unit of a metric key, or ``''``."""
    return METRICS.get(key, ("", ""))[1]


def _shape(module):
    """``'64→128'`` from a module's sizes (Linear, Conv, recurrent, norm, embedding), or ''."""
    pairs = (
        ("in_features", "out_features"),
        ("in_channels", "out_channels"),
        ("input_size", "hidden_size"),
        ("num_embeddings", "embedding_dim"),
    )
    for a, b in pairs:
        if hasattr(module, a) and hasattr(module, b):
            return f"{getattr(module, a)}→{getattr(module, b)}"
    for a in ("num_features", "normalized_shape"):
        if hasattr(module, a):
            v = getattr(module, a)
            return "×".join(str(x) for x in v) if isinstance(v, (tuple, list)) else str(v)
    return ""


def is_index_path(name):
    """True for module paths made only of Sequential indices (``'0'``, ``'3.1'``)."""
    return bool(_INDEX_PATH.match(str(name)))


def layer_labels(monitor):
    """``{module name: label}`` for every layer the monitor tracks (see the module doc).

    ``monitor`` is a :class:`GradientMonitor` (with ``model`` and ``context()``); with a bare
    History the labels are the names.
    """
    if not hasattr(monitor, "context"):
        history = getattr(monitor, "history", monitor)
        return {n: n for n in getattr(history, "layer_names", [])}
    ctx = monitor.context()
    model = getattr(monitor, "model", None)
    modules = dict(model.named_modules()) if model is not None else {}
    counts, labels = {}, {}
    for i in ctx["layer_order"]:
        info = ctx["layers"][i]
        name, kind = info["name"], info.get("type") or "layer"
        counts[kind] = counts.get(kind, 0) + 1
        shape = _shape(modules[name]) if name in modules else ""
        if is_index_path(name):  # 'Linear 2 · 128→128 · relu'
            parts = [f"{kind} {counts[kind]}"] + ([shape] if shape else [])
        else:  # 'fc1 · Linear 64→128 · tanh'
            parts = [name, f"{kind} {shape}".strip()]
        if info.get("activation"):
            parts.append(str(info["activation"]))
        labels[name] = " · ".join(parts)
    return labels


def labels_from_rows(rows):
    """``{name: label}`` from a HealthReport's layer rows (``layer``, ``type``, ``activation``)
    when no monitor is at hand: ``Linear 2 · relu`` (no shapes)."""
    counts, labels = {}, {}
    for r in rows:
        name, kind = r.get("layer"), r.get("type") or "layer"
        if name is None:
            continue
        counts[kind] = counts.get(kind, 0) + 1
        head = f"{kind} {counts[kind]}" if is_index_path(name) else f"{name} · {kind}"
        act = r.get("activation")
        labels[name] = head + (f" · {act}" if act and act != "-" else "")
    return labels


def short_label(label, limit=34):
    """A label cut to ``limit`` characters (for axis ticks)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"
