"""Training callbacks: the :class:`Callback` protocol, :class:`LambdaCallback`,
:class:`EarlyStopping`, and :class:`MonitorCallback`, through which the gradient monitor
(``cr.diagnostics.GradientMonitor``) follows a run.

Example::

    monitor = cr.diagnostics.GradientMonitor(model, optimizer=opt)
    cr.train.fit(model, loss_fn, opt, loader, 5, callbacks=[cr.train.MonitorCallback(monitor)])
    monitor.report()
"""

import math
import warnings

import numpy as np

__all__ = ["Callback", "LambdaCallback", "EarlyStopping", "MonitorCallback"]


class Callback:
    """Base class of training callbacks; override the hooks you need (all do nothing here).

    ``fit`` calls, in this order: ``on_train_begin()``; per epoch ``on_epoch_begin(epoch)``,
    per batch ``on_optimizer_step(loss, grad_norm)`` right after ``optimizer.step()`` (``loss``
    is the step's 0-d loss Tensor, its gradients are still in place, the scheduler has not
    stepped yet) and ``on_step_end(step_info)``, then ``on_epoch_end(epoch, logs)``; finally
    ``on_train_end()`` (also after an interrupt). Any object with some of these methods works
    as a callback; instances of this class also get ``.trainer``, ``.model``, ``.optimizer``
    and ``.history`` set before ``on_train_begin`` (``trainer.batch`` is the current step's
    ``(inputs, targets)``). Setting ``self.stop_training = True`` ends
    training after the current epoch.

    A callback with a ``state_key`` (a str) and ``state_dict()`` / ``load_state_dict(state)``
    is saved in the training checkpoints under that key, and restored by
    ``load_checkpoint(..., callbacks=[...])`` (see :class:`MonitorCallback`).

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

    def on_optimizer_step(self, loss, grad_norm):
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

    def __init__(
        self,
        on_train_begin=None,
        on_epoch_begin=None,
        on_step_end=None,
        on_epoch_end=None,
        on_train_end=None,
        on_optimizer_step=None,
    ):
        hooks = dict(
            on_train_begin=on_train_begin,
            on_epoch_begin=on_epoch_begin,
            on_optimizer_step=on_optimizer_step,
            on_step_end=on_step_end,
            on_epoch_end=on_epoch_end,
            on_train_end=on_train_end,
        )
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

    def __init__(
        self, monitor="val_loss", patience=5, min_delta=0.0, mode="min", restore_best=True
    ):
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        if patience < 0 or min_delta < 0:
            raise ValueError(
                f"EarlyStopping: patience ({patience}) and min_delta ({min_delta}) must be >= 0"
            )
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
            raise KeyError(
                f"EarlyStopping: monitor {self.monitor!r} is not in the epoch logs "
                f"{sorted(logs)} (val_* entries need a val_loader)"
            )
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


class MonitorCallback(Callback):
    """Feed a gradient monitor (``cr.diagnostics.GradientMonitor``) from the training loop.

    After every ``optimizer.step()`` it calls ``monitor.step(loss)``, or, when the trainer
    clips gradients, ``monitor.step(loss, grad_norm=norm_before_clipping, max_norm=clip)``.
    At the end of an epoch validated on a ``val_loader`` it passes the epoch's validation loss
    to ``monitor.note_val_loss`` (for the ``overfitting`` verdict).
    Its ``state_key`` is ``'monitor'``: training checkpoints carry ``monitor.state_dict()``
    (when the monitor has one), and ``load_checkpoint(..., monitor=monitor)`` gives it back,
    so that a resumed run is judged on its whole history.

    ``fit(..., monitor=m)`` is a shorthand for ``callbacks=[MonitorCallback(m), ...]``.

    Args:
        monitor: a ``GradientMonitor`` (or any object with ``step(loss)``).
        sharpness_every (int): every this many steps, measure the loss surface's sharpness
            λ_max on the step's batch at the updated weights
            (``monitor.measure_sharpness``, power iteration on Hessian-vector products), so
            that ``lr_too_high`` / ``lr_too_low`` cite λ_max and 2/λ_max. Each measurement
            costs about ``2 * sharpness_iters`` training steps; 0 (default) never measures.
            The measurement leaves the training trajectory unchanged (hooks paused, buffers
            and random state restored).
        sharpness_iters (int): Hessian-vector products per measurement, at most.

    Example::

        monitor = cr.diagnostics.GradientMonitor(model, optimizer=opt, clip_norm=1.0)
        cr.train.fit(model, loss_fn, opt, loader, 5, clip_grad_norm=1.0,
                     callbacks=[cr.train.MonitorCallback(monitor, sharpness_every=200)])
    """

    state_key = "monitor"

    def __init__(self, monitor, sharpness_every=0, sharpness_iters=20):
        if not callable(getattr(monitor, "step", None)):
            raise TypeError(f"monitor must have a step(loss) method, got {type(monitor).__name__}")
        for name, value, low in (
            ("sharpness_every", sharpness_every, 0),
            ("sharpness_iters", sharpness_iters, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"MonitorCallback: {name} must be an int >= {low}, got {value!r}")
        if sharpness_every and not callable(getattr(monitor, "measure_sharpness", None)):
            raise TypeError(
                f"MonitorCallback: sharpness_every needs a monitor with measure_sharpness, "
                f"got {type(monitor).__name__}"
            )
        self.monitor = monitor
        self.sharpness_every, self.sharpness_iters = sharpness_every, sharpness_iters

    def on_optimizer_step(self, loss, grad_norm):
        if grad_norm is None:
            self.monitor.step(loss)
        else:
            max_norm = self.trainer.clip_grad_norm if self.trainer is not None else None
            self.monitor.step(loss, grad_norm=grad_norm, max_norm=max_norm)
        if self.sharpness_every and self.trainer is not None:
            steps = getattr(self.monitor, "steps_seen", 0)
            value = float(loss.item() if hasattr(loss, "item") else loss)
            if steps % self.sharpness_every == 0 and math.isfinite(value):
                self._measure_sharpness()

    def _measure_sharpness(self):
        from ..diagnostics.sharpness import hooks_paused

        batch = getattr(self.trainer, "batch", None)
        if batch is None:
            return
        with hooks_paused(self.monitor):
            self.monitor.measure_sharpness(self.trainer.loss_fn, batch, iters=self.sharpness_iters)

    def on_epoch_end(self, epoch, logs):
        note = getattr(self.monitor, "note_val_loss", None)
        if callable(note) and logs.get("val_loss") is not None:
            note(logs["val_loss"])

    def state_dict(self):
        """The monitor's ``state_dict()``, or None for a monitor without one."""
        state_dict = getattr(self.monitor, "state_dict", None)
        return state_dict() if callable(state_dict) else None

    def load_state_dict(self, state):
        """Give the monitor back a state saved by :meth:`state_dict` (None: nothing to load).

        The monitor's report is then computed once, on trial: it reads every part of the
        state (losses, facts, events), so a damaged one is refused (``ValueError``, the
        monitor as before) rather than failing at the end of the resumed training.
        """
        if state is None:
            return
        report = getattr(self.monitor, "report", None)
        if not callable(report):
            self.monitor.load_state_dict(state)
            return
        before = self.monitor.state_dict()
        try:
            self.monitor.load_state_dict(state)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report()
                for series in ("losses", "val_losses"):  # the loss plots' arrays
                    steps, values = getattr(self.monitor, series, lambda: ((), ()))()
                    if np.ndim(steps) != 1 or np.shape(steps) != np.shape(values):
                        raise ValueError(f"its {series} are not two series of numbers")
        except Exception as err:  # noqa: BLE001 - whatever fails, the state does not work
            self.monitor.load_state_dict(before)
            raise ValueError(
                f"the gradient monitor's state does not work ({type(err).__name__}: {err})"
            ) from None
