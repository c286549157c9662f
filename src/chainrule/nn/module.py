"""``Module``: the base class of every layer, holding parameters, buffers and submodules.

Assigning a :class:`Parameter`, a ``Module`` or a registered buffer name as an attribute records
it, so that ``parameters()``, ``state_dict()``, ``train()``, ``to()``... reach the whole tree.
Hooks let code outside the model watch it run: forward pre-hooks and forward hooks see each
call, full backward hooks see the gradients flowing in and out of a module.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .._typing import Grad, Grads, TensorLike
from ..autograd.engine import record
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..tensor import Tensor, to_array
from .parameter import Parameter

if TYPE_CHECKING:
    from ..autograd.engine import Node

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
_LOAD_PLANS: list[list[Any]] = []  # the writes a running load_state_dict has checked
_M = TypeVar("_M", bound="Module")  # methods that return self keep the subclass's type


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods: ``handle.remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: dict[int, Callable[..., Any]]) -> None:
        self._hooks = hooks
        self.id = next(RemovableHandle._ids)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def _add_hook(
    hooks: dict[int, Callable[..., Any]],
    hook: Callable[..., Any],
    prepend: bool = False,
    with_kwargs: bool = False,
    always_call: bool = False,
) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    entry: Any = (
        _HookWithOptions(hook, with_kwargs, always_call) if with_kwargs or always_call else hook
    )
    if prepend:  # first to run; the dict object stays the one the handles know
        rest = list(hooks.items())
        hooks.clear()
        hooks[handle.id] = entry
        hooks.update(rest)
    else:
        hooks[handle.id] = entry
    return handle


def _call_forward_hook(hook: Any, module: Any, args: Any, kwargs: Any, out: Any) -> Any:
    if type(hook) is not _HookWithOptions:
        return hook(module, args, out)
    if hook.with_kwargs:
        return hook.hook(module, args, kwargs, out)
    return hook.hook(module, args, out)


class _HookWithOptions:
    """A forward (pre-)hook registered with PyTorch's ``with_kwargs`` or ``always_call``."""

    __slots__ = ("hook", "with_kwargs", "always_call")

    def __init__(self, hook: Callable[..., Any], with_kwargs: bool, always_call: bool) -> None:
        self.hook, self.with_kwargs, self.always_call = hook, with_kwargs, always_call


class Module:
    """Base class of all layers: subclass it, create submodules in ``__init__``, write ``forward``.

    Example::

        class MLP(cr.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = cr.nn.Linear(4, 8)
                self.fc2 = cr.nn.Linear(8, 1)

            def forward(self, x):                 # x: (N, 4) -> (N, 1)
                return self.fc2(self.fc1(x).relu())

        model = MLP()
        [name for name, _ in model.named_parameters()]
        # ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    """

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        for name in (
            "_parameters",
            "_buffers",
            "_modules",
            "_forward_hooks",
            "_forward_pre_hooks",
            "_backward_hooks",
        ):
            object.__setattr__(self, name, OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "training", True)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ------------------------------------------------------------------------------------------
    # attribute registration
    # ------------------------------------------------------------------------------------------

    def _require_init(self, what: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__})"
            )

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self._require_init("parameters")
            self._forget(name, self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._require_init("a submodule")
            self._forget(name, self._modules)
            self._modules[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter '{name}' of "
                    f"{type(self).__name__} (a Parameter or None is required)"
                )
            self._parameters[name] = None
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module '{name}' "
                    f"of {type(self).__name__} (a Module or None is required)"
                )
            self._modules[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer '{name}' of "
                    f"{type(self).__name__} (a Tensor or None is required)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: Any = None) -> None:
        """Drop ``name`` from the instance dict and every registry but ``keep`` (where it is
        about to be re-registered: assigning in place keeps its position in the order)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: registered names live in the three dicts.
        d = self.__dict__
        for registry in ("_parameters", "_modules", "_buffers"):
            found = d.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> Any:
        return sorted(
            set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        )

    def _check_name(self, name: str, kind: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name must be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got "{name}"')
        if hasattr(self, name) and name not in getattr(self, f"_{kind}s", {}):
            raise KeyError(f"attribute '{name}' already exists on {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (a Parameter, or None for an absent one such as a disabled bias)."""
        self._require_init("parameters")
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} as parameter '{name}' "
                "(a Parameter or None is required)"
            )
        self._forget(name, self._parameters)
        self._parameters[name] = param

    def register_buffer(
        self, name: str, tensor: TensorLike | None, persistent: bool = True
    ) -> None:
        """Add a tensor that is state but not learnt (e.g. BatchNorm's running mean).

        Buffers follow ``to()`` and, when ``persistent``, appear in ``state_dict()``.
        """
        self._require_init("buffers")
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign {type(tensor).__name__} as buffer '{name}' "
                "(a Tensor or None is required)"
            )
        self._forget(name, self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module (None leaves an empty slot, as in PyTorch)."""
        self._require_init("a submodule")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._forget(name, self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` (``""`` is the module itself)."""
        module = self
        for part in target.split(".") if target else []:
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(
                    f"{type(module).__name__} has no submodule '{part}' (looking up '{target}')"
                )
            module = child
        return module

    def _get_member(self, target: str, registry: Any, kind: str) -> Any:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        value = getattr(module, registry).get(name)
        if value is None:
            raise AttributeError(
                f"{type(module).__name__} has no {kind} '{name}' (looking up '{target}')"
            )
        return value

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at dotted path ``target``, e.g. ``"0.weight"``."""
        return self._get_member(target, "_parameters", "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at dotted path ``target``, e.g. ``"bn.running_mean"``."""
        return self._get_member(target, "_buffers", "buffer")

    # ------------------------------------------------------------------------------------------
    # iteration
    # ------------------------------------------------------------------------------------------

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module and every descendant, depth first."""
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                sub = f"{prefix}.{name}" if prefix else name
                yield from child.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, registry: Any, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[Any]:
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, Parameter)`` pairs; a shared parameter is listed once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------------------------------
    # modes, gradients, dtypes
    # ------------------------------------------------------------------------------------------

    def train(self: _M, mode: bool = True) -> _M:
        """Set training mode (dropout active, batch norm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self: _M) -> _M:
        return self.train(False)

    def requires_grad_(self: _M, requires_grad: bool = True) -> _M:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to None, or to a fresh array of zeros)."""
        for p in self.parameters():
            if p.grad is not None:
                # A new array, not an in-place write: the old gradient array may be shared.
                p.grad = None if set_to_none else Tensor._wrap(np.zeros_like(p.grad._data))

    def apply(self: _M, fn: Callable[[Module], Any]) -> _M:
        """Call ``fn(module)`` on every child (recursively), then on this module; returns self.

        Example: ``model.apply(lambda m: init.zeros_(m.bias) if isinstance(m, Linear) else None)``
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self: _M, *args: Any, **kwargs: Any) -> _M:
        """Cast floating parameters and buffers in place: ``to(cr.float64)``, ``to('cpu')``,
        ``to(cr.device('cpu'))``; ``to('cuda')`` raises RuntimeError (CPU only).

        Parameters keep their identity (an optimizer holding them still works).
        """
        from ..devices import parse_to

        dtype, _ = parse_to(args, kwargs, "Module.to")  # any device but the CPU raises
        if dtype is not None:
            self._cast(np.dtype(dtype))
        return self

    def _cast(self, dtype: np.dtype) -> None:
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, got {dtype}")
        for t in itertools.chain(self.parameters(), self.buffers()):
            if t.dtype.kind == "f" and t.dtype != dtype:
                t._data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor._wrap(t.grad._data.astype(dtype))

    def float(self: _M) -> _M:
        return self.to(np.float32)

    def cuda(self, device: Any = None) -> None:
        """Raises RuntimeError: chainrule has no CUDA support."""
        from ..devices import check_device

        check_device("cuda", "Module.cuda")

    def double(self: _M) -> _M:
        return self.to(np.float64)

    def cpu(self: _M) -> _M:
        return self

    # ------------------------------------------------------------------------------------------
    # state dict
    # ------------------------------------------------------------------------------------------

    def _state_items(self, prefix: str = "") -> Iterator[Any]:
        """Every (name, tensor) of the state dict, shared tensors under each of their names."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield prefix + name, b
        for name, child in self._modules.items():
            if child is not None:
                yield from child._state_items(f"{prefix}{name}.")

    def state_dict(
        self,
        destination: dict[str, Tensor] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> dict[str, Tensor]:
        """OrderedDict of parameters and persistent buffers by dotted name (PyTorch's names).

        Values are detached tensors sharing memory with the module (``keep_vars=True`` gives
        the Parameters themselves). Example: ``Linear(4, 3).state_dict()`` has ``weight`` (3, 4)
        and ``bias`` (3,).
        """
        out = OrderedDict() if destination is None else destination
        for name, t in self._state_items(prefix):
            out[name] = t if keep_vars else t.detach()
        return out

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> IncompatibleKeys:
        """Copy values (Tensors or NumPy arrays) into the parameters and buffers, in place.

        All or nothing: every value is checked and converted before the first one is written,
        so a bad entry (wrong shape, a value that is not a number array, a complex value for a
        real parameter) leaves the module untouched. With ``strict``, missing and unexpected
        keys are errors too (RuntimeError listing every problem). Values are cast to each
        parameter's dtype. Returns ``(missing_keys, unexpected_keys)``.

        As in PyTorch, each module's ``_load_from_state_dict`` handles its own entries (a
        subclass may override it, e.g. to rename old keys, and call ``super()``), load pre-hooks
        run first and ``register_load_state_dict_post_hook`` hooks after. ``assign=True``
        gives each parameter new memory holding the value instead of writing into the old.

        Example::

            model.load_state_dict(cr.load('weights.npz'))
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        state = OrderedDict(state_dict)
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []
        plan: list[tuple[Tensor, Any]] = []
        metadata = {"assign_to_params_buffers": True} if assign else {}

        def load(module: Module, local: dict[str, Any], prefix: str) -> None:
            _LOAD_PLANS.append(plan)
            try:
                module._load_from_state_dict(
                    local, prefix, dict(metadata), True, missing, unexpected, errors
                )
            finally:
                _LOAD_PLANS.pop()
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = f"{prefix}{name}."
                    child_local = {k: v for k, v in local.items() if k.startswith(child_prefix)}
                    load(child, child_local, child_prefix)
            keys = IncompatibleKeys(missing, unexpected)
            for hook in getattr(module, "_load_state_dict_post_hooks", {}).values():
                if hook(module, keys) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace."
                    )

        load(self, state, "")
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: " + _quoted(unexpected) + ".")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: " + _quoted(missing) + ".")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        with no_grad():
            for target, array in plan:  # same shapes and dtypes: copying cannot fail
                if assign:
                    target._data = np.array(array, copy=True)
                else:
                    np.copyto(target._data, array)
                target._bump_version()
        return IncompatibleKeys(missing, unexpected)

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        """Load this module's own parameters and persistent buffers from ``state_dict`` (keys
        ``prefix + name``), as PyTorch's: the load pre-hooks run first; problems are appended
        to the three lists. Within ``load_state_dict`` the values are only checked here and
        written once every module has been checked (all or nothing)."""
        for hook in list(getattr(self, "_load_state_dict_pre_hooks", {}).values()):
            hook(
                self,
                state_dict,
                prefix,
                local_metadata,
                strict,
                missing_keys,
                unexpected_keys,
                error_msgs,
            )
        own = {name: p for name, p in self._parameters.items() if p is not None}
        own.update(
            (name, b)
            for name, b in self._buffers.items()
            if b is not None and name not in self._non_persistent_buffers
        )
        plan = _LOAD_PLANS[-1] if _LOAD_PLANS else None
        for name, target in own.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            array, error = _converted(key, state_dict[key], target._data)
            if error:
                error_msgs.append(error)
            elif plan is not None:
                plan.append((target, array))
            else:  # called on its own: write now
                with no_grad():
                    np.copyto(target._data, array)
                    target._bump_version()
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    first = key[len(prefix) :].split(".", 1)[0]
                    if first not in self._modules and first not in own:
                        unexpected_keys.append(key)

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs before this module loads its entries; it may
        edit ``state_dict`` (e.g. rename old keys)."""
        return _add_hook(
            self.__dict__.setdefault("_load_state_dict_pre_hooks", OrderedDict()), hook
        )

    def _register_load_state_dict_pre_hook(
        self, hook: Callable[..., Any], with_module: bool = False
    ) -> RemovableHandle:
        """PyTorch's older form: ``hook(state_dict, prefix, ...)`` (the module first with
        ``with_module``)."""
        if with_module:
            return self.register_load_state_dict_pre_hook(hook)
        return self.register_load_state_dict_pre_hook(lambda module, *args: hook(*args))

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` runs after this module and its children have
        been checked; it may edit the ``missing_keys`` / ``unexpected_keys`` lists in place
        (before ``strict`` turns them into an error)."""
        return _add_hook(
            self.__dict__.setdefault("_load_state_dict_post_hooks", OrderedDict()), hook
        )

    # ------------------------------------------------------------------------------------------
    # calling and hooks
    # ------------------------------------------------------------------------------------------

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """``hook(module, args) -> None or new args`` runs before ``forward``.

        ``args`` is the tuple of positional arguments; a returned non-tuple becomes ``(value,)``.
        With ``with_kwargs=True`` it is ``hook(module, args, kwargs) -> None or (new args, new
        kwargs)``; ``prepend=True`` runs it before the hooks already registered (PyTorch's).
        """
        return _add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(
        self,
        hook: Callable[..., Any],
        *,
        prepend: bool = False,
        with_kwargs: bool = False,
        always_call: bool = False,
    ) -> RemovableHandle:
        """``hook(module, args, output) -> None or new output`` runs after ``forward``.

        With ``with_kwargs=True`` it is ``hook(module, args, kwargs, output)``; with
        ``always_call=True`` it also runs when ``forward`` raises (then with ``output`` None,
        and the error goes on); ``prepend=True`` runs it first (PyTorch's options).
        """
        return _add_hook(self._forward_hooks, hook, prepend, with_kwargs, always_call)

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, grad_input, grad_output) -> None or new grad_input`` during backward.

        ``grad_output`` holds the gradients w.r.t. the module's tensor outputs (top level of
        a returned tuple), ``grad_input`` those w.r.t. its positional tensor arguments (None for
        those that need no gradient). The hook runs once per call of the module and backward
        pass, when all input gradients are known (when all output gradients are known if no
        input needs one). Built like PyTorch's: identity ops wrapped around the tensor inputs
        and outputs call back during backward (node-level hooks), so the gradients are exactly
        those flowing through this module, even when an input is also used elsewhere.

        Limits: replacing ``grad_input`` is supported for modules with one tensor input; a
        module called with no grad mode on, or whose outputs need no gradient, never fires; an
        input that received no gradient (unused by the output) keeps the hook from firing when
        other inputs do need one.
        """
        return _add_hook(self._backward_hooks, hook)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks):
            return self.forward(*args, **kwargs)  # the common case, kept cheap
        for hook in tuple(self._forward_pre_hooks.values()):
            if type(hook) is _HookWithOptions:
                result = hook.hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "a forward pre-hook registered with_kwargs=True must return None "
                            f"or a tuple (new_args, new_kwargs), got {type(result).__name__}"
                        )
                    args, kwargs = result
                continue
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        watcher = None
        if self._backward_hooks and is_grad_enabled():
            watcher = _BackwardHookCall(self)
            args = watcher.wrap_inputs(args)
        try:
            out = self.forward(*args, **kwargs)
        except BaseException:
            for hook in tuple(self._forward_hooks.values()):
                if type(hook) is _HookWithOptions and hook.always_call:
                    with contextlib.suppress(Exception):  # the forward's error is the one
                        _call_forward_hook(hook, self, args, kwargs, None)
            raise
        for hook in tuple(self._forward_hooks.values()):
            result = _call_forward_hook(hook, self, args, kwargs, out)
            if result is not None:
                out = result
        if watcher is not None:
            out = watcher.wrap_outputs(out)
        return out

    # ------------------------------------------------------------------------------------------
    # display
    # ------------------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self._modules.items()
        ]
        if len(extra) == 1 and not children:
            return f"{self._get_name()}({extra[0]})"
        if not extra and not children:
            return f"{self._get_name()}()"
        return f"{self._get_name()}(\n  " + "\n  ".join(extra + children) + "\n)"


def _quoted(keys: Iterable[str]) -> str:
    return ", ".join(f'"{k}"' for k in keys)


def _converted(key: str, value: Any, target: Tensor) -> tuple[Any, str | None]:
    """``(array of target's shape and dtype, None)`` or ``(None, error message)``."""
    try:
        array = np.asarray(value._data if isinstance(value, Tensor) else value)
    except Exception as err:  # noqa: BLE001 - any unconvertible object is reported
        return None, f"value for {key} cannot be read as an array ({err})"
    if array.dtype.kind not in "biufc":
        return None, (
            f"value for {key} is not numeric (dtype {array.dtype}, {type(value).__name__})"
        )
    if array.dtype.kind == "c" and target.dtype.kind != "c":
        return (
            None,
            f"value for {key} is complex ({array.dtype}) but the parameter is {target.dtype}",
        )
    if array.shape != target.shape:
        return None, (
            f"size mismatch for {key}: copying a param with shape {array.shape} from "
            f"checkpoint, the shape in current model is {target.shape}."
        )
    with np.errstate(all="ignore"):  # e.g. float -> int truncation, as copy_ does
        return array.astype(target.dtype, copy=False), None


# ----------------------------------------------------------------------------------------------
# full backward hooks
# ----------------------------------------------------------------------------------------------


def _hook_vjp(ctx: Node, g: Grad) -> Grads:
    # The gradient reaching this identity is exactly the one flowing through the module's
    # input or output; the callback may replace it. Arrays are shown to hooks as Tensors.
    recorded = isinstance(g, Tensor)
    new = ctx.saved(g if recorded else Tensor._wrap(g))
    if new is None:
        return (g,)
    if recorded:
        return (new if isinstance(new, Tensor) else Tensor._wrap(to_array(new)),)
    return (np.asarray(new._data if isinstance(new, Tensor) else new, dtype=g.dtype),)


def _hooked_identity(t: Tensor, callback: Callable[[Grad], Any]) -> Tensor:
    """A copy-free identity op whose backward calls ``callback(grad)`` first.

    The callback lives on the graph node, not on a tensor: the engine runs tensor hooks only
    while the Python tensor object is alive, and these wrappers are dropped as soon as the
    ops that consumed them have run their backward.
    """
    out = record(t._data, (t,), _hook_vjp, "BackwardHook", saved=callback, save_inputs=False)
    out._version_counter = t._version_counter  # same memory, same version counter
    return out


class _BackwardHookCall:
    """The gradient bookkeeping of one call of a module that has full backward hooks."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.grad_inputs, self.grad_outputs = [], []
        self.inputs_needed = self.outputs_needed = 0
        self.inputs_seen = self.outputs_seen = 0

    def wrap_inputs(self, args: Any) -> Any:
        args = list(args)
        slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.grad_inputs = [None] * len(slots)
        for k, i in enumerate(slots):
            if args[i].requires_grad:
                args[i] = _hooked_identity(args[i], functools.partial(self._on_input, k))
                self.inputs_needed += 1
        return tuple(args)

    def wrap_outputs(self, out: Any) -> Any:
        outs = list(out) if isinstance(out, tuple) else [out]
        slots = [i for i, o in enumerate(outs) if isinstance(o, Tensor)]
        self.grad_outputs = [None] * len(slots)
        for k, i in enumerate(slots):
            if outs[i].requires_grad:
                outs[i] = _hooked_identity(outs[i], functools.partial(self._on_output, k))
                self.outputs_needed += 1
        if not isinstance(out, tuple):
            return outs[0]
        return type(out)(*outs) if hasattr(out, "_fields") else type(out)(outs)  # namedtuple

    def _on_output(self, k: int, grad: Any) -> None:
        self.grad_outputs[k] = grad
        self.outputs_seen += 1
        if self.inputs_needed == 0 and self.outputs_seen == self.outputs_needed:
            self._fire()

    def _on_input(self, k: int, grad: Any) -> Any:
        self.grad_inputs[k] = grad
        self.inputs_seen += 1
        if self.inputs_seen < self.inputs_needed:
            return None
        new = self._fire()
        if new is None:
            return None
        new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        if len(new) != len(self.grad_inputs):
            raise RuntimeError(
                f"backward hook of {type(self.module).__name__} returned "
                f"{len(new)} gradients for {len(self.grad_inputs)} inputs"
            )
        if self.inputs_needed > 1:
            raise RuntimeError(
                f"backward hook of {type(self.module).__name__}: replacing "
                "grad_input is only supported for modules with one tensor input "
                "that needs a gradient"
            )
        return new[k]

    def _fire(self) -> Any:
        grad_in, grad_out = tuple(self.grad_inputs), tuple(self.grad_outputs)
        # Reset first: with retain_graph a second backward pass fires the hooks again.
        self.grad_inputs = [None] * len(self.grad_inputs)
        self.grad_outputs = [None] * len(self.grad_outputs)
        self.inputs_seen = self.outputs_seen = 0
        result = None
        for hook in tuple(self.module._backward_hooks.values()):
            new = hook(self.module, grad_in, grad_out)
            if new is not None:
                result = grad_in = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        return result
