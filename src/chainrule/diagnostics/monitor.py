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

Cost: a recorded step makes a handful of NumPy calls per array (one BLAS dot gives a sum of
squares, the non-finite share is only counted when that sum is not finite), measures small
parameters together in flat buffers, allocates no large temporaries and writes one row of
preallocated arrays; ``python benchmarks/monitor_overhead.py`` measures the overhead.

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
import itertools
import math
import operator
import warnings

import numpy as np

from ..tensor import Tensor
from . import report as _report

PARAM_METRICS = ("grad_norm", "grad_rms", "grad_max", "weight_norm", "update_ratio", "zero_frac",
                 "nonfinite_frac", "has_grad")
LAYER_METRICS = ("out_grad_norm", "out_rms", "act_mean", "act_std", "saturated_frac", "dead_frac")
RECURRENT_METRICS = ("time_grad_first", "time_grad_last", "time_ratio", "time_steps")
GLOBAL_METRICS = ("loss", "clip_total_norm", "clip_max_norm")
_SCOPES = (("global", GLOBAL_METRICS), ("param", PARAM_METRICS), ("layer", LAYER_METRICS),
           ("recurrent", RECURRENT_METRICS))
# The order in which a parameter's row is measured and stored (see _ParamMeter).
_PARAM_ROW = ("grad_norm", "grad_rms", "grad_max", "zero_frac", "nonfinite_frac", "weight_norm",
              "update_ratio", "has_grad")
_LAYOUT = {"global": GLOBAL_METRICS, "param": _PARAM_ROW, "layer": LAYER_METRICS,
           "recurrent": RECURRENT_METRICS}

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

NAN = float("nan")


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
        # One block per scope, (capacity, columns, metrics): a recorded step writes each
        # block's row in one assignment (_write) instead of one per metric.
        widths = {"global": 1, "param": len(self.param_names), "layer": len(self.layer_names),
                  "recurrent": len(self.recurrent_names)}
        self._blocks = {s: np.full((self.capacity, widths[s], len(ms)), np.nan)
                        for s, ms in _SCOPES}
        self._flat = {s: b.reshape(self.capacity, -1) for s, b in self._blocks.items()}
        self._where = {m: (s, _LAYOUT[s].index(m)) for s, ms in _SCOPES for m in ms}
        self._steps = np.zeros(self.capacity, dtype=np.int64)
        self._n = 0
        self.time_profiles = {}

    def __len__(self):
        return min(self._n, self.capacity)

    @property
    def metrics(self):
        return tuple(self._where)

    @staticmethod
    def scope(metric):
        """'global', 'param', 'layer' or 'recurrent'."""
        for scope, metrics in _SCOPES:
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
        if metric not in self._where:
            raise KeyError(f"History: unknown metric {metric!r}; known: {sorted(self._where)}")
        scope, j = self._where[metric]
        rows = self._blocks[scope][self._order(), :, j]
        return rows[:, 0] if scope == "global" else rows

    def append(self, step, values):
        """Write one row: ``values`` maps metrics to a float or an array of the scope's width."""
        row = self._next_row(step)
        for m, (scope, j) in self._where.items():
            self._blocks[scope][row, :, j] = values.get(m, np.nan)

    def _next_row(self, step):
        row = self._n % self.capacity
        self._steps[row] = step
        self._n += 1
        return row

    def _write(self, step, rows):
        """Write one step: ``rows`` maps a scope to its values flattened column by column (a
        parameter's or layer's metrics together, in ``_LAYOUT`` order); a scope left out
        stays NaN."""
        row = self._next_row(step)
        for scope, flat in self._flat.items():
            if flat.shape[1]:
                flat[row] = rows.get(scope, np.nan)


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
        self.on_grad = None                # its output's gradient hook, made once
        nonlin = getattr(module, "nonlinearity", None)
        if self.type in ("RNN", "RNNCell") and nonlin in ("tanh", "relu"):
            self.activation = nonlin       # the output of a plain RNN is its activation
        self.own_activation = self.activation is not None


class _StepData:
    """What the hooks gather during one recorded step, one list entry per layer.

    Plain lists, not arrays: the hooks add Python floats one at a time, which lists do cheaply.
    The activation sums are over calls of the layer (their mean is recorded).
    """

    def __init__(self, n_layers, n_recurrent):
        zeros = [0.0] * n_layers
        self.out_ss, self.out_n, self.grad_ss = zeros[:], zeros[:], zeros[:]
        self.grad_seen = [False] * n_layers
        self.act_mean, self.act_std, self.act_n = zeros[:], zeros[:], zeros[:]
        self.sat, self.sat_n, self.dead, self.dead_n = zeros[:], zeros[:], zeros[:], zeros[:]
        self.calls = [0] * n_layers
        self.time_ss = [None] * n_recurrent
        self.outputs = {}                         # id(layer output) -> (layer, tensor)
        self.acts_seen = set()
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
        self._scratch = _Scratch()
        self._meter = _ParamMeter(self._params, self._scratch)   # + the weights before the step
        self._snapshot_valid = False
        self._last_layer = None
        self.first_nonfinite = None
        self._clip = {"seen": 0, "acted": 0, "max_norm": self.clip_norm, "norms": []}
        self._handles = []
        self._plan = None                 # the hooks to register (see _hook_plan)
        self._closed = False
        self._restore = [(lay.module, lay.module.record_steps) for lay in self._recurrent
                         if hasattr(lay.module, "record_steps")]
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
            layer.on_grad = functools.partial(self._on_out_grad, layer.index)
            layers.append(layer)
            if hasattr(module, "record_steps") or (layer.type.endswith("Cell")
                                                   and hasattr(module, "weight_hh")):
                layer.rec_index = len(recurrent)
                recurrent.append(layer)
        return layers, acts, recurrent

    def _attach(self):
        """Register the hooks. They live only during recorded steps: the others cost nothing."""
        if self._plan is None:
            self._plan = self._hook_plan()
        self._handles = [register(hook) for register, hook in self._plan]

    def _hook_plan(self):
        """(register method, hook) of every hook, made once so that attaching is cheap."""
        plan = [(layer.module.register_forward_hook, functools.partial(self._after_layer, layer))
                for layer in self._layers]
        plan += [(module.register_forward_hook, functools.partial(self._after_activation, kind))
                 for module, kind in self._acts]
        # Containers (and other modules) only for functional activations at their output;
        # layers and activation modules see their own outputs already.
        seen = {id(lay.module) for lay in self._layers} | {id(m) for m, _ in self._acts}
        plan += [(module.register_forward_hook, self._after_container)
                 for _, module in self.model.named_modules() if id(module) not in seen]
        plan.append((self.model.register_forward_pre_hook, self._new_forward))
        return plan

    def _detach(self):
        for h in self._handles:
            h.remove()
        self._handles = []
        self._keep_steps(False)

    def _keep_steps(self, on):
        """Per-step hidden states (``record_steps``) only on recorded steps: the other steps
        keep the recurrent layers' fused, much faster path."""
        for module, original in self._restore:
            module.record_steps = on or original

    def _start_recording(self):
        """Prepare a recorded step: hooks on, fresh accumulators, a copy of the weights."""
        self._recording = True
        self._data = _StepData(len(self._layers), len(self._recurrent))
        self._last_layer = None
        if not self._handles:
            self._attach()
        self._keep_steps(True)
        if not self._snapshot_valid:      # (the last record may have refreshed it already)
            self._take_snapshot()

    def close(self):
        """Remove every hook and restore ``record_steps``; the history stays readable."""
        self._detach()                    # (restores record_steps too)
        self._restore = []
        self._meter.release()
        self._scratch.release()
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
        if args:                       # its input may be a functional activation of a layer
            self._inspect(args[0])
        t = out if type(out) is Tensor else _first_tensor(out)
        if t is None or not t.requires_grad:
            return
        d, i, a = self._data, layer.index, t._data
        if not layer.ordered:
            layer.ordered = True
            self._order.append(i)
        call = d.calls[i]
        d.calls[i] = call + 1
        ss = _sumsq(a)
        d.out_ss[i] += ss
        d.out_n[i] += a.size
        if not math.isfinite(ss) and d.forward_event is None:
            d.forward_event = _forward_origin(layer, args, t, self._params)
        t.register_hook(layer.on_grad)
        d.outputs[id(t)] = (layer, t)
        self._last_layer = layer
        if layer.own_activation:
            self._activation_stats(layer, layer.activation, a)
        if layer.rec_index is not None:
            self._watch_time(layer, module, t, call)

    def _new_forward(self, module, args):
        """A forward of the whole model starts: forget the previous one's tensors (memory)."""
        self._data.outputs.clear()
        self._data.acts_seen.clear()
        self._last_layer = None

    def _after_container(self, module, args, out):
        self._inspect(out)

    def _inspect(self, x):
        """If ``x`` (or the first tensor in it) is a functional activation applied to a layer's
        output, record its stats."""
        if type(x) is not Tensor:
            x = _first_tensor(x)
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
        self._activation_stats(owner[0], kind, x._data, bounds)

    def _after_activation(self, kind, module, args, out):
        t = out if type(out) is Tensor else _first_tensor(out)
        if t is None or not t.requires_grad or id(t) in self._data.acts_seen:
            return
        x = _first_tensor(args[0]) if args else None
        owner = self._data.outputs.get(id(x))
        layer = owner[0] if owner is not None and owner[1] is x else self._last_layer
        if layer is None:
            return
        self._data.acts_seen.add(id(t))
        bounds = (module.min_val, module.max_val) if kind == "hardtanh" else None
        self._activation_stats(layer, kind, t._data, bounds)

    def _activation_stats(self, layer, kind, a, bounds=None):
        if layer.activation is None:
            layer.activation, layer.act_bounds = kind, bounds
        n = a.size
        if n == 0:
            return
        d, i = self._data, layer.index
        # Column sums (one BLAS call) give the mean and, for ReLU units (outputs >= 0), the
        # dead ones too: a unit is 0 on the whole batch exactly when its column sums to 0.
        cols = _column_sums(a) if a.ndim == 2 else None
        total = float(np.add.reduce(cols)) if cols is not None else float(a.sum())
        mean = total / n
        var = _sumsq(a) / n - mean * mean
        d.act_mean[i] += mean
        d.act_std[i] += math.sqrt(max(var, 0.0)) if math.isfinite(var) else NAN
        d.act_n[i] += 1
        if kind in _report.SATURATING:
            d.sat[i] += _saturated_share(kind, a, bounds, self._scratch)
            d.sat_n[i] += 1
        elif kind in _report.RELU_LIKE:
            exact = cols is not None and math.isfinite(total)
            d.dead[i] += ((cols.size - np.count_nonzero(cols)) / cols.size if exact
                          else _dead_share(a, layer.rec_index is not None))
            d.dead_n[i] += 1

    # ------------------------------------------------------------------------------------------
    # backward hooks
    # ------------------------------------------------------------------------------------------

    def _on_out_grad(self, i, grad):
        d = self._data
        d.grad_ss[i] += _sumsq(grad._data)
        d.grad_seen[i] = True

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
            ss[t] += _sumsq(grad._data)

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
        if self._closed:
            self._step += 1
            return
        next_due = (self._step + 1) % self.every == 0
        if self._recording or (value is not None and not math.isfinite(value)
                               and self.first_nonfinite is None):
            self._record(value, loss, next_due)      # (a NaN/Inf loss is recorded even off-cycle)
        self._step += 1
        if next_due:
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
        self._meter.snapshot()
        self._snapshot_valid = True

    def _record(self, value, loss, keep_snapshot):
        """Measure the step and write it to the history. ``keep_snapshot``: the next step is
        recorded too, so each weight is copied right after its update is measured (while it is
        still in the CPU cache) instead of in a second pass."""
        d = self._data if self._recording else _StepData(len(self._layers), len(self._recurrent))
        params, finite = self._param_stats(keep_snapshot)
        rows = {"param": params, "layer": self._layer_stats(d)}
        if self._recurrent:
            rows["recurrent"] = self._time_stats(d)
        rows["global"] = [NAN if value is None else value, *self._clip_stats(params)]
        if self.first_nonfinite is None and (d.forward_event is not None or not finite
                                             or (value is not None and not math.isfinite(value))):
            self._check_nonfinite(d, params, value, loss)
        self.history._write(self._step, rows)

    def _param_stats(self, keep_snapshot):
        """_PARAM_ROW of every parameter, parameter-major in one flat list, and whether
        weights and gradients were all finite."""
        rows, finite = self._meter.measure(self._snapshot_valid, keep_snapshot)
        self._snapshot_valid = keep_snapshot      # otherwise the buffers now hold the updates
        return list(itertools.chain.from_iterable(rows)), finite

    def _layer_stats(self, d):
        """LAYER_METRICS of every layer, layer-major in one flat list."""
        out = []
        for grad_ss, seen, out_ss, out_n, mean, std, n, sat, sat_n, dead, dead_n in zip(
                d.grad_ss, d.grad_seen, d.out_ss, d.out_n, d.act_mean, d.act_std, d.act_n,
                d.sat, d.sat_n, d.dead, d.dead_n):
            out += (math.sqrt(grad_ss) if seen else NAN,
                    math.sqrt(out_ss / out_n) if out_n else NAN,
                    mean / n if n else NAN, std / n if n else NAN,
                    sat / sat_n if sat_n else NAN, dead / dead_n if dead_n else NAN)
        return out

    def _time_stats(self, d):
        """RECURRENT_METRICS of every recurrent layer, layer-major in one flat list."""
        out = []
        for r, layer in enumerate(self._recurrent):
            ss = d.time_ss[r]
            if ss is None or not len(ss) or not ss.any():
                out += (NAN,) * len(RECURRENT_METRICS)
                continue
            norms = np.sqrt(ss)
            self.history.time_profiles[layer.name] = norms
            first, last = float(norms[0]), float(norms[-1])
            out += (first, last, first / last if last else NAN, float(len(norms)))
        return out

    def _clip_stats(self, params):
        """(clip_total_norm, clip_max_norm) of this step, NaN when clipping is not known."""
        total = self._clip.pop("pending", None)
        if total is None and self.clip_norm is not None:
            grad_norms = np.array(params[_PARAM_ROW.index("grad_norm")::len(_PARAM_ROW)])
            total = _inferred_total(grad_norms, self.clip_norm)
            if total is not None:
                self.note_clipping(total, self.clip_norm)
                self._clip.pop("pending", None)
        if total is None:
            return NAN, NAN
        return total, self._clip["max_norm"]

    def _check_nonfinite(self, d, params, value, loss):
        """Find where the first NaN/Inf came from (only called when something was not finite)."""
        block = np.array(params, dtype=np.float64).reshape(len(self._params), len(_PARAM_ROW))
        values = dict(zip(_PARAM_ROW, block.T))
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
        params = [{"name": n, "layer": owner.get(n, n), "ndim": p._data.ndim,
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
# parameter statistics
# ----------------------------------------------------------------------------------------------

# Parameters up to GROUP_PARAM elements are measured in flat groups of up to GROUP_SIZE: on
# arrays this small a NumPy call costs more than its arithmetic, and a group needs a few calls
# in all instead of a few per parameter. Larger ones are measured in place (no extra copy),
# one at a time so that each stays in the CPU cache across its passes.
GROUP_PARAM = 1 << 14
GROUP_SIZE = 1 << 16

_SIZE = operator.attrgetter("size")
_DTYPE = operator.attrgetter("dtype")


class _ParamMeter:
    """Weight and gradient statistics of the parameters, and the weight snapshot that the
    update ratio ``||W_after - W_before|| / ||W_after||`` needs.

    A row per parameter, in ``_PARAM_ROW`` order: the gradient's (norm, RMS, max-abs, zero
    share, non-finite share), then the weight norm, the update ratio and has-gradient.
    """

    def __init__(self, params, scratch):
        self.params = [p for _, p in params]
        self.scratch = scratch
        self.units = None                # made when first needed (and again on a change)

    def release(self):
        """Free the buffers (the monitor is closed)."""
        self.units = None

    def snapshot(self):
        """Copy the weights (before an optimizer step)."""
        if self.units is None:
            self.units = _units(self.params, self.scratch)
        for unit in list(self.units):
            arrays = [p._data for p in unit.params]
            for fitting in [unit] if unit.fits(arrays) else self._remake(unit):
                fitting.snapshot([p._data for p in fitting.params])

    def measure(self, have_snapshot, keep_snapshot):
        """(rows of every parameter, whether all weights and gradients were finite).
        Afterwards the snapshot holds the current weights if ``keep_snapshot``."""
        if self.units is None:
            self.units, have_snapshot = _units(self.params, self.scratch), False
        rows, finite, stale = [None] * len(self.params), True, []
        for unit in self.units:
            arrays = [p._data for p in unit.params]
            if unit.fits(arrays):
                finite &= unit.measure(rows, arrays, have_snapshot, keep_snapshot)
            else:
                stale.append(unit)
        for unit in stale:                        # (remade units have no snapshot yet)
            for fresh in self._remake(unit):
                finite &= fresh.measure(rows, [p._data for p in fresh.params], False,
                                        keep_snapshot)
        return rows, finite

    def _remake(self, unit):
        """Replace a unit whose parameters changed size or dtype; returns the new units."""
        fresh = _units(unit.params, self.scratch, unit.columns)
        i = self.units.index(unit)
        self.units[i:i + 1] = fresh
        return fresh


def _weight_part(wss, uss, has_grad):
    """(weight norm, update ratio, has-gradient) from ||W||^2 and ||dW||^2 (None: unknown)."""
    ratio = math.sqrt(uss / wss) if uss is not None and wss > 0 else NAN
    return (math.sqrt(wss) if wss >= 0 else NAN), ratio, float(has_grad)


def _units(params, scratch, columns=None):
    """Split the parameters (``columns``: their row numbers, default 0, 1, ...) into flat
    groups of small ones (one dtype each) and single large ones."""
    columns = range(len(params)) if columns is None else columns
    units, filling = [], {}          # dtype -> (group being filled, its elements)
    for k, p in zip(columns, params):
        a = p._data
        if not 0 < a.size <= GROUP_PARAM or a.dtype.kind != "f":
            units.append(_Single(k, p, scratch))
            continue
        group, size = filling.get(a.dtype, (None, GROUP_SIZE))
        if size + a.size > GROUP_SIZE:
            group, size = [], 0
            units.append(group)
        group.append((k, p))
        filling[a.dtype] = (group, size + a.size)
    return [u if isinstance(u, _Single) else _Group([k for k, _ in u], [p for _, p in u])
            for u in units]


class _Single:
    """One parameter, measured on its own arrays; its snapshot is a copy of the same shape."""

    def __init__(self, k, param, scratch):
        self.columns, self.params = [k], [param]
        self.snap, self.scratch = None, scratch

    def fits(self, arrays):
        return True

    def snapshot(self, arrays):
        self.snap = _copy_into(self.snap, arrays[0])

    def measure(self, rows, arrays, have_snapshot, keep_snapshot):
        """Fill its row; True if finite. The update is measured in place in the snapshot,
        which then takes the current weights if ``keep_snapshot`` (while they are still in
        the CPU cache)."""
        g = self.params[0].grad
        w, g, snap, uss = arrays[0], None if g is None else g._data, self.snap, None
        wss = _sumsq(w)
        if have_snapshot and snap is not None and snap.shape == w.shape:
            np.subtract(w, snap, out=snap)
            uss = _sumsq(snap)
        if keep_snapshot:
            self.snap = _copy_into(snap, w)
        grad = _NO_GRAD if g is None else _grad_stats(g, self.scratch)
        rows[self.columns[0]] = grad + _weight_part(wss, uss, g is not None)
        return math.isfinite(wss) and (g is None or grad[4] == 0 and grad[0] != math.inf)


class _Group:
    """Small parameters of one dtype, concatenated into flat buffers: the weights before and
    after the step (``old``/``new``, swapped after each measure, so the copy that measures the
    update is also the next snapshot) and the gradients. ``*_views`` are the per-parameter
    slices of each buffer, made once."""

    def __init__(self, columns, params):
        self.columns, self.params = columns, params
        self.dtype = params[0]._data.dtype
        self.sizes = [p._data.size for p in params]
        self.offsets = np.cumsum([0] + self.sizes[:-1])
        n = sum(self.sizes)
        self.old, self.new, self.grad = (np.empty(n, self.dtype) for _ in range(3))
        self.zero = np.empty(n, dtype=bool)
        self.old_views, self.new_views, self.grad_views, self.zero_views = (
            self._views(b) for b in (self.old, self.new, self.grad, self.zero))

    def _views(self, buf):
        return [buf[o:o + n] for o, n in zip(self.offsets, self.sizes)]

    def fits(self, arrays):
        """Same sizes and dtype as when the buffers were made (cheap: runs every step)."""
        try:
            return list(map(_SIZE, arrays)) == self.sizes and set(map(_DTYPE, arrays)) == {
                self.dtype}
        except AttributeError:                    # a gradient is None
            return False

    def snapshot(self, arrays):
        np.concatenate(arrays, axis=None, out=self.old)

    def measure(self, rows, arrays, have_snapshot, keep_snapshot):
        """Fill its rows with a few NumPy calls for the whole group; True if all finite."""
        grads = [None if p.grad is None else p.grad._data for p in self.params]
        np.concatenate(arrays, axis=None, out=self.new)
        weights = _sums_of_squares(self.new_views)
        updates = [None] * len(arrays)
        if have_snapshot:
            np.subtract(self.new, self.old, out=self.old)
            updates = _sums_of_squares(self.old_views)
        self.old, self.new = self.new, self.old
        self.old_views, self.new_views = self.new_views, self.old_views
        if not self.fits(grads):                  # some gradient is missing or changed
            stats = [_NO_GRAD if g is None else _grad_stats(g) for g in grads]
            finite = all(g is None or s[4] == 0 and s[0] != math.inf
                         for g, s in zip(grads, stats))
        else:
            stats, finite = self._grad_stats(grads)
        for k, s, w, u, g in zip(self.columns, stats, weights, updates, grads):
            rows[k] = s + _weight_part(w, u, g is not None)
        return finite and math.isfinite(sum(weights))

    def _grad_stats(self, grads):
        """(``_grad_stats`` of each gradient, all finite) for gradients that all fit."""
        flat = np.concatenate(grads, axis=None, out=self.grad)
        sums = _sums_of_squares(self.grad_views)
        if not math.isfinite(sum(sums)):          # NaN/Inf entries: look at each gradient
            return [_grad_stats(g) for g in grads], False
        highs = np.maximum.reduceat(flat, self.offsets).tolist()
        lows = np.minimum.reduceat(flat, self.offsets).tolist()
        np.equal(flat, 0, out=self.zero)
        return [(math.sqrt(ss), math.sqrt(ss / n), max(high, -low),
                 np.count_nonzero(z) / n, 0.0)
                for ss, n, z, high, low in zip(sums, self.sizes, self.zero_views, highs,
                                               lows)], True


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

def _all_finite(values, loss):
    """Loss, weights and gradients all finite (the usual case: nothing to trace)."""
    return ((loss is None or math.isfinite(loss)) and not np.any(values["nonfinite_frac"] > 0)
            and bool(np.isfinite(values["weight_norm"]).all())
            and not np.any(np.isinf(values["grad_norm"])))


def _first_tensor(x):
    if type(x) is Tensor or isinstance(x, Tensor):
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
    s = float(flat.dot(flat))
    if math.isfinite(s) or not np.isfinite(flat).all():
        return s
    flat = flat.astype(np.float64)
    return float(flat.dot(flat))


_NO_GRAD = (NAN,) * 5


def _sums_of_squares(views):
    """Sum of squares of each 1-D float array as Python floats: one BLAS dot each, and a
    second look (``_sumsq``: NaN/Inf, or float64 where float32 overflowed) only if needed."""
    sums = [float(v.dot(v)) for v in views]
    if not math.isfinite(sum(sums)):
        sums = [s if math.isfinite(s) else _sumsq(v) for s, v in zip(sums, views)]
    return sums


def _grad_stats(g, scratch=None):
    """(norm, RMS, max-abs, zero share, non-finite share) of one gradient array.

    The sum of squares (one BLAS dot) is finite exactly when every entry is, so the NaN/Inf
    entries are only looked for when it is not. ``scratch``: a ``_Scratch`` for the zero test.
    """
    n = g.size
    if n == 0:
        return _NO_GRAD
    ss = _sumsq(g)
    if not math.isfinite(ss):
        return _nonfinite_grad_stats(g)
    peak = max(float(np.maximum.reduce(g, axis=None)), -float(np.minimum.reduce(g, axis=None)))
    # (g == 0) then a count of bools is several times faster than counting nonzero floats;
    # == 0 also counts -0.0.
    zeros = np.count_nonzero(np.equal(g, 0, out=None if scratch is None else scratch.bools(
        g.shape)))
    return math.sqrt(ss), math.sqrt(ss / n), peak, zeros / n, 0.0


def _nonfinite_grad_stats(g):
    """As ``_grad_stats`` for a gradient with NaN/Inf entries: the finite ones are measured,
    and the norm and RMS are infinite."""
    n = g.size
    finite = np.isfinite(g)
    bad = 1.0 - np.count_nonzero(finite) / n
    g = g[finite]
    ss = _sumsq(g) if g.size else NAN
    norm, rms = (math.sqrt(ss), math.sqrt(ss / n)) if bad == 0 else (math.inf, math.inf)
    peak = max(float(g.max()), -float(g.min())) if g.size else NAN
    return norm, rms, peak, np.count_nonzero(g == 0) / n, bad


def _copy_into(buf, a):
    """``a`` copied into ``buf`` (reused when it fits, else a new copy): no allocation per step."""
    if buf is None or buf.shape != a.shape or buf.dtype != a.dtype:
        return a.copy()
    np.copyto(buf, a)
    return buf


class _Scratch:
    """A bool buffer reused by the statistics of large arrays: a fresh temporary each time
    would make the allocator map and unmap memory every step, and the page faults cost more
    than the arithmetic."""

    def __init__(self):
        self.release()

    def release(self):
        self.buf = np.empty(0, dtype=bool)

    def bools(self, shape):
        n = math.prod(shape)
        if self.buf.size < n:
            self.buf = np.empty(n, dtype=bool)
        return self.buf[:n].reshape(shape)


_ONES = {}


def _column_sums(a):
    """Sums over axis 0 of a 2-D array, as ``ones @ a`` (BLAS: several times faster than
    ``a.sum(axis=0)``)."""
    if a.dtype.kind != "f":
        return a.sum(axis=0, dtype=np.float64)
    key = (a.shape[0], a.dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 32:               # batch sizes vary little; keep the cache small
            _ONES.clear()
        ones = _ONES[key] = np.ones(a.shape[0], dtype=a.dtype)
    return ones.dot(a)


# Where the slope of each saturating activation is below 10 % of its maximum: outside (lo, hi).
_SATURATION = {"tanh": (-0.9487, 0.9487), "sigmoid": (0.0260, 0.9740),
               "softsign": (-0.6838, 0.6838)}


def _saturated_share(kind, a, bounds, scratch):
    """Share of activation values where the slope is below 10 % of its maximum (``kind`` one
    of ``SATURATING``); two comparisons into a reused buffer, no temporary arrays."""
    if kind == "hardtanh":                        # flat outside [min_val, max_val]
        (lo, hi), below, above = bounds or (-1.0, 1.0), np.less_equal, np.greater_equal
    else:
        (lo, hi), below, above = _SATURATION[kind], np.less, np.greater
    out = scratch.bools(a.shape)
    return (np.count_nonzero(below(a, lo, out=out)) + np.count_nonzero(above(a, hi, out=out))
            ) / a.size


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
        if loss._data.size != 1:
            raise ValueError(f"GradientMonitor.step: loss must be a scalar, got shape {loss.shape}")
        return float(loss._data.reshape(()))
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


# ---- where the first NaN/Inf came from ----

def _forward_origin(layer, args, out, params):
    """Event dict for a layer whose output is non-finite: the op inside it, and why."""
    inputs = [a for a in args if isinstance(a, Tensor)]
    bad = [a for a in inputs if a._data.dtype.kind in "fc" and not np.isfinite(a._data).all()]
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
               if x._data.dtype.kind in "fc" and not np.isfinite(x._data).all()]
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
    x = node.inputs[0]._data
    with np.errstate(all="ignore"):
        if lower in ("log", "log1p"):
            x = x + 1 if lower == "log1p" else x
            if np.any(x == 0):
                return _cause(name, "log of zero", f"log of zero ({int(np.count_nonzero(x == 0))} "
                              f"of {x.size} inputs are 0)")
            return _cause(name, "log of a negative number", "log of a negative number")
        if lower in ("exp", "expm1"):
            return _cause(name, "overflow in exp", f"overflow in exp (input up to {np.max(x):.3g})")
        if lower == "div" and np.any(node.inputs[1]._data == 0):
            return _cause(name, "division by zero", "division by zero")
        if lower in ("rsqrt", "sqrt") and np.any(x <= 0):
            cause = "near-zero variance" if np.any(x == 0) else "sqrt of a negative number"
            return _cause(name, cause, cause)
    return _cause(name, "overflow", f"overflow in {name} (values beyond the float range)")


def _cause(op, cause, explanation):
    return {"op": op, "cause": cause, "explanation": explanation}
