"""Parameter statistics kernels of the ``GradientMonitor``: gradient norm, RMS, max-abs,
zero and non-finite shares, weight norm and the update ratio, measured with few NumPy calls.

Parameters up to ``GROUP_PARAM`` elements are measured together in flat buffers; larger ones in
place. See :class:`ParamMeter`.
"""

import math
import operator

import numpy as np

NAN = float("nan")
_INF = math.inf

# Parameters up to GROUP_PARAM elements are measured in flat groups of up to GROUP_SIZE: on
# arrays this small a NumPy call costs more than its arithmetic, and a group needs a few calls
# in all instead of a few per parameter. Larger ones are measured in place (no extra copy),
# one at a time so that each stays in the CPU cache across its passes.
GROUP_PARAM = 1 << 14
GROUP_SIZE = 1 << 16

_SIZE = operator.attrgetter("size")
_DTYPE = operator.attrgetter("dtype")


class ParamMeter:
    """Weight and gradient statistics of the parameters, and the weight snapshot that the
    update ratio ``||W_after - W_before|| / ||W_after||`` needs.

    A row per parameter, in ``_PARAM_ROW`` order: the gradient's (norm, RMS, max-abs, zero
    share, non-finite share), then the weight norm, the update ratio and has-gradient.
    """

    def __init__(self, params, scratch):
        self.params = [p for _, p in params]
        self.scratch = scratch
        self.units = None  # made when first needed (and again on a change)
        self.kept = None  # versions of the weights the snapshot holds

    def release(self):
        """Free the buffers (the monitor is closed)."""
        self.units, self.kept = None, None

    def _versions(self):
        return [(id(p._data), p._version_counter[0]) for p in self.params]

    def snapshot(self):
        """Copy the weights (before an optimizer step). Skipped when the last measure kept
        them and no parameter changed since (same arrays, same version counters: the
        optimizer, ``load_state_dict`` and in-place edits bump them)."""
        if self.kept is not None and self.kept == self._versions():
            return
        self.kept = None
        if self.units is None:
            self.units = _units(self.params, self.scratch)
        for unit in list(self.units):
            arrays = [p._data for p in unit.params]
            for fitting in [unit] if unit.fits(arrays) else self._remake(unit):
                fitting.snapshot([p._data for p in fitting.params])

    def measure(self, have_snapshot, keep_snapshot):
        """(rows of every parameter, whether all weights and gradients were finite).
        Afterwards the snapshot holds the current weights if ``keep_snapshot``."""
        if self.units is None:
            self.units, have_snapshot = _units(self.params, self.scratch), False
        rows, finite, stale = [None] * len(self.params), True, []
        for unit in self.units:
            arrays = [p._data for p in unit.params]
            if unit.fits(arrays):
                finite &= unit.measure(rows, arrays, have_snapshot, keep_snapshot)
            else:
                stale.append(unit)
        for unit in stale:  # (remade units have no snapshot yet)
            for fresh in self._remake(unit):
                finite &= fresh.measure(rows, [p._data for p in fresh.params], False, keep_snapshot)
        self.kept = self._versions() if keep_snapshot else None
        return rows, finite

    def _remake(self, unit):
        """Replace a unit whose parameters changed size or dtype; returns the new units."""
        fresh = _units(unit.params, self.scratch, unit.columns)
        i = self.units.index(unit)
        self.units[i : i + 1] = fresh
        return fresh


def _weight_part(wss, uss, has_grad):
    """(weight norm, update ratio, has-gradient) from ||W||^2 and ||dW||^2 (None: unknown)."""
    ratio = math.sqrt(uss / wss) if uss is not None and wss > 0 else NAN
    return (math.sqrt(wss) if wss >= 0 else NAN), ratio, float(has_grad)


def _units(params, scratch, columns=None):
    """Split the parameters (``columns``: their row numbers, default 0, 1, ...) into flat
    groups of small ones (one dtype each) and single large ones."""
    columns = range(len(params)) if columns is None else columns
    units, filling = [], {}  # dtype -> (group being filled, its elements)
    for k, p in zip(columns, params, strict=True):
        a = p._data
        if not 0 < a.size <= GROUP_PARAM or a.dtype.kind != "f":
            units.append(_Single(k, p, scratch))
            continue
        group, size = filling.get(a.dtype, (None, GROUP_SIZE))
        if size + a.size > GROUP_SIZE:
            group, size = [], 0
            units.append(group)
        group.append((k, p))
        filling[a.dtype] = (group, size + a.size)
    return [
        u if isinstance(u, _Single) else _Group([k for k, _ in u], [p for _, p in u]) for u in units
    ]


class _Single:
    """One parameter, measured on its own arrays; its snapshot is a copy of the same shape."""

    def __init__(self, k, param, scratch):
        self.columns, self.params = [k], [param]
        self.snap, self.scratch = None, scratch

    def fits(self, arrays):
        return True

    def snapshot(self, arrays):
        self.snap = _copy_into(self.snap, arrays[0])

    def measure(self, rows, arrays, have_snapshot, keep_snapshot):
        """Fill its row; True if finite. The update is measured in place in the snapshot,
        which then takes the current weights if ``keep_snapshot`` (while they are still in
        the CPU cache)."""
        g = self.params[0].grad
        w, g, snap, uss = arrays[0], None if g is None else g._data, self.snap, None
        wss = _sumsq(w)
        if have_snapshot and snap is not None and snap.shape == w.shape:
            np.subtract(w, snap, out=snap)
            uss = _sumsq(snap)
        if keep_snapshot:
            self.snap = _copy_into(snap, w)
        grad = _NO_GRAD if g is None else _grad_stats(g, self.scratch)
        rows[self.columns[0]] = grad + _weight_part(wss, uss, g is not None)
        return math.isfinite(wss) and (g is None or grad[4] == 0 and grad[0] != math.inf)


class _Group:
    """Small parameters of one dtype, concatenated into flat buffers: the weights before and
    after the step (``old``/``new``, swapped after each measure, so the copy that measures the
    update is also the next snapshot) and the gradients. ``*_views`` are the per-parameter
    slices of each buffer, made once."""

    def __init__(self, columns, params):
        self.columns, self.params = columns, params
        self.dtype = params[0]._data.dtype
        self.sizes = [p._data.size for p in params]
        self.offsets = np.cumsum([0] + self.sizes[:-1])
        n = sum(self.sizes)
        self.old, self.new, self.grad = (np.empty(n, self.dtype) for _ in range(3))
        self.zero = np.empty(n, dtype=bool)
        self.old_views, self.new_views, self.grad_views, self.zero_views = (
            self._views(b) for b in (self.old, self.new, self.grad, self.zero)
        )

    def _views(self, buf):
        return [buf[o : o + n] for o, n in zip(self.offsets, self.sizes, strict=True)]

    def fits(self, arrays):
        """Same sizes and dtype as when the buffers were made (cheap: runs every step)."""
        try:
            return list(map(_SIZE, arrays)) == self.sizes and set(map(_DTYPE, arrays)) == {
                self.dtype
            }
        except AttributeError:  # a gradient is None
            return False

    def snapshot(self, arrays):
        np.concatenate(arrays, axis=None, out=self.old)

    def measure(self, rows, arrays, have_snapshot, keep_snapshot):
        """Fill its rows with a few NumPy calls for the whole group; True if all finite."""
        grads = [None if p.grad is None else p.grad._data for p in self.params]
        np.concatenate(arrays, axis=None, out=self.new)
        weights = _sums_of_squares(self.new_views)
        updates = [None] * len(arrays)
        if have_snapshot:
            np.subtract(self.new, self.old, out=self.old)
            updates = _sums_of_squares(self.old_views)
        self.old, self.new = self.new, self.old
        self.old_views, self.new_views = self.new_views, self.old_views
        if not self.fits(grads):  # some gradient is missing or changed
            stats = [_NO_GRAD if g is None else _grad_stats(g) for g in grads]
            finite = all(
                g is None or s[4] == 0 and s[0] != math.inf
                for g, s in zip(grads, stats, strict=True)
            )
        else:
            stats, finite = self._grad_stats(grads)
        sqrt = math.sqrt
        for k, s, w, u, g in zip(self.columns, stats, weights, updates, grads, strict=True):
            if u is not None and w > 0 and g is not None:  # (the common case, inline)
                rows[k] = (*s, sqrt(w), sqrt(u / w), 1.0)
            else:
                rows[k] = s + _weight_part(w, u, g is not None)
        return finite and math.isfinite(sum(weights))

    def _grad_stats(self, grads):
        """(``_grad_stats`` of each gradient, all finite) for gradients that all fit."""
        flat = np.concatenate(grads, axis=None, out=self.grad)
        sums = _sums_of_squares(self.grad_views)
        if not math.isfinite(sum(sums)):  # NaN/Inf entries: look at each gradient
            return [_grad_stats(g) for g in grads], False
        highs = np.maximum.reduceat(flat, self.offsets).tolist()
        lows = np.minimum.reduceat(flat, self.offsets).tolist()
        np.equal(flat, 0, out=self.zero)
        return [
            (math.sqrt(ss), math.sqrt(ss / n), max(high, -low), np.count_nonzero(z) / n, 0.0)
            for ss, n, z, high, low in zip(
                sums, self.sizes, self.zero_views, highs, lows, strict=True
            )
        ], True


def _sumsq(a):
    """Sum of squares as a Python float (float64 if float32 would overflow)."""
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    flat = a.reshape(-1)
    s = float(flat.dot(flat))
    if s < _INF or s != s or not np.isfinite(flat).all():  # (finite, NaN: the cheap tests)
        return s
    flat = flat.astype(np.float64)
    return float(flat.dot(flat))


_NO_GRAD = (NAN,) * 5


def _sums_of_squares(views):
    """Sum of squares of each 1-D float array as Python floats: one BLAS dot each, and a
    second look (``_sumsq``: NaN/Inf, or float64 where float32 overflowed) only if needed."""
    sums = [float(v.dot(v)) for v in views]
    if not math.isfinite(sum(sums)):
        sums = [s if math.isfinite(s) else _sumsq(v) for s, v in zip(sums, views, strict=True)]
    return sums


def _grad_stats(g, scratch=None):
    """(norm, RMS, max-abs, zero share, non-finite share) of one gradient array.

    The sum of squares (one BLAS dot) is finite exactly when every entry is, so the NaN/Inf
    entries are only looked for when it is not. ``scratch``: a ``_Scratch`` for the zero test.
    """
    n = g.size
    if n == 0:
        return _NO_GRAD
    ss = _sumsq(g)
    if not math.isfinite(ss):
        return _nonfinite_grad_stats(g)
    peak = max(float(np.maximum.reduce(g, axis=None)), -float(np.minimum.reduce(g, axis=None)))
    # (g == 0) then a count of bools is several times faster than counting nonzero floats;
    # == 0 also counts -0.0.
    zeros = np.count_nonzero(
        np.equal(g, 0, out=None if scratch is None else scratch.bools(g.shape))
    )
    return math.sqrt(ss), math.sqrt(ss / n), peak, zeros / n, 0.0


def _nonfinite_grad_stats(g):
    """As ``_grad_stats`` for a gradient with NaN/Inf entries: the finite ones are measured,
    and the norm and RMS are infinite."""
    n = g.size
    finite = np.isfinite(g)
    bad = 1.0 - np.count_nonzero(finite) / n
    g = g[finite]
    ss = _sumsq(g) if g.size else NAN
    norm, rms = (math.sqrt(ss), math.sqrt(ss / n)) if bad == 0 else (math.inf, math.inf)
    peak = max(float(g.max()), -float(g.min())) if g.size else NAN
    return norm, rms, peak, np.count_nonzero(g == 0) / n, bad


def _copy_into(buf, a):
    """``a`` copied into ``buf`` (reused when it fits, else a new copy): no allocation per step."""
    if buf is None or buf.shape != a.shape or buf.dtype != a.dtype:
        return a.copy()
    np.copyto(buf, a)
    return buf


class _Scratch:
    """A bool buffer reused by the statistics of large arrays: a fresh temporary each time
    would make the allocator map and unmap memory every step, and the page faults cost more
    than the arithmetic."""

    def __init__(self):
        self.release()

    def release(self):
        self.buf = np.empty(0, dtype=bool)

    def bools(self, shape):
        n = math.prod(shape)
        if self.buf.size < n:
            self.buf = np.empty(n, dtype=bool)
        return self.buf[:n].reshape(shape)


_ONES = {}


def _column_sums(a):
    """Sums over axis 0 of a 2-D array, as ``ones @ a`` (BLAS: several times faster than
    ``a.sum(axis=0)``)."""
    if a.dtype.kind != "f":
        return a.sum(axis=0, dtype=np.float64)
    key = (a.shape[0], a.dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 32:  # batch sizes vary little; keep the cache small
            _ONES.clear()
        ones = _ONES[key] = np.ones(a.shape[0], dtype=a.dtype)
    return ones.dot(a)


def _unit_sums(a, sequence=False):
    """Sums of an activation over everything but its units (axis 1: features or channels;
    the last axis of a recurrent layer's ``sequence`` output), or None where that would cost
    a copy. One BLAS product over the batch, then a small sum over positions for a map."""
    if a.ndim == 2:
        return _column_sums(a)
    if a.ndim < 2 or sequence or a.dtype.kind != "f" or not a.flags.c_contiguous:
        return None
    per_position = _column_sums(a.reshape(a.shape[0], -1))  # (C * positions,)
    return np.add.reduce(per_position.reshape(a.shape[1], -1), axis=1)
