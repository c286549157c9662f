"""Global autograd switches (grad recording, anomaly detection), kept in a context variable.

A ``contextvars.ContextVar`` rather than a class attribute: each thread and asyncio task sees its
own mode, and leaving a ``with`` block restores exactly what was there before.
"""
import contextvars
import functools
from typing import NamedTuple


class Mode(NamedTuple):
    grad: bool = True       # record operations for backward
    anomaly: bool = False   # check every op's output for NaN/Inf and remember where it was made


# One instance per combination, so that the hot path can test a mode with ``is``.
_MODES = {(g, a): Mode(g, a) for g in (True, False) for a in (True, False)}
_MODE = contextvars.ContextVar("chainrule_autograd_mode", default=_MODES[True, False])  # noqa: B039
PLAIN_NO_GRAD = _MODES[False, False]


def current_mode():
    return _MODE.get()


def is_grad_enabled():
    return _MODE.get().grad


def is_anomaly_enabled():
    return _MODE.get().anomaly


class _ModeSwitch:
    """Context manager and decorator that sets some fields of the mode and restores them."""

    def __init__(self, **fields):
        self._fields = fields
        self._tokens = []

    def __enter__(self):
        mode = _MODE.get()._replace(**self._fields)
        self._tokens.append(_MODE.set(_MODES[mode.grad, mode.anomaly]))
        return self

    def __exit__(self, *exc):
        _MODE.reset(self._tokens.pop())
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _ModeSwitch(**self._fields):   # a fresh switch per call: safe under recursion
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_ModeSwitch):
    """Inside it no graph is recorded: results have ``requires_grad=False``.

    Example::

        with cr.no_grad():
            y = model(x)          # inference, no memory kept for backward
    """

    def __init__(self):
        super().__init__(grad=False)


class enable_grad(_ModeSwitch):
    """Turn recording back on inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(grad=True)


class set_grad_enabled(_ModeSwitch):
    """``set_grad_enabled(False)`` is ``no_grad()``; usable as a context manager or decorator."""

    def __init__(self, mode=True):
        super().__init__(grad=bool(mode))


class detect_anomaly(_ModeSwitch):
    """Inside it, the first op whose forward or backward output holds NaN/Inf raises an error.

    The error names the op and the line of user code that created it.

    Example::

        with cr.autograd.detect_anomaly():
            loss = cr.log(x - x).sum()     # raises: 'log' produced -inf, created at file.py:12
    """

    def __init__(self, mode=True):
        super().__init__(anomaly=bool(mode))
