"""Export a monitor's :class:`~chainrule.diagnostics.History` to NumPy, a dict, CSV or TensorBoard.

Every function takes the history (``monitor.history``) or the monitor itself. NaN and Inf are
kept as they are (``float('nan')`` in dicts, ``nan``/``inf`` in CSV).

Example::

    arrays = cr.diagnostics.to_numpy(monitor)          # {'step': (n,), 'grad_norm': (n, P), ...}
    cr.diagnostics.to_csv(monitor, "grads.csv")        # step,scope,name,metric,value
    cr.diagnostics.to_tensorboard(monitor, "runs/x")   # needs tensorboardX
    add_histograms(writer, model, step, batch=x)        # weights, gradients, activations
"""

import csv
import math

import numpy as np


def _history(obj):
    h = getattr(obj, "history", obj)
    if not hasattr(h, "series") or not hasattr(h, "metrics"):
        raise TypeError(f"expected a GradientMonitor or its History, got {type(obj).__name__}")
    return h


def to_numpy(history):
    """Dict of arrays: ``'step'`` (n,), every metric ((n,) or (n, width)), and the column names
    ``'param_names'``, ``'layer_names'``, ``'recurrent_names'`` (arrays of str)."""
    h = _history(history)
    out = {"step": h.steps}
    for m in h.metrics:
        out[m] = h.series(m)
    for scope in ("param", "layer", "recurrent"):
        out[f"{scope}_names"] = np.array(h.names(scope), dtype=str)
    return out


def to_dict(history):
    """Nested plain-Python dict: ``{'steps', 'global': {metric: [...]}, 'params': {name:
    {metric: [...]}}, 'layers': {...}, 'recurrent': {...}, 'time_profiles': {name: [...]}}``."""
    h = _history(history)
    out = {"steps": h.steps.tolist(), "global": {}, "params": {}, "layers": {}, "recurrent": {}}
    for m in h.metrics:
        scope, data = h.scope(m), h.series(m)
        if scope == "global":
            out["global"][m] = data.tolist()
            continue
        target = out[{"param": "params", "layer": "layers", "recurrent": "recurrent"}[scope]]
        for j, name in enumerate(h.names(scope)):
            target.setdefault(name, {})[m] = data[:, j].tolist()
    out["time_profiles"] = {k: np.asarray(v).tolist() for k, v in h.time_profiles.items()}
    return out


def _rows(h):
    """(step, scope, name, metric, value) for every recorded number."""
    steps = h.steps
    for m in h.metrics:
        scope, data = h.scope(m), h.series(m)
        names = h.names(scope) if scope != "global" else [""]
        data = data.reshape(len(steps), -1)
        for j, name in enumerate(names):
            for i, step in enumerate(steps):
                yield int(step), scope, name, m, float(data[i, j])


def to_csv(history, path):
    """Write a long-format CSV (``step,scope,name,metric,value``); returns ``path``."""
    h = _history(history)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step", "scope", "name", "metric", "value"])
        for row in _rows(h):
            w.writerow(row)
    return path


def _writer(writer_or_logdir, needs="add_scalar"):
    """(writer, made_here): a given writer, or a tensorboardX SummaryWriter on a directory."""
    if hasattr(writer_or_logdir, needs):
        return writer_or_logdir, False
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError(
            "TensorBoard export needs tensorboardX: pip install chainrule[tensorboard]"
        ) from None
    return SummaryWriter(str(writer_or_logdir)), True


def _finite_values(array):
    a = np.asarray(array, dtype=np.float64).ravel()
    return a[np.isfinite(a)]


def add_histograms(writer_or_logdir, model, step, batch=None):
    """Write TensorBoard histograms of ``model``: every parameter's values (``weights/<name>``),
    its gradient when it has one (``gradients/<name>``) and, given an input ``batch``, every
    submodule's output on it (``activations/<module>``). Returns how many were written.

    The forward pass for the activations runs under ``no_grad`` in eval mode (BatchNorm's
    running statistics and dropout untouched); the model's modes are restored. NaN and Inf
    are left out of a histogram (TensorBoard cannot bin them); an all-NaN tensor is skipped.

    Example::

        writer = tensorboardX.SummaryWriter("runs/x")
        add_histograms(writer, model, epoch, batch=x[:256])
    """
    writer, own = _writer(writer_or_logdir, "add_histogram")
    count = 0
    try:
        for name, p in model.named_parameters():
            for tag, array in (
                (f"weights/{name}", p._data),
                (f"gradients/{name}", None if p.grad is None else p.grad._data),
            ):
                values = None if array is None else _finite_values(array)
                if values is not None and values.size:
                    writer.add_histogram(tag, values, step)
                    count += 1
        if batch is not None:
            for name, values in _activations(model, batch).items():
                if values.size:
                    writer.add_histogram(f"activations/{name}", values, step)
                    count += 1
    finally:
        if own:
            writer.close()
    return count


def _activations(model, batch):
    """{module name: finite output values} of every submodule (not the model itself)."""
    from ..autograd import no_grad

    outputs, handles = {}, []

    def keep(name):
        def hook(module, args, output):
            first = output[0] if isinstance(output, tuple) else output
            if hasattr(first, "_data"):
                outputs[name] = _finite_values(first._data)

        return hook

    for name, module in model.named_modules():
        if name and not any(True for _ in module.children()):  # leaf modules only
            handles.append(module.register_forward_hook(keep(name)))
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad(), np.errstate(all="ignore"):
            model(batch)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.train(mode)
    return outputs


def to_tensorboard(history, writer_or_logdir):
    """Write every series as TensorBoard scalars; returns how many were written.

    ``writer_or_logdir`` is anything with ``add_scalar(tag, value, step)`` (tensorboardX's or
    torch's ``SummaryWriter``) or a directory, for which a ``tensorboardX.SummaryWriter`` is made
    (and closed). Tags are ``<metric>`` for global series and ``<scope>/<name>/<metric>``.
    """
    h = _history(history)
    writer, own = _writer(writer_or_logdir)
    count = 0
    try:
        for step, scope, name, metric, value in _rows(h):
            tag = metric if scope == "global" else f"{scope}/{name}/{metric}"
            if scope == "global" and math.isnan(value) and metric.startswith("clip"):
                continue  # clipping series are empty unless clipping was reported
            writer.add_scalar(tag, value, step)
            count += 1
    finally:
        if own:
            writer.close()
    return count
