"""``Optimizer``: the base class of every optimizer (parameter groups, per-parameter state, checkpoints).

Subclasses only write ``_update(param, grad, state, group)``: one in-place NumPy update of one
parameter array. The base class walks the groups, skips parameters without a gradient, bumps
version counters, and converts state to and from PyTorch's ``state_dict`` layout.
"""
import numpy as np

from ..tensor import Tensor


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors, or of dicts (parameter groups) each holding a ``'params'``
            list and optional per-group options that override ``defaults``.
        defaults (dict): default options (``lr``, ...) for groups that do not set them.

    Per-parameter state lives in ``self.state``, a dict keyed by the parameter's position in the
    groups (0, 1, ... counting through all groups in order), exactly the keys of ``state_dict()``.

    Example::

        opt = cr.optim.SGD([{'params': body}, {'params': head, 'lr': 0.1}], lr=0.01)
        opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}
        self._opt_called = False   # read by LR schedulers to warn about a wrong step order
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
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
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets changes between runs")
        elif params is None:
            raise ValueError("param_group has no 'params' entry")
        group["params"] = list(params)
        for i, p in enumerate(group["params"]):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but params[{i}] of the "
                                f"new group is a {type(p).__name__}")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self._check_no_duplicates(group["params"])
        self.param_groups.append(group)

    def _check_no_duplicates(self, new_params):
        # id() is only used for this membership test, never to key state.
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in new_params:
            if id(p) in seen:
                raise ValueError("some parameters appear more than once in the optimizer's "
                                 "parameter groups (each would be updated twice)")
            seen.add(id(p))

    def _indexed_params(self):
        """Yield ``(position, group, param)`` for every parameter, in state_dict order."""
        index = 0
        for group in self.param_groups:
            for p in group["params"]:
                yield index, group, p
                index += 1

    def zero_grad(self, set_to_none=True):
        """Forget gradients: ``p.grad = None`` (default), or zero them with ``set_to_none=False``."""
        for _, _, p in self._indexed_params():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                # A fresh array: the old one may be shared with other tensors.
                p.grad._data = np.zeros_like(p.grad._data)

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``, in place. Returns ``closure()`` if given.

        ``closure`` (optional) re-evaluates the model and returns the loss; it runs with grad
        recording enabled, as in PyTorch.
        """
        loss = None
        if closure is not None:
            loss = _call_with_grad(closure)
        self._opt_called = True
        for index, group, p in self._indexed_params():
            if p.grad is None:
                continue
            grad = _grad_array(index, p)
            self._update(p._data, grad, self.state.setdefault(index, {}), group)
            if hasattr(p, "_bump_version"):
                p._bump_version()
        return loss

    def _update(self, param, grad, state, group):
        """Update ``param`` (ndarray) in place from ``grad`` (read only) and ``state`` (mutable)."""
        raise NotImplementedError

    # ---- checkpoints ----
    def state_dict(self):
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
        state = {i: {k: _copy(v) for k, v in s.items()}
                 for i, s in sorted(self.state.items()) if s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()`` (ours or PyTorch's, with tensors converted to NumPy).

        Parameters are matched by position; floating state is cast to the parameter's dtype.
        All or nothing: the whole dict is checked (group sizes, option types, state shapes and
        dtypes) before anything is written, so a bad entry leaves the optimizer untouched.

        Example::

            opt.load_state_dict(cr.load('run.ckpt')['optimizer'])
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("optimizer state_dict must be a dict with the keys 'state' and "
                             "'param_groups'")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, (list, tuple)) or not isinstance(saved_state, dict):
            raise ValueError("optimizer state_dict: 'param_groups' must be a list and 'state' a "
                             f"dict, got {type(saved_groups).__name__} and "
                             f"{type(saved_state).__name__}")
        index_map = self._match_groups(saved_groups)
        new_groups = [self._checked_group(i, mine, saved)
                      for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups))]
        params = [p for _, _, p in self._indexed_params()]
        new_state = {}
        for key, saved in saved_state.items():
            position = index_map.get(_as_index(key, "state key"))
            if position is None:
                raise ValueError(f"optimizer state_dict has state for parameter {key}, which is "
                                 "in none of its param_groups")
            if not isinstance(saved, dict):
                raise ValueError(f"optimizer state of parameter {key} must be a dict, got "
                                 f"{type(saved).__name__}")
            new_state[position] = {name: _load_value(name, value, params[position], position)
                                   for name, value in saved.items()}
        # Everything is checked: only now is anything replaced.
        self.state = new_state
        self.param_groups = new_groups

    def _match_groups(self, saved_groups):
        """Check group sizes agree; map each saved parameter index to our position."""
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(saved_groups)} parameter groups, but "
                             f"the optimizer has {len(self.param_groups)}")
        saved_ids = []
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(f"loaded state dict's group {i} must be a dict with a 'params' "
                                 "list")
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"loaded state dict's group {i} has {len(saved['params'])} "
                                 f"parameters, but the optimizer's has {len(mine['params'])}")
            saved_ids.extend(_as_index(k, f"group {i} parameter index") for k in saved["params"])
        if len(set(saved_ids)) != len(saved_ids):
            raise ValueError("loaded state dict lists a parameter index in more than one place")
        return {saved_id: position for position, saved_id in enumerate(saved_ids)}

    @staticmethod
    def _checked_group(i, mine, saved):
        """Our group with the saved options; an option must keep its kind (number, flag...)."""
        for key, value in saved.items():
            if key == "params" or key not in mine:
                continue
            ours = mine[key]
            if _is_number(ours) and not _is_number(value):
                raise ValueError(f"loaded state dict's group {i} option {key!r} must be a number "
                                 f"(like {ours!r}), got {value!r}")
            if isinstance(ours, bool) and not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"loaded state dict's group {i} option {key!r} must be True or "
                                 f"False, got {value!r}")
        return {**mine, **saved, "params": mine["params"]}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


# ---- helpers shared by the optimizers ----
_CHUNK = 1 << 16


def add_scaled_(param, alpha, g):
    """``param += alpha * g`` in place, through a temporary of at most 64K elements.

    ``param -= lr * g`` would allocate a parameter-sized temporary on every step: for a large
    layer that temporary is the optimizer's whole peak memory.
    """
    if param.size <= _CHUNK or not (param.flags.c_contiguous and g.flags.c_contiguous):
        param += alpha * g
        return
    flat_p, flat_g = param.reshape(-1), g.reshape(-1)     # views: both are contiguous
    for start in range(0, flat_p.size, _CHUNK):
        flat_p[start:start + _CHUNK] += alpha * flat_g[start:start + _CHUNK]


def effective_grad(param, grad, group):
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


def _grad_array(index, p):
    grad = p.grad._data
    if grad.shape != p._data.shape:
        raise ValueError(f"parameter {index} has shape {p._data.shape} but its .grad has shape "
                         f"{grad.shape}")
    return grad if grad.dtype == p._data.dtype else grad.astype(p._data.dtype)


def _call_with_grad(closure):
    import chainrule   # lazy: the package imports optim while it is being built
    enable_grad = getattr(chainrule, "enable_grad", None)
    if enable_grad is None:
        return closure()
    with enable_grad():
        return closure()


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def _is_number(value):
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)):
        return True
    if getattr(value, "shape", None) != ():      # a 0-d array or tensor may hold a number
        return False
    try:
        return np.dtype(str(value.dtype).replace("torch.", "")).kind in "iuf"
    except (AttributeError, TypeError):
        return False


def _as_index(key, what):
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


def _load_value(name, value, param, position):
    """One saved state entry as we store it: ``step`` an int, arrays copied in the param's dtype."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()          # a chainrule (or CPU torch) tensor
    if name == "step":
        step = np.asarray(value)
        if step.shape != () or step.dtype.kind not in "iuf" or not np.isfinite(step):
            raise ValueError(f"optimizer state 'step' of parameter {position} must be a finite "
                             f"number, got {value!r}")
        return int(round(float(step)))
    if not isinstance(value, np.ndarray):
        return value
    if value.dtype.kind not in "biuf":
        raise ValueError(f"optimizer state '{name}' of parameter {position} has dtype "
                         f"{value.dtype}, not a real number type")
    if value.shape != param._data.shape:
        raise ValueError(f"optimizer state '{name}' of parameter {position} has shape "
                         f"{value.shape}, but the parameter has shape {param._data.shape}")
    dtype = param._data.dtype if value.dtype.kind == "f" else value.dtype
    return np.array(value, dtype=dtype, copy=True)


def check_nonnegative(**options):
    """Raise ``ValueError`` naming the first option that is negative."""
    for name, value in options.items():
        if value < 0.0:
            raise ValueError(f"Invalid {name} value: {value} (must be >= 0)")
