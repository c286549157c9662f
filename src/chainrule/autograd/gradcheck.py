"""Check analytic gradients against central finite differences (use float64 inputs).

The outputs are reduced to a scalar ``s = sum_i <out_i, v_i>`` with fixed random ``v_i``, so one
backward gives the analytic gradient of ``s`` for every input element, and each element's
numerical derivative is ``(s(x + eps) - s(x - eps)) / 2 eps``. Large inputs are checked along a
few random directions instead of element by element.
"""

from ..backend import xp as np
from ..tensor import Tensor
from .engine import backward as _engine_backward
from .grad_mode import set_grad_enabled

_MAX_ELEMENTWISE = 4096


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _scalarize(fn, inputs, directions):
    outs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]
    if directions is None:
        rng = np.random.default_rng(1234)
        directions = [rng.standard_normal(o.shape).astype(o.dtype) for o in outs]
    total = None
    for o, v in zip(outs, directions, strict=True):
        if o.dtype.kind != "f":
            continue
        term = (o * Tensor._wrap(v)).sum()
        total = term if total is None else total + term
    return total, directions


def _numeric_value(fn, inputs, directions):
    # Grad mode stays on: the function may itself run a backward pass (gradgradcheck does).
    with set_grad_enabled(True):
        s, _ = _scalarize(fn, inputs, directions)
    return 0.0 if s is None else float(s._data)


def _analytic(fn, inputs, create_graph=False):
    s, directions = _scalarize(fn, inputs, None)
    wanted = tuple(t for t in inputs if isinstance(t, Tensor) and t.requires_grad)
    if s is None or not s.requires_grad:
        return {t: np.zeros_like(t._data) for t in wanted}, directions
    grads = _engine_backward((s,), (np.ones_like(s._data),), inputs=wanted, allow_unused=True)
    return {
        t: (np.zeros_like(t._data) if g is None else g._data)
        for t, g in zip(wanted, grads, strict=True)
    }, directions


def _fail(message, raise_exception):
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True when ``fn``'s gradients match finite differences for every input requiring grad.

    On a mismatch raises ``GradcheckError`` naming the input, the worst element, the analytic
    and numerical values and their difference (or returns False with ``raise_exception=False``).

    Example::

        x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
        cr.autograd.gradcheck(lambda t: t.tanh().sum(1), (x,))
    """
    inputs = _as_tuple(inputs)
    analytic, directions = _analytic(fn, inputs)
    for k, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t.requires_grad):
            continue
        if t.dtype != np.float64:
            import warnings

            warnings.warn(
                f"gradcheck: input {k} is {t.dtype}; use float64 for reliable results", stacklevel=2
            )
        ok = _check_input(fn, inputs, directions, k, analytic[t], eps, atol, rtol, raise_exception)
        if not ok:
            return False
    return True


def _check_input(fn, inputs, directions, k, analytic, eps, atol, rtol, raise_exception):
    t = inputs[k]
    if t._data.size <= _MAX_ELEMENTWISE:
        numeric = np.zeros_like(t._data)
        flat = t._data.reshape(-1)  # a view: perturbing it perturbs the input in place
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            hi = _numeric_value(fn, inputs, directions)
            flat[j] = old - eps
            lo = _numeric_value(fn, inputs, directions)
            flat[j] = old
            numeric.reshape(-1)[j] = (hi - lo) / (2 * eps)
        return _compare(k, analytic, numeric, atol, rtol, raise_exception)
    return _check_directions(fn, inputs, directions, k, analytic, eps, atol, rtol, raise_exception)


def _check_directions(fn, inputs, directions, k, analytic, eps, atol, rtol, raise_exception):
    t, rng = inputs[k], np.random.default_rng(99)
    base = t._data.copy()
    for _ in range(3):
        d = rng.standard_normal(t.shape)
        t._data[...] = base + eps * d
        hi = _numeric_value(fn, inputs, directions)
        t._data[...] = base - eps * d
        lo = _numeric_value(fn, inputs, directions)
        t._data[...] = base
        numeric, exact = (hi - lo) / (2 * eps), float((analytic * d).sum())
        if abs(numeric - exact) > atol + rtol * abs(numeric):
            return _fail(
                f"gradcheck: input {k} (shape {t.shape}): directional derivative analytic "
                f"{exact:.6g} vs numerical {numeric:.6g} (difference {exact - numeric:.3g})",
                raise_exception,
            )
    return True


def _compare(k, analytic, numeric, atol, rtol, raise_exception):
    excess = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
    if analytic.size == 0 or excess.max() <= 0:
        return True
    worst = np.unravel_index(np.argmax(excess), analytic.shape)
    a, n = analytic[worst], numeric[worst]
    return _fail(
        f"gradcheck: input {k} (shape {analytic.shape}), element {tuple(int(i) for i in worst)}: "
        f"analytic {a:.6g} vs numerical {n:.6g} (difference {a - n:.3g}; "
        f"atol={atol}, rtol={rtol})",
        raise_exception,
    )


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check second derivatives: the recorded backward of ``fn`` is itself gradchecked."""
    inputs = _as_tuple(inputs)
    wanted = tuple(t for t in inputs if isinstance(t, Tensor) and t.requires_grad)

    def first_derivative(*xs):
        s, _ = _scalarize(fn, xs, fixed)
        grads = _engine_backward(
            (s,),
            (Tensor._wrap(np.ones_like(s._data)),),
            True,
            True,
            inputs=[x for x in xs if any(x is w for w in wanted)],
            allow_unused=True,
        )
        return tuple(g for g in grads if g is not None and g.requires_grad)

    _, fixed = _scalarize(fn, inputs, None)
    return gradcheck(first_derivative, inputs, eps, atol, rtol, raise_exception)
