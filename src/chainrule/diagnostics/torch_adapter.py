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

Limits: functional activations in a torch ``forward`` (``torch.tanh(self.fc(x))``) are not seen
(their graph is torch's): use activation modules for saturation and dead-unit statistics; torch's
fused RNN/LSTM/GRU layers get no per-time-step profile (loops over RNNCell/LSTMCell/GRUCell
do); the sharpness measurement and Cockpit's step quality need a chainrule model.

Example::

    import torch
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Sigmoid(), torch.nn.Linear(32, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    monitor = cr.diagnostics.GradientMonitor(model, optimizer=opt)   # adapted here
    ...  # the usual torch loop, then monitor.step(loss)
"""

import sys

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
    def _vc(self):
        """torch's version counter (bumped by in-place changes), as chainrule's ``_vc[0]``."""
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
    tensor in every hook (a layer's output is the next activation's input)."""

    def __init__(self):
        self.by_id = {}

    def wrap(self, x):
        torch = _torch()
        if isinstance(x, torch.Tensor):
            w = self.by_id.get(id(x))
            if w is None or w._t is not x:
                w = self.by_id[id(x)] = _TorchTensor(x)  # it keeps x alive: ids stay unique
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
        outputs = self._root._outputs

        def call(module, args, out):
            if _torch().is_grad_enabled():
                hook(self, outputs.wrap(args), outputs.wrap(out))

        return self._m.register_forward_hook(call)

    def register_forward_pre_hook(self, hook):
        root = self._root

        def call(module, args):
            if not _torch().is_grad_enabled():
                return
            if self is root:
                root._outputs = _Outputs()  # a new forward: forget the last one's tensors
            hook(self, root._outputs.wrap(args))

        return self._m.register_forward_pre_hook(call)

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

    @property
    def torch_module(self):
        return self._m

    def _module(self, m):
        facade = self._modules_by_id.get(id(m))
        if facade is None:
            facade = _facade_class(type(m))(m, self)
            self._modules_by_id[id(m)] = facade
        return facade


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
        monitor.step(float(loss.detach()))
    finally:
        monitor.close()
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        with torch.no_grad():
            for b, saved in buffers:
                b.copy_(saved)
        torch.set_rng_state(rng)
    return _preflight_report(monitor, thresholds)


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
