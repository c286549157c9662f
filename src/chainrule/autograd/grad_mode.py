"""Global autograd switches (grad recording, anomaly detection), kept in context variables.

``contextvars`` rather than class attributes: each thread and asyncio task sees its own mode. A
switch object (``no_grad()``, ...) keeps what it must restore in a context variable of its own,
so one object may be entered by several threads at once, or nested, and each ``with`` restores
exactly what was there before it.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any, Literal, NamedTuple


class Mode(NamedTuple):
    grad: bool = True  # record operations for backward
    anomaly: bool = False  # check every op's output for NaN/Inf and remember where it was made


# One instance per combination, so that the hot path can test a mode with ``is``.
_MODES = {(g, a): Mode(g, a) for g in (True, False) for a in (True, False)}
_MODE = contextvars.ContextVar("chainrule_autograd_mode", default=_MODES[True, False])  # noqa: B039
PLAIN_NO_GRAD = _MODES[False, False]


def is_grad_enabled() -> bool:
    """True when operations are recorded for backward (not inside ``no_grad``).

    Example:
        >>> cr.is_grad_enabled()
        True
        >>> with cr.no_grad():
        ...     cr.is_grad_enabled()
        ...
        False
    """
    return _MODE.get().grad


def is_anomaly_enabled() -> bool:
    return _MODE.get().anomaly


def is_inference_mode_enabled() -> bool:
    """True inside ``inference_mode()`` (here: grad recording is off, as in ``no_grad``).

    Example:
        >>> cr.is_inference_mode_enabled()
        False
        >>> with cr.inference_mode():
        ...     cr.is_inference_mode_enabled()
        ...
        True
    """
    return _INFERENCE.get()


_INFERENCE = contextvars.ContextVar("chainrule_inference_mode", default=False)  # noqa: B039


def _set_mode(mode: Mode) -> None:
    _MODE.set(_MODES[bool(mode.grad), bool(mode.anomaly)])


class _ModeSwitch:
    """Context manager and decorator that sets some fields of the mode and restores them.

    What each ``__enter__`` must restore is pushed on a stack held in this object's own context
    variable: a stack per thread and per context, so sharing one object is safe.
    """

    _saved: contextvars.ContextVar[tuple[Any, ...]]

    def __init__(self, **fields: Any) -> None:
        self._fields = fields
        # each field's new value, None where the switch leaves it (read by __enter__: no
        # NamedTuple._replace on the way in, which cost most of a with-block)
        self._grad = None if "grad" not in fields else bool(fields["grad"])
        self._anomaly = None if "anomaly" not in fields else bool(fields["anomaly"])
        self._saved = contextvars.ContextVar("chainrule_switch_saved", default=())  # noqa: B039

    def _push(self, restore: Mode) -> None:
        stack = self._saved.get()
        # At the outermost level remember how to unset the variable again: a context must not
        # keep one entry per switch object ever used (a training loop makes thousands).
        unset = self._saved.set(()) if not stack else None
        self._saved.set(stack + ((restore, _INFERENCE.get(), unset),))

    def __enter__(self) -> _ModeSwitch:
        mode = _MODE.get()
        self._push(mode)
        grad, anomaly = self._grad, self._anomaly
        _MODE.set(
            _MODES[
                mode.grad if grad is None else grad,
                mode.anomaly if anomaly is None else anomaly,
            ]
        )
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        stack = self._saved.get()
        if not stack:
            raise RuntimeError(f"{type(self).__name__}: __exit__ without a matching __enter__")
        mode, inference, unset = stack[-1]
        if unset is not None:
            self._saved.reset(unset)
        else:
            self._saved.set(stack[:-1])
        _MODE.set(mode)
        if inference is not _INFERENCE.get():
            _INFERENCE.set(inference)
        return False

    def _fresh(self) -> _ModeSwitch:
        """A new switch with the same settings (one per decorated call: safe under recursion)."""
        return _ModeSwitch(**self._fields)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(fn, self._fresh)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return fn(*args, **kwargs)

        return wrapper


def _wrap_generator(fn: Callable[..., Any], make_switch: Callable[[], _ModeSwitch]) -> Any:
    """A generator function whose body runs under the switch at every resume (as torch does),
    while the caller's code between two ``next`` calls runs under the caller's own mode."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        gen = fn(*args, **kwargs)
        try:
            with make_switch():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_switch():
                        gen.close()
                    raise
                except BaseException as exc:
                    with make_switch():
                        response = gen.throw(exc)
                else:
                    with make_switch():
                        response = gen.send(request)
        except StopIteration as stop:  # the wrapped generator returned
            return stop.value

    return wrapper


class no_grad(_ModeSwitch):
    """Inside it no graph is recorded: results have ``requires_grad=False``.

    Works as a context manager and as a decorator (also of generator functions).

    Example:
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> with cr.no_grad():
        ...     y = x * 2
        ...
        >>> y.requires_grad
        False
    """

    def __init__(self) -> None:
        super().__init__(grad=False)


class enable_grad(_ModeSwitch):
    """Turn recording back on inside a ``no_grad`` block (context manager or decorator).

    Example:
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> with cr.no_grad():
        ...     with cr.enable_grad():
        ...         y = x * 2
        ...
        >>> y.requires_grad
        True
    """

    def __init__(self) -> None:
        super().__init__(grad=True)


class inference_mode(_ModeSwitch):
    """``inference_mode()`` is ``no_grad()`` here (there is no separate inference tensor kind).

    ``inference_mode(False)`` changes nothing. Context manager or decorator.

    Example:
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> with cr.inference_mode():
        ...     y = x * 2
        ...
        >>> y.requires_grad, cr.is_inference_mode_enabled()
        (False, False)
    """

    def __init__(self, mode: bool = True) -> None:
        self._inference = bool(mode)
        super().__init__(**({"grad": False} if mode else {}))

    def __enter__(self) -> inference_mode:
        super().__enter__()
        if self._inference:
            _INFERENCE.set(True)
        return self

    def _fresh(self) -> inference_mode:
        return inference_mode(self._inference)


class set_grad_enabled(_ModeSwitch):
    """Turn grad recording on or off: at once when called, as in PyTorch.

    ``cr.set_grad_enabled(False)`` as a plain statement switches recording off until switched
    back on; ``with cr.set_grad_enabled(False):`` restores the previous mode at the end of the
    block; as a decorator it applies to each call of the function only.

    Example:
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> with cr.set_grad_enabled(False):
        ...     y = x * 2
        ...
        >>> y.requires_grad, cr.is_grad_enabled()
        (False, True)
    """

    def __init__(self, mode: bool = True) -> None:
        super().__init__(grad=bool(mode))
        self._before = _MODE.get()  # what the block form restores
        _set_mode(self._before._replace(grad=bool(mode)))

    def __enter__(self) -> set_grad_enabled:
        self._push(self._before)
        _set_mode(_MODE.get()._replace(**self._fields))
        return self

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        _MODE.set(self._before)  # the decorator form does not switch anything now
        return super().__call__(fn)


class detect_anomaly(_ModeSwitch):
    """Inside it, the first op whose forward or backward output holds NaN/Inf raises an error.

    The error names the op and the line of user code that created it.

    Example:
        >>> x = cr.tensor([1.0], requires_grad=True)
        >>> with cr.detect_anomaly():
        ...     y = cr.log(x - x)
        ...
        Traceback (most recent call last):
            ...
        chainrule.autograd.engine.AnomalyError: detect_anomaly: 'Log' produced Inf in its forward ...
    """

    def __init__(self, mode: bool = True) -> None:
        super().__init__(anomaly=bool(mode))
