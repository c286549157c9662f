"""What ``fit`` measured, one entry per epoch: :class:`TrainingHistory`.

(Not to be confused with ``chainrule.diagnostics.history``, the gradient monitor's per-step
record of each layer; this one holds epoch-level losses and metrics.)

Example::

    history = cr.train.fit(...)
    best = min(history.val_loss); history['val_accuracy'][-1]; history.to_dict()
"""

import numbers

import numpy as np

__all__ = ["TrainingHistory"]

_BASE_KEYS = ("train_loss", "val_loss", "lr", "epoch_time")


class TrainingHistory:
    """What ``fit`` measured, one entry per epoch (plain Python lists of floats).

    Attributes:
        epochs: epoch indices (0-based; they continue from ``start_epoch`` when resuming).
        train_loss: mean training loss of the epoch (over its batches, in train mode).
        val_loss: mean validation loss, or None entries without a ``val_loader``.
        metrics: ``{'train_accuracy': [...], 'val_accuracy': [...], ...}``.
        lr: learning rate of the first parameter group at the start of the epoch.
        epoch_time: seconds the epoch took, validation included.
        interrupted: True when training stopped on KeyboardInterrupt.
        stopped_epoch: the epoch after which a callback stopped training, else None.

    ``history[key]`` reads any of these lists by its log name (``'val_accuracy'``, ``'lr'``, ...).

    Example::

        history = cr.train.fit(...)
        best = min(history.val_loss); history['val_accuracy'][-1]; history.to_dict()
    """

    def __init__(self):
        self.epochs, self.train_loss, self.val_loss = [], [], []
        self.metrics, self.lr, self.epoch_time = {}, [], []
        self.interrupted = False
        self.stopped_epoch = None

    def append(self, epoch, logs):
        """Record one epoch's ``logs`` (the dict callbacks get in ``on_epoch_end``)."""
        self.epochs.append(int(epoch))
        self.train_loss.append(logs["train_loss"])
        self.val_loss.append(logs.get("val_loss"))
        self.lr.append(logs["lr"])
        self.epoch_time.append(logs["epoch_time"])
        for key, value in logs.items():
            if key not in _BASE_KEYS:
                # a metric first logged now (or missing from a resumed history) is None for
                # the earlier epochs, so every series keeps one entry per epoch
                self.metrics.setdefault(key, [None] * (len(self.epochs) - 1)).append(value)

    def __len__(self):
        return len(self.epochs)

    def __getitem__(self, key):
        if key in _BASE_KEYS or key == "epochs":
            return getattr(self, key)
        if key in self.metrics:
            return self.metrics[key]
        known = ["epochs", *_BASE_KEYS, *self.metrics]
        raise KeyError(f"TrainingHistory has no {key!r}; it has {known}")

    def to_dict(self):
        """Everything as plain dicts and lists (JSON-friendly; :meth:`from_dict` inverts)."""
        return {
            "epochs": list(self.epochs),
            "train_loss": list(self.train_loss),
            "val_loss": list(self.val_loss),
            "metrics": {k: list(v) for k, v in self.metrics.items()},
            "lr": list(self.lr),
            "epoch_time": list(self.epoch_time),
            "interrupted": self.interrupted,
            "stopped_epoch": self.stopped_epoch,
        }

    @classmethod
    def from_dict(cls, data):
        """Rebuild a history from ``to_dict()``'s output (e.g. read back from a checkpoint)."""
        history = cls()
        for key, value in data.items():
            if not hasattr(history, key):
                raise ValueError(f"TrainingHistory.from_dict: unknown key {key!r}")
            setattr(history, key, dict(value) if key == "metrics" else value)
        return history

    def __repr__(self):
        last = f", last train_loss={self.train_loss[-1]:.4g}" if self.train_loss else ""
        return f"TrainingHistory({len(self)} epochs{last}, interrupted={self.interrupted})"


def history_problem(history):
    """What is wrong with a saved ``TrainingHistory.to_dict()`` (e.g. read from a checkpoint),
    or None."""
    if not isinstance(history, dict):
        return f"a {type(history).__name__}, not a dict"
    # a series left out counts as empty: from_dict leaves it so, and the next epoch appends
    series = {k: history.get(k, []) for k in ("epochs", *_BASE_KEYS)}
    unknown = set(history) - {"epochs", *_BASE_KEYS, "metrics", "interrupted", "stopped_epoch"}
    if unknown:
        return f"unknown keys {sorted(map(str, unknown))}"
    if not isinstance(history.get("metrics", {}), dict):
        return "'metrics' is not a dict"
    series.update((f"metrics[{k!r}]", v) for k, v in (history.get("metrics") or {}).items())
    lengths = set()
    for key, values in series.items():
        if not isinstance(values, list):
            return f"{key} is not a list"
        if key == "epochs":
            kinds = numbers.Integral
        elif key in ("train_loss", "lr", "epoch_time"):
            kinds = numbers.Real
        else:  # val_loss and the metrics are None without validation data
            kinds = (numbers.Real, type(None))
        if not all(isinstance(v, kinds) and not isinstance(v, (bool, np.bool_)) for v in values):
            return f"{key} holds something other than numbers"
        lengths.add(len(values))
    if len(lengths) > 1:
        return "its series have different lengths"
    if not isinstance(history.get("interrupted", False), bool):
        return "'interrupted' is not True or False"
    stopped = history.get("stopped_epoch")
    if stopped is not None and (isinstance(stopped, bool) or not isinstance(stopped, int)):
        return "'stopped_epoch' is not an epoch number"
    return None
