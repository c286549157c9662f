"""``cr.amp``: PyTorch's mixed-precision API, so that AMP training scripts run unchanged.

* :class:`autocast` (also ``cr.autocast``) is accepted as a context manager and a decorator, but
  on chainrule's CPU tensors it changes no dtype: every op runs in its inputs' dtype (float32
  stays float32, where torch's CPU autocast would compute matmuls and convolutions in bfloat16).
  Results are therefore a little more precise than torch's under autocast, not bitwise equal.
  As in torch on a machine without CUDA, ``autocast("cuda")`` warns and is disabled.
* :class:`GradScaler` has torch's semantics exactly (``scale``, ``unscale_``, ``step`` skipping
  on inf/NaN gradients, ``update`` with backoff and growth, ``state_dict``): with float32
  gradients it rarely has anything to do, but it keeps a script's control flow and checkpoints
  as they are. ``GradScaler("cpu")`` is enabled; ``GradScaler()`` / ``GradScaler("cuda")`` (and
  ``cr.cuda.amp.GradScaler``) warn and are disabled, as torch's are on a machine without CUDA.

Example::

    scaler = cr.amp.GradScaler("cpu")
    with cr.autocast("cpu", dtype=cr.float16):   # no dtype changes in chainrule
        loss = model(x).square().mean()
    scaler.scale(loss).backward()
    scaler.step(optimizer)                      # skipped when a gradient is inf/NaN
    scaler.update()
"""

from __future__ import annotations

import functools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .tensor import Tensor

__all__ = ["GradScaler", "autocast", "is_autocast_available"]

# torch's autocast device types; only "cpu" is where chainrule computes
_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "hpu", "xla", "mtia", "ipu", "meta")
_ENABLED = {"cpu": False}  # device type -> inside an enabled autocast region (cr.amp's record)


def is_autocast_available(device_type: str) -> bool:
    """Whether ``autocast(device_type)`` can be enabled: True for ``"cpu"`` only (where it is
    accepted and changes no dtype), as ``torch.amp.is_autocast_available``.

    Example:
        >>> cr.amp.is_autocast_available("cpu"), cr.amp.is_autocast_available("cuda")
        (True, False)
    """
    return device_type == "cpu"


class autocast:
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``, as a
    context manager or a decorator. chainrule changes no dtype inside it (ops run in their
    inputs' dtype); a device type other than ``"cpu"`` warns and disables it, as torch does on a
    machine without that device.

    Shapes: none (it changes nothing about the tensors).

    Example:
        >>> with cr.autocast("cpu", dtype=cr.float16):
        ...     y = cr.ones(2, 2) @ cr.ones(2, 2)
        >>> y.dtype
        dtype('float32')
    """

    def __init__(
        self,
        device_type: str,
        dtype: Any = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(
                f"Expected `device_type` of type `str`, got: `{type(device_type)}` "
                '(autocast("cpu"), not autocast(cr.device("cpu")))'
            )
        if device_type.split(":")[0] not in _DEVICE_TYPES:
            raise RuntimeError(
                f"autocast: unknown device type {device_type!r}; expected one of {_DEVICE_TYPES}"
            )
        self.device = device_type.split(":")[0]
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        if self._enabled and self.device != "cpu":
            warnings.warn(
                f"autocast: device_type {device_type!r} is not available (chainrule runs on the "
                "CPU). Disabling autocast.",
                stacklevel=2,
            )
            self._enabled = False
        self._prev: bool | None = None

    def __enter__(self) -> autocast:
        if self.device == "cpu":
            self._prev = _ENABLED["cpu"]
            _ENABLED["cpu"] = self._enabled
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.device == "cpu" and self._prev is not None:
            _ENABLED["cpu"] = self._prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)

        return wrapper


def is_autocast_enabled(device_type: str = "cpu") -> bool:
    """Whether an enabled :class:`autocast` region for ``device_type`` is open (it changes no
    dtype in chainrule), as ``torch.is_autocast_enabled``.

    Example:
        >>> with cr.autocast("cpu"):
        ...     cr.amp.is_autocast_enabled("cpu")
        True
    """
    return _ENABLED.get(device_type, False)


_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


def _fresh_state() -> dict[str, Any]:
    return {"stage": _READY, "found_inf_per_device": {}}


class GradScaler:
    """Loss scaling for mixed precision, with ``torch.amp.GradScaler``'s semantics.

    ``scale(loss)`` multiplies by the scale (a float32, ``init_scale`` at first);
    ``unscale_(optimizer)`` divides the optimizer's gradients by it in place and records whether
    any is inf/NaN; ``step(optimizer)`` unscales (unless done) and calls ``optimizer.step()`` only
    when all were finite; ``update()`` multiplies the scale by ``backoff_factor`` after a skipped
    step, by ``growth_factor`` after ``growth_interval`` finite steps in a row. With
    ``enabled=False`` (or a device other than ``"cpu"``: chainrule has no GPU, and torch disables
    it without CUDA too, with a warning) ``scale`` returns its input, ``step`` just steps and the
    rest do nothing.

    Shapes: ``scale`` returns its input's shape (or structure, for a list or tuple).

    Example:
        >>> w = cr.nn.Parameter(cr.ones(2))
        >>> opt = cr.optim.SGD([w], lr=0.1)
        >>> scaler = cr.amp.GradScaler("cpu", init_scale=8.0)
        >>> scaler.scale((w * 2).sum()).backward()
        >>> w.grad                              # scaled
        tensor([16., 16.])
        >>> scaler.step(opt)
        >>> w.grad                              # unscaled by step, before the update
        tensor([2., 2.])
        >>> scaler.update()
        >>> scaler.get_scale()
        8.0
    """

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._enabled = enabled
        if enabled and device != "cpu":
            warnings.warn(
                f"GradScaler is enabled, but device {device!r} is not available (chainrule runs "
                "on the CPU).  Disabling.",
                stacklevel=2,
            )
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._scale: np.float32 | None = None  # set by the first scale()
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker: int | None = None
        self._per_optimizer_states: defaultdict[int, dict[str, Any]] = defaultdict(_fresh_state)

    # ---- scaling ----
    def _scale_value(self) -> np.float32:
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
            self._growth_tracker = self._init_growth_tracker
        return self._scale

    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a tensor, or lists/tuples/iterables of them) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * Tensor._wrap(np.asarray(self._scale_value()))
        if isinstance(outputs, Iterable):
            scaled = map(self.scale, outputs)
            return type(outputs)(scaled) if isinstance(outputs, (list, tuple)) else scaled
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _check_started(self, funcname: str) -> None:
        if self._scale is None:
            raise AssertionError(
                f"Attempted {funcname} but _scale is None.  This may indicate your script did "
                "not use scaler.scale(loss or outputs) earlier in the iteration."
            )

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place (to clip or inspect them
        before ``step``), and record whether any is inf/NaN. Once per optimizer per step."""
        if not self._enabled:
            return
        self._check_started("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is _UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] is _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # the reciprocal in float64, then float32: as torch, for the same gradients bit for bit
        inv_scale = float(np.float32(1.0 / np.float64(self._scale_value())))
        found_inf = 0.0
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.dtype == np.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                if not np.isfinite(g._data).all():
                    found_inf = 1.0
                np.multiply(g._data, inv_scale, out=g._data, casting="unsafe")
                g._version_counter[0] += 1
        state["found_inf_per_device"] = {"cpu": found_inf}
        state["stage"] = _UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)`` on unscaled gradients, skipped (returning None)
        when any of them is inf/NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_started("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _READY:
            self.unscale_(optimizer)
        result = None
        if not sum(state["found_inf_per_device"].values()):
            result = optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """The scale for the next iteration: ``new_scale`` when given, else times
        ``backoff_factor`` if a step was skipped, times ``growth_factor`` after
        ``growth_interval`` finite steps in a row (if the result is finite)."""
        if not self._enabled:
            return
        self._check_started("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError(
                        "new_scale should be a float or a 1-element tensor with "
                        "requires_grad=False."
                    )
                new_scale = float(new_scale.item())
            self._scale = np.float32(new_scale)
        else:
            found = [
                v
                for s in self._per_optimizer_states.values()
                for v in s["found_inf_per_device"].values()
            ]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            scale, tracker = float(self._scale_value()), self._growth_tracker or 0
            if sum(found):
                self._scale, self._growth_tracker = np.float32(scale * self._backoff_factor), 0
            elif tracker + 1 == self._growth_interval:
                grown = np.float32(scale * self._growth_factor)
                if np.isfinite(grown):
                    self._scale = grown
                self._growth_tracker = 0
            else:
                self._growth_tracker = tracker + 1
        self._per_optimizer_states = defaultdict(_fresh_state)

    # ---- settings and state ----
    def get_scale(self) -> float:
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return float(self._init_scale if self._scale is None else self._scale)

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval`` and
        ``_growth_tracker`` (torch's keys; empty when disabled)."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._get_growth_tracker(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (a no-op when disabled)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved "
                "from a disabled instance of GradScaler."
            )
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = np.float32(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = int(state_dict["_growth_tracker"])


def _cuda_amp() -> Any:
    """``cr.cuda.amp``: torch.cuda.amp's deprecated names, on a machine without CUDA."""
    import types

    def cuda_grad_scaler(
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> GradScaler:
        """``torch.cuda.amp.GradScaler(...)``: ``GradScaler("cuda", ...)``, disabled (no CUDA)."""
        return GradScaler(
            "cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled
        )

    def cuda_autocast(
        enabled: bool = True, dtype: Any = np.float16, cache_enabled: bool = True
    ) -> autocast:
        """``torch.cuda.amp.autocast(...)``: ``autocast("cuda", ...)``, disabled (no CUDA)."""
        return autocast("cuda", dtype, enabled, cache_enabled)

    module = types.ModuleType("chainrule.cuda.amp", "torch.cuda.amp's names: no CUDA here.")
    module.GradScaler = cuda_grad_scaler  # type: ignore[attr-defined]
    module.autocast = cuda_autocast  # type: ignore[attr-defined]
    return module
