"""The training loop: :class:`Trainer` and :func:`fit`, and :func:`evaluate`.

``fit`` trains a model for some epochs and returns a :class:`TrainingHistory`; a
:class:`Trainer` holds the same settings for repeated use (``fit`` is a thin wrapper around it).
Callbacks see every step and epoch (the gradient monitor plugs in as a :class:`MonitorCallback`).

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

import sys
import time

import numpy as np
from tqdm import tqdm

from ..autograd import no_grad
from ..nn.utils.clip_grad import clip_grad_norm_
from ..optim.lr_scheduler import ReduceLROnPlateau
from ..tensor import Tensor
from .callbacks import Callback, MonitorCallback
from .checkpoint import save_checkpoint
from .history import TrainingHistory
from .metrics import Meter, batch_size, resolve_metrics

__all__ = ["fit", "evaluate", "Trainer"]


def _split_batch(batch):
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch
    size = f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""
    raise ValueError(
        f"each batch must be an (inputs, targets) pair, got a {type(batch).__name__}{size}"
    )


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
    meter = Meter(resolve_metrics(metrics))
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


class Trainer:
    """The settings of a training run; ``fit(train_loader, epochs, ...)`` runs it.

    Same arguments as :func:`fit` (which is ``Trainer(...).fit(...)``); useful to call ``fit``
    several times, or to reach ``trainer.history`` from a callback.

    Example::

        trainer = cr.train.Trainer(model, loss_fn, opt, clip_grad_norm=1.0, progress=False)
        history = trainer.fit(train_loader, epochs=10, val_loader=val_loader)
    """

    def __init__(
        self,
        model,
        loss_fn,
        optimizer,
        scheduler=None,
        scheduler_interval="epoch",
        clip_grad_norm=None,
        callbacks=(),
        metrics=("accuracy",),
        monitor=None,
        progress=True,
        checkpoint=None,
    ):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}"
            )
        if scheduler_interval == "step" and isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                "ReduceLROnPlateau needs an epoch's loss: use scheduler_interval='epoch'"
            )
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(
                f"clip_grad_norm must be a positive number or None, got {clip_grad_norm!r}"
            )
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.scheduler, self.scheduler_interval = scheduler, scheduler_interval
        self.clip_grad_norm, self.monitor = clip_grad_norm, monitor
        self.callbacks = [callbacks] if isinstance(callbacks, Callback) else list(callbacks)
        if monitor is not None:  # shorthand: the monitor follows the run as a callback
            self.callbacks.insert(0, MonitorCallback(monitor))
        self.metric_fns = resolve_metrics(metrics)
        # Under chainrule.distributed only rank 0 shows a bar and writes checkpoints.
        self._rank, self._world = _process_group()
        self.progress, self.checkpoint = progress and self._rank == 0, checkpoint
        self.history = TrainingHistory()
        self.batch = None  # the (inputs, targets) of the current step

    def fit(self, train_loader, epochs, val_loader=None, start_epoch=0, history=None):
        """Train epochs ``start_epoch .. epochs - 1``; returns the :class:`TrainingHistory`.

        ``history`` (e.g. from :func:`load_checkpoint`) is appended to instead of a new one.
        See :func:`fit` for the KeyboardInterrupt behaviour.
        """
        if not 0 <= start_epoch <= epochs:
            raise ValueError(
                f"need 0 <= start_epoch <= epochs, got start_epoch={start_epoch}, epochs={epochs}"
            )
        self.history = history if history is not None else TrainingHistory()
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
                raise  # the other ranks wait in a collective: the abort hook ends them all
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
            sampler.set_epoch(epoch)  # DistributedSampler: this epoch's shuffle, all ranks
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
        meter = Meter(self.metric_fns)
        # The bar is updated by hand (not wrapped around the loader) so that it is still open
        # to show the validation results once the last batch is done.
        total = len(train_loader) if hasattr(train_loader, "__len__") else None
        with tqdm(
            total=total,
            desc=f"epoch {epoch + 1}/{epochs}",
            disable=not self.progress,
            leave=True,
            dynamic_ncols=True,
            file=sys.stderr,
        ) as bar:
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
        self.batch = (inputs, targets)  # for callbacks that measure on it (sharpness)
        self.optimizer.zero_grad()
        output = self.model(inputs)
        loss = self.loss_fn(output, targets)
        loss.backward()
        grad_norm = self._clip()
        self.optimizer.step()
        self._call("on_optimizer_step", loss, grad_norm)
        lr = float(self.optimizer.param_groups[0]["lr"])
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        loss_value = meter.update(output, targets, loss)
        self._call(
            "on_step_end",
            {
                "epoch": epoch,
                "step": step,
                "loss": loss_value,
                "batch_size": batch_size(targets),
                "grad_norm": grad_norm,
                "lr": lr,
            },
        )

    def _clip(self):
        if self.clip_grad_norm is None:
            return None
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        return float(clip_grad_norm_(params, self.clip_grad_norm).item())

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
            save_checkpoint(
                self.checkpoint,
                self.model,
                self.optimizer,
                self.scheduler,
                epoch=self._epochs_done,
                history=self.history,
                extra=extra,
                loader=train_loader,
                callbacks=self.callbacks,
            )

    def _on_interrupt(self, train_loader):
        self.history.interrupted = True
        message = f"training interrupted after {self._epochs_done} complete epochs"
        if self.checkpoint is not None:
            self._save(train_loader, extra={"interrupted": True})
            message += f"; checkpoint saved to {self.checkpoint}"
        print(message, file=sys.stderr)


def _process_group():
    """(rank, world size) under chainrule.distributed, else (0, 1)."""
    from .. import distributed as dist

    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _average_over_ranks(logs):
    """Each rank's epoch logs -> their mean over ranks (epoch_time: the slowest rank's)."""
    from .. import distributed as dist

    keys = sorted(logs)
    values = Tensor._wrap(np.array([float(logs[k]) for k in keys], dtype=np.float64))
    dist.all_reduce(values, op=dist.ReduceOp.AVG)
    slowest = Tensor._wrap(np.array([float(logs.get("epoch_time", 0.0))], dtype=np.float64))
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    out = dict(zip(keys, (float(v) for v in values.numpy()), strict=True))
    if "epoch_time" in logs:
        out["epoch_time"] = float(slowest.numpy()[0])
    if "lr" in logs:
        out["lr"] = logs["lr"]
    return out


def fit(
    model,
    loss_fn,
    optimizer,
    train_loader,
    epochs,
    val_loader=None,
    scheduler=None,
    clip_grad_norm=None,
    callbacks=(),
    metrics=("accuracy",),
    monitor=None,
    progress=True,
    start_epoch=0,
    checkpoint=None,
    scheduler_interval="epoch",
    history=None,
):
    """Train ``model`` to minimise ``loss_fn(model(inputs), targets)``; returns a
    :class:`TrainingHistory`.

    Each step: ``zero_grad``, forward, ``backward``, optional gradient clipping
    (``cr.nn.utils.clip_grad_norm_``), ``optimizer.step()``, ``on_optimizer_step`` callbacks
    (the gradient monitor's ``step``), the scheduler if it steps per batch, then
    ``on_step_end`` callbacks. Each epoch ends with a
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
        monitor: a ``cr.diagnostics.GradientMonitor`` (or an object with its ``step``):
            shorthand for a :class:`MonitorCallback` first in ``callbacks``. It gets
            ``step(loss)`` after each optimizer step, or with ``clip_grad_norm``
            ``step(loss, grad_norm=total_norm_before_clipping, max_norm=clip_grad_norm)``;
            with ``checkpoint`` its ``state_dict()`` is saved too.
        progress (bool): show a tqdm bar per epoch (loss and metrics) on stderr.
        start_epoch (int): first epoch to run, to resume from :func:`load_checkpoint`.
        checkpoint (str or path): save a full checkpoint there after every epoch.
        history (TrainingHistory): continue this history (from :func:`load_checkpoint`).

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
    trainer = Trainer(
        model,
        loss_fn,
        optimizer,
        scheduler=scheduler,
        scheduler_interval=scheduler_interval,
        clip_grad_norm=clip_grad_norm,
        callbacks=callbacks,
        metrics=metrics,
        monitor=monitor,
        progress=progress,
        checkpoint=checkpoint,
    )
    return trainer.fit(
        train_loader, epochs, val_loader=val_loader, start_epoch=start_epoch, history=history
    )
