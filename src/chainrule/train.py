"""The training loop, callbacks, metrics and full training checkpoints.

``fit`` trains a model for some epochs and returns a :class:`History`; a :class:`Trainer` holds the
same settings for repeated use (``fit`` is a thin wrapper around it). Callbacks see every step and
epoch (the gradient diagnostics plug in there); :class:`EarlyStopping` is one of them.
``save_checkpoint`` / ``load_checkpoint`` store everything needed to resume a run *exactly*: model,
optimizer, scheduler, epoch, history and the random state.

Example::

    import chainrule as cr
    X_train, y_train, X_test, y_test = cr.data.digits_split()
    train = cr.data.DataLoader(cr.data.TensorDataset(X_train, y_train), batch_size=64, shuffle=True)
    test = cr.data.DataLoader(cr.data.TensorDataset(X_test, y_test), batch_size=256)
    model = cr.nn.Sequential(cr.nn.Linear(64, 128), cr.nn.ReLU(), cr.nn.Linear(128, 10))
    opt = cr.optim.Adam(model.parameters(), lr=1e-3)
    history = cr.train.fit(model, cr.nn.CrossEntropyLoss(), opt, train, epochs=20, val_loader=test,
                           callbacks=[cr.train.EarlyStopping(patience=3)])
    history.val_loss[-1], history['val_accuracy'][-1]
"""
import inspect
import math
import sys
import time
import warnings

import numpy as np
from tqdm import tqdm

from .autograd import no_grad
from .nn.utils.clip_grad import clip_grad_norm_
from .optim.lr_scheduler import ReduceLROnPlateau
from .random import get_rng_state, set_rng_state
from .serialization import load, save
from .tensor import Tensor

__all__ = ["fit", "evaluate", "Trainer", "History", "Callback", "EarlyStopping", "LambdaCallback",
           "accuracy", "mse", "mae", "save_checkpoint", "load_checkpoint"]

CHECKPOINT_FORMAT = "chainrule.train"
CHECKPOINT_VERSION = 1


# ---- metrics ----
def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def accuracy(output, target):
    """Fraction of correct predictions in a batch (a float in [0, 1]).

    * ``output`` of shape ``(N, C, ...)`` with ``C > 1``: the prediction is the argmax over dim 1;
      ``target`` holds class indices ``(N, ...)``, or probabilities / one-hot of ``output``'s shape.
    * ``output`` of shape ``(N,)`` or ``(N, 1)``: binary logits, predicted class ``output > 0``;
      ``target`` holds 0 / 1 (ints, bools or floats).

    Example::

        accuracy(cr.tensor([[2., 1.], [0., 3.]]), cr.tensor([0, 0]))    # 0.5
    """
    out, tgt = _array(output), _array(target)
    if out.ndim >= 2 and out.shape[1] > 1:
        predicted = out.argmax(axis=1)
        if tgt.shape == out.shape:  # one-hot or class probabilities
            tgt = tgt.argmax(axis=1)
    else:
        predicted = (out > 0).reshape(-1)
        tgt = tgt.reshape(-1)
    _check_labels(tgt, predicted.shape)
    return float(np.mean(predicted == tgt))


def _check_labels(tgt, shape):
    if tgt.shape != shape:
        raise ValueError(f"accuracy: targets of shape {tgt.shape} do not match predictions of "
                         f"shape {shape}")
    if np.issubdtype(tgt.dtype, np.floating) and not np.all(tgt == np.round(tgt)):
        raise ValueError("accuracy: targets are not class labels (they have fractional values); "
                         "for regression use metrics=('mse',) or metrics=()")


def _paired(output, target, name):
    out, tgt = _array(output), _array(target)
    if out.size != tgt.size:
        raise ValueError(f"{name}: output of shape {out.shape} and target of shape {tgt.shape} "
                         "have different sizes")
    return out.astype(np.float64).reshape(-1), tgt.astype(np.float64).reshape(-1)


def mse(output, target):
    """Mean squared error of a batch, for regression: ``mean((output - target) ** 2)``."""
    out, tgt = _paired(output, target, "mse")
    return float(np.mean((out - tgt) ** 2))


def mae(output, target):
    """Mean absolute error of a batch, for regression: ``mean(|output - target|)``."""
    out, tgt = _paired(output, target, "mae")
    return float(np.mean(np.abs(out - tgt)))


_METRICS = {"accuracy": accuracy, "acc": accuracy, "mse": mse, "mae": mae}


def _resolve_metrics(metrics):
    """``{name: fn(output, target) -> float}`` from names and callables."""
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        return dict(metrics)
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    resolved = {}
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in _METRICS:
                raise ValueError(f"unknown metric {metric!r}: use one of {sorted(_METRICS)} or a "
                                 "callable fn(output, target) -> float")
            resolved[metric] = _METRICS[metric]
        elif callable(metric):
            resolved[getattr(metric, "__name__", type(metric).__name__)] = metric
        else:
            raise TypeError(f"a metric must be a name or a callable, got {metric!r}")
    return resolved


class _Meter:
    """Sample-weighted running means of the loss and the metrics over one pass of a loader."""

    def __init__(self, metric_fns):
        self.metric_fns = metric_fns
        self.sums, self.count = {}, 0

    def update(self, output, target, loss):
        n = _batch_size(target)
        values = {"loss": float(loss.item())}
        values.update((name, float(fn(output, target))) for name, fn in self.metric_fns.items())
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + value * n
        self.count += n
        return values["loss"]

    def means(self):
        return {name: total / self.count for name, total in self.sums.items()}


def _batch_size(target):
    return len(target) if getattr(target, "ndim", 0) else 1


def _split_batch(batch):
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch
    size = f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""
    raise ValueError(f"each batch must be an (inputs, targets) pair, got a "
                     f"{type(batch).__name__}{size}")


def evaluate(model, loss_fn, loader, metrics=("accuracy",)):
    """Mean loss and metrics of ``model`` over ``loader``, in eval mode and without autograd.

    Means are weighted by batch size (``loss_fn`` is assumed to average over its batch). The
    model's train/eval mode is restored afterwards.

    Returns:
        dict: ``{'loss': float, <metric name>: float, ...}``.

    Example::

        cr.train.evaluate(model, cr.nn.CrossEntropyLoss(), test_loader)
        # -> {'loss': 0.08, 'accuracy': 0.98}
    """
    meter = _Meter(_resolve_metrics(metrics))
    was_training = getattr(model, "training", True)
    model.eval()
    try:
        with no_grad():
            for batch in loader:
                inputs, targets = _split_batch(batch)
                output = model(inputs)
                meter.update(output, targets, loss_fn(output, targets))
    finally:
        model.train(was_training)
    if meter.count == 0:
        raise ValueError("evaluate: the loader yielded no batches")
    return meter.means()


# ---- history ----
_BASE_KEYS = ("train_loss", "val_loss", "lr", "epoch_time")


class History:
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
                self.metrics.setdefault(key, []).append(value)

    def __len__(self):
        return len(self.epochs)

    def __getitem__(self, key):
        if key in _BASE_KEYS or key == "epochs":
            return getattr(self, key)
        if key in self.metrics:
            return self.metrics[key]
        raise KeyError(f"History has no {key!r}; it has {['epochs', *_BASE_KEYS, *self.metrics]}")

    def to_dict(self):
        """Everything as plain dicts and lists (JSON-friendly; ``History.from_dict`` inverts)."""
        return {"epochs": list(self.epochs), "train_loss": list(self.train_loss),
                "val_loss": list(self.val_loss),
                "metrics": {k: list(v) for k, v in self.metrics.items()},
                "lr": list(self.lr), "epoch_time": list(self.epoch_time),
                "interrupted": self.interrupted, "stopped_epoch": self.stopped_epoch}

    @classmethod
    def from_dict(cls, data):
        """Rebuild a History from ``to_dict()``'s output (e.g. read back from a checkpoint)."""
        history = cls()
        for key, value in data.items():
            if not hasattr(history, key):
                raise ValueError(f"History.from_dict: unknown key {key!r}")
            setattr(history, key, dict(value) if key == "metrics" else value)
        return history

    def __repr__(self):
        last = f", last train_loss={self.train_loss[-1]:.4g}" if self.train_loss else ""
        return f"History({len(self)} epochs{last}, interrupted={self.interrupted})"


# ---- callbacks ----
class Callback:
    """Base class of training callbacks; override the hooks you need (all do nothing here).

    ``fit`` calls, in this order: ``on_train_begin()``; per epoch ``on_epoch_begin(epoch)``,
    ``on_step_end(step_info)`` after every optimizer step, ``on_epoch_end(epoch, logs)``;
    finally ``on_train_end()`` (also after an interrupt). Any object with some of these methods
    works as a callback; instances of this class also get ``.trainer``, ``.model``,
    ``.optimizer`` and ``.history`` set before ``on_train_begin``. Setting
    ``self.stop_training = True`` ends training after the current epoch.

    ``step_info`` is ``{'epoch', 'step' (batch index), 'loss', 'batch_size', 'grad_norm' (None
    without clip_grad_norm), 'lr'}``; ``logs`` is ``{'train_loss', 'train_<metric>',
    'val_loss', 'val_<metric>' (with a val_loader), 'lr', 'epoch_time'}``.

    Example::

        class PrintLoss(cr.train.Callback):
            def on_epoch_end(self, epoch, logs):
                print(epoch, logs['train_loss'])
    """

    trainer = model = optimizer = history = None
    stop_training = False

    def set_trainer(self, trainer):
        self.trainer, self.model, self.optimizer = trainer, trainer.model, trainer.optimizer
        self.history = trainer.history

    def on_train_begin(self):
        pass

    def on_epoch_begin(self, epoch):
        pass

    def on_step_end(self, step_info):
        pass

    def on_epoch_end(self, epoch, logs):
        pass

    def on_train_end(self):
        pass


class LambdaCallback(Callback):
    """A callback made of plain functions, one per hook you need.

    Example::

        printer = cr.train.LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs))
    """

    def __init__(self, on_train_begin=None, on_epoch_begin=None, on_step_end=None,
                 on_epoch_end=None, on_train_end=None):
        hooks = dict(on_train_begin=on_train_begin, on_epoch_begin=on_epoch_begin,
                     on_step_end=on_step_end, on_epoch_end=on_epoch_end, on_train_end=on_train_end)
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves when its value beats the best so far by more than ``min_delta`` (lower is
    better with ``mode='min'``, higher with ``'max'``; NaN never improves). With
    ``restore_best`` the model gets the weights of the best epoch back when training ends.

    Attributes after training: ``best``, ``best_epoch``, ``stopped_epoch`` (None if it never
    stopped training).

    Example::

        stop = cr.train.EarlyStopping(monitor='val_accuracy', mode='max', patience=5)
        cr.train.fit(model, loss_fn, opt, train, 100, val_loader=val, callbacks=[stop])
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="min",
                 restore_best=True):
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        if patience < 0 or min_delta < 0:
            raise ValueError(f"EarlyStopping: patience ({patience}) and min_delta ({min_delta}) "
                             "must be >= 0")
        self.monitor, self.patience, self.min_delta = monitor, patience, min_delta
        self.mode, self.restore_best = mode, restore_best
        self.on_train_begin()

    def on_train_begin(self):
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch = self.stopped_epoch = self._best_state = None
        self.wait, self.stop_training = 0, False

    def _improved(self, value):
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs):
        value = logs.get(self.monitor)
        if value is None:
            raise KeyError(f"EarlyStopping: monitor {self.monitor!r} is not in the epoch logs "
                           f"{sorted(logs)} (val_* entries need a val_loader)")
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                # Copies: the optimizer keeps updating the live arrays in place.
                self._best_state = {k: v._data.copy() for k, v in self.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stop_training, self.stopped_epoch = True, epoch

    def on_train_end(self):
        if self.restore_best and self._best_state is not None:
            self.model.load_state_dict(self._best_state)


# ---- the loop ----
def _accepts(fn, names):
    """True when ``fn`` can be called with all keyword arguments ``names``."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return True
    return set(names) <= {p.name for p in params}


class Trainer:
    """The settings of a training run; ``fit(train_loader, epochs, ...)`` runs it.

    Same arguments as :func:`fit` (which is ``Trainer(...).fit(...)``); useful to call ``fit``
    several times, or to reach ``trainer.history`` from a callback.

    Example::

        trainer = cr.train.Trainer(model, loss_fn, opt, clip_grad_norm=1.0, progress=False)
        history = trainer.fit(train_loader, epochs=10, val_loader=val_loader)
    """

    def __init__(self, model, loss_fn, optimizer, scheduler=None, scheduler_interval="epoch",
                 clip_grad_norm=None, callbacks=(), metrics=("accuracy",), monitor=None,
                 progress=True, checkpoint=None):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got "
                             f"{scheduler_interval!r}")
        if scheduler_interval == "step" and isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError("ReduceLROnPlateau needs an epoch's loss: use "
                             "scheduler_interval='epoch'")
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"clip_grad_norm must be a positive number or None, got "
                             f"{clip_grad_norm!r}")
        if monitor is not None and not callable(getattr(monitor, "step", None)):
            raise TypeError(f"monitor must have a step(loss) method, got {type(monitor).__name__}")
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.clip_grad_norm, self.monitor = clip_grad_norm, monitor
        self.callbacks = [callbacks] if isinstance(callbacks, Callback) else list(callbacks)
        self.metric_fns = _resolve_metrics(metrics)
        # Under chainrule.distributed only rank 0 shows a bar and writes checkpoints.
        self._rank, self._world = _process_group()
        self.progress, self.checkpoint = progress and self._rank == 0, checkpoint
        self._monitor_takes_norm = (monitor is not None
                                    and _accepts(monitor.step, ("grad_norm", "max_norm")))
        self.history = History()

    def fit(self, train_loader, epochs, val_loader=None, start_epoch=0, history=None):
        """Train epochs ``start_epoch .. epochs - 1``; returns the :class:`History`.

        ``history`` (e.g. from :func:`load_checkpoint`) is appended to instead of a new one.
        See :func:`fit` for the KeyboardInterrupt behaviour.
        """
        if not 0 <= start_epoch <= epochs:
            raise ValueError(f"need 0 <= start_epoch <= epochs, got start_epoch={start_epoch}, "
                             f"epochs={epochs}")
        self.history = history if history is not None else History()
        self.history.interrupted, self._epochs_done = False, start_epoch
        for cb in self.callbacks:
            if isinstance(cb, Callback):
                cb.set_trainer(self)
        try:
            self._call("on_train_begin")
            self._run(train_loader, epochs, val_loader, start_epoch)
        except KeyboardInterrupt:
            self._on_interrupt(train_loader)
            if self._world > 1:
                raise     # the other ranks wait in a collective: the abort hook ends them all
        self._call("on_train_end")
        return self.history

    def _run(self, train_loader, epochs, val_loader, start_epoch):
        for epoch in range(start_epoch, epochs):
            self._run_epoch(epoch, epochs, train_loader, val_loader)
            if any(getattr(cb, "stop_training", False) for cb in self.callbacks):
                self.history.stopped_epoch = epoch
                break

    def _call(self, hook, *args):
        for cb in self.callbacks:
            fn = getattr(cb, hook, None)
            if fn is not None:
                fn(*args)

    def _run_epoch(self, epoch, epochs, train_loader, val_loader):
        self.model.train()
        sampler = getattr(train_loader, "sampler", None)
        if callable(getattr(sampler, "set_epoch", None)):
            sampler.set_epoch(epoch)      # DistributedSampler: this epoch's shuffle, all ranks
        self._call("on_epoch_begin", epoch)
        logs = self._train_epoch(epoch, epochs, train_loader, val_loader)
        self.history.append(epoch, logs)
        self._step_scheduler_epoch(logs)
        self._call("on_epoch_end", epoch, logs)
        self._epochs_done = epoch + 1
        if self.checkpoint is not None:
            self._save(train_loader)

    def _train_epoch(self, epoch, epochs, train_loader, val_loader):
        """One pass over ``train_loader`` under a progress bar, then validation; the epoch logs."""
        start, lr = time.perf_counter(), float(self.optimizer.param_groups[0]["lr"])
        meter = _Meter(self.metric_fns)
        # The bar is updated by hand (not wrapped around the loader) so that it is still open
        # to show the validation results once the last batch is done.
        total = len(train_loader) if hasattr(train_loader, "__len__") else None
        with tqdm(total=total, desc=f"epoch {epoch + 1}/{epochs}", disable=not self.progress,
                  leave=True, dynamic_ncols=True, file=sys.stderr) as bar:
            for step, batch in enumerate(train_loader):
                self._train_step(epoch, step, batch, meter)
                bar.update(1)
                if self.progress:
                    bar.set_postfix(meter.means(), refresh=False)
            if meter.count == 0:
                raise ValueError("fit: train_loader yielded no batches")
            logs = self._epoch_logs(meter, val_loader, lr, start)
            bar.set_postfix({k: v for k, v in logs.items() if k not in ("lr", "epoch_time")})
        return logs

    def _train_step(self, epoch, step, batch, meter):
        inputs, targets = _split_batch(batch)
        self.optimizer.zero_grad()
        output = self.model(inputs)
        loss = self.loss_fn(output, targets)
        loss.backward()
        grad_norm = self._clip()
        self.optimizer.step()
        self._monitor_step(loss, grad_norm)
        lr = float(self.optimizer.param_groups[0]["lr"])
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        loss_value = meter.update(output, targets, loss)
        self._call("on_step_end", {"epoch": epoch, "step": step, "loss": loss_value,
                                   "batch_size": _batch_size(targets), "grad_norm": grad_norm,
                                   "lr": lr})

    def _clip(self):
        if self.clip_grad_norm is None:
            return None
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        return float(clip_grad_norm_(params, self.clip_grad_norm).item())

    def _monitor_step(self, loss, grad_norm):
        if self.monitor is None:
            return
        if grad_norm is not None and self._monitor_takes_norm:
            self.monitor.step(loss, grad_norm=grad_norm, max_norm=self.clip_grad_norm)
        else:
            self.monitor.step(loss)

    def _epoch_logs(self, meter, val_loader, lr, start):
        logs = {f"train_{name}": value for name, value in meter.means().items()}
        if val_loader is not None:
            val = evaluate(self.model, self.loss_fn, val_loader, self.metric_fns)
            logs.update((f"val_{name}", value) for name, value in val.items())
        logs["lr"] = lr
        logs["epoch_time"] = time.perf_counter() - start
        if self._world > 1:
            logs = _average_over_ranks(logs)
        return logs

    def _step_scheduler_epoch(self, logs):
        if self.scheduler is None or self.scheduler_interval != "epoch":
            return
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(logs.get("val_loss", logs["train_loss"]))
        else:
            self.scheduler.step()

    def _save(self, train_loader, extra=None):
        if self._rank == 0:
            save_checkpoint(self.checkpoint, self.model, self.optimizer, self.scheduler,
                            epoch=self._epochs_done, history=self.history, extra=extra,
                            loader=train_loader)

    def _on_interrupt(self, train_loader):
        self.history.interrupted = True
        message = f"training interrupted after {self._epochs_done} complete epochs"
        if self.checkpoint is not None:
            self._save(train_loader, extra={"interrupted": True})
            message += f"; checkpoint saved to {self.checkpoint}"
        print(message, file=sys.stderr)


def _process_group():
    """(rank, world size) under chainrule.distributed, else (0, 1)."""
    from . import distributed as dist
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _average_over_ranks(logs):
    """Each rank's epoch logs -> their mean over ranks (epoch_time: the slowest rank's)."""
    from . import distributed as dist
    keys = sorted(logs)
    values = Tensor(np.array([float(logs[k]) for k in keys], dtype=np.float64))
    dist.all_reduce(values, op=dist.ReduceOp.AVG)
    slowest = Tensor(np.array([float(logs.get("epoch_time", 0.0))], dtype=np.float64))
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    out = dict(zip(keys, (float(v) for v in values.numpy())))
    if "epoch_time" in logs:
        out["epoch_time"] = float(slowest.numpy()[0])
    if "lr" in logs:
        out["lr"] = logs["lr"]
    return out


def fit(model, loss_fn, optimizer, train_loader, epochs, val_loader=None, scheduler=None,
        clip_grad_norm=None, callbacks=(), metrics=("accuracy",), monitor=None, progress=True,
        start_epoch=0, checkpoint=None, scheduler_interval="epoch", history=None):
    """Train ``model`` to minimise ``loss_fn(model(inputs), targets)``; returns a :class:`History`.

    Each step: ``zero_grad``, forward, ``backward``, optional gradient clipping
    (``cr.nn.utils.clip_grad_norm_``), ``optimizer.step()``, ``monitor.step(loss)``, the
    scheduler if it steps per batch, then ``on_step_end`` callbacks. Each epoch ends with a
    validation pass (``model.eval()`` under ``cr.no_grad()``), the scheduler if it steps per
    epoch, ``on_epoch_end`` callbacks and, with ``checkpoint``, a checkpoint.

    Args:
        model: a ``cr.nn.Module``; called as ``model(inputs)``.
        loss_fn: ``loss_fn(output, targets)`` -> 0-d Tensor, the mean over the batch.
        optimizer: a ``cr.optim`` optimizer.
        train_loader, val_loader: iterables of ``(inputs, targets)`` batches (``DataLoader``).
        epochs (int): the epoch count to reach: epochs ``start_epoch .. epochs - 1`` run.
        scheduler: an LR scheduler; ``ReduceLROnPlateau`` is stepped with the validation loss
            (the training loss without a ``val_loader``).
        scheduler_interval: ``'epoch'`` (default) or ``'step'`` (per batch, e.g. ``OneCycleLR``).
        clip_grad_norm (float): clip the gradients' total 2-norm to this value.
        callbacks: :class:`Callback` objects (or any objects with some of its hook methods).
        metrics: names (``'accuracy'``, ``'mse'``, ``'mae'``), callables
            ``fn(output, targets) -> float`` (given Tensors; named by ``__name__``) or a dict
            ``{name: fn}``; logged as ``train_<name>`` (on the training batches, in train mode)
            and ``val_<name>``.
            Use ``metrics=('mse',)`` or ``()`` for regression.
        monitor: an object with ``step(loss)`` (e.g. the diagnostics' ``GradientMonitor``),
            called after each optimizer step; with ``clip_grad_norm`` it is called as
            ``step(loss, grad_norm=total_norm_before_clipping, max_norm=clip_grad_norm)`` when
            its ``step`` accepts those keywords.
        progress (bool): show a tqdm bar per epoch (loss and metrics) on stderr.
        start_epoch (int): first epoch to run, to resume from :func:`load_checkpoint`.
        checkpoint (str or path): save a full checkpoint there after every epoch.
        history (History): continue this history (from :func:`load_checkpoint`).

    KeyboardInterrupt (Ctrl-C) stops training cleanly: it is *not* re-raised. The partial
    history comes back with ``history.interrupted = True``, ``on_train_end`` callbacks still
    run, and with ``checkpoint`` the current state is saved (``extra={'interrupted': True}``,
    ``epoch`` = complete epochs). Resuming from an end-of-epoch checkpoint reproduces an
    uninterrupted run exactly; from a mid-epoch one it reruns that epoch from the current weights.

    Example::

        history = cr.train.fit(model, cr.nn.CrossEntropyLoss(), opt, train_loader, epochs=10,
                               val_loader=val_loader, checkpoint='run.ckpt')
        # later, with freshly built model / opt / sched:
        state = cr.train.load_checkpoint('run.ckpt', model, opt, sched)
        cr.train.fit(model, loss_fn, opt, train_loader, epochs=20, scheduler=sched,
                     start_epoch=state['epoch'], history=state['history'])
    """
    trainer = Trainer(model, loss_fn, optimizer, scheduler=scheduler,
                      scheduler_interval=scheduler_interval, clip_grad_norm=clip_grad_norm,
                      callbacks=callbacks, metrics=metrics, monitor=monitor, progress=progress,
                      checkpoint=checkpoint)
    return trainer.fit(train_loader, epochs, val_loader=val_loader, start_epoch=start_epoch,
                       history=history)


# ---- checkpoints ----
def _loader_generator(loader):
    generator = getattr(loader, "generator", None)
    return generator if isinstance(generator, np.random.Generator) else None


def save_checkpoint(path, model, optimizer, scheduler=None, epoch=0, history=None, extra=None,
                    loader=None):
    """Save everything needed to resume training exactly, with ``cr.save`` (atomic, checksummed).

    Stored: the model's and optimizer's state dicts, the scheduler's (if any), ``epoch`` (the
    number of complete epochs), ``history`` (a :class:`History` or dict), the global random
    state (``chainrule.random.get_rng_state()``), the private shuffling generator of ``loader``
    if it has one (``DataLoader(seed=...)``), and ``extra`` (any value ``cr.save`` accepts).

    Example::

        cr.train.save_checkpoint('run.ckpt', model, opt, sched, epoch=5, history=history)
    """
    generator = _loader_generator(loader)
    save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "epoch": int(epoch),
          "model": model.state_dict(), "optimizer": optimizer.state_dict(),
          "scheduler": scheduler.state_dict() if scheduler is not None else None,
          "history": history.to_dict() if isinstance(history, History) else history,
          "rng_state": get_rng_state(),
          "loader_rng_state": generator.bit_generator.state if generator is not None else None,
          "extra": extra}, path)


def load_checkpoint(path, model, optimizer=None, scheduler=None, loader=None, restore_rng=True):
    """Load a :func:`save_checkpoint` file into ``model`` (and ``optimizer``, ``scheduler``,
    ``loader``'s shuffling generator) and restore the global random state.

    Build the objects exactly as for the original run, then load; continue with
    ``fit(..., start_epoch=state['epoch'], history=state['history'])``. ``optimizer=None``
    loads the weights only; ``restore_rng=False`` leaves the global random state alone.

    All or nothing: the file's structure is checked first, then everything is loaded; if any
    part is refused (a wrong shape, a missing scheduler state...), every object loaded so far
    is put back as it was before the call, and the error is raised.

    Returns:
        dict: ``{'epoch': int, 'history': History or None, 'extra': ...}``.

    Example::

        state = cr.train.load_checkpoint('run.ckpt', model, opt, sched)
    """
    ckpt = load(path)
    _check_checkpoint(path, ckpt, optimizer, scheduler)
    history = ckpt["history"]
    history = History.from_dict(history) if isinstance(history, dict) else history
    generator = _loader_generator(loader)
    undo = _snapshot(model, optimizer, scheduler, generator)
    try:
        model.load_state_dict(ckpt["model"])
        if optimizer is not None:
            optimizer.load_state_dict(ckpt["optimizer"])
        _load_scheduler(path, scheduler, ckpt["scheduler"])
        if generator is not None and ckpt["loader_rng_state"] is not None:
            generator.bit_generator.state = ckpt["loader_rng_state"]
        if restore_rng:
            set_rng_state(ckpt["rng_state"])
    except BaseException:
        undo()
        raise
    return {"epoch": ckpt["epoch"], "extra": ckpt["extra"], "history": history}


_CHECKPOINT_KEYS = ("epoch", "model", "optimizer", "scheduler", "history", "rng_state",
                    "loader_rng_state", "extra")


def _check_checkpoint(path, ckpt, optimizer, scheduler):
    """Refuse a file that is not a complete training checkpoint, before anything is loaded."""
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        keys = sorted(map(str, ckpt)) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(f"load_checkpoint: {path!r} is not a training checkpoint written by "
                         f"save_checkpoint (found {keys}); read it with cr.load")
    if ckpt.get("version") != CHECKPOINT_VERSION:
        raise ValueError(f"load_checkpoint: {path!r} has training-checkpoint version "
                         f"{ckpt.get('version')!r}; this chainrule reads {CHECKPOINT_VERSION}")
    missing = [k for k in _CHECKPOINT_KEYS if k not in ckpt]
    if missing:
        raise ValueError(f"load_checkpoint: {path!r} lacks {missing}")
    epoch = ckpt["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"load_checkpoint: {path!r} has an invalid epoch {epoch!r}")
    if not isinstance(ckpt["model"], dict):
        raise ValueError(f"load_checkpoint: {path!r} holds no model state dict")
    if optimizer is not None and not isinstance(ckpt["optimizer"], dict):
        raise ValueError(f"load_checkpoint: {path!r} holds no optimizer state dict")
    if scheduler is not None and ckpt["scheduler"] is None:
        raise ValueError(f"load_checkpoint: a scheduler was given but {path!r} holds no "
                         "scheduler state")
    if ckpt["scheduler"] is not None and not isinstance(ckpt["scheduler"], dict):
        raise ValueError(f"load_checkpoint: {path!r} has a scheduler state that is not a dict")
    if scheduler is not None:
        # A scheduler's load_state_dict sets attributes by name: only its own names may come in
        # (a state of another scheduler kind, or a crafted 'optimizer' entry, is refused).
        unexpected = set(ckpt["scheduler"]) - set(scheduler.state_dict())
        if unexpected:
            raise ValueError(f"load_checkpoint: the scheduler state in {path!r} does not fit "
                             f"{type(scheduler).__name__} (unexpected entries "
                             f"{sorted(map(str, unexpected))})")
    history = ckpt["history"]
    if history is not None:
        problem = _history_problem(history)
        if problem:
            raise ValueError(f"load_checkpoint: {path!r} has a malformed history: {problem}")


def _history_problem(history):
    """What is wrong with a saved ``History.to_dict()``, or None."""
    if not isinstance(history, dict):
        return f"a {type(history).__name__}, not a dict"
    series = {k: v for k, v in history.items() if k in ("epochs", *_BASE_KEYS)}
    series.update((f"metrics[{k!r}]", v) for k, v in (history.get("metrics") or {}).items())
    unknown = set(history) - {"epochs", *_BASE_KEYS, "metrics", "interrupted", "stopped_epoch"}
    if unknown:
        return f"unknown keys {sorted(map(str, unknown))}"
    if not isinstance(history.get("metrics", {}), dict):
        return "'metrics' is not a dict"
    lengths = set()
    for key, values in series.items():
        if not isinstance(values, list):
            return f"{key} is not a list"
        lengths.add(len(values))
    if len(lengths) > 1:
        return "its series have different lengths"
    if not isinstance(history.get("interrupted", False), bool):
        return "'interrupted' is not True or False"
    stopped = history.get("stopped_epoch")
    if stopped is not None and (isinstance(stopped, bool) or not isinstance(stopped, int)):
        return "'stopped_epoch' is not an epoch number"
    return None


def _snapshot(model, optimizer, scheduler, generator):
    """A function that puts the objects back as they are now (copies of every array)."""
    import copy
    weights = {k: v._data.copy() for k, v in model.state_dict().items()}
    opt_state = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    sched_state = copy.deepcopy(scheduler.state_dict()) if scheduler is not None else None
    gen_state = generator.bit_generator.state if generator is not None else None
    rng_state = get_rng_state()

    def undo():
        model.load_state_dict(weights)
        if optimizer is not None:
            optimizer.load_state_dict(opt_state)
        if scheduler is not None:
            scheduler.load_state_dict(sched_state)
        if generator is not None:
            generator.bit_generator.state = gen_state
        set_rng_state(rng_state)
    return undo


def _load_scheduler(path, scheduler, state):
    if scheduler is None:
        if state is not None:
            warnings.warn(f"load_checkpoint: {path!r} holds a scheduler state but no scheduler "
                          "was given; it is not restored", stacklevel=3)
        return
    scheduler.load_state_dict(state)
