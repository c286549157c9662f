"""``GradientMonitor``: records gradient flow through the user's model via hooks only.

At each recorded step it keeps scalar series (never histograms) in a bounded ring buffer
(:class:`~chainrule.diagnostics.history.History`):

* per parameter: gradient norm, RMS and max-abs, weight norm, update-to-weight ratio
  ``||dW|| / ||W||`` (measured across the optimizer step, from a copy of the weights taken at
  the step's first forward), share of zero and of non-finite gradient entries, whether a
  gradient arrived at all;
* per layer (a module that owns parameters): the norm of the gradient arriving at its output
  (through a tensor hook on the output), the RMS of its output, and the mean/std of the
  activation that follows it (an activation module, or a functional activation such as
  ``cr.tanh(self.fc(x))``, recognised by :mod:`.activations`) with the share of saturated or
  dead units;
* per recurrent layer: ``||dL/dh_t||`` for every step t (see "recurrent layers" below);
* the loss, and the total gradient norm seen by gradient clipping.

Every step, recorded or not, the loss is logged (one float), so divergence between recorded
steps is never missed; ``step(loss, val_loss=...)`` logs a validation loss too.

The monitor never changes what the model computes: hooks only read. Recurrent layers keep their
fused path; on a recorded step (every ``time_every``-th) the layer's own backward reports
``dL/dh_t`` at each step t to a read-only observer (``observe_time_gradients``), which costs
one dot product per step; training stays bit for bit as without the monitor. (A layer that
the user set to ``record_steps`` is replayed step by step apart from training instead.)

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
import warnings

import numpy as np

from ..autograd.engine import KEEP_INPUT_VALUES
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..nn.functional._rnn import observe_time_gradients
from ..nn.module import Module
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor
from . import rules as _rules
from .activations import (
    ACTIVATION_MODULES,
    RELU_LIKE,
    SATURATING,
    dead_share,
    loss_kind,
    module_bounds,
    module_kind,
    node_kind,
    output_kind,
    saturated_share,
)
from .history import (
    _PARAM_ROW,
    GLOBAL_METRICS,  # noqa: F401  (re-exported names)
    LAYER_METRICS,
    PARAM_METRICS,
    RECURRENT_METRICS,
    History,
)
from .model_facts import _init_gain, _input_facts, _lr, _optimizer_membership, _sigma_max
from .origin import _all_finite, _loss_origin, trace_op
from .statistics import ParamMeter, _Scratch, _sumsq, _unit_sums
from .step_quality import StepQuality

__all__ = [
    "GradientMonitor",
    "History",
    "ACTIVATION_MODULES",
    "PARAM_METRICS",
    "LAYER_METRICS",
    "RECURRENT_METRICS",
    "GLOBAL_METRICS",
    "trace_op",
]

# The monitor's own arithmetic meets NaN, Inf and huge values by design (that is what it
# reports): NumPy's warnings about them would only repeat the report. Scoped to this module.
warnings.filterwarnings(
    "ignore", category=RuntimeWarning, module=r"chainrule\.diagnostics\.(monitor|statistics)"
)

NAN = float("nan")
_FACTS_EVERY = 16  # recorded steps between two looks at the input, the output and the loss
_OBSERVING = "observing"  # a fused layer reports dL/dh_t from its own backward this step
LOSS_LOG = 1 << 17  # losses kept (every step); the oldest half is dropped when full


class _Layer:
    """A module that owns parameters, as the monitor sees it."""

    def __init__(self, index, name, module, param_columns):
        self.index, self.name, self.module = index, name, module
        self.type = type(module).__name__
        self.param_columns = param_columns
        self.activation = None
        self.act_bounds = None
        self.rec_index = None  # column in the recurrent series
        self.fused = hasattr(module, "record_steps")  # RNN/LSTM/GRU (not a cell)
        self.ordered = False  # seen in a forward pass (self._order holds it)
        self.on_grad = None  # its output's gradient hook, made once
        self.feeder = None  # index of the layer whose output feeds it directly
        nonlin = getattr(module, "nonlinearity", None)
        if self.type in ("RNN", "RNNCell") and nonlin in ("tanh", "relu"):
            self.activation = nonlin  # the output of a plain RNN is its activation
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
        self.replay = [None] * n_recurrent  # (rng state, args) of a fused recurrent layer
        self.replay_grads = [None] * n_recurrent  # output index -> incoming gradient
        self.outputs = {}  # id(layer output) -> (layer, tensor)
        self.outputs_of_acts = {}  # id(activation output) -> layer index
        self.acts_seen = set()
        self.forward_event = None
        self.forwards = 0
        self.probe_calls = 0


class GradientMonitor:
    """Watch gradients flow through ``model`` during training, through hooks only.

    Args:
        model: a ``cr.nn.Module``. The monitor does attach to it: forward hooks on its
            modules and a gradient hook on one parameter (removed by :meth:`close`), gradient
            hooks on each step's layer outputs, and, to replay a fused recurrent layer on a
            recorded step, it switches that layer's ``record_steps`` on for the replay and
            restores it after. What the model computes in training is unchanged: the hooks
            only read.
        every (int): record every ``every``-th step (1 = all). Other steps cost one float (the
            loss).
        capacity (int): recorded steps kept (a ring buffer: the oldest are dropped).
        optimizer: optional; gives the learning rate for the remedies and lets the report
            flag parameters missing from it.
        clip_norm (float): optional max_norm you clip the gradient norm at; when
            :meth:`step` gets no ``grad_norm``, clipping is inferred from the clipped norm.
        time_every (int): recurrent layers' ``||dL/dh_t||`` is measured on every
            ``time_every``-th recorded step (read off the layer's fused backward: one dot
            product per time step).
        baseline (float): optional loss of a trivial predictor (the majority class, the mean);
            default for classifiers: log(number of classes).
        step_quality (bool): measure Cockpit's step-size quality α of each recorded step
            whose next step is recorded too (``every=1``); costs a copy of the weights and
            two dot products per parameter (see ``step_quality.py``).
        replica_every (int): under ``cr.distributed`` with several ranks, compare a checksum
            of the replicas' parameters and buffers every ``replica_every`` steps (a
            collective: every rank's monitor must step alike); 0 turns it off.

    Call :meth:`step` once per training step, after ``optimizer.step()`` and before the next
    ``zero_grad()``. Example::

        monitor = cr.diagnostics.GradientMonitor(model, optimizer=opt)
        ...  # forward, backward, opt.step()
        monitor.step(loss)
        print(monitor.report())
        monitor.close()
    """

    def __init__(
        self,
        model,
        every=1,
        capacity=1024,
        optimizer=None,
        clip_norm=None,
        time_every=10,
        baseline=None,
        step_quality=False,
        replica_every=100,
    ):
        from .torch_adapter import adapt  # a torch model is read through a facade

        model, optimizer = adapt(model, optimizer)
        _check_model(model, "GradientMonitor")
        for name, value in (("every", every), ("time_every", time_every)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"GradientMonitor: {name} must be a positive int, got {value!r}")
        if optimizer is not None and not hasattr(optimizer, "param_groups"):
            raise TypeError(
                f"GradientMonitor: optimizer must have param_groups, got {type(optimizer).__name__}"
            )
        self.model, self.every, self.optimizer = model, int(every), optimizer
        self.time_every = int(time_every)
        if (
            isinstance(replica_every, bool)
            or not isinstance(replica_every, (int, np.integer))
            or replica_every < 0
        ):
            raise ValueError(
                f"GradientMonitor: replica_every must be an int >= 0, got {replica_every!r}"
            )
        self.replica_every = int(replica_every)
        self.baseline = None if baseline is None else float(baseline)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self._params = list(model.named_parameters())
        self._layers, self._acts, self._recurrent = self._discover(model)
        self.history = History(
            capacity,
            [n for n, _ in self._params],
            [lay.name for lay in self._layers],
            [lay.name for lay in self._recurrent],
        )
        self._init_gain = [_init_gain(lay, self._params) for lay in self._layers]
        self._order = []  # layer indices in forward order (first call)
        self._step = 0
        self._recorded = 0  # recorded steps so far (for time_every)
        self._keep_token = None  # KEEP_INPUT_VALUES set by the running recorded forward
        self._scratch = _Scratch()
        self._meter = ParamMeter(self._params, self._scratch)  # + the weights before the step
        self._snapshot_valid = False
        self._last_layer = None
        self.first_nonfinite = None
        self._clip = {"seen": 0, "acted": 0, "max_norm": self.clip_norm, "norms": []}
        self._losses, self._loss_steps = [], []
        self._val_losses, self._val_steps = [], []
        self._facts = {
            "stale_seen": 0,
            "stale_checked": 0,
            "inputs": None,
            "output": None,
            "sharpness": [],
            "replica_checks": 0,
            "replica_diverged": [],
            "replica_first_step": None,
        }
        # one small parameter (held by the optimizer, which zeroes it) shows stale gradients
        held = {id(p) for g in optimizer.param_groups for p in g["params"]} if optimizer else None
        self._quality = StepQuality([p for _, p in self._params]) if step_quality else None
        self._probe = next(
            (
                p
                for _, p in sorted(self._params, key=lambda np_: np_[1]._data.size)
                if p.requires_grad and (held is None or id(p) in held)
            ),
            None,
        )
        self._handles = []
        self._plan = None  # the hooks to register (see _hook_plan)
        self._closed = False
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
            kind = module_kind(module)
            if kind:
                acts.append((module, kind))
            own = [
                column[id(p)] for _, p in module.named_parameters(recurse=False) if id(p) in column
            ]
            if not own:
                continue
            layer = _Layer(len(layers), name or type(module).__name__, module, own)
            layer.on_grad = functools.partial(self._on_out_grad, layer.index)
            layers.append(layer)
            if layer.fused or (layer.type.endswith("Cell") and hasattr(module, "weight_hh")):
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
        plan = [
            (layer.module.register_forward_hook, functools.partial(self._after_layer, layer))
            for layer in self._layers
        ]
        plan += [
            (_pre_hook_with_kwargs(lay.module), functools.partial(self._before_fused, lay))
            for lay in self._recurrent
            if lay.fused
        ]
        plan += [
            (module.register_forward_hook, functools.partial(self._after_activation, kind))
            for module, kind in self._acts
        ]
        # Containers (and other modules) only for functional activations at their output;
        # layers and activation modules see their own outputs already.
        seen = {id(lay.module) for lay in self._layers} | {id(m) for m, _ in self._acts}
        plan += [
            (module.register_forward_hook, self._after_container)
            for _, module in self.model.named_modules()
            if id(module) not in seen and module is not self.model
        ]
        plan.append((self.model.register_forward_pre_hook, self._new_forward))
        plan.append((self.model.register_forward_hook, self._after_model))
        if self._probe is not None:
            plan.append((self._probe.register_hook, self._on_probe_grad))
        return plan

    def _detach(self):
        for h in self._handles:
            h.remove()
        self._handles = []
        self._release_values()  # a forward that raised did not reach _after_model

    def _start_recording(self):
        """Prepare a recorded step: hooks on, fresh accumulators."""
        self._recording = True
        self._data = _StepData(len(self._layers), len(self._recurrent))
        self._last_layer = None
        self._snapshot_valid = False
        if not self._handles:
            self._attach()

    def close(self):
        """Remove every hook; the history stays readable."""
        self._detach()
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

    def _new_forward(self, module, args):
        """A forward of the whole model starts: forget the previous one's tensors (memory); at
        the step's first forward, copy the weights (the update ratio's 'before') and look at
        the input."""
        d = self._data
        if not is_grad_enabled():  # evaluation (no_grad): not a training forward
            return
        # The graph keeps every intermediate value during this forward, so that a NaN/Inf is
        # traced to the op that made it (memory until backward; recorded steps only).
        self._release_values()
        self._keep_token = KEEP_INPUT_VALUES.set(True)
        d.outputs.clear()
        d.outputs_of_acts.clear()
        d.acts_seen.clear()
        self._last_layer = None
        if d.forwards == 0:
            self._meter.snapshot()
            self._snapshot_valid = True
            if self._quality is not None:
                self._quality.start()
            x = _first_tensor(args)
            if x is not None and self._recorded % _FACTS_EVERY == 0:  # (they drift slowly)
                self._facts["inputs"] = _input_facts(x, self._facts["inputs"])
        d.forwards += 1

    def _release_values(self):
        """End the keeping of intermediate values that :meth:`_new_forward` started."""
        token, self._keep_token = self._keep_token, None
        if token is not None:
            try:
                KEEP_INPUT_VALUES.reset(token)
            except (ValueError, RuntimeError):  # made in another context (thread), or used
                pass

    def _after_model(self, module, args, out):
        if not is_grad_enabled():
            return
        self._release_values()
        self._inspect(out)
        if self._recorded % _FACTS_EVERY and self._facts["output"] is not None:
            return  # what the model outputs does not change from step to step
        t = _first_tensor(out)
        if t is not None:
            self._facts["output"] = {"kind": output_kind(t._node), "shape": tuple(t.shape)}

    def _after_layer(self, layer, module, args, out):
        if args:  # its input may be a functional activation of a layer (not a leaf: the data)
            x = args[0]
            if type(x) is not Tensor or x._node is not None:
                self._inspect(x)
        d = self._data
        if layer.fused and d.replay[layer.rec_index] is _OBSERVING and not d.calls[layer.index]:
            observe_time_gradients(None)  # taken by the layer's first fused run, or withdrawn
        t = out if type(out) is Tensor else _first_tensor(out)
        if t is None or not t.requires_grad:
            return
        i, a = layer.index, t._data
        if not layer.ordered:
            layer.ordered = True
            self._order.append(i)
            layer.feeder = self._feeder(args)
        call = d.calls[i]
        d.calls[i] = call + 1
        ss = _sumsq(a)
        d.out_ss[i] += ss
        d.out_n[i] += a.size
        if not math.isfinite(ss) and d.forward_event is None:
            d.forward_event = self._forward_origin(layer, args, t)
        t.register_hook(layer.on_grad)
        d.outputs[id(t)] = (layer, t)
        self._last_layer = layer
        if layer.own_activation:
            self._activation_stats(layer, layer.activation, a)
        if layer.rec_index is not None:
            self._watch_time(layer, module, out, call)

    def _feeder(self, args):
        """The layer whose output is this layer's input, directly or through one activation
        (module or functional); None through anything else (a sum, a pooling, a norm...)."""
        x = _first_tensor(args)
        if x is None:
            return None
        d = self._data
        owner = d.outputs.get(id(x))
        if owner is not None and owner[1] is x:
            return owner[0].index
        if id(x) in d.outputs_of_acts:
            return d.outputs_of_acts[id(x)]
        _, src, _ = node_kind(x._node)
        owner = d.outputs.get(id(src)) if src is not None else None
        return owner[0].index if owner is not None and owner[1] is src else None

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
        kind, src, bounds = node_kind(node)
        owner = self._data.outputs.get(id(src)) if src is not None else None
        if owner is None or owner[1] is not src:
            return
        self._data.acts_seen.add(id(x))
        self._data.outputs_of_acts[id(x)] = owner[0].index
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
        if owner is not None and owner[1] is x:
            self._data.outputs_of_acts[id(t)] = layer.index
        bounds = module_bounds(module, kind) if kind == "hardtanh" else None
        self._activation_stats(layer, kind, t._data, bounds)

    def _activation_stats(self, layer, kind, a, bounds=None):
        if layer.activation is None:
            layer.activation, layer.act_bounds = kind, bounds
        n = a.size
        if n == 0:
            return
        d, i = self._data, layer.index
        # Sums per unit (one BLAS call) give the mean and, for ReLU units (outputs >= 0), the
        # dead ones too: a unit is 0 on the whole batch exactly when its sum is 0.
        cols = _unit_sums(a, layer.rec_index is not None)
        total = float(np.add.reduce(cols)) if cols is not None else float(a.sum())
        mean = total / n
        var = _sumsq(a) / n - mean * mean
        d.act_mean[i] += mean
        d.act_std[i] += math.sqrt(max(var, 0.0)) if math.isfinite(var) else NAN
        d.act_n[i] += 1
        if kind in SATURATING:
            d.sat[i] += saturated_share(kind, a, bounds, self._scratch.bools(a.shape))
            d.sat_n[i] += 1
        elif kind in RELU_LIKE:
            exact = cols is not None and math.isfinite(total) and kind == "relu"
            d.dead[i] += (
                (cols.size - np.count_nonzero(cols)) / cols.size
                if exact
                else dead_share(a, layer.rec_index is not None)
            )
            d.dead_n[i] += 1

    # ------------------------------------------------------------------------------------------
    # backward hooks
    # ------------------------------------------------------------------------------------------

    def _on_out_grad(self, i, grad):
        d = self._data
        d.grad_ss[i] += _sumsq(grad._data)
        d.grad_seen[i] = True

    def _on_probe_grad(self, grad):
        """The first gradient of the step for one parameter, before it is added to ``.grad``:
        a ``.grad`` that still holds last step's values means ``zero_grad()`` was not called."""
        d = self._data
        if d.probe_calls == 0:
            old = self._probe.grad
            self._facts["stale_checked"] += 1
            if old is not None and np.any(old._data != 0):
                self._facts["stale_seen"] += 1
        d.probe_calls += 1

    def _before_fused(self, layer, module, args, kwargs=None):
        """On steps that measure time, ask the layer's fused backward for dL/dh_t (read only,
        see ``observe_time_gradients``); a layer set to run step by step, or a torch layer (no
        such observer), is replayed instead (with the call's keywords: ``rnn(x, hx=h)``)."""
        d, r = self._data, layer.rec_index
        if not self._time_due() or d.calls[layer.index] or not is_grad_enabled():
            return
        if getattr(module, "record_steps", False) or getattr(module, "time_by_replay", False):
            d.replay[r] = (get_rng_state(), args, dict(kwargs or {}))
            return
        d.replay[r] = _OBSERVING
        observe_time_gradients(functools.partial(self._on_time_step, r))

    def _time_due(self):
        return self._recorded % self.time_every == 0

    def _watch_time(self, layer, module, out, call):
        """Gradients through time: a fused layer's incoming gradients (for the replay), or a
        cell's per-call output gradient."""
        r, d = layer.rec_index, self._data
        if layer.fused:
            if d.replay[r] is _OBSERVING:
                return
            if d.replay[r] is None or call:
                return
            d.replay_grads[r] = {}
            for k, t in enumerate(_tensors(out)):
                if t.requires_grad:
                    t.register_hook(functools.partial(self._on_fused_grad, r, k))
            return
        if d.time_ss[r] is None or call >= len(d.time_ss[r]):
            grown = np.zeros(call + 1)
            if d.time_ss[r] is not None:
                grown[: len(d.time_ss[r])] = d.time_ss[r]
            d.time_ss[r] = grown
        out = out if type(out) is Tensor else _first_tensor(out)
        out.register_hook(functools.partial(self._on_time_grad, r, call))

    def _on_time_step(self, r, t, dh):
        """dL/dh_t of a fused layer, during its backward (t = T-1 first)."""
        ss = self._data.time_ss[r]
        if ss is None or t >= len(ss):
            grown = np.zeros(t + 1)
            if ss is not None:
                grown[: len(ss)] = ss
            ss = self._data.time_ss[r] = grown
        flat = dh.reshape(-1)
        ss[t] += float(flat.dot(flat))

    def _on_fused_grad(self, r, k, grad):
        grads = self._data.replay_grads[r]
        if grads is not None:
            grads[k] = grad._data.copy()

    def _on_time_grad(self, r, t, grad):
        ss = self._data.time_ss[r]
        if ss is not None and t < len(ss):
            ss[t] += _sumsq(grad._data)

    def _replay(self, d):
        """||dL/dh_t||^2 of each fused recurrent layer: run it again step by step (layer 0,
        forward direction), apart from training, on the same input and random state, and
        back-propagate the gradients its outputs received."""
        for lay in self._recurrent:
            r = lay.rec_index
            if not lay.fused or d.replay[r] in (None, _OBSERVING) or not d.replay_grads[r]:
                continue
            rng, args, kwargs = d.replay[r]
            module, now = lay.module, get_rng_state()
            kept = (module.record_steps, module.last_hidden_states, module.last_cell_states)
            try:
                set_rng_state(rng)
                module.record_steps = True
                with enable_grad():
                    outs = _tensors(module.forward(*args, **kwargs))
                    hs = [h for h in (module.last_hidden_states or [[]])[0] if h.requires_grad]
                    pairs = [
                        (outs[k], g)
                        for k, g in d.replay_grads[r].items()
                        if k < len(outs) and outs[k].requires_grad
                    ]
                    if not hs or not pairs:
                        continue
                    grads = _grad([o for o, _ in pairs], hs, [Tensor._wrap(g) for _, g in pairs])
                d.time_ss[r] = np.array([0.0 if g is None else _sumsq(g._data) for g in grads])
            finally:
                (module.record_steps, module.last_hidden_states, module.last_cell_states) = kept
                set_rng_state(now)

    # ------------------------------------------------------------------------------------------
    # the step
    # ------------------------------------------------------------------------------------------

    def step(self, loss=None, grad_norm=None, max_norm=None, val_loss=None):
        """Close one training step: log the loss, record the step (if due), prepare the next.

        Args:
            loss: the step's loss (Tensor or float). It is logged on every step, recorded or
                not, so that divergence is never missed.
            grad_norm: the total gradient norm before clipping, e.g. what
                ``cr.nn.utils.clip_grad_norm_`` returned; counts whether clipping acted.
            max_norm: the clipping threshold (defaults to ``clip_norm`` given at construction).
            val_loss: optional validation loss (for the ``overfitting`` verdict); pass it at
                the steps where you evaluate.
        """
        value = _loss_value(loss)
        if grad_norm is not None:
            self.note_clipping(grad_norm, max_norm)
        if self._closed:
            self._step += 1
            return
        if value is not None:
            self._log(self._losses, self._loss_steps, value)
        if val_loss is not None:
            self._log(self._val_losses, self._val_steps, _loss_value(val_loss))
        next_due = (self._step + 1) % self.every == 0
        if self._recording or (
            value is not None and not math.isfinite(value) and self.first_nonfinite is None
        ):
            output = self._facts["output"]
            if (
                self._recording
                and output
                and (isinstance(loss, Tensor) or hasattr(loss, "grad_fn"))  # (or a torch loss)
                and (self._recorded % _FACTS_EVERY == 0 or "loss_kind" not in output)
            ):
                output["loss_kind"] = _loss_kind(loss, self.model)
            self._record(value, loss, next_due)  # (a NaN/Inf loss is recorded even off-cycle)
        self._step += 1
        if self.replica_every and self._step % self.replica_every == 0:
            self._check_replicas()
        if next_due:
            self._start_recording()
        elif self._recording:
            self._recording = False
            self._detach()

    def _check_replicas(self):
        """Data-parallel runs: do the ranks still hold the same weights? (``rank_divergence``)"""
        from .. import distributed as dist

        if not (dist.is_initialized() and dist.is_available()) or dist.get_world_size() < 2:
            return
        names = dist.rank_divergence(self.model)
        facts = self._facts  # (a state saved before this check: keys missing)
        facts["replica_checks"] = facts.get("replica_checks", 0) + 1
        if names:
            if facts.get("replica_first_step") is None:
                facts["replica_first_step"] = self._step
            facts["replica_diverged"] = sorted(set(facts.get("replica_diverged", [])) | set(names))

    def note_val_loss(self, val_loss):
        """Log a validation loss measured after the last :meth:`step` (e.g. at the end of an
        epoch, as ``cr.train.fit`` evaluates), for the ``overfitting`` verdict.

        Example::

            monitor.note_val_loss(evaluate(model, val_loader))
        """
        value = _loss_value(val_loss)
        self._val_losses.append(value)
        self._val_steps.append(max(self._step - 1, 0))

    def _log(self, values, steps, value):
        values.append(value)
        steps.append(self._step)
        if len(values) > LOSS_LOG:
            del values[: LOSS_LOG // 2], steps[: LOSS_LOG // 2]

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
        self._clip["acted"] += int(not total <= max_norm)  # NaN counts as clipped, as torch does
        self._clip["norms"].append(total)
        del self._clip["norms"][: -self.history.capacity]
        self._clip["pending"] = total

    def _record(self, value, loss, keep=False):
        """Measure the step and write it to the history. ``keep``: the next step is recorded
        too, so the measured weights stay as its snapshot (copied again at its first forward
        only if a parameter changed in between)."""
        d = self._data if self._recording else _StepData(len(self._layers), len(self._recurrent))
        params, finite = self._param_stats(keep)
        if self._recording and self._recurrent and self._time_due():
            self._replay(d)
        rows = {"param": params, "layer": self._layer_stats(d)}
        if self._recurrent:
            rows["recurrent"] = self._time_stats(d)
        rows["global"] = [NAN if value is None else value, *self._clip_stats(params)]
        if self.first_nonfinite is None and (
            d.forward_event is not None
            or not finite
            or (value is not None and not math.isfinite(value))
        ):
            self._check_nonfinite(d, params, value, loss)
        self.history._write(self._step, rows)
        self._recorded += 1
        if self._quality is not None and self._recording:
            self._quality.finish(self._step, value)

    def _param_stats(self, keep=False):
        """_PARAM_ROW of every parameter, parameter-major in one flat list, and whether
        weights and gradients were all finite."""
        rows, finite = self._meter.measure(self._snapshot_valid, keep)
        self._snapshot_valid = False
        return list(itertools.chain.from_iterable(rows)), finite

    def _layer_stats(self, d):
        """LAYER_METRICS of every layer, layer-major in one flat list."""
        out = []
        for grad_ss, seen, out_ss, out_n, mean, std, n, sat, sat_n, dead, dead_n in zip(
            d.grad_ss,
            d.grad_seen,
            d.out_ss,
            d.out_n,
            d.act_mean,
            d.act_std,
            d.act_n,
            d.sat,
            d.sat_n,
            d.dead,
            d.dead_n,
            strict=True,
        ):
            out += (
                math.sqrt(grad_ss) if seen else NAN,
                math.sqrt(out_ss / out_n) if out_n else NAN,
                mean / n if n else NAN,
                std / n if n else NAN,
                sat / sat_n if sat_n else NAN,
                dead / dead_n if dead_n else NAN,
            )
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
            grad_norms = np.array(params[_PARAM_ROW.index("grad_norm") :: len(_PARAM_ROW)])
            total = _inferred_total(grad_norms, self.clip_norm)
            if total is not None:
                self.note_clipping(total, self.clip_norm)
                self._clip.pop("pending", None)
        if total is None:
            return NAN, NAN
        return total, self._clip["max_norm"]

    # ------------------------------------------------------------------------------------------
    # where the first NaN/Inf came from
    # ------------------------------------------------------------------------------------------

    def _check_nonfinite(self, d, params, value, loss):
        """Find where the first NaN/Inf came from (only called when something was not finite)."""
        block = np.array(params, dtype=np.float64).reshape(len(self._params), len(_PARAM_ROW))
        values = dict(zip(_PARAM_ROW, block.T, strict=True))
        event = d.forward_event
        if event is None and _all_finite(values, value):
            return
        if event is None and value is not None and not math.isfinite(value):
            event = _loss_origin(
                loss, value, np.asarray(self._losses[:-1]), self._facts.get("output")
            )
        if event is None:
            event = self._backward_origin(d, values)
        if event is not None:
            event["step"] = self._step
            event.setdefault("diverged", event["phase"] in ("backward", "update"))
            self.first_nonfinite = event

    def _forward_origin(self, layer, args, out):
        """Event dict for a layer whose output is non-finite: the op that made the first
        NaN/Inf, why, and the layer that produced it (not the one that received it)."""
        inputs = [a for a in args if isinstance(a, Tensor)]
        bad = [a for a in inputs if a._data.dtype.kind in "fc" and not np.isfinite(a._data).all()]
        if bad and bad[0]._node is None:
            return {
                "phase": "forward",
                "layer": layer.name,
                "cause": "non-finite input",
                "explanation": f"the input of {layer.name!r} already held NaN/Inf",
            }
        event, node = trace_op(
            bad[0] if bad else out, {id(p) for _, p in self._params}, with_node=True
        )
        producer = layer.name
        if bad:  # made between two layers (a functional op in the parent's forward)
            upstream = self._upstream_layer(node)
            producer = upstream or producer
            where = (
                f"applied to the output of {upstream!r}"
                if upstream
                else f"in the computation of the input of {layer.name!r}"
            )
            event["explanation"] = f"{event['explanation']}, {where}"
        event.update(
            phase="update" if event["cause"] == "non-finite weights" else "forward", layer=producer
        )
        return event

    def _upstream_layer(self, node, limit=64):
        """The nearest layer whose output leads into ``node`` (walking back first inputs)."""
        outputs = self._data.outputs
        for _ in range(limit):
            if node is None or not node.inputs:
                return None
            for x in node.inputs:
                owner = outputs.get(id(x))
                if owner is not None and owner[1] is x:
                    return owner[0].name
            node = node.next[0]  # the producer when the op ran, also after in-place ops
        return None

    def _backward_origin(self, d, values):
        """The layer nearest the loss whose gradient (at its output or its weights) went bad."""
        order = self._order + [i for i in range(len(self._layers)) if i not in self._order]
        bad_out = [i for i in order if d.grad_seen[i] and not math.isfinite(d.grad_ss[i])]
        if bad_out:
            return {
                "phase": "backward",
                "layer": self._layers[bad_out[-1]].name,
                "cause": "overflow",
                "explanation": "the back-propagated gradient overflowed (exploding gradients)",
            }
        owner = self._param_layer()
        bad = [k for k in range(len(self._params)) if values["nonfinite_frac"][k] > 0]
        if bad:
            name = self._params[bad[-1]][0]
            return {
                "phase": "backward",
                "layer": owner.get(name),
                "param": name,
                "cause": "overflow",
                "explanation": f"the gradient of {name!r} overflowed (exploding gradients)",
            }
        bad = [k for k in range(len(self._params)) if not math.isfinite(values["weight_norm"][k])]
        if bad:
            name = self._params[bad[0]][0]
            return {
                "phase": "update",
                "layer": owner.get(name),
                "param": name,
                "cause": "non-finite weights",
                "explanation": f"the optimizer step made {name!r} non-finite",
            }
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

    def losses(self):
        """(steps, losses) of every step so far (not only the recorded ones), as arrays."""
        return np.asarray(self._loss_steps, dtype=np.int64), np.asarray(self._losses, dtype=float)

    def val_losses(self):
        """(steps, validation losses) given to :meth:`step`."""
        return np.asarray(self._val_steps, dtype=np.int64), np.asarray(
            self._val_losses, dtype=float
        )

    def step_alphas(self):
        """(steps, α) of Cockpit's step-size quality (``step_quality=True``), as arrays."""
        values = [] if self._quality is None else self._quality.values
        return (
            np.array([s for s, _ in values], dtype=np.int64),
            np.array([a for _, a in values], dtype=np.float64),
        )

    def measure_sharpness(self, loss_fn, batch, iters=20):
        """Measure the loss surface's sharpness λ_max now (see :func:`~chainrule.diagnostics.
        sharpness`) and keep it for the learning-rate verdicts. Returns the result dict."""
        from .sharpness import sharpness

        result = sharpness(self.model, loss_fn, batch, optimizer=self.optimizer, iters=iters)
        result["step"] = self._step
        self._facts["sharpness"].append(result)
        return result

    def context(self):
        """What the rules need to know about the model (see ``rules.View``)."""
        owner = self._param_layer()
        in_opt = _optimizer_membership(self.optimizer, self._params)
        layers = [self._layer_info(lay) for lay in self._layers]
        params = [
            {
                "name": n,
                "layer": owner.get(n, n),
                "ndim": p._data.ndim,
                "requires_grad": bool(p.requires_grad),
                "in_optimizer": in_opt[k],
            }
            for k, (n, p) in enumerate(self._params)
        ]
        recurrent = [layers[lay.index] for lay in self._recurrent]
        order = self._order + [i for i in range(len(self._layers)) if i not in self._order]
        facts = self._facts
        return {
            "layers": layers,
            "layer_order": order,
            "params": params,
            "recurrent": recurrent,
            "lr": _lr(self.optimizer),
            "optimizer": type(self.optimizer).__name__ if self.optimizer else None,
            "first_nonfinite": self.first_nonfinite,
            "clipping": self._clip_summary(),
            "steps_seen": self._step,
            "losses": self.losses(),
            "val_losses": self.val_losses(),
            "baseline": self._baseline(),
            "stale": (facts["stale_seen"], facts["stale_checked"]),
            "replicas": (
                facts.get("replica_checks", 0),
                facts.get("replica_diverged", []),
                facts.get("replica_first_step"),
            ),
            "inputs": facts["inputs"],
            "output": facts["output"],
            "sharpness": list(facts["sharpness"]),
            "step_alpha": [] if self._quality is None else list(self._quality.values),
            "normalised": any(
                lay.type.startswith(("BatchNorm", "LayerNorm", "GroupNorm")) for lay in self._layers
            ),
        }

    def _baseline(self):
        """The loss of a trivial predictor: given, or log(K) for a K-class classifier."""
        if self.baseline is not None:
            return self.baseline
        out = self._facts["output"] or {}
        shape, kind = out.get("shape") or (), out.get("loss_kind")
        if kind in ("cross_entropy", "nll") and len(shape) == 2 and shape[1] > 1:
            return math.log(shape[1])
        return None

    def _layer_info(self, lay):
        return {
            "name": lay.name,
            "type": lay.type,
            "activation": lay.activation,
            "init_gain": self._init_gain[lay.index],
            "recurrent": lay.rec_index is not None,
            "param_columns": list(lay.param_columns),
            "feeder": None if lay.feeder is None else self._layers[lay.feeder].name,
            "sigma_max": _sigma_max(lay.module) if lay.rec_index is not None else None,
        }

    def _clip_summary(self):
        c = self._clip
        if not c["seen"]:
            return None
        norms = np.asarray(c["norms"], dtype=np.float64)
        finite = norms[np.isfinite(norms)]
        return {
            "seen": c["seen"],
            "acted": c["acted"],
            "max_norm": c["max_norm"],
            "median_norm": float(np.median(finite)) if finite.size else float("nan"),
            "max_seen_norm": float(finite.max()) if finite.size else float("nan"),
        }

    def report(self, **thresholds):
        """A :class:`~chainrule.diagnostics.HealthReport` on the recorded steps.

        Keyword arguments override entries of ``cr.diagnostics.THRESHOLDS``, e.g.
        ``monitor.report(vanishing_ratio=1e-3)``.
        """
        return _rules.analyze(self.history, self.context(), thresholds, source="monitor")

    # ---- persistence ----

    def state_dict(self):
        """Everything the monitor has learnt (history, loss log, events, counters) as plain
        arrays, lists and dicts: save it with the checkpoint, give it back to
        :meth:`load_state_dict` of a new monitor on the resumed model, and the report covers
        the whole run.

        Example::

            cr.save({"model": model.state_dict(), "monitor": monitor.state_dict()}, path)
            ...
            monitor = GradientMonitor(model, optimizer=opt)
            monitor.load_state_dict(cr.load(path)["monitor"])
        """
        facts = dict(self._facts, sharpness=list(self._facts["sharpness"]))
        return {
            "version": 1,
            "step": self._step,
            "recorded": self._recorded,
            "history": self.history.state_dict(),
            "losses": (list(self._loss_steps), list(self._losses)),
            "val_losses": (list(self._val_steps), list(self._val_losses)),
            "first_nonfinite": None if self.first_nonfinite is None else dict(self.first_nonfinite),
            "clip": {
                k: (list(v) if isinstance(v, list) else v)
                for k, v in self._clip.items()
                if k != "pending"
            },
            "order": [self._layers[i].name for i in self._order],
            "activations": {lay.name: lay.activation for lay in self._layers},
            "facts": facts,
        }

    def load_state_dict(self, state):
        """Continue from :meth:`state_dict` (the same model's layer and parameter names).

        All or nothing: every entry is read and checked first, and a malformed or foreign
        state raises ``ValueError`` with the monitor left as it was.
        """
        if not isinstance(state, dict) or state.get("version") != 1:
            raise ValueError(
                "GradientMonitor.load_state_dict: not a GradientMonitor state "
                "(from monitor.state_dict())"
            )
        h = self.history
        history = History(h.capacity, h.param_names, h.layer_names, h.recurrent_names)
        try:
            history.load_state_dict(state["history"])
            step, recorded = _count(state["step"]), _count(state["recorded"])
            losses = _series(state["losses"])
            val_losses = _series(state["val_losses"])
            first = state["first_nonfinite"]
            if first is not None and not isinstance(first, dict):
                raise TypeError(
                    f"first_nonfinite must be a dict or None, got {type(first).__name__}"
                )
            clip = dict(state["clip"])
            clip["norms"] = [float(v) for v in clip.get("norms", [])]
            names = [str(n) for n in state["order"]]
            activations = dict(state["activations"])
            facts = dict(state["facts"])
            facts["sharpness"] = list(facts.get("sharpness", []))
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
            raise ValueError(
                f"GradientMonitor.load_state_dict: a malformed state ({type(err).__name__}: "
                f"{err}); nothing was loaded"
            ) from None
        # everything read: only now is anything replaced
        self.history = history
        self._step, self._recorded = step, recorded
        (self._loss_steps, self._losses), (self._val_steps, self._val_losses) = losses, val_losses
        self.first_nonfinite = first
        self._clip = clip
        index = {lay.name: lay.index for lay in self._layers}
        self._order = [index[n] for n in names if n in index]
        for lay in self._layers:
            lay.ordered = lay.index in self._order
            lay.activation = lay.activation or activations.get(lay.name)
        self._facts = facts
        if self._recording:  # the next step is due at the restored step count
            self._data = _StepData(len(self._layers), len(self._recurrent))
        if self._step % self.every != 0 and self._recording:
            self._recording = False
            self._detach()
        elif self._step % self.every == 0 and not self._recording and not self._closed:
            self._start_recording()

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
        return (
            f"GradientMonitor({len(self._layers)} layers, {len(self._params)} parameters, "
            f"every={self.every}, {len(self.history)} steps recorded)"
        )


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


def _count(value):
    """A step counter from a state: a non-negative integer."""
    if isinstance(value, bool) or int(value) != value or value < 0:
        raise ValueError(f"a step count must be a non-negative integer, got {value!r}")
    return int(value)


def _series(pair):
    """(steps, values) lists of equal length from a state."""
    steps, values = (list(x) for x in pair)
    if len(steps) != len(values):
        raise ValueError(f"{len(steps)} steps for {len(values)} values")
    return [_count(s) for s in steps], [float(v) for v in values]


def _check_model(model, who):
    """A chainrule Module, or a clear error (a PyTorch module has the same method names but
    other tensors: without this it fails deep inside with an unrelated message)."""
    if type(model).__module__.split(".")[0] == "torch" or any(
        type(c).__module__.split(".")[0] == "torch" for c in type(model).__mro__
    ):
        raise TypeError(
            f"{who}: {type(model).__name__} is a PyTorch module; the diagnostics "
            "work on chainrule models (cr.nn.Module) only for now"
        )
    if not hasattr(model, "named_modules") or not hasattr(model, "register_forward_hook"):
        raise TypeError(f"{who}: model must be a cr.nn.Module, got {type(model).__name__}")


def _grad(outputs, inputs, grad_outputs):
    from ..autograd import grad

    if outputs and hasattr(outputs[0], "_t"):  # a torch model's tensors (torch_adapter.py)
        from .torch_adapter import torch_grad

        return torch_grad(outputs, inputs, grad_outputs)
    return grad(outputs, inputs, grad_outputs=grad_outputs, allow_unused=True)


def _pre_hook_with_kwargs(module):
    """``module``'s way to register a forward pre-hook that also sees keyword arguments (a
    chainrule Module's ``with_kwargs=True``; a torch facade passes ``hx=`` on by itself)."""
    if isinstance(module, Module):
        return functools.partial(module.register_forward_pre_hook, with_kwargs=True)
    return module.register_forward_pre_hook


def _first_tensor(x):
    if type(x) is Tensor or isinstance(x, Tensor):
        return x
    if isinstance(x, (tuple, list)):
        for item in x:
            if isinstance(item, Tensor):
                return item
    return None


def _tensors(obj):
    """Every Tensor in a (nested) tuple/list, in order."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors(o)]
    return []


def _loss_kind(loss, model):
    """The loss's kind from its graph: a chainrule node, or a torch loss's ``grad_fn``."""
    if isinstance(loss, Tensor):
        return loss_kind(loss._node)
    from .torch_adapter import TorchModel
    from .torch_adapter import loss_kind as torch_loss_kind

    return torch_loss_kind(loss, model) if isinstance(model, TorchModel) else None


def _loss_value(loss):
    if loss is None:
        return None
    if isinstance(loss, Tensor):
        if loss._data.size != 1:
            raise ValueError(f"GradientMonitor.step: loss must be a scalar, got shape {loss.shape}")
        return float(loss._data.reshape(()))
    return float(loss.detach() if hasattr(loss, "detach") else loss)  # (a torch tensor)


def _inferred_total(grad_norms, max_norm):
    """The clipped total norm equals max_norm (to rounding) exactly when clipping acted."""
    finite = grad_norms[np.isfinite(grad_norms)]
    if not finite.size:
        return None
    total = float(np.sqrt(np.sum(finite**2)))
    return total if total < max_norm * (1 - 1e-4) else float("nan")
