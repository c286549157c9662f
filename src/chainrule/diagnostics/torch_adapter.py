"""Present a ``torch.nn.Module`` (and its optimizer) to the diagnostics as a chainrule model.

The monitor reads a model through a small surface: ``named_modules()``, ``named_parameters()``,
forward hooks and pre-hooks that hand it tensors, each tensor's array (``._data``),
``register_hook`` for the gradient at a tensor, and a parameter's ``.grad``. :func:`adapt` wraps
a torch model in a facade with exactly that surface:

* each torch module becomes a ``_TorchModule`` whose class has the torch class's name (``Linear``,
  ``Sigmoid``, ``RNN``...), so the monitor recognises layers and activation modules as usual;
* each parameter and each tensor a hook sees becomes a chainrule ``Tensor`` subclass whose array
  is the torch tensor's data as NumPy (a view on the CPU, no copy), whose ``register_hook`` is
  torch's, and (for parameters) whose ``.grad`` is the torch gradient;
* hooks are torch's own ``register_forward_hook`` / ``register_forward_pre_hook`` /
  ``Tensor.register_hook``: the monitor still only reads, and removing its handles removes
  them. Forwards under ``torch.no_grad()`` are not training forwards and are not seen.

torch is never imported here: a model is a torch model when ``torch`` is already imported and the
model is an instance of ``torch.nn.Module``.

Functional activations in a torch ``forward`` (``torch.tanh(self.fc(x))``, ``F.relu``,
``x.sigmoid()``...) are not modules, so no module hook sees them: during recorded steps (only
then: the hooks live only then) a ``torch.overrides.TorchFunctionMode`` notes each activation
call's input and output, and the output's facade tensor gets a stand-in graph node of the
chainrule activation, so the monitor classifies it as it does a chainrule functional activation
(saturation, dead units). The mode only looks: it calls the function unchanged.

Torch's fused ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` get the per-time-step profile
``||dL/dh_t||`` like chainrule's: on the steps that measure time, the layer is replayed step by
step in torch from its input, apart from training, and the gradients its outputs received are
sent back through the replay. The replay runs every layer and direction (``weight_ih_l{k}``,
``weight_hh_l{k}``, their ``_reverse`` twins, biases, an LSTM's ``weight_hr_l{k}`` for
``proj_size``) and keeps chainrule's layout of per-step hidden states (one list per layer and
direction); as for a chainrule layer, the profile is that of the first layer's forward
direction, whose dL/dh_t gathers the gradient from the layers above and from later steps.
Dropout between layers (training mode) is replayed with torch's own masks on the CPU (torch's
random state is noted before the layer's forward); on a GPU, cuDNN's masks cannot be redrawn
and the replay's are others at the same rate. A PackedSequence input gets no profile. A torch
RNN passed as the model itself (no parent module) is an ordinary layer. The sharpness
measurement and Cockpit's step quality need a chainrule model.

Example::

    import torch
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Sigmoid(), torch.nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = cr.diagnostics.GradientMonitor(model, optimizer=opt)   # adapted here
    ...  # the usual torch loop, then monitor.step(loss)
"""

import contextlib
import sys

import numpy as np

from ..tensor import Tensor

__all__ = ["adapt", "is_torch_module", "TorchModel"]


def _torch():
    return sys.modules.get("torch")


def is_torch_module(obj):
    """True when ``obj`` is a ``torch.nn.Module`` (without importing torch)."""
    torch = _torch()
    return torch is not None and isinstance(obj, torch.nn.Module)


def is_torch_optimizer(obj):
    torch = _torch()
    return torch is not None and isinstance(obj, torch.optim.Optimizer)


def adapt(model, optimizer=None, where="GradientMonitor"):
    """``(model, optimizer)`` as the diagnostics read them: a torch model (and its torch
    optimizer) wrapped in the facade; a chainrule model returned unchanged; anything else is a
    TypeError naming ``where``."""
    if not is_torch_module(model) and not (
        hasattr(model, "named_modules") and hasattr(model, "register_forward_hook")
    ):
        raise TypeError(
            f"{where}: model must be a cr.nn.Module or a torch.nn.Module, got "
            f"{type(model).__name__}"
        )
    if isinstance(model, TorchModel) or not is_torch_module(model):
        if is_torch_optimizer(optimizer):
            raise TypeError(
                f"diagnostics: a torch optimizer needs a torch.nn.Module model, got "
                f"{type(model).__name__}"
            )
        return model, optimizer
    if optimizer is not None and not is_torch_optimizer(optimizer):
        raise TypeError(
            f"{where}: a torch model needs its torch optimizer, got {type(optimizer).__name__}"
        )
    facade = TorchModel(model)
    if optimizer is not None:
        # a class with the torch optimizer's name: the report names the optimizer (SGD, Adam)
        cls = type(type(optimizer).__name__, (_TorchOptimizer,), {})
        optimizer = cls(optimizer, facade)
    return facade, optimizer


def _numpy(t):
    """A torch tensor's values as a NumPy array (a view for CPU tensors)."""
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    if t.dtype.is_floating_point and t.dtype not in (_torch().float32, _torch().float64):
        t = t.float()  # float16/bfloat16: NumPy has no bfloat16
    return t.numpy()


class _TorchTensor(Tensor):
    """A torch tensor seen as a chainrule Tensor: ``._data`` is its NumPy view; hooks are
    torch's. Gradients given to hooks are wrapped the same way."""

    def __init__(self, t):  # noqa: D107  (Tensor.__init__ is not called)
        self._t = t
        self._node = None
        self._hooks = None
        self._view = None  # (data_ptr, array) of a CPU tensor
        self._torch_rng = None  # torch's random state before the RNN it enters (replay)

    @property
    def _data(self):
        # One NumPy view per CPU storage (the monitor compares arrays by identity); a tensor
        # elsewhere (GPU) is copied to the host at each read.
        t = self._t
        if t.device.type != "cpu":
            return _numpy(t)
        ptr = t.data_ptr()
        view = self._view
        if view is None or view[0] != ptr or view[1].shape != tuple(t.shape):
            view = self._view = (ptr, _numpy(t))
        return view[1]

    @property
    def _version_counter(self):
        """torch's version counter (bumped by in-place changes), as chainrule's ``_version_counter[0]``."""
        return (self._t._version,)

    @property
    def requires_grad(self):
        return bool(self._t.requires_grad)

    @property
    def grad(self):
        g = self._t.grad
        return None if g is None else _TorchTensor(g)

    def register_hook(self, hook):
        def call(grad):
            hook(_TorchTensor(grad))  # the monitor only reads: torch keeps its gradient

        return self._t.register_hook(call)

    def __repr__(self):
        return f"TorchTensor({tuple(self._t.shape)}, {self._t.dtype})"


class _Params:
    """One facade parameter per torch parameter (identity matters: the monitor keys by id)."""

    def __init__(self):
        self._by_id = {}

    def get(self, p):
        proxy = self._by_id.get(id(p))
        if proxy is None or proxy._t is not p:
            proxy = self._by_id[id(p)] = _TorchTensor(p)
        return proxy


class _Outputs:
    """The facade tensors of one forward pass, so that the same torch tensor is the same facade
    tensor in every hook (a layer's output is the next activation's input). ``acts`` holds the
    functional activation calls of the pass (see :class:`_ActivationWatch`)."""

    def __init__(self):
        self.by_id = {}
        self.acts = {}  # id(output) -> (output, kind, input, bounds)
        self.model_out = None  # what the model's forward returned (torch tensors)

    def wrap(self, x):
        torch = _torch()
        if isinstance(x, torch.Tensor):
            w = self.by_id.get(id(x))
            if w is None or w._t is not x:
                w = self.by_id[id(x)] = _TorchTensor(x)  # it keeps x alive: ids stay unique
                act = self.acts.get(id(x))
                if act is not None and act[0] is x:
                    w._node = _stand_in(act[1], self.wrap(act[2]), act[3])
            return w
        if isinstance(x, tuple):
            return tuple(self.wrap(v) for v in x)
        if isinstance(x, list):
            return [self.wrap(v) for v in x]
        return x


_CLASSES = {}


def _facade_class(torch_cls):
    """A facade class with the torch class's name (the monitor reads ``type(m).__name__``)."""
    cls = _CLASSES.get(torch_cls)
    if cls is None:
        cls = _CLASSES[torch_cls] = type(torch_cls.__name__, (_TorchModule,), {})
    return cls


class _TorchModule:
    """A torch module seen as a chainrule module (read-only surface plus hooks)."""

    def __init__(self, module, root):
        self._m, self._root = module, root

    def named_modules(self):
        for name, m in self._m.named_modules():
            yield name, self._root._module(m)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def named_children(self):
        return [(n, self._root._module(m)) for n, m in self._m.named_children()]

    def named_parameters(self, recurse=True):
        return [
            (n, self._root._params.get(p)) for n, p in self._m.named_parameters(recurse=recurse)
        ]

    def parameters(self, recurse=True):
        return [p for _, p in self.named_parameters(recurse)]

    def named_buffers(self):
        return [(n, _TorchTensor(b)) for n, b in self._m.named_buffers()]

    @property
    def training(self):
        return self._m.training

    def train(self, mode=True):
        self._m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def register_forward_hook(self, hook):
        root = self._root

        def call(module, args, out):
            if _torch().is_grad_enabled():
                outputs = root._outputs  # this forward's (the root's pre-hook renews it)
                if self is root:  # the model's output: where the loss's own ops begin
                    outputs.model_out = out
                with root._watch_paused():  # the monitor's own torch calls are not watched
                    hook(self, outputs.wrap(args), outputs.wrap(out))

        return self._m.register_forward_hook(call)

    def register_forward_pre_hook(self, hook):
        root = self._root

        def call(module, args, kwargs):
            if not _torch().is_grad_enabled():
                return
            if kwargs.get("hx") is not None and len(args) == 1:
                # rnn(x, hx=h): the replay must start from h, not from zeros
                args = (*args, kwargs["hx"])
            if self is root:
                root._outputs = _Outputs()  # a new forward: forget the last one's tensors
                hook(self, root._outputs.wrap(args))
                root._watch_start()
                return
            with root._watch_paused():
                hook(self, root._outputs.wrap(args))

        handle = self._m.register_forward_pre_hook(call, with_kwargs=True)
        if self is not root:
            return handle
        # the activation watch ends with the forward, even one that raises
        end = self._m.register_forward_hook(lambda m, a, o: root._watch_end(), always_call=True)
        return _Handles(handle, end)

    def __call__(self, *args, **kwargs):
        return self._m(*args, **kwargs)

    def __getattr__(self, name):
        # attributes the monitor reads (nonlinearity, weight_hh_l0, min_val, ...): as torch's,
        # tensors wrapped; only called for names the facade does not define
        m = self.__dict__.get("_m")
        if m is None:
            raise AttributeError(name)
        value = getattr(m, name)
        torch = _torch()
        if isinstance(value, torch.nn.Parameter):
            return self._root._params.get(value)
        if isinstance(value, torch.Tensor):
            return _TorchTensor(value)
        if isinstance(value, torch.nn.Module):
            return self._root._module(value)
        return value

    def __repr__(self):
        return f"TorchModule({self._m.__class__.__name__})"


class TorchModel(_TorchModule):
    """The facade of a whole torch model (see the module docstring). ``.torch_module`` is the
    wrapped ``torch.nn.Module``."""

    def __init__(self, module):
        super().__init__(module, self)
        self._params = _Params()
        self._outputs = _Outputs()
        self._modules_by_id = {id(module): self}
        self._watches = []  # the activation watches of forwards in progress

    @property
    def torch_module(self):
        return self._m

    def _watch_start(self):
        watch = _ActivationWatch(self._outputs)
        watch.__enter__()
        self._watches.append(watch)

    def _watch_end(self):
        if self._watches:
            self._watches.pop().__exit__(None, None, None)

    @contextlib.contextmanager
    def _watch_paused(self):
        """Off while a monitor hook runs (its torch calls would each pass through the mode)."""
        watch = self._watches[-1] if self._watches else None
        if watch is not None:
            watch.__exit__(None, None, None)
        try:
            yield
        finally:
            if watch is not None:
                watch.__enter__()

    def _module(self, m):
        facade = self._modules_by_id.get(id(m))
        if facade is None:
            cls = _recurrent_class(type(m)) if _replayable(m) else _facade_class(type(m))
            facade = cls(m, self)
            self._modules_by_id[id(m)] = facade
        return facade


# ---- torch's fused RNN / LSTM / GRU: replayed step by step for the time profile ----


def _replayable(m):
    """A torch RNN/LSTM/GRU the replay covers: any number of layers, either direction, LSTM
    projections (``proj_size``)."""
    torch = _torch()
    return isinstance(m, torch.nn.RNNBase) and m.mode in ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


_RECURRENT_CLASSES = {}


def _recurrent_class(torch_cls):
    cls = _RECURRENT_CLASSES.get(torch_cls)
    if cls is None:
        cls = _RECURRENT_CLASSES[torch_cls] = type(torch_cls.__name__, (_TorchRecurrent,), {})
    return cls


class _TorchRecurrent(_TorchModule):
    """A fused torch RNN/LSTM/GRU with chainrule's ``record_steps`` protocol: the monitor sets
    ``record_steps = True`` and calls :meth:`forward` to replay the layer step by step
    (outputs as the layer's). ``last_hidden_states`` then has chainrule's layout: one list of
    the T per-step hidden states h_t (B, H_out) per layer and direction, index
    ``layer * num_directions + direction``, in time order also for the reverse direction
    (``last_cell_states`` the same for an LSTM); the monitor profiles entry 0, the first
    layer's forward direction, as it does for a chainrule layer."""

    record_steps = False
    # torch's fused kernel has no dL/dh_t observer like chainrule's: the monitor replays it
    time_by_replay = True
    last_hidden_states = last_cell_states = None

    def register_forward_pre_hook(self, hook):
        """As for any module; and when the layer draws dropout masks on the CPU, torch's random
        state is noted on the input's facade tensor first (the first call of a forward keeps
        it: the monitor replays a step's first call), so that the replay draws the same
        masks."""

        def noting(module, args):
            x = args[0] if args else None
            if (
                isinstance(x, _TorchTensor)
                and x._torch_rng is None
                and x._t.device.type == "cpu"
                and _drops(self._m)
            ):
                x._torch_rng = _torch().get_rng_state()
            hook(module, args)

        return super().register_forward_pre_hook(noting)

    def forward(self, x, hx=None):
        """The layer's outputs computed one time step at a time in torch, from its current
        weights (the per-step hidden states kept when ``record_steps``). Shapes as torch's:
        x (T, B, I) ((B, T, I) with ``batch_first``, (T, I) unbatched), hx as torch's or None.
        A PackedSequence is not replayed: None, and no hidden states.

        Dropout between layers (training mode, ``dropout > 0``) is drawn with ``F.dropout``
        in torch's order, from the random state noted before the layer's forward: on the CPU
        the masks are torch's own, so the replay equals the forward. Elsewhere (a GPU: cuDNN
        draws them inside its kernel) the replay's masks are others at the same rate, so the
        profile is that of another draw. The replay never moves torch's random state."""
        torch = _torch()
        m = self._m
        rng = x._torch_rng if isinstance(x, _TorchTensor) else None
        x = _unwrap(x)
        if not isinstance(x, torch.Tensor):
            if self.record_steps:
                self.last_hidden_states = self.last_cell_states = None
            return None
        x, hx = x.detach(), _unwrap(hx)
        batched = x.dim() == 3
        if not batched:
            x = x.unsqueeze(1)
        elif m.batch_first:
            x = x.transpose(0, 1)  # (T, B, F)
        lstm = m.mode == "LSTM"
        dirs = 2 if m.bidirectional else 1
        n_states, batch = m.num_layers * dirs, x.shape[1]
        h_size = m.proj_size or m.hidden_size
        if hx is None:
            h0 = x.new_zeros(n_states, batch, h_size)
            c0 = x.new_zeros(n_states, batch, m.hidden_size) if lstm else None
        else:
            h0, c0 = hx if lstm else (hx, None)
            h0 = h0.detach().reshape(n_states, batch, h_size)
            c0 = None if c0 is None else c0.detach().reshape(n_states, batch, m.hidden_size)
        drops = _drops(m)
        devices = [x.device] if drops and x.device.type == "cuda" else []
        with torch.enable_grad(), torch.random.fork_rng(devices, enabled=drops):
            if drops and rng is not None:
                torch.set_rng_state(rng)
            out, h_n, c_n, steps = _replay_layers(m, x, h0, c0, dirs)
        h_n = torch.stack(h_n)
        c_n = torch.stack(c_n) if lstm else None
        if not batched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif m.batch_first:
            out = out.transpose(0, 1)
        if self.record_steps:
            self.last_hidden_states = [[_TorchTensor(h) for h in hs] for hs, _ in steps]
            self.last_cell_states = (
                [[_TorchTensor(c) for c in cs] for _, cs in steps] if lstm else None
            )
        if lstm:
            return _TorchTensor(out), (_TorchTensor(h_n), _TorchTensor(c_n))
        return _TorchTensor(out), _TorchTensor(h_n)


def _drops(m):
    """Whether torch layer ``m`` draws dropout masks between its layers in its forward."""
    return bool(m.training and m.dropout and m.num_layers > 1)


def _replay_layers(m, x, h0, c0, dirs):
    """Every layer and direction of torch layer ``m`` over x (T, B, I), one step at a time, in
    torch's order (dropout on each layer's input but the first's). Returns ``(output (T, B,
    D*H_out), [h_T per layer and direction], [c_T ...], [(hs, cs) per layer and direction])``."""
    torch = _torch()
    linear = torch.nn.functional.linear
    steps, h_n, c_n = [], [], []
    n_steps = x.shape[0]
    for layer in range(m.num_layers):
        if layer and _drops(m):
            x = torch.nn.functional.dropout(x, m.dropout, training=True)
        outs = []
        for direction in range(dirs):
            k = layer * dirs + direction
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            w_ih, w_hh, b_ih, b_hh, w_hr = (
                getattr(m, name + suffix, None)
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
            )
            gi = linear(x, w_ih, b_ih).unbind(0)  # the input side: one GEMM for all steps
            h, c = h0[k], None if c0 is None else c0[k]
            hs, cs = [None] * n_steps, [None] * n_steps
            for t in range(n_steps - 1, -1, -1) if direction else range(n_steps):
                h, c = _cell_step(m.mode, gi[t], linear(h, w_hh, b_hh), c, h)
                if w_hr is not None:  # an LSTM with proj_size: h_t = W_hr (o * tanh(c_t))
                    h = linear(h, w_hr)
                hs[t], cs[t] = h, c
            steps.append((hs, cs))
            outs.append(torch.stack(hs))
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if dirs == 1 else torch.cat(outs, dim=2)
    return x, h_n, c_n, steps


def _cell_step(mode, gi, gh, c, h):
    """One time step from the input and hidden projections gi, gh (B, G*H): the equations of
    torch's documentation. Returns ``(h_t, c_t)`` (c_t None but for an LSTM)."""
    torch = _torch()
    if mode == "LSTM":
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
    if mode == "GRU":
        ir, iz, in_ = gi.chunk(3, dim=1)
        hr, hz, hn = gh.chunk(3, dim=1)
        r, z = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
        n = torch.tanh(in_ + r * hn)
        return (1 - z) * n + z * h, None
    act = torch.tanh if mode == "RNN_TANH" else torch.relu
    return act(gi + gh), None


def _unwrap(x):
    if isinstance(x, _TorchTensor):
        return x._t
    if isinstance(x, (tuple, list)):
        return type(x)(_unwrap(v) for v in x)
    return x


def torch_grad(outputs, inputs, grad_outputs):
    """``cr.grad`` for facade tensors: torch's autograd between the wrapped torch tensors
    (None for an input the outputs do not depend on)."""
    torch = _torch()
    grads = torch.autograd.grad(
        [o._t for o in outputs],
        [i._t for i in inputs],
        [
            torch.from_numpy(np.asarray(g._data)).to(o._t.dtype)
            for o, g in zip(outputs, grad_outputs, strict=True)
        ],
        allow_unused=True,
    )
    return [None if g is None else _TorchTensor(g) for g in grads]


class _Handles:
    """Several hook handles removed as one."""

    def __init__(self, *handles):
        self.handles = handles

    def remove(self):
        for h in self.handles:
            h.remove()


# ---- functional activations: seen through a TorchFunctionMode ----

# torch function name -> activation kind (the chainrule kinds of activations.py)
_FUNCTIONAL = {
    "relu": "relu",
    "relu6": "relu6",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softsign": "softsign",
    "gelu": "gelu",
    "hardtanh": "hardtanh",
    "leaky_relu": "leaky_relu",
    "silu": "silu",
    "elu": "elu",
    "selu": "selu",
    "softplus": "softplus",
    # not activations, but what a classifier may end with: the output's kind (output_kind)
    # against the loss's kind tells a softmax given to cross_entropy (output_loss_mismatch)
    "softmax": "softmax",
    "log_softmax": "log_softmax",
}


def _ActivationWatch(outputs):
    """A ``TorchFunctionMode`` that notes each functional activation call in ``outputs.acts``
    (made on first use: torch is imported only for torch models)."""
    global _WATCH_CLASS
    if _WATCH_CLASS is None:
        from torch.overrides import TorchFunctionMode

        class Watch(TorchFunctionMode):
            def __init__(self, outputs):
                super().__init__()
                self.outputs = outputs

            def __torch_function__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                out = func(*args, **kwargs)  # unchanged: the mode only looks
                kind = _FUNCTIONAL.get(getattr(func, "__name__", None))
                if kind is not None and args:
                    x = args[0]
                    torch = _torch()
                    if isinstance(out, torch.Tensor) and out is not x and out.requires_grad:
                        bounds = _hardtanh_bounds(args, kwargs) if kind == "hardtanh" else None
                        if bounds == (0.0, 6.0):
                            kind, bounds = "relu6", None
                        self.outputs.acts[id(out)] = (out, kind, x, bounds)
                return out

        _WATCH_CLASS = Watch
    return _WATCH_CLASS(outputs)


_WATCH_CLASS = None


def _hardtanh_bounds(args, kwargs):
    lo = kwargs.get("min_val", args[1] if len(args) > 1 else -1.0)
    hi = kwargs.get("max_val", args[2] if len(args) > 2 else 1.0)
    return float(lo), float(hi)


class _StandIn:
    """A graph node as the diagnostics read it (``vjp``, ``inputs``, ``next``, ``saved``,
    ``name``), standing for a torch activation call: the vjp is the chainrule activation's own
    function, so the kind is read exactly as for a chainrule model."""

    __slots__ = ("vjp", "inputs", "next", "needs", "saved", "name")

    def __init__(self, probe, inputs, saved):
        self.vjp, _, self.name = probe
        self.inputs, self.saved = inputs, saved
        self.next = [getattr(t, "_node", None) for t in inputs]
        self.needs = [False] * len(inputs)  # leaves of no gradient walk


class _Bare:
    """A tensor between stand-in nodes: its node and array only."""

    requires_grad = False

    def __init__(self, node, data):
        self._node, self._data = node, data


_CHAINRULE_NODES = None


def _chainrule_node(kind):
    """(vjp, saved) of the chainrule op of ``kind``, probed once on a tiny tensor."""
    global _CHAINRULE_NODES
    if _CHAINRULE_NODES is None:
        from .. import nn, tensor

        F = nn.functional
        x = tensor(np.array([0.5, -0.5]), requires_grad=True)
        made = {
            "sigmoid": F.sigmoid(x),
            "tanh": F.tanh(x),
            "relu": F.relu(x),
            "hardtanh": F.hardtanh(x),
            "leaky_relu": F.leaky_relu(x),
            "elu": F.elu(x),
            "selu": F.selu(x),
            "gelu": F.gelu(x),
            "silu": F.silu(x),
            "softplus": F.softplus(x),
            "abs": x.abs(),
            "add": x + 1,
            "div": x / (x.abs() + 1),
        }
        rows = tensor(np.array([[0.5, -0.5]]), requires_grad=True)  # (as output_kind probes)
        made["softmax"] = F.softmax(rows, dim=1)
        made["log_softmax"] = F.log_softmax(rows, dim=1)
        _CHAINRULE_NODES = {k: (t._node.vjp, t._node.saved, t._node.name) for k, t in made.items()}
    return _CHAINRULE_NODES[kind]


def _stand_in(kind, x, bounds):
    """The stand-in node of activation ``kind`` applied to facade tensor ``x``."""
    if kind == "softsign":  # x / (|x| + 1), the graph activations.py recognises
        a = np.abs(x._data)
        absolute = _Bare(_StandIn(_chainrule_node("abs"), [x], None), a)
        one = _Bare(None, np.array(1.0, dtype=a.dtype))
        den = _Bare(_StandIn(_chainrule_node("add"), [absolute, one], None), a + 1)
        return _StandIn(_chainrule_node("div"), [x, den], None)
    if kind in ("relu6", "hardtanh"):
        return _StandIn(_chainrule_node("hardtanh"), [x], bounds or (0.0, 6.0))
    probe = _chainrule_node(kind)
    return _StandIn(probe, [x], probe[1])


class _TorchOptimizer:
    """A torch optimizer seen with facade parameters in its groups (read-only)."""

    def __init__(self, optimizer, model):
        self._opt, self._model = optimizer, model

    @property
    def torch_optimizer(self):
        return self._opt

    @property
    def param_groups(self):
        get = self._model._params.get
        return [{**g, "params": [get(p) for p in g["params"]]} for g in self._opt.param_groups]

    @property
    def state(self):
        return self._opt.state

    def __repr__(self):
        return f"TorchOptimizer({type(self._opt).__name__})"


# ---- check() and lr_range_test() on torch models ----


def check(model, loss_fn, batch, **thresholds):
    """:func:`chainrule.diagnostics.check` for a torch model: one forward and backward of
    ``batch`` under the monitor; gradients, buffers, train/eval mode and torch's random state
    are restored afterwards."""
    from .monitor import GradientMonitor
    from .preflight import _preflight_report, _split

    torch = _torch()
    x, target = _split(batch)
    params = list(model.parameters())
    grads = [p.grad for p in params]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    rng = torch.get_rng_state()
    monitor = GradientMonitor(model, every=1)
    try:
        for p in params:
            p.grad = None
        out = model(*x) if isinstance(x, tuple) else model(x)
        loss = loss_fn(out) if target is None else loss_fn(out, target)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ValueError(
                f"check: loss_fn must return a scalar torch tensor, got "
                f"{getattr(loss, 'shape', type(loss).__name__)}"
            )
        if not loss.requires_grad:
            raise ValueError(
                "check: the loss does not require grad: no parameter of the "
                "model reaches it (under torch.no_grad(), or frozen?)"
            )
        loss.backward()
        monitor._snapshot_valid = False  # no optimizer step: no update ratios
        _note_torch_labels(monitor, loss_fn, target)
        monitor.step(loss)  # the tensor: its graph tells the loss's kind (see loss_kind)
    finally:
        monitor.close()
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        torch.set_rng_state(rng)
    return _preflight_report(monitor, thresholds)


# torch's backward node of a loss -> the chainrule loss kind (activations.loss_kind)
_LOSS_NODES = {
    "NllLossBackward0": "nll",
    "NllLoss2DBackward0": "nll",
    "BinaryCrossEntropyWithLogitsBackward0": "bce_logits",
    "BinaryCrossEntropyBackward0": "bce",
}


def loss_kind(loss, model):
    """'cross_entropy', 'nll', 'bce_logits' or 'bce' for a torch loss tensor (else None), read
    off its ``grad_fn`` as :func:`activations.loss_kind` reads a chainrule loss's node.

    torch's cross_entropy is log_softmax then nll_loss, so it is told from an explicit
    ``nll_loss(log_softmax(x))`` by where the model's output is: an NLL whose input is a
    log_softmax of the model's output (not the output itself) is a cross_entropy. ``model`` is
    the :class:`TorchModel` whose last training forward made the loss.

    >>> # loss_kind(F.cross_entropy(model(x), y), facade) -> 'cross_entropy'
    """
    fn = _smoothed_nll(getattr(loss, "grad_fn", None))
    kind = _LOSS_NODES.get(type(fn).__name__) if fn is not None else None
    if kind != "nll":
        return kind
    before = fn.next_functions[0][0] if fn.next_functions else None
    if type(before).__name__ != "LogSoftmaxBackward0":
        return "nll"
    out = _first_torch_tensor(model._outputs.model_out)
    return "nll" if out is not None and out.grad_fn is before else "cross_entropy"


def _smoothed_nll(fn):
    """The NLL node inside a label-smoothed cross_entropy (torch builds it as
    ``(1 - eps) * nll + eps * smoothing term``, an Add of two Muls), else ``fn`` itself."""
    if type(fn).__name__ != "AddBackward0":
        return fn
    for part, _ in fn.next_functions:
        if type(part).__name__.startswith("MulBackward") and part.next_functions:
            inner = part.next_functions[0][0]
            if type(inner).__name__ in ("NllLossBackward0", "NllLoss2DBackward0"):
                return inner
    return fn


def _first_torch_tensor(x):
    if isinstance(x, (tuple, list)):
        return next((t for t in map(_first_torch_tensor, x) if t is not None), None)
    return x if isinstance(x, _torch().Tensor) else None


def _note_torch_labels(monitor, loss_fn, target):
    from .preflight import _REGRESSION

    name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
    out = monitor._facts.get("output")
    torch = _torch()
    if (
        out is not None
        and isinstance(target, torch.Tensor)
        and not target.dtype.is_floating_point
        and name in _REGRESSION
    ):
        out["labels_into_regression"] = name


def lr_range_test(
    model,
    loss_fn,
    optimizer,
    loader,
    start_lr=1e-7,
    end_lr=10,
    num_steps=100,
    smooth=0.05,
    diverge_factor=4.0,
):
    """:func:`chainrule.diagnostics.lr_range_test` for a torch model and torch optimizer: the
    same sweep (the update ratios read through the facade); the model's weights and buffers, its
    modes, the gradients, the optimizer's state and options and torch's random state are
    restored afterwards."""
    import copy

    from .lr_finder import LRRangeResult, _check_args, _schedule, _sweep

    torch = _torch()
    _check_args(start_lr, end_lr, num_steps, smooth, diverge_factor)
    facade = TorchModel(model)
    named = [(n, p) for n, p in facade.named_parameters() if p.requires_grad]
    saved = {k: v.detach().clone() for k, v in model.state_dict().items()}
    modes = [(m, m.training) for m in model.modules()]
    grads = [(p, p.grad) for p in model.parameters()]
    opt_state = copy.deepcopy(optimizer.state_dict())
    rng = torch.get_rng_state()
    try:
        model.train()
        curve = _sweep(
            model,
            loss_fn,
            optimizer,
            loader,
            named,
            _schedule(start_lr, end_lr, num_steps),
            smooth,
            diverge_factor,
        )
    finally:
        with torch.no_grad():
            model.load_state_dict(saved)
        for m, mode in modes:
            m.train(mode)
        for p, g in grads:
            p.grad = g
        optimizer.load_state_dict(opt_state)
        torch.set_rng_state(rng)
    lrs, losses, smoothed, diverged_at, ratios = curve
    return LRRangeResult(lrs, losses, smoothed, diverged_at, ratios, diverge_factor, smooth)
