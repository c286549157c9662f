"""One training run in memory (:class:`Session`) and the callbacks the commands attach to it.

A session builds, from a :class:`~chainrule.cli.config.TrainConfig`, in this order (the order
fixes what the global random generator draws, which ``--resume`` relies on): the seed, the data,
the model, the optimizer and scheduler, and a :class:`~chainrule.diagnostics.GradientMonitor`.

Example::

    session = Session(TrainConfig(epochs=3))
    history = session.fit()
    session.evaluate()               # {'loss': ..., 'accuracy': ...}
    print(session.monitor.report())
"""

import math
import sys
import time

import numpy as np
from tqdm import tqdm

from .. import diagnostics, nn, optim
from .. import random as crrandom
from .. import train as crtrain
from ..optim import lr_scheduler
from .common import fmt, seconds_text
from .datasets import load_data
from .models import build_model


def make_optimizer(config, params):
    lr, wd = config.learning_rate, config.weight_decay
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    if config.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad}[config.optimizer]
    return cls(params, lr=lr, weight_decay=wd)


def make_scheduler(config, optimizer, steps_per_epoch):
    """``(scheduler or None, 'epoch' or 'step')``."""
    s, epochs = config.schedule, config.epochs
    if s == "none":
        return None, "epoch"
    if s == "onecycle":
        return lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.learning_rate, total_steps=epochs * steps_per_epoch
        ), "step"
    if s == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1), "epoch"
    if s == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs), "epoch"
    if s == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=0.95), "epoch"
    return lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=2), "epoch"


class Session:
    """Data, model, optimizer, scheduler and monitor of one configuration (see module doc).

    Attributes: ``config``, ``bundle`` (:class:`~chainrule.cli.datasets.DataBundle`),
    ``model``, ``loss_fn``, ``metric`` ('accuracy' or 'mse'), ``optimizer``, ``scheduler``,
    ``interval``, ``monitor``, ``history`` (after :meth:`fit`).
    """

    def __init__(self, config, bundle=None, monitor=True):
        self.config = config
        crrandom.manual_seed(config.seed)
        self.bundle = bundle if bundle is not None else load_data(config)
        b = self.bundle
        self.model = build_model(config, b.sample_shape, b.n_outputs)
        regression = b.task == "regression"
        self.loss_fn = nn.MSELoss() if regression else nn.CrossEntropyLoss()
        self.metric = "mse" if regression else "accuracy"
        self.optimizer = make_optimizer(config, self.model.parameters())
        self.scheduler, self.interval = make_scheduler(config, self.optimizer, len(b.train))
        self.monitor = self._monitor() if monitor else None
        self.monitor_restored = False  # True once --resume gave it the checkpoint's state
        self.history = None

    def _monitor(self):
        # The ring buffer holds at least one epoch: the run folder writes each epoch's rows.
        per_epoch = -(-len(self.bundle.train) // self.config.monitor_every) + 1
        return diagnostics.GradientMonitor(
            self.model,
            every=self.config.monitor_every,
            optimizer=self.optimizer,
            capacity=max(1024, per_epoch),
            clip_norm=self.config.clip_norm,
        )

    def fit(self, callbacks=(), start_epoch=0, history=None):
        """Train to the config's epochs (from ``start_epoch``); returns the History."""
        monitor, callbacks = self.monitor, list(callbacks)
        if monitor is not None and self.config.sharpness_every:
            # the monitor as fit would attach it, with sharpness measured every N steps
            watch = crtrain.MonitorCallback(monitor, sharpness_every=self.config.sharpness_every)
            monitor, callbacks = None, [watch] + callbacks
        with np.errstate(all="ignore"):  # overflow is reported by the monitor, not by NumPy
            self.history = crtrain.fit(
                getattr(self, "train_model", None) or self.model,  # DDP under --nproc
                self.loss_fn,
                self.optimizer,
                self.bundle.train,
                self.config.epochs,
                val_loader=self.bundle.test,
                scheduler=self.scheduler,
                scheduler_interval=self.interval,
                clip_grad_norm=self.config.clip_norm,
                callbacks=callbacks,
                metrics=(self.metric,),
                monitor=monitor,
                progress=False,
                start_epoch=start_epoch,
                history=history,
            )
        return self.history

    def evaluate(self):
        """Loss and metric on the test part: ``{'loss': .., 'accuracy' or 'mse': ..}``."""
        with np.errstate(all="ignore"):
            return crtrain.evaluate(self.model, self.loss_fn, self.bundle.test, (self.metric,))

    def report(self):
        return self.monitor.report()

    def close(self):
        if self.monitor is not None:
            self.monitor.close()


def health_flag(report):
    """'ok', or the kinds of the report's warnings and errors joined by ','."""
    kinds = [f.kind for f in report.findings if f.severity in ("error", "warning")]
    return ",".join(dict.fromkeys(kinds)) or "ok"


# ---- callbacks ----


class HealthFlags(crtrain.Callback):
    """After each epoch: the monitor's verdict on the latest steps (``flags[epoch]``)."""

    def __init__(self, monitor, flags=None):
        self.monitor = monitor
        self.flags = dict(flags or {})

    def on_epoch_end(self, epoch, logs):
        self.flags[epoch] = health_flag(self.monitor.report())
        logs["health"] = self.flags[epoch]


class StopOnNonFinite(crtrain.Callback):
    """End training after an epoch whose loss was NaN or Inf (``stopped_at`` the epoch)."""

    stopped_at = None

    def on_epoch_end(self, epoch, logs):
        if not math.isfinite(logs["train_loss"]):
            self.stop_training, self.stopped_at = True, epoch


class Progress(crtrain.Callback):
    """A tqdm bar per epoch (loss, metric, health flag) on stderr, or one line per epoch."""

    def __init__(self, epochs, steps, metric, bar=True, out=None):
        self.epochs, self.steps, self.metric, self.use_bar = epochs, steps, metric, bar
        self.out = out or sys.stdout
        self.bar, self.losses = None, []

    def on_epoch_begin(self, epoch):
        self.losses, self.start = [], time.perf_counter()
        if self.use_bar:
            self.bar = tqdm(
                total=self.steps,
                desc=f"epoch {epoch + 1}/{self.epochs}",
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )

    def on_step_end(self, info):
        self.losses.append(info["loss"])
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{np.mean(self.losses):.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs):
        fields = epoch_fields(logs, self.metric)
        if self.bar is not None:
            self.bar.set_postfix_str("  ".join(f"{k} {v}" for k, v in fields.items()))
            self.bar.close()
            self.bar = None
        else:
            print(
                f"epoch {epoch + 1}/{self.epochs}  "
                + "  ".join(f"{k} {v}" for k, v in fields.items())
                + f"  ({seconds_text(logs['epoch_time'])})",
                file=self.out,
                flush=True,
            )

    def on_train_end(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def epoch_fields(logs, metric):
    """The numbers shown per epoch: loss, metric (train and test) and the health flag."""
    fields = {"loss": fmt(logs["train_loss"], 4)}
    if metric == "accuracy":
        fields["acc"] = f"{100 * logs['train_accuracy']:.1f}%"
        if "val_accuracy" in logs:
            fields["test acc"] = f"{100 * logs['val_accuracy']:.1f}%"
    elif "val_mse" in logs:
        fields["test mse"] = fmt(logs["val_mse"], 4)
    if "health" in logs:
        fields["health"] = logs["health"]
    return fields
