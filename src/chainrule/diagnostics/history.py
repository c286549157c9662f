"""``History``: the bounded ring buffer of the scalar series a ``GradientMonitor`` records.

Example::

    h = monitor.history
    h.series("loss")                  # (n,) chronological
    h.series("out_grad_norm")[-1]     # per layer, last recorded step
"""

import numpy as np

PARAM_METRICS = (
    "grad_norm",
    "grad_rms",
    "grad_max",
    "weight_norm",
    "update_ratio",
    "zero_frac",
    "nonfinite_frac",
    "has_grad",
)
LAYER_METRICS = ("out_grad_norm", "out_rms", "act_mean", "act_std", "saturated_frac", "dead_frac")
RECURRENT_METRICS = ("time_grad_first", "time_grad_last", "time_ratio", "time_steps")
GLOBAL_METRICS = ("loss", "clip_total_norm", "clip_max_norm")
_SCOPES = (
    ("global", GLOBAL_METRICS),
    ("param", PARAM_METRICS),
    ("layer", LAYER_METRICS),
    ("recurrent", RECURRENT_METRICS),
)
# The order in which a parameter's row is measured and stored (see _ParamMeter).
_PARAM_ROW = (
    "grad_norm",
    "grad_rms",
    "grad_max",
    "zero_frac",
    "nonfinite_frac",
    "weight_norm",
    "update_ratio",
    "has_grad",
)
_LAYOUT = {
    "global": GLOBAL_METRICS,
    "param": _PARAM_ROW,
    "layer": LAYER_METRICS,
    "recurrent": RECURRENT_METRICS,
}


class History:
    """Bounded ring buffer of the recorded series; the oldest rows are overwritten.

    ``series(metric)`` returns a float64 array in chronological order: shape ``(n,)`` for the
    global metrics (``loss``...), ``(n, P)`` for parameter metrics (columns ``param_names``),
    ``(n, L)`` for layer metrics (``layer_names``) and ``(n, R)`` for recurrent metrics
    (``recurrent_names``). ``steps`` holds the training step of each row. ``time_profiles``
    maps each recurrent layer to its latest ``||dL/dh_t||`` for t = 1..T.

    Example::

        h = monitor.history
        h.series("out_grad_norm")[-1]     # back-propagated signal per layer, last recorded step
    """

    def __init__(self, capacity, param_names, layer_names, recurrent_names=()):
        if int(capacity) < 1:
            raise ValueError(f"History: capacity must be at least 1, got {capacity}")
        self.capacity = int(capacity)
        self.param_names = list(param_names)
        self.layer_names = list(layer_names)
        self.recurrent_names = list(recurrent_names)
        # One block per scope, (capacity, columns, metrics): a recorded step writes each
        # block's row in one assignment (_write) instead of one per metric.
        widths = {
            "global": 1,
            "param": len(self.param_names),
            "layer": len(self.layer_names),
            "recurrent": len(self.recurrent_names),
        }
        self._blocks = {
            s: np.full((self.capacity, widths[s], len(ms)), np.nan) for s, ms in _SCOPES
        }
        self._flat = {s: b.reshape(self.capacity, -1) for s, b in self._blocks.items()}
        self._written = [(s, f) for s, f in self._flat.items() if f.shape[1]]  # (non-empty)
        self._where = {m: (s, _LAYOUT[s].index(m)) for s, ms in _SCOPES for m in ms}
        self._steps = np.zeros(self.capacity, dtype=np.int64)
        self._n = 0
        self.time_profiles = {}

    def __len__(self):
        return min(self._n, self.capacity)

    @property
    def metrics(self):
        return tuple(self._where)

    @staticmethod
    def scope(metric):
        """'global', 'param', 'layer' or 'recurrent'."""
        for scope, metrics in _SCOPES:
            if metric in metrics:
                return scope
        raise KeyError(f"History: unknown metric {metric!r}")

    def names(self, scope):
        """Column names of a scope ('param', 'layer', 'recurrent'); [] for 'global'."""
        return {
            "param": self.param_names,
            "layer": self.layer_names,
            "recurrent": self.recurrent_names,
        }.get(scope, [])

    def _order(self):
        if self._n <= self.capacity:
            return np.arange(self._n)
        return (np.arange(self.capacity) + self._n) % self.capacity

    @property
    def steps(self):
        return self._steps[self._order()]

    def series(self, metric):
        if metric not in self._where:
            raise KeyError(f"History: unknown metric {metric!r}; known: {sorted(self._where)}")
        scope, j = self._where[metric]
        rows = self._blocks[scope][self._order(), :, j]
        return rows[:, 0] if scope == "global" else rows

    def append(self, step, values):
        """Write one row: ``values`` maps metrics to a float or an array of the scope's width."""
        row = self._next_row(step)
        for m, (scope, j) in self._where.items():
            self._blocks[scope][row, :, j] = values.get(m, np.nan)

    def _next_row(self, step):
        row = self._n % self.capacity
        self._steps[row] = step
        self._n += 1
        return row

    def _write(self, step, rows):
        """Write one step: ``rows`` maps a scope to its values flattened column by column (a
        parameter's or layer's metrics together, in ``_LAYOUT`` order); a scope left out
        stays NaN."""
        row = self._next_row(step)
        for scope, flat in self._written:
            flat[row] = rows.get(scope, np.nan)

    # ---- persistence (GradientMonitor.state_dict) ----

    def state_dict(self):
        """The buffer as plain arrays and lists (a copy)."""
        return {
            "capacity": self.capacity,
            "param_names": list(self.param_names),
            "layer_names": list(self.layer_names),
            "recurrent_names": list(self.recurrent_names),
            "blocks": {s: b.copy() for s, b in self._blocks.items()},
            "steps": self._steps.copy(),
            "n": self._n,
            "time_profiles": {k: np.asarray(v).copy() for k, v in self.time_profiles.items()},
        }

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` returned; the names must match this model's."""
        for key in ("param_names", "layer_names", "recurrent_names"):
            if list(state[key]) != getattr(self, key):
                raise ValueError(
                    f"History.load_state_dict: {key} differ: the state is of "
                    f"another model ({list(state[key])[:4]}... vs "
                    f"{getattr(self, key)[:4]}...)"
                )
        old = History(state["capacity"], self.param_names, self.layer_names, self.recurrent_names)
        old._blocks = {s: np.asarray(b, dtype=np.float64) for s, b in state["blocks"].items()}
        old._steps, old._n = np.asarray(state["steps"], dtype=np.int64), int(state["n"])
        order = old._order()
        rows = order[-self.capacity :]
        for s in self._blocks:
            self._blocks[s][:] = np.nan
            self._blocks[s][: len(rows)] = old._blocks[s][rows]
        self._steps[:] = 0
        self._steps[: len(rows)] = old._steps[rows]
        self._n = len(rows)
        self.time_profiles = {k: np.asarray(v) for k, v in state["time_profiles"].items()}
