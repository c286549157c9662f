"""``GradientMonitor``: records gradient flow through the user's model via hooks only.

At each recorded step it keeps scalar series (never histograms) in a bounded ring buffer
(:class:`History`):

* per parameter: gradient norm, RMS and max-abs, weight norm, update-to-weight ratio
  ``||dW|| / ||W||`` (measured across the optimizer step), share of zero and of non-finite
  gradient entries, whether a gradient arrived at all;
* per layer (a module that owns parameters): the norm of the gradient arriving at its output
  (the back-propagated signal, through a tensor hook on the output), the RMS of its output, and
  the mean/std of the activation that follows it (an activation module, or a functional
  activation such as ``cr.tanh(self.fc(x))``) with the share of saturated (sigmoid/tanh-like) or
  dead (ReLU-like) units;
* per recurrent layer (RNN/LSTM/GRU, or a cell called once per time step): ``||dL/dh_t||`` at
  the first and the last step, from tensor hooks on the per-step hidden states;
* the loss, and the total gradient norm seen by gradient clipping.

Nothing is computed on steps that are not recorded (``every``), except a finiteness check of the
loss. Update ratios need a copy of the weights, taken only before recorded steps.

Example::

    with cr.diagnostics.GradientMonitor(model, optimizer=opt, every=1) as monitor:
        for x, y in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            total = cr.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            monitor.step(loss, grad_norm=total, max_norm=1.0)
        print(monitor.report())
"""
import functools
import math
import warnings

import numpy as np

from ..tensor import Tensor
from . import report as _report

PARAM_METRICS = ("grad_norm", "grad_rms", "grad_max", "weight_norm", "update_ratio", "zero_frac",
                 "nonfinite_frac", "has_grad")
LAYER_METRICS = ("out_grad_norm", "out_rms", "act_mean", "act_std", "saturated_frac", "dead_frac")
RECURRENT_METRICS = ("time_grad_first", "time_grad_last", "time_ratio", "time_steps")
GLOBAL_METRICS = ("loss", "clip_total_norm", "clip_max_norm")

# The monitor's own arithmetic meets NaN, Inf and huge values by design (that is what it
# reports): NumPy's warnings about them would only repeat the report. Scoped to this module.
warnings.filterwarnings("ignore", category=RuntimeWarning,
                        module=r"chainrule\.diagnostics\.monitor")

# Activation modules by class name, and graph-node names of functional activations.
ACTIVATION_MODULES = {"ReLU": "relu", "ReLU6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh",
                      "Hardtanh": "hardtanh", "Softsign": "softsign", "LeakyReLU": "leaky_relu",
                      "ELU": "elu", "SELU": "selu", "GELU": "gelu", "SiLU": "silu",
                      "Softplus": "softplus"}
ACTIVATION_NODES = {"relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "hardtanh": "hardtanh",
                    "softsign": "softsign", "leakyrelu": "leaky_relu", "elu": "elu",
                    "selu": "selu", "gelu": "gelu", "gelutanh": "gelu", "silu": "silu",
                    "softplus": "softplus"}


class History:
    """Bounded ring buffer of the recorded series; the oldest rows are overwritten.

    ``series(metric)`` returns a float64 array in chronological order: shape ``(n,)`` for the
    global metrics (``loss``...), ``(n, P)`` for parameter metrics (columns ``param_names``),
    ``(n, L)`` for layer metrics (``layer_names``) and ``(n, R)`` for recurrent metrics
    (``recurrent_names``). ``steps`` holds the training step of each row. ``time_profiles``
    maps each recurrent layer to its latest ``||dL/dh_t||`` for t = 1..T.

    Example::

        h = monitor.history
        h.series("out_grad_norm")[-1]     # back-propagated signal per layer, last recorded step
    """

    def __init__(self, capacity, param_names, layer_names, recurrent_names=()):
        if int(capacity) < 1:
            raise ValueError(f"History: capacity must be at least 1, got {capacity}")
        self.capacity = int(capacity)
        self.param_names = list(param_names)
        self.layer_names = list(layer_names)
        self.recurrent_names = list(recurrent_names)
        widths = {"param": len(self.param_names), "layer": len(self.layer_names),
                  "recurrent": len(self.recurrent_names)}
        self._arrays = {m: np.full((self.capacity,), np.nan) for m in GLOBAL_METRICS}
        for scope, metrics in (("param", PARAM_METRICS), ("layer", LAYER_METRICS),
                               ("recurrent", RECURRENT_METRICS)):
            for m in metrics:
                self._arrays[m] = np.full((self.capacity, widths[scope]), np.nan)
        self._steps = np.zeros(self.capacity, dtype=np.int64)
        self._n = 0
        self.time_profiles = {}

    def __len__(self):
        return min(self._n, self.capacity)

    @property
    def metrics(self):
        return tuple(self._arrays)

    @staticmethod
    def scope(metric):
        """'global', 'param', 'layer' or 'recurrent'."""
        for scope, metrics in (("global", GLOBAL_METRICS), ("param", PARAM_METRICS),
                               ("layer", LAYER_METRICS), ("recurrent", RECURRENT_METRICS)):
            if metric in metrics:
                return scope
        raise KeyError(f"History: unknown metric {metric!r}")

    def names(self, scope):
        """Column names of a scope ('param', 'layer', 'recurrent'); [] for 'global'."""
        return {"param": self.param_names, "layer": self.layer_names,
                "recurrent": self.recurrent_names}.get(scope, [])

    def _order(self):
        if self._n <= self.capacity:
            return np.arange(self._n)
        return (np.arange(self.capacity) + self._n) % self.capacity

    @property
    def steps(self):
        return self._steps[self._order()]

    def series(self, metric):
        if metric not in self._arrays:
            raise KeyError(f"History: unknown metric {metric!r}; known: {sorted(self._arrays)}")
        return self._arrays[metric][self._order()]

    def append(self, step, values):
        """Write one row: ``values`` maps metrics to a float or an array of the scope's width."""
        row = self._n % self.capacity
        for m, arr in self._arrays.items():
            arr[row] = values.get(m, np.nan)
        self._steps[row] = step
        self._n += 1


class _Layer:
    """A module that owns parameters, as the monitor sees it."""

    def __init__(self, index, name, module, param_columns):
        self.index, self.name, self.module = index, name, module
        self.type = type(module).__name__
        self.param_columns = param_columns
        self.activation = None
        self.act_bounds = None
        self.rec_index = None              # column in the recurrent series
        self.ordered = False               # seen in a forward pass (self._order holds it)
        nonlin = getattr(module, "nonlinearity", None)
        if self.type in ("RNN", "RNNCell") and nonlin in ("tanh", "relu"):
            self.activation = nonlin       # the output of a plain RNN is its activation
        self.own_activation = self.activation is not None


class _StepData:
    """What the hooks gather during one recorded step."""

    def __init__(self, n_layers, n_recurrent):
        self.out_ss = np.zeros(n_layers)
        self.out_n = np.zeros(n_layers)
        self.grad_ss = np.zeros(n_layers)
        self.grad_seen = np.zeros(n_layers, dtype=bool)
        self.act = np.zeros((n_layers, 5))        # sums of mean, std, saturated, dead; count
        self.act_sat_n = np.zeros(n_layers)
        self.act_dead_n = np.zeros(n_layers)
        self.time_ss = [None] * n_recurrent
        self.outputs = {}                         # id(layer output) -> (layer, tensor)
        self.acts_seen = set()
        self.calls = np.zeros(n_layers, dtype=np.int64)
        self.forward_event = None


class GradientMonitor:
    """Watch gradients flow through ``model`` during training, through hooks only.

    Args:
        model: a ``cr.nn.Module``; it is not modified (hooks are removed by :meth:`close`).
        every (int): record every ``every``-th step (1 = all). Other steps cost almost nothing.
        capacity (int): recorded steps kept (a ring buffer: the oldest are dropped).
        optimizer: optional; gives the learning rate for the remedies and lets the report
            flag parameters missing from it.
        clip_norm (float): optional max_norm you clip the gradient norm at; when
            :meth:`step` gets no ``grad_norm``, clipping is inferred from the clipped norm.

    Call :meth:`step` once per training step, after ``optimizer.step()`` and before the next
    ``zero_grad()``. Example::

        monitor = cr.diagnostics.GradientMonitor(model, optimizer=opt)
        ...  # forward, backward, opt.step()
        monitor.step(loss)
        print(monitor.report())
        monitor.close()
    """

    def __init__(self, model, every=1, capacity=1024, optimizer=None, clip_norm=None):
        if not hasattr(model, "named_modules") or not hasattr(model, "register_forward_hook"):
            raise TypeError(f"GradientMonitor: model must be a cr.nn.Module, got "
                            f"{type(model).__name__}")
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"GradientMonitor: every must be a positive int, got {every!r}")
        if optimizer is not None and not hasattr(optimizer, "param_groups"):
            raise TypeError(f"GradientMonitor: optimizer must have param_groups, got "
                            f"{type(optimizer).__name__}")
        self.model, self.every, self.optimizer = model, int(every), optimizer
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self._params = list(model.named_parameters())
        self._layers, self._acts, self._recurrent = self._discover(model)
        self.history = History(capacity, [n for n, _ in self._params],
                               [lay.name for lay in self._layers],
                               [lay.name for lay in self._recurrent])
        self._init_gain = [_init_gain(lay, self._params) for lay in self._layers]
        self._order = []                  # layer indices in forward order (first call)
        self._step = 0
        self._snapshot = None
        self._snapshot_valid = False
        self._last_layer = None
        self.first_nonfinite = None
        self._clip = {"seen": 0, "acted": 0, "max_norm": self.clip_norm, "norms": []}
        self._handles = []
        self._closed = False
        self._restore = [(lay.module, lay.module.record_steps) for lay in self._recurrent
                         if hasattr(lay.module, "record_steps")]
        for module, _ in self._restore:
            module.record_steps = True    # keep the per-step hidden states for hooks
        self._recording = False
        self._data = None
        self._start_recording()

    # ------------------------------------------------------------------------------------------
    # attaching
    # ------------------------------------------------------------------------------------------

    def _discover(self, model):
        column = {id(p): k for k, (_, p) in enumerate(self._params)}
        layers, acts, recurrent = [], [], []
        for name, module in model.named_modules():
            kind = ACTIVATION_MODULES.get(type(module).__name__)
            if kind:
                acts.append((module, kind))
            own = [column[id(p)] for _, p in module.named_parameters(recurse=False)
                   if id(p) in column]
            if not own:
                continue
            layer = _Layer(len(layers), name or type(module).__name__, module, own)
            layers.append(layer)
            if hasattr(module, "record_steps") or (layer.type.endswith("Cell")
                                                   and hasattr(module, "weight_hh")):
                layer.rec_index = len(recurrent)
                recurrent.append(layer)
        return layers, acts, recurrent

    def _attach(self):
        """Register the hooks. They live only during recorded steps: the others cost nothing."""
        layer_modules = set()
        for layer in self._layers:
            m = layer.module
            layer_modules.add(id(m))
            self._hook(m.register_forward_pre_hook(self._before_module))
            self._hook(m.register_forward_hook(functools.partial(self._after_layer, layer)))
        for module, kind in self._acts:
            self._hook(module.register_forward_hook(functools.partial(self._after_activation,
                                                                      kind)))
        for _, module in self.model.named_modules():
            if id(module) not in layer_modules:
                self._hook(module.register_forward_hook(self._after_container))
        self._hook(self.model.register_forward_pre_hook(self._new_forward))

    def _hook(self, handle):
        self._handles.append(handle)

    def _detach(self):
        for h in self._handles:
            h.remove()
        self._handles = []

    def _start_recording(self):
        """Prepare a recorded step: hooks on, fresh accumulators, a copy of the weights."""
        self._recording = True
        self._data = _StepData(len(self._layers), len(self._recurrent))
        self._last_layer = None
        if not self._handles:
            self._attach()
        self._take_snapshot()

    def close(self):
        """Remove every hook and restore ``record_steps``; the history stays readable."""
        self._detach()
        for module, value in self._restore:
            module.record_steps = value
        self._restore = []
        self._snapshot = None
        self._snapshot_valid = False
        self._recording = False
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------------------------------
    # forward hooks
    # ------------------------------------------------------------------------------------------

    def _after_layer(self, layer, module, args, out):
        t = _first_tensor(out)
        if t is None or not t.requires_grad:
            return
        d, i = self._data, layer.index
        if not layer.ordered:
            layer.ordered = True
            self._order.append(layer.index)
        call = d.calls[i]
        d.calls[i] += 1
        ss = _sumsq(t.data)
        d.out_ss[i] += ss
        d.out_n[i] += t.data.size
        if not math.isfinite(ss) and d.forward_event is None:
            d.forward_event = _forward_origin(layer, args, t, self._params)
        t.register_hook(functools.partial(self._on_out_grad, i))
        d.outputs[id(t)] = (layer, t)
        self._last_layer = layer
        if layer.own_activation:
            self._activation_stats(layer, layer.activation, t.data)
        if layer.rec_index is not None:
            self._watch_time(layer, module, t, call)

    def _new_forward(self, module, args):
        """A forward of the whole model starts: forget the previous one's tensors (memory)."""
        self._data.outputs.clear()
        self._data.acts_seen.clear()
        self._last_layer = None

    def _before_module(self, module, args):
        if args:
            self._inspect(_first_tensor(args[0]))

    def _after_container(self, module, args, out):
        self._inspect(_first_tensor(out))

    def _inspect(self, x):
        """If ``x`` is a functional activation applied to a layer's output, record its stats."""
        node = getattr(x, "_node", None)
        if node is None or id(x) in self._data.acts_seen:
            return
        kind = ACTIVATION_NODES.get(node.name.lower())
        src = node.inputs[0] if kind and node.inputs else None
        owner = self._data.outputs.get(id(src)) if src is not None else None
        if owner is None or owner[1] is not src:
            return
        self._data.acts_seen.add(id(x))
        bounds = node.saved if kind == "hardtanh" else None
        self._activation_stats(owner[0], kind, x.data, bounds)

    def _after_activation(self, kind, module, args, out):
        t = _first_tensor(out)
        if t is None or not t.requires_grad or id(t) in self._data.acts_seen:
            return
        x = _first_tensor(args[0]) if args else None
        owner = self._data.outputs.get(id(x))
        layer = owner[0] if owner is not None and owner[1] is x else self._last_layer
        if layer is None:
            return
        self._data.acts_seen.add(id(t))
        bounds = (module.min_val, module.max_val) if kind == "hardtanh" else None
        self._activation_stats(layer, kind, t.data, bounds)

    def _activation_stats(self, layer, kind, a, bounds=None):
        if layer.activation is None:
            layer.activation, layer.act_bounds = kind, bounds
        if a.size == 0:
            return
        d, i = self._data, layer.index
        n = a.size
        mean = float(a.sum()) / n
        var = max(_sumsq(a) / n - mean * mean, 0.0)
        d.act[i, 0] += mean
        d.act[i, 1] += math.sqrt(var) if math.isfinite(var) else float("nan")
        d.act[i, 4] += 1
        sat = _saturated_share(kind, a, bounds)
        if sat is not None:
            d.act[i, 2] += sat
            d.act_sat_n[i] += 1
        if kind in _report.RELU_LIKE:
            d.act[i, 3] += _dead_share(a, layer.rec_index is not None)
            d.act_dead_n[i] += 1

    # ------------------------------------------------------------------------------------------
    # backward hooks
    # ------------------------------------------------------------------------------------------

    def _on_out_grad(self, i, grad):
        self._data.grad_ss[i] += _sumsq(grad.data)
        self._data.grad_seen[i] = True

    def _watch_time(self, layer, module, out, call):
        """Hooks on the per-step hidden states: ||dL/dh_t|| for every t."""
        r, d = layer.rec_index, self._data
        states = getattr(module, "last_hidden_states", None)
        if states:                          # RNN/LSTM/GRU: layer 0, forward direction
            hs = [h for h in states[0] if getattr(h, "requires_grad", False)]
            d.time_ss[r] = np.zeros(len(hs))
            for t, h in enumerate(hs):
                h.register_hook(functools.partial(self._on_time_grad, r, t))
        elif not hasattr(module, "record_steps"):   # a cell: one call per time step
            if d.time_ss[r] is None or call >= len(d.time_ss[r]):
                grown = np.zeros(call + 1)
                if d.time_ss[r] is not None:
                    grown[:len(d.time_ss[r])] = d.time_ss[r]
                d.time_ss[r] = grown
            out.register_hook(functools.partial(self._on_time_grad, r, call))

    def _on_time_grad(self, r, t, grad):
        ss = self._data.time_ss[r]
        if ss is not None and t < len(ss):
            ss[t] += _sumsq(grad.data)

    # ------------------------------------------------------------------------------------------
    # the step
    # ------------------------------------------------------------------------------------------

    def step(self, loss=None, grad_norm=None, max_norm=None):
        """Close one training step: record it (if due) and prepare the next.

        Args:
            loss: the step's loss (Tensor or float), for the loss curve and divergence checks.
            grad_norm: the total gradient norm before clipping, e.g. what
                ``cr.nn.utils.clip_grad_norm_`` returned; counts whether clipping acted.
            max_norm: the clipping threshold (defaults to ``clip_norm`` given at construction).
        """
        value = _loss_value(loss)
        if grad_norm is not None:
            self.note_clipping(grad_norm, max_norm)
        bad_loss = value is not None and not math.isfinite(value)
        if self._recording or (bad_loss and self.first_nonfinite is None and not self._closed):
            self._record(value, loss)
        self._step += 1
        if self._closed:
            return
        if self._step % self.every == 0:
            self._start_recording()
        elif self._recording:
            self._recording = False
            self._detach()

    def note_clipping(self, total_norm, max_norm=None):
        """Tell the monitor what gradient clipping saw: ``total_norm`` before clipping.

        Example::

            total = cr.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            monitor.note_clipping(total, 1.0)
        """
        max_norm = self.clip_norm if max_norm is None else float(max_norm)
        if max_norm is None:
            raise ValueError("note_clipping: give max_norm (or clip_norm to the GradientMonitor)")
        total = _loss_value(total_norm)
        self._clip["max_norm"] = max_norm
        self._clip["seen"] += 1
        self._clip["acted"] += int(not total <= max_norm)    # NaN counts as clipped, as torch does
        self._clip["norms"].append(total)
        del self._clip["norms"][:-self.history.capacity]
        self._clip["pending"] = total

    def _take_snapshot(self):
        """Copy the weights before a recorded step (into the same buffers after the first)."""
        if self._snapshot is None:
            self._snapshot = [None] * len(self._params)
        for k, (_, p) in enumerate(self._params):
            buf = self._snapshot[k]
            if buf is not None and buf.shape == p.data.shape:
                np.copyto(buf, p.data, casting="unsafe")
            else:
                self._snapshot[k] = p.data.copy()
        self._snapshot_valid = True

    def _record(self, value, loss):
        d = self._data if self._recording else _StepData(len(self._layers), len(self._recurrent))
        values = self._param_stats()
        values.update(self._layer_stats(d))
        values.update(self._time_stats(d))
        values["loss"] = np.nan if value is None else value
        self._clip_stats(values)
        self._check_nonfinite(d, values, value, loss)
        self.history.append(self._step, values)

    def _param_stats(self):
        block = np.full((len(PARAM_METRICS), len(self._params)), np.nan)
        out = dict(zip(PARAM_METRICS, block))
        wnorm, ratio, has = out["weight_norm"], out["update_ratio"], out["has_grad"]
        snap = self._snapshot if self._snapshot_valid else None
        for k, (_, p) in enumerate(self._params):
            w = p.data
            wss = _sumsq(w)
            wnorm[k] = math.sqrt(wss) if wss >= 0 else np.nan
            if snap is not None and snap[k].shape == w.shape and wss > 0:
                ratio[k] = math.sqrt(_sumsq(np.subtract(w, snap[k], out=snap[k])) / wss)
            g = p.grad
            has[k] = g is not None
            if g is not None:
                _grad_stats(g.data, out, k)
        self._snapshot_valid = False          # the buffers now hold the updates
        return out

    def _layer_stats(self, d):
        def mean(total, count):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)
        cnt = d.act[:, 4]
        return {"out_grad_norm": np.where(d.grad_seen, np.sqrt(d.grad_ss), np.nan),
                "out_rms": np.sqrt(mean(d.out_ss, d.out_n)),
                "act_mean": mean(d.act[:, 0], cnt), "act_std": mean(d.act[:, 1], cnt),
                "saturated_frac": mean(d.act[:, 2], d.act_sat_n),
                "dead_frac": mean(d.act[:, 3], d.act_dead_n)}

    def _time_stats(self, d):
        R = len(self._recurrent)
        out = {m: np.full(R, np.nan) for m in RECURRENT_METRICS}
        for r, layer in enumerate(self._recurrent):
            ss = d.time_ss[r]
            if ss is None or not len(ss) or not ss.any():
                continue
            norms = np.sqrt(ss)
            self.history.time_profiles[layer.name] = norms
            out["time_grad_first"][r], out["time_grad_last"][r] = norms[0], norms[-1]
            out["time_ratio"][r] = norms[0] / norms[-1] if norms[-1] else np.nan
            out["time_steps"][r] = len(norms)
        return out

    def _clip_stats(self, values):
        total = self._clip.pop("pending", None)
        if total is None and self.clip_norm is not None:
            total = _inferred_total(values["grad_norm"], self.clip_norm)
            if total is not None:
                self.note_clipping(total, self.clip_norm)
                self._clip.pop("pending", None)
        if total is not None:
            values["clip_total_norm"] = total
            values["clip_max_norm"] = self._clip["max_norm"]

    def _check_nonfinite(self, d, values, value, loss):
        if self.first_nonfinite is not None:
            return
        event = d.forward_event
        if event is None and _all_finite(values, value):
            return
        if event is None and value is not None and not math.isfinite(value):
            event = _loss_origin(loss, self.history.series("loss"))
        if event is None:
            event = self._backward_origin(d, values)
        if event is not None:
            event["step"] = self._step
            event.setdefault("diverged", event["phase"] in ("backward", "update"))
            self.first_nonfinite = event

    def _backward_origin(self, d, values):
        """The layer nearest the loss whose gradient (at its output or its weights) went bad."""
        order = self._order + [i for i in range(len(self._layers)) if i not in self._order]
        bad_out = [i for i in order if d.grad_seen[i] and not math.isfinite(d.grad_ss[i])]
        if bad_out:
            return {"phase": "backward", "layer": self._layers[bad_out[-1]].name,
                    "cause": "overflow", "explanation": "the back-propagated gradient overflowed "
                    "(exploding gradients)"}
        owner = self._param_layer()
        bad = [k for k in range(len(self._params)) if values["nonfinite_frac"][k] > 0]
        if bad:
            name = self._params[bad[-1]][0]
            return {"phase": "backward", "layer": owner.get(name), "param": name,
                    "cause": "overflow", "explanation": f"the gradient of {name!r} overflowed "
                    "(exploding gradients)"}
        bad = [k for k in range(len(self._params)) if not math.isfinite(values["weight_norm"][k])]
        if bad:
            name = self._params[bad[0]][0]
            return {"phase": "update", "layer": owner.get(name), "param": name,
                    "cause": "non-finite weights", "explanation": f"the optimizer step made "
                    f"{name!r} non-finite"}
        return None

    def _param_layer(self):
        return {self._params[k][0]: lay.name for lay in self._layers for k in lay.param_columns}

    # ------------------------------------------------------------------------------------------
    # results
    # ------------------------------------------------------------------------------------------

    @property
    def steps_seen(self):
        """Number of calls to :meth:`step` so far."""
        return self._step

    def context(self):
        """What the rules need to know about the model (see ``report.View``)."""
        owner = self._param_layer()
        in_opt = _optimizer_membership(self.optimizer, self._params)
        layers = [self._layer_info(lay) for lay in self._layers]
        params = [{"name": n, "layer": owner.get(n, n), "ndim": p.data.ndim,
                   "requires_grad": bool(p.requires_grad), "in_optimizer": in_opt[k]}
                  for k, (n, p) in enumerate(self._params)]
        recurrent = [layers[lay.index] for lay in self._recurrent]
        order = self._order + [i for i in range(len(self._layers)) if i not in self._order]
        return {"layers": layers, "layer_order": order, "params": params,
                "recurrent": recurrent, "lr": _lr(self.optimizer),
                "optimizer": type(self.optimizer).__name__ if self.optimizer else None,
                "first_nonfinite": self.first_nonfinite, "clipping": self._clip_summary(),
                "steps_seen": self._step}

    def _layer_info(self, lay):
        return {"name": lay.name, "type": lay.type, "activation": lay.activation,
                "init_gain": self._init_gain[lay.index], "recurrent": lay.rec_index is not None,
                "param_columns": list(lay.param_columns),
                "sigma_max": _sigma_max(lay.module) if lay.rec_index is not None else None}

    def _clip_summary(self):
        c = self._clip
        if not c["seen"]:
            return None
        norms = np.asarray(c["norms"], dtype=np.float64)
        finite = norms[np.isfinite(norms)]
        return {"seen": c["seen"], "acted": c["acted"], "max_norm": c["max_norm"],
                "median_norm": float(np.median(finite)) if finite.size else float("nan"),
                "max_seen_norm": float(finite.max()) if finite.size else float("nan")}

    def report(self, **thresholds):
        """A :class:`~chainrule.diagnostics.HealthReport` on the recorded steps.

        Keyword arguments override entries of ``cr.diagnostics.THRESHOLDS``, e.g.
        ``monitor.report(vanishing_ratio=1e-3)``.
        """
        return _report.analyze(self.history, self.context(), thresholds, source="monitor")

    def save_report(self, path, report=None, title="chainrule health report"):
        """Write one self-contained HTML page (findings on top, plots inline). Returns the path."""
        from .html import save_html
        return save_html(self, path, report=report, title=title)

    def to_numpy(self):
        """The history as a dict of NumPy arrays (see :func:`~chainrule.diagnostics.to_numpy`)."""
        from .export import to_numpy
        return to_numpy(self.history)

    def to_dict(self):
        """The history as nested plain-Python dicts and lists (JSON-friendly)."""
        from .export import to_dict
        return to_dict(self.history)

    def to_csv(self, path):
        """Write the history as long-format CSV (``step,scope,name,metric,value``)."""
        from .export import to_csv
        return to_csv(self.history, path)

    def to_tensorboard(self, writer_or_logdir):
        """Write the history as TensorBoard scalars (needs tensorboardX for a directory)."""
        from .export import to_tensorboard
        return to_tensorboard(self.history, writer_or_logdir)

    def __repr__(self):
        return (f"GradientMonitor({len(self._layers)} layers, {len(self._params)} parameters, "
                f"every={self.every}, {len(self.history)} steps recorded)")


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def _all_finite(values, loss):
    """Loss, weights and gradients all finite (the usual case: nothing to trace)."""
    return ((loss is None or math.isfinite(loss)) and not np.any(values["nonfinite_frac"] > 0)
            and bool(np.isfinite(values["weight_norm"]).all())
            and not np.any(np.isinf(values["grad_norm"])))


def _first_tensor(x):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (tuple, list)):
        for item in x:
            if isinstance(item, Tensor):
                return item
    return None


def _sumsq(a):
    """Sum of squares as a Python float (float64 if float32 would overflow)."""
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    flat = a.ravel()
    s = float(np.dot(flat, flat))
    if math.isfinite(s) or not np.isfinite(flat).all():
        return s
    flat = flat.astype(np.float64)
    return float(np.dot(flat, flat))


def _grad_stats(g, out, k):
    """The statistics of one gradient ``g`` into column ``k``, counting NaN/Inf entries."""
    n = g.size
    if n == 0:
        return
    ss = _sumsq(g)
    bad = 0.0
    if not math.isfinite(ss):      # NaN/Inf entries: measure the finite ones, count the rest
        finite = np.isfinite(g)
        bad = 1.0 - np.count_nonzero(finite) / n
        g = g[finite]
        ss = _sumsq(g) if g.size else float("nan")
    out["nonfinite_frac"][k] = bad
    out["grad_norm"][k] = math.sqrt(ss) if bad == 0 else float("inf")
    out["grad_rms"][k] = math.sqrt(ss / n) if bad == 0 else float("inf")
    out["grad_max"][k] = max(float(g.max()), -float(g.min())) if g.size else float("nan")
    out["zero_frac"][k] = np.count_nonzero(g == 0) / n     # (== 0 also counts -0.0)


def _saturated_share(kind, a, bounds):
    """Share of activation values where the slope is below 10 % of its maximum."""
    if kind == "tanh":
        return np.count_nonzero(np.abs(a) > 0.9487) / a.size
    if kind == "sigmoid":
        return np.count_nonzero((a < 0.0260) | (a > 0.9740)) / a.size
    if kind == "softsign":
        return np.count_nonzero(np.abs(a) > 0.6838) / a.size
    if kind == "hardtanh":
        lo, hi = bounds or (-1.0, 1.0)
        return np.count_nonzero((a <= lo) | (a >= hi)) / a.size
    return None


def _dead_share(a, sequence):
    """Share of units that are 0 for every example (units: last axis for sequences, else axis 1).

    A ReLU-like unit is dead on the batch when its largest output is not positive."""
    if a.ndim < 2:
        return float(not np.any(a > 0))
    if a.ndim == 2:
        peak = a.max(axis=0)
    else:
        axis = a.ndim - 1 if sequence else 1
        peak = a.max(axis=tuple(d for d in range(a.ndim) if d != axis))
    return np.count_nonzero(~(peak > 0)) / peak.size


def _loss_value(loss):
    if loss is None:
        return None
    if isinstance(loss, Tensor):
        if loss.data.size != 1:
            raise ValueError(f"GradientMonitor.step: loss must be a scalar, got shape {loss.shape}")
        return float(loss.data.reshape(()))
    return float(loss)


def _inferred_total(grad_norms, max_norm):
    """The clipped total norm equals max_norm (to rounding) exactly when clipping acted."""
    finite = grad_norms[np.isfinite(grad_norms)]
    if not finite.size:
        return None
    total = float(np.sqrt(np.sum(finite ** 2)))
    return total if total < max_norm * (1 - 1e-4) else float("nan")


def _weight_of(layer, params):
    """The layer's main weight: its first parameter with 2 or more dims."""
    for k in layer.param_columns:
        if params[k][1].data.ndim >= 2:
            return params[k][1].data
    return None


def _init_gain(layer, params):
    """fan_in * Var(W) of the layer's weight (He et al. 2015 eq. 10 / Glorot & Bengio 2010)."""
    w = _weight_of(layer, params)
    if w is None or not w.size:
        return None
    if layer.type.startswith(("RNN", "LSTM", "GRU")):
        w = getattr(layer.module, "weight_hh_l0", getattr(layer.module, "weight_hh", None))
        w = None if w is None else w.data
        if w is None:
            return None
    fan_in = int(np.prod(w.shape[1:]))
    return float(fan_in * np.mean(np.square(w, dtype=np.float64)))


def _sigma_max(module):
    """Largest singular value of a plain RNN's recurrent matrix (Pascanu et al. 2013)."""
    if type(module).__name__ not in ("RNN", "RNNCell"):
        return None
    w = getattr(module, "weight_hh_l0", getattr(module, "weight_hh", None))
    if w is None or not np.isfinite(w.data).all():
        return None
    return float(np.linalg.norm(w.data.astype(np.float64), 2))


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


# ---- where the first NaN/Inf came from ----

def _forward_origin(layer, args, out, params):
    """Event dict for a layer whose output is non-finite: the op inside it, and why."""
    inputs = [a for a in args if isinstance(a, Tensor)]
    bad = [a for a in inputs if a.data.dtype.kind in "fc" and not np.isfinite(a.data).all()]
    if bad and bad[0]._node is None:
        return {"phase": "forward", "layer": layer.name, "cause": "non-finite input",
                "explanation": f"the input of {layer.name!r} already held NaN/Inf"}
    event = trace_op(bad[0] if bad else out, {id(p) for _, p in params})
    if bad:            # made between two layers (a functional op in the parent's forward)
        event["explanation"] = (f"{event['explanation']}, in the computation of the input of "
                                f"{layer.name!r}")
    event.update(phase="update" if event["cause"] == "non-finite weights" else "forward",
                 layer=layer.name)
    return event


def _loss_origin(loss, past):
    """Event for a non-finite loss from finite layer outputs: traced when the graph is still
    there; otherwise an overflow if the loss had been growing, else the loss function."""
    past = past[np.isfinite(past)]
    if isinstance(loss, Tensor) and loss._node is not None and loss._node.inputs is not None:
        event = trace_op(loss, set())
    elif past.size >= 2 and abs(past[-1]) > 1e6 * max(abs(past[0]), 1e-12):
        event = {"cause": "overflow", "diverged": True,
                 "explanation": f"the loss grew from {past[0]:.3g} to {past[-1]:.3g} over "
                 f"{past.size} recorded steps and overflowed: training diverged"}
    else:
        event = {"cause": None, "explanation": "every layer's output was finite, so the loss "
                 "function produced it (e.g. log of a probability that is 0)"}
    event.update(phase="loss", layer=None)
    return event


def trace_op(t, param_ids, limit=100000):
    """Walk back from non-finite ``t`` to the op whose inputs were finite but output was not.

    Needs the graph (call before ``backward``). Returns ``{'op', 'cause', 'explanation'}``.
    """
    node = t._node
    for _ in range(limit):
        if node is None or node.inputs is None:
            break
        bad = [x for x in node.inputs
               if x.data.dtype.kind in "fc" and not np.isfinite(x.data).all()]
        if not bad:
            return _classify(node)
        if bad[0]._node is None:
            leaf = bad[0]
            cause = "non-finite weights" if id(leaf) in param_ids else "non-finite input"
            what = "weights" if id(leaf) in param_ids else "input"
            return {"op": node.name, "cause": cause,
                    "explanation": f"its {what} (shape {tuple(leaf.shape)}) already held NaN/Inf"}
        node = bad[0]._node
    return {"op": None, "cause": None, "explanation": None}


def _classify(node):
    """Cause of a finite-in, non-finite-out op: the rules of ``nonfinite.py`` when present."""
    try:
        from .nonfinite import _forward_cause
    except ImportError:
        return _classify_here(node)
    cause, detail = _forward_cause(node.name, node.inputs, {})
    return _cause(node.name, cause, f"{cause} ({detail})" if detail else cause)


def _classify_here(node):
    name, lower = node.name, node.name.lower()
    x = node.inputs[0].data
    with np.errstate(all="ignore"):
        if lower in ("log", "log1p"):
            x = x + 1 if lower == "log1p" else x
            if np.any(x == 0):
                return _cause(name, "log of zero", f"log of zero ({int(np.count_nonzero(x == 0))} "
                              f"of {x.size} inputs are 0)")
            return _cause(name, "log of a negative number", "log of a negative number")
        if lower in ("exp", "expm1"):
            return _cause(name, "overflow in exp", f"overflow in exp (input up to {np.max(x):.3g})")
        if lower == "div" and np.any(node.inputs[1].data == 0):
            return _cause(name, "division by zero", "division by zero")
        if lower in ("rsqrt", "sqrt") and np.any(x <= 0):
            cause = "near-zero variance" if np.any(x == 0) else "sqrt of a negative number"
            return _cause(name, cause, cause)
    return _cause(name, "overflow", f"overflow in {name} (values beyond the float range)")


def _cause(op, cause, explanation):
    return {"op": op, "cause": cause, "explanation": explanation}
