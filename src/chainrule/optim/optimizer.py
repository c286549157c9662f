"""``Optimizer``: the base class of every optimizer (parameter groups, per-parameter state, checkpoints).

Subclasses only write ``_update(param, grad, state, group)``: one in-place NumPy update of one
parameter array. The base class walks the groups, skips parameters without a gradient, bumps
version counters, and converts state to and from PyTorch's ``state_dict`` layout.

Multi-tensor steps (PyTorch's ``foreach``): in an optimizer whose update is elementwise
(``_flat = True``: SGD, Adam, AdamW, RMSprop), the parameters of a group live as views into one
contiguous buffer, and so does their state; a step gathers the gradients into one buffer and
runs ``_update`` once on the whole group, a handful of NumPy calls instead of a handful per
parameter. Elementwise arithmetic gives bit-identical results either way. See ``_FlatGroup``
for when a group falls back to the per-parameter loop.
"""

from __future__ import annotations

import copy
import functools
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import is_
from typing import Any

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor


class _ParamState(dict):
    """``Optimizer.state``: keyed by parameter position (the ``state_dict`` keys), and also
    reachable by the parameter itself with ``defaultdict(dict)`` behaviour, as PyTorch's is, so
    that an optimizer written by subclassing (``state = self.state[p]`` in its own ``step``)
    works: ``self.state[p]`` is ``self.state[position of p]``, created empty when missing."""

    def __init__(self, owner: Optimizer, items: Any = ()) -> None:
        super().__init__(items)
        self._owner = owner
        self._positions: dict[int, int] = {}  # id(param) -> position, rebuilt when stale

    def _key(self, key: Any) -> Any:
        if not isinstance(key, Tensor):
            return key
        position = self._positions.get(id(key))
        if position is None or self._param_at(position) is not key:
            self._positions = {id(p): i for i, _, p in self._owner._indexed_params()}
            position = self._positions.get(id(key))
        return key if position is None else position

    def _param_at(self, position: int) -> Any:
        for group in self._owner.param_groups:
            if position < len(group["params"]):
                return group["params"][position]
            position -= len(group["params"])
        return None

    def __missing__(self, key: Any) -> dict[str, Any]:
        key = self._key(key)
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        value: dict[str, Any] = {}
        dict.__setitem__(self, key, value)
        return value

    def __contains__(self, key: Any) -> bool:
        return dict.__contains__(self, self._key(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, self._key(key), value)

    def get(self, key: Any, default: Any = None) -> Any:
        return dict.get(self, self._key(key), default)


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, or of dicts (parameter groups) each holding a ``'params'``
            list and optional per-group options that override ``defaults``.
        defaults (dict): default options (``lr``, ...) for groups that do not set them.

    Per-parameter state lives in ``self.state``, a dict keyed by the parameter's position in the
    groups (0, 1, ... counting through all groups in order), exactly the keys of ``state_dict()``;
    ``self.state[p]`` with the parameter itself reaches the same entry (created empty when
    missing, as PyTorch's ``defaultdict``), for optimizers that subclass this one and write
    their own ``step`` as in PyTorch.

    Example::

        opt = cr.optim.SGD([{'params': body}, {'params': head, 'lr': 0.1}], lr=0.01)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A subclass's own step() runs the step hooks and marks the optimizer as stepped, for
        # the schedulers' check of the call order (PyTorch wraps step the same way).
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_marks_called", False):
            cls.step = _with_hooks(step)  # type: ignore[method-assign]

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state: dict[Any, Any] = _ParamState(self)
        self._opt_called = False  # read by LR schedulers to warn about a wrong step order
        self._step_pre_hooks: dict[int, Callable[..., Any]] = {}
        self._step_post_hooks: dict[int, Callable[..., Any]] = {}
        self._flats = {}  # group position -> _FlatGroup (multi-tensor steps)
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of "
                f"Tensors or dicts, but got {type(params).__name__}"
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Append a group (a dict with ``'params'`` and optional options) to ``param_groups``.

        Missing options are filled from ``defaults``. Useful to unfreeze layers while training.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, "
                "but the ordering of tensors in sets changes between runs"
            )
        elif params is None:
            raise ValueError("param_group has no 'params' entry")
        group["params"] = list(params)
        for i, p in enumerate(group["params"]):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but params[{i}] of the "
                    f"new group is a {type(p).__name__}"
                )
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_no_duplicates(group["params"])
        self.param_groups.append(group)

    def register_step_pre_hook(self, hook: Callable[..., Any]) -> Any:
        """``hook(optimizer, args, kwargs)`` runs before each ``step``; it may return
        ``(new_args, new_kwargs)``. Returns a handle whose ``remove()`` unregisters it."""
        from ..nn.module import RemovableHandle

        handle = RemovableHandle(self._step_pre_hooks)
        self._step_pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook: Callable[..., Any]) -> Any:
        """``hook(optimizer, args, kwargs)`` runs after each ``step``. Returns a handle whose
        ``remove()`` unregisters it."""
        from ..nn.module import RemovableHandle

        handle = RemovableHandle(self._step_post_hooks)
        self._step_post_hooks[handle.id] = hook
        return handle

    def _check_no_duplicates(self, new_params: Sequence[Tensor]) -> None:
        # id() is only used for this membership test, never to key state.
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in new_params:
            if id(p) in seen:
                raise ValueError(
                    "some parameters appear more than once in the optimizer's "
                    "parameter groups (each would be updated twice)"
                )
            seen.add(id(p))

    def _indexed_params(self) -> Iterator[tuple[int, dict[str, Any], Tensor]]:
        """Yield ``(position, group, param)`` for every parameter, in state_dict order."""
        index = 0
        for group in self.param_groups:
            for p in group["params"]:
                yield index, group, p
                index += 1

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget gradients: ``p.grad = None`` (default), or zero them with ``set_to_none=False``."""
        for _, _, p in self._indexed_params():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                # A fresh array: the old one may be shared with other tensors.
                p.grad._data = np.zeros_like(p.grad._data)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a ``.grad``, in place. Returns ``closure()`` if given.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with grad
        recording enabled, as in PyTorch.
        """
        loss = None
        if closure is not None:
            loss = _call_with_grad(closure)
        self._opt_called = True
        start = 0
        for position, group in enumerate(self.param_groups):
            params = group["params"]
            if not (self._flat and self._step_flat(position, group, start)):
                for index, p in enumerate(params, start):
                    if p.grad is None:
                        continue
                    grad = _grad_array(index, p)
                    self._update(p._data, grad, self.state.setdefault(index, {}), group)
                    p._bump_version()
            start += len(params)
        return loss

    _flat = False  # subclasses whose _update is elementwise with per-group scalars set True
    _flat_scratch = 0  # elements of reusable ``scratch`` a flat _update may take (0: none)

    def _step_flat(self, position: int, group: dict[str, Any], start: int) -> bool:
        """One multi-tensor update of a whole group; False (nothing done) where it cannot run.

        It runs when every parameter of the group has a gradient of its shape and one floating
        dtype, the parameters could be (or are) moved into one buffer, and their states agree
        (same keys, same step count): then one ``_update`` on the flat arrays does exactly what
        the per-parameter loop would.
        """
        params = group["params"]
        grads = [p.grad for p in params]
        if len(params) < 2 or _NoneType in map(type, grads):
            return False
        flat = self._flats.get(position)
        if (
            flat is None
            or len(params) != len(flat.views)
            or not all(map(is_, [p._data for p in params], flat.views))
        ):
            flat = _FlatGroup.create(params, flat, self._flat_scratch)
            if flat is None:
                return False
            self._flats[position] = flat
        arrays = [g._data for g in grads]
        if [a.shape for a in arrays] != flat.shapes:
            return False  # the per-parameter loop raises the clear error
        indices = range(start, start + len(params))
        if not flat.state_in_sync(self.state, indices) and not flat.load_state(self.state, indices):
            return False
        flat.update(self._update, group, arrays)
        for p in params:
            p._bump_version()
        return True

    def _update(
        self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Update ``param`` (ndarray) in place from ``grad`` (read only) and ``state`` (mutable)."""
        raise NotImplementedError

    # ---- checkpoints ----
    def _state_shape(self, name: str, param_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of state array ``name`` of a parameter: the parameter's, unless an
        optimizer keeps a reduced one (Adafactor's factored variances)."""
        return param_shape

    def state_dict(self) -> dict[str, Any]:
        """A snapshot in PyTorch's layout: ``{'state': {index: {...}}, 'param_groups': [...]}``.

        Each group holds its options and ``'params'``: the positions of its parameters. Arrays are
        copies, so later steps do not change a saved dict.
        """
        groups, start = [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(packed)
        state = {i: {k: _copy(v) for k, v in s.items()} for i, s in sorted(self.state.items()) if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` (ours or PyTorch's, with tensors converted to NumPy).

        Parameters are matched by position; floating state is cast to the parameter's dtype.
        All or nothing: the whole dict is checked (group sizes, option types, state shapes and
        dtypes) before anything is written, so a bad entry leaves the optimizer untouched.

        Example::

            opt.load_state_dict(cr.load('run.ckpt')['optimizer'])
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                "optimizer state_dict must be a dict with the keys 'state' and 'param_groups'"
            )
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, dict):
            raise ValueError(
                "optimizer state_dict: 'param_groups' must be a list and 'state' a "
                f"dict, got {type(saved_groups).__name__} and "
                f"{type(saved_state).__name__}"
            )
        index_map = self._match_groups(saved_groups)
        new_groups = [
            self._checked_group(i, mine, saved)
            for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True))
        ]
        params = [p for _, _, p in self._indexed_params()]
        own_step = type(self)._update is Optimizer._update
        new_state = {}
        for key, saved in saved_state.items():
            position = index_map.get(_as_index(key, "state key"))
            if position is None:
                raise ValueError(
                    f"optimizer state_dict has state for parameter {key}, which is "
                    "in none of its param_groups"
                )
            if not isinstance(saved, dict):
                raise ValueError(
                    f"optimizer state of parameter {key} must be a dict, got {type(saved).__name__}"
                )
            new_state[position] = {
                name: _load_value(
                    name,
                    value,
                    params[position],
                    position,
                    self._state_shape(name, params[position]._data.shape),
                )
                for name, value in saved.items()
            }
            if own_step:  # a subclass with its own step() keeps tensors in its state, as torch
                new_state[position] = {
                    name: Tensor._wrap(value) if isinstance(value, np.ndarray) else value
                    for name, value in new_state[position].items()
                }
        if not own_step:  # (a subclass's own step() cannot be tried on copies)
            self._check_trial_step(new_groups, new_state)
        # Everything is checked: only now is anything replaced.
        self.state = _ParamState(self, new_state)
        self.param_groups = new_groups

    def _check_trial_step(self, groups: list[dict[str, Any]], state: dict[int, Any]) -> None:
        """Run one update of every parameter on copies (zero gradient) with the loaded options
        and state, and refuse the dict if one fails or if a loaded entry is a number where
        this optimizer keeps an array (the update would then leave it as it is, for ever).

        A state of the right shapes can still not fit this optimizer: an entry missing
        (``exp_avg``), of the wrong kind (``None``, a list, an int array), options of the wrong
        form (``betas=0.9``). Such a dict used to load, and the next ``step()`` then raised
        half-way, with some parameters already updated.
        """
        index = 0
        for g, group in enumerate(groups):
            for p in group["params"]:
                loaded = state.get(index, {})
                own: dict[str, Any] = {}  # the state this optimizer itself starts
                try:
                    with np.errstate(all="ignore"):  # values (NaN, overflow) are not checked
                        zeros = np.zeros_like(p._data)
                        self._update(p._data.copy(), zeros, copy.deepcopy(loaded), group)
                        if loaded:
                            self._update(p._data.copy(), zeros, own, group)
                except Exception as err:  # noqa: BLE001 - whatever fails, the dict does not fit
                    raise ValueError(
                        f"loaded state dict does not fit this {type(self).__name__}: a step of "
                        f"parameter {index} (group {g}) with it fails "
                        f"({type(err).__name__}: {err})"
                    ) from None
                for name, like in own.items():
                    value = loaded.get(name)
                    if isinstance(like, np.ndarray) and not isinstance(
                        value, (np.ndarray, _NoneType)
                    ):
                        raise ValueError(
                            f"loaded state dict does not fit this {type(self).__name__}: state "
                            f"'{name}' of parameter {index} is {value!r:.40}, not an array of "
                            f"shape {like.shape}"
                        )
                index += 1

    def __getstate__(self) -> dict[str, Any]:
        # Copies and pickles keep the per-parameter state; the flat buffers are rebuilt from
        # it at the next step (a deep copy would not keep the views tied to their buffers).
        # Hooks are not kept, as in PyTorch (a lambda cannot be pickled).
        skip = ("_flats", "_step_pre_hooks", "_step_post_hooks")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_flats", {})
        self._step_pre_hooks, self._step_post_hooks = {}, {}
        self._flats = {}

    def _match_groups(self, saved_groups: Any) -> Any:
        """Check group sizes agree; map each saved parameter index to our position."""
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, but "
                f"the optimizer has {len(self.param_groups)}"
            )
        saved_ids = []
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(
                    f"loaded state dict's group {i} must be a dict with a 'params' list"
                )
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(
                    f"loaded state dict's group {i} has {len(saved['params'])} "
                    f"parameters, but the optimizer's has {len(mine['params'])}"
                )
            saved_ids.extend(_as_index(k, f"group {i} parameter index") for k in saved["params"])
        if len(set(saved_ids)) != len(saved_ids):
            raise ValueError("loaded state dict lists a parameter index in more than one place")
        return {saved_id: position for position, saved_id in enumerate(saved_ids)}

    @staticmethod
    def _checked_group(i: int, mine: Any, saved: Any) -> Any:
        """Our group with the saved options; an option must keep its kind (number, flag...)."""
        for key, value in saved.items():
            if key == "params" or key not in mine:
                continue
            ours = mine[key]
            if _is_number(ours) and not _is_number(value):
                raise ValueError(
                    f"loaded state dict's group {i} option {key!r} must be a number "
                    f"(like {ours!r}), got {value!r}"
                )
            if isinstance(ours, bool) and not isinstance(value, (bool, np.bool_)):
                raise ValueError(
                    f"loaded state dict's group {i} option {key!r} must be True or "
                    f"False, got {value!r}"
                )
        return {**mine, **saved, "params": mine["params"]}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _with_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` wrapped to run the optimizer's step pre- and post-hooks around it and to mark
    the optimizer as stepped."""

    @functools.wraps(step)
    def run(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        for hook in list(getattr(self, "_step_pre_hooks", {}).values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        "optimizer step pre-hook must return None or a tuple of "
                        f"(new_args, new_kwargs), but got {result}."
                    )
                args, kwargs = result
        self._opt_called = True
        out = step(self, *args, **kwargs)
        for hook in list(getattr(self, "_step_post_hooks", {}).values()):
            hook(self, args, kwargs)
        return out

    run._marks_called = True  # type: ignore[attr-defined]
    return run


Optimizer.step = _with_hooks(Optimizer.step)  # type: ignore[method-assign]


class _FlatGroup:
    """A group's parameters as views into one contiguous buffer, and their state likewise.

    ``buffer`` holds the parameters (each ``p._data`` is a view into it); ``state`` holds the
    optimizer state as flat arrays whose per-parameter views are what ``Optimizer.state`` (and
    so ``state_dict``) holds.

    The update runs piece by piece over ``plan``: each large parameter is one piece whose
    gradient is used where it lies; consecutive small ones (up to ``_SMALL`` elements in all)
    form one piece whose gradients are first copied side by side into ``grad``. Gathering
    every gradient would copy megabytes per step on a large model, and one pass over a flat
    buffer of several MB runs slower than per-parameter passes that stay in the CPU cache
    (measured: Adam on the 20 x 256 MLP, SGD on 784-512-512-10), so the multi-tensor win is
    where it pays: many small parameters become one NumPy call per update operation.

    Parameters are user-visible: their arrays may be rebound (``p.data = ...``,
    ``module.double()``) or shared. A parameter's array is moved into the buffer only when
    nothing but the parameter refers to it (its reference count), so no array or tensor the
    user holds stops aliasing the parameter; each step checks the views are still the
    parameters' arrays and rebuilds (or falls back to the per-parameter loop) when not.
    The views of a buffer whose optimizer is gone (a new optimizer over the same parameters)
    move the same way, when nothing but their parameters refers to them or to the buffer.
    """

    # Set once the flat state is in sync (None before): Any, as update() runs only then.
    state: Any
    pieces: Any
    scratch: Any

    def __init__(self, params: Sequence[Tensor], buffer: np.ndarray, with_scratch: int) -> None:
        self.buffer = buffer
        self.shapes = [p._data.shape for p in params]
        self.views = _split(buffer, self.shapes)
        for p, view in zip(params, self.views, strict=True):
            p._data = view
        _BUFFERS[id(buffer)] = (weakref.ref(self), [weakref.ref(v) for v in self.views])
        weakref.finalize(buffer, _BUFFERS.pop, id(buffer), None)
        self.plan = _plan([p._data.size for p in params])  # (start, stop, first, last)
        gathered = sum(b - a for a, b, k0, k1 in self.plan if k1 - k0 > 1)
        self.grad = np.empty(gathered, buffer.dtype)
        self.grad_at, offset = [], 0  # a piece's part of ``grad``
        for a, b, k0, k1 in self.plan:
            self.grad_at.append(self.grad[offset : offset + b - a] if k1 - k0 > 1 else None)
            offset += b - a if k1 - k0 > 1 else 0
        self.param_at = [buffer[a:b] for a, b, _, _ in self.plan]
        largest = max(b - a for a, b, _, _ in self.plan)
        size = min(largest, with_scratch)  # the optimizer's cap (0: it takes none)
        self.scratch = np.empty(size, buffer.dtype) if size else None
        self.state = None  # flat state arrays and scalars, once in sync
        self.slots = []  # the per-parameter state dicts that share it
        self.split = {}  # key -> the flat array whose views the dicts hold
        self.shared = ([], [], [])  # dicts, keys, views: d[k] is v for every view handed out
        self.pieces = None  # each piece's state: views of the flat state arrays

    def update(self, update: Any, group: dict[str, Any], grads: Any) -> None:
        """Run ``update(param, grad, state, group, scratch=...)`` on every piece.

        Scalars (``step``) are the same in every piece. On the first update each piece creates
        its own state arrays; they are then joined into the flat state.
        """
        state, dtype = self.state, self.buffer.dtype
        fresh = self.pieces is None
        pieces = [{} for _ in self.plan] if fresh else self.pieces
        scalars = [k for k, v in state.items() if type(v) is not np.ndarray]
        scratch = self.scratch
        room = 0 if scratch is None else scratch.size
        for (a, b, k0, k1), param, out, piece in zip(
            self.plan, self.param_at, self.grad_at, pieces, strict=True
        ):
            if out is None:
                grad = grads[k0].reshape(-1)
                if grad.dtype != dtype:
                    grad = grad.astype(dtype)
            else:
                grad = np.concatenate(grads[k0:k1], axis=None, out=out)
            for k in scalars:
                piece[k] = state[k]
            update(param, grad, piece, group, scratch=scratch[: b - a] if b - a <= room else None)
        if fresh:
            for k, v in pieces[-1].items():
                state[k] = np.concatenate([p[k] for p in pieces]) if type(v) is np.ndarray else v
            self.share_state()
            return
        for k in scalars:
            state[k] = piece[k]
        for d in self.slots:
            for k in scalars:
                d[k] = state[k]

    @classmethod
    def create(cls, params: Sequence[Tensor], old: Any, with_scratch: int) -> _FlatGroup | None:
        """Move ``params`` into a new buffer (copying their current values), or None when one
        of them cannot move (shared array, not a plain float array, mixed dtypes)."""
        dtype = params[0]._data.dtype
        if dtype.kind != "f":
            return None
        for i, p in enumerate(params):
            if type(p._data) is not np.ndarray or p._data.dtype != dtype:
                return None
            if not _only_held_by(p, old, i):
                return None
        return cls(params, np.concatenate([p._data.reshape(-1) for p in params]), with_scratch)

    def state_in_sync(self, state: Any, indices: Sequence[int]) -> bool:
        """Do the per-parameter states still share this group's flat state?"""
        if self.state is None:
            return False
        slots = [state.get(i) for i in indices]
        if not all(map(is_, slots, self.slots)):
            return False
        n = len(self.state)
        if any(len(d) != n for d in slots):
            return False
        dicts, keys, views = self.shared
        if not all(map(is_, map(dict.get, dicts, keys), views)):
            return False
        return all(
            d[k] == v for k, v in self.state.items() if type(v) is not np.ndarray for d in slots
        )

    def load_state(self, state: dict[int, Any], indices: Sequence[int]) -> bool:
        """(Re)build the flat state from the per-parameter states; False if they differ in
        keys, step count or dtype (then the per-parameter loop runs)."""
        slots = [state.setdefault(i, {}) for i in indices]
        keys = slots[0].keys()
        if any(d.keys() != keys for d in slots):
            return False
        flat = {}
        for key in keys:
            values = [d[key] for d in slots]
            first = values[0]
            if type(first) is np.ndarray:
                if any(
                    type(v) is not np.ndarray or v.dtype != self.buffer.dtype or v.shape != s
                    for v, s in zip(values, self.shapes, strict=True)
                ):
                    return False
                flat[key] = np.concatenate([v.reshape(-1) for v in values])
            elif all(type(v) is type(first) and v == first for v in values):
                flat[key] = first
            else:
                return False
        self.state, self.slots, self.split = flat, slots, {}
        self.pieces = None if not flat else self.pieces
        self.share_state()
        return True

    def share_state(self) -> None:
        """Give each per-parameter state dict views of the flat state (and its scalars)."""
        changed = False
        for key, value in self.state.items():
            if type(value) is not np.ndarray:
                for d in self.slots:
                    d[key] = value
            elif self.split.get(key) is not value:  # new (first step) or replaced
                self.split[key] = value
                for d, view in zip(self.slots, _split(value, self.shapes), strict=True):
                    d[key] = view
                changed = True
        if changed:
            pairs = [(d, k) for k in self.split for d in self.slots]
            self.shared = ([d for d, _ in pairs], [k for _, k in pairs], [d[k] for d, k in pairs])
        if changed or self.pieces is None:
            arrays = [(k, v) for k, v in self.state.items() if type(v) is np.ndarray]
            self.pieces = [{k: v[a:b] for k, v in arrays} for a, b, _, _ in self.plan]
            if not arrays:
                self.pieces = None  # nothing to share yet: the next update creates it


def _plan(sizes: Sequence[int]) -> list[tuple[int, int, int, int]]:
    """Pieces of a multi-tensor update: ``(start, stop, first, last)`` flat ranges covering
    parameters ``first..last-1``: a large parameter alone, consecutive small ones together."""
    plan, first = [], 0
    offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    for k, size in enumerate(sizes):
        if size > _SMALL or offsets[k + 1] - offsets[first] > _SMALL:
            if k > first:
                plan.append((offsets[first], offsets[k], first, k))
            first = k
        if size > _SMALL:
            plan.append((offsets[k], offsets[k + 1], k, k + 1))
            first = k + 1
    if first < len(sizes):
        plan.append((offsets[first], offsets[-1], first, len(sizes)))
    return plan


def _split(flat: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    """Views of consecutive pieces of the 1-d ``flat`` with the given shapes."""
    views, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape, dtype=np.int64))
        views.append(flat[offset : offset + size].reshape(shape))
        offset += size
    return views


def _only_held_by(p: Tensor, old: Any, i: int) -> bool:
    """True if nothing but the parameter ``p`` refers to its array (and, for a view of the
    ``old`` flat buffer, nothing but the buffer's bookkeeping), so moving it is invisible."""
    # sys.getrefcount counts its own argument: the parameter's slot plus that argument = 2.
    if old is not None and i < len(old.views) and p._data is old.views[i]:
        # Held by the parameter and the old views list; and no view of the old buffer but
        # its own bookkeeping (views and pieces) may exist: each refers to it as its base.
        return sys.getrefcount(p._data) == 3 and sys.getrefcount(old.buffer) == 2 + len(
            old.views
        ) + len(old.param_at)
    if p._data.base is None:
        return sys.getrefcount(p._data) == 2
    return _in_released_buffer(p)


# id(buffer) -> (weak reference to the _FlatGroup that made it, weak references to the views it
# gave the parameters); an entry lives as long as its buffer (a weakref.finalize removes it)
_BUFFERS: dict[int, Any] = {}


def _in_released_buffer(p: Tensor) -> bool:
    """True if ``p``'s array is a view a _FlatGroup made, that group is gone (its optimizer was
    dropped), and nothing refers to the array but ``p`` nor to the buffer but such views.

    Without this a second optimizer over the same parameters (a new one per phase, an LR sweep)
    could never flatten them: their arrays are views, so the plain reference count says
    nothing about who else holds the memory."""
    entry = _BUFFERS.get(id(p._data.base))
    if entry is None or entry[0]() is not None:
        return False  # not a buffer of ours, or its optimizer still uses it: stay out
    if sys.getrefcount(p._data) != 2:
        return False  # a user holds this array (p.numpy(), a detached tensor)
    # Each live view refers to the buffer as its base; anything else (a view of a view, which
    # NumPy bases on the buffer too) is someone else's: then nothing moves.
    live = sum(ref() is not None for ref in entry[1])
    return sys.getrefcount(p._data.base) == 1 + live


# ---- helpers shared by the optimizers ----
_CHUNK = 1 << 16
_NoneType = type(None)
_SMALL = 1 << 15  # elements: parameters up to this size share pieces of a multi-tensor update


def add_scaled_(
    param: np.ndarray, alpha: float, g: np.ndarray, scratch: np.ndarray | None = None
) -> None:
    """``param += alpha * g`` in place, through a temporary of at most 64K elements (or
    ``scratch``, an array of param's size, when given: then nothing is allocated).

    ``param -= lr * g`` would allocate a parameter-sized temporary on every step: for a large
    layer that temporary is the optimizer's whole peak memory.
    """
    if scratch is not None:
        param += np.multiply(g, alpha, out=scratch)
        return
    if param.size <= _CHUNK or not (param.flags.c_contiguous and g.flags.c_contiguous):
        param += alpha * g
        return
    flat_p, flat_g = param.reshape(-1), g.reshape(-1)  # views: both are contiguous
    for start in range(0, flat_p.size, _CHUNK):
        flat_p[start : start + _CHUNK] += alpha * flat_g[start : start + _CHUNK]


def implementation_flags(name: str, flags: dict[str, Any]) -> dict[str, Any]:
    """PyTorch's implementation switches (``foreach``, ``fused``, ``capturable``,
    ``differentiable``) as given, to keep in the parameter groups as PyTorch does. They choose
    how PyTorch computes a step, not what it computes, so they change nothing here;
    ``differentiable=True`` (a step recorded in the autograd graph) is refused."""
    if flags.get("differentiable"):
        raise NotImplementedError(
            f"{name}: differentiable=True (an optimizer step recorded in the autograd graph) "
            "is not supported in chainrule"
        )
    if flags.get("fused") and flags.get("foreach"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    return dict(flags)


def effective_grad(param: np.ndarray, grad: np.ndarray, group: dict[str, Any]) -> np.ndarray:
    """``grad`` with ``maximize`` and L2 ``weight_decay`` applied; never writes into ``grad``.

    Returns ``grad`` itself when there is nothing to apply (no copy), else a new array.
    """
    weight_decay = float(group.get("weight_decay", 0))
    maximize = group.get("maximize", False)
    if not weight_decay:
        return np.negative(grad) if maximize else grad
    g = np.multiply(param, weight_decay)
    if maximize:
        g -= grad
    else:
        g += grad
    return g


def _grad_array(index: int, p: Tensor) -> np.ndarray:
    grad = p.grad._data  # type: ignore[union-attr]  # only called for params with a .grad
    if grad.shape != p._data.shape:
        raise ValueError(
            f"parameter {index} has shape {p._data.shape} but its .grad has shape {grad.shape}"
        )
    return grad if grad.dtype == p._data.dtype else grad.astype(p._data.dtype)


def _call_with_grad(closure: Callable[[], Any]) -> Any:
    with enable_grad():  # the closure records its graph even when step() runs under no_grad
        return closure()


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def _is_number(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return True
    if getattr(value, "shape", None) != ():  # a 0-d array or tensor may hold a number
        return False
    try:
        return np.dtype(str(value.dtype).replace("torch.", "")).kind in "iuf"
    except (AttributeError, TypeError):
        return False


def _as_index(key: Any, what: str) -> int:
    """A saved parameter index (an int, or a str/array of one) as an int."""
    if isinstance(key, (bool, np.bool_)):
        raise ValueError(f"optimizer state_dict: {what} {key!r} is not a parameter index")
    try:
        index = int(key)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"optimizer state_dict: {what} {key!r} is not a parameter index") from None
    if index != key and str(index) != key:
        raise ValueError(f"optimizer state_dict: {what} {key!r} is not a parameter index")
    return index


def _load_value(name: str, value: Any, param: Tensor, position: int, shape: tuple[int, ...]) -> Any:
    """One saved state entry as we store it: ``step`` an int, arrays (of ``shape``) copied in the
    param's dtype."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()  # a chainrule (or CPU torch) tensor
    if name == "step":
        step = np.asarray(value)
        if step.shape != () or step.dtype.kind not in "iuf" or not np.isfinite(step) or step < 0:
            raise ValueError(
                f"optimizer state 'step' of parameter {position} must be a finite "
                f"number >= 0, got {value!r}"
            )
        return int(round(float(step)))
    if not isinstance(value, np.ndarray):
        if value is None or _is_number(value):
            return value
        # a list would load and then be read as a frozen buffer by every later step
        raise ValueError(
            f"optimizer state '{name}' of parameter {position} must be an array, a number "
            f"or None, got {type(value).__name__} {value!r:.40}"
        )
    if value.dtype.kind not in "biuf":
        raise ValueError(
            f"optimizer state '{name}' of parameter {position} has dtype "
            f"{value.dtype}, not a real number type"
        )
    if value.shape == () != shape:
        # a per-parameter scalar that PyTorch keeps as a 0-d tensor (NAdam's mu_product)
        return value.item()
    if value.shape != shape:
        raise ValueError(
            f"optimizer state '{name}' of parameter {position} has shape "
            f"{value.shape}, but the parameter has shape {param._data.shape}"
            + ("" if shape == param._data.shape else f" (expected {shape})")
        )
    dtype = param._data.dtype if value.dtype.kind == "f" else value.dtype
    return np.array(value, dtype=dtype, copy=True)


def check_nonnegative(**options: Any) -> None:
    """Raise ``ValueError`` naming the first option that is negative."""
    for name, value in options.items():
        if value < 0.0:
            raise ValueError(f"Invalid {name} value: {value} (must be >= 0)")
