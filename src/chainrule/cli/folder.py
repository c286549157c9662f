"""The run folder of ``chainrule train`` and the callback that keeps it up to date.

Files (each written whole: a temporary file renamed into place, or appended under a held-back
Ctrl-C):

* ``config.json``: every option of the run (``chainrule train --config`` reads it back);
* ``checkpoint.npz``: model, optimizer, scheduler, history and random state at the last epoch
  boundary (``cr.train.save_checkpoint``; ``--resume`` continues from it exactly);
* ``metrics.csv``: one row per epoch (loss, accuracy or MSE on training and test data, learning
  rate, seconds, gradient-health flag);
* ``gradients.csv``: the monitor's series, long format ``step,scope,name,metric,value`` (as
  ``GradientMonitor.to_csv``), appended after every epoch;
* ``report.html``, ``summary.json`` and ``figures/*.png`` at the end; ``tensorboard/`` with
  ``--tensorboard``;
* ``.lock``: held (``flock``) by the process writing the folder, so that a ``--resume`` of a
  run still training is refused.
"""

import contextlib
import csv
import io
import json
import math
import os
import time

import click
import numpy as np

from .. import train as crtrain
from .common import interrupts_deferred, write_text
from .config import config_text

CHECKPOINT = "checkpoint.npz"
CONFIG = "config.json"
GRADIENT_HEADER = "step,scope,name,metric,value\n"


def _named_path(config):
    if (
        os.sep in config.name
        or (os.altsep and os.altsep in config.name)
        or config.name in (".", "..")
    ):
        raise click.UsageError(f"--name {config.name!r}: use a plain folder name")
    return os.path.join(config.runs_dir, config.name)


def _taken(path):
    return click.UsageError(
        f"run folder {path} already exists: continue it with --resume "
        f"{path}, or choose another --name"
    )


def check_run_name(config):
    """Refuse a taken or malformed ``--name`` early, before the data are loaded (a courtesy:
    :func:`create_run_folder` makes the decision that counts)."""
    if config.name:
        path = _named_path(config)
        if os.path.lexists(path):
            raise _taken(path)


def create_run_folder(config):
    """Create the new run folder ``runs_dir/name`` and return its path.

    The folder is made with one ``os.mkdir`` (which fails when the path exists), so two runs
    started at once can never share a folder: with ``--name`` the loser gets a clear error;
    a date-and-time name that another run took is replaced by ``NAME-2``, ``NAME-3``...
    """
    os.makedirs(config.runs_dir, exist_ok=True)
    if config.name:
        path = _named_path(config)
        try:
            os.mkdir(path)
        except FileExistsError:
            raise _taken(path) from None
        return path
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1, 10_000):
        path = os.path.join(config.runs_dir, stamp if k == 1 else f"{stamp}-{k}")
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        return path
    raise click.ClickException(f"no free run folder name {stamp}-N in {config.runs_dir}")


LOCK = ".lock"


@contextlib.contextmanager
def run_lock(folder):
    """Hold ``folder/.lock`` while a run writes the folder; a second holder is refused.

    An advisory ``flock`` (POSIX): the kernel releases it when its process ends, however it
    ends, so a killed run never leaves the folder locked. Elsewhere nothing is locked.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(os.path.join(folder, LOCK), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise click.ClickException(
                f"run folder {folder} is in use by another chainrule "
                "train process; wait for it to finish (or stop it) "
                "before resuming"
            ) from None
        yield
    finally:
        os.close(fd)  # closing releases the lock


def metrics_csv(history, flags):
    """One row per epoch; ``val_*`` of the History are the ``test_*`` columns."""
    names = list(history.metrics)
    header = [
        "epoch",
        "train_loss",
        *[n for n in names if n.startswith("train_")],
        "test_loss",
        *[n.replace("val_", "test_") for n in names if n.startswith("val_")],
        "lr",
        "epoch_time",
        "health",
    ]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for i, epoch in enumerate(history.epochs):
        row = [epoch + 1, history.train_loss[i]]
        row += [history.metrics[n][i] for n in names if n.startswith("train_")]
        row += [history.val_loss[i]] + [
            history.metrics[n][i] for n in names if n.startswith("val_")
        ]
        row += [history.lr[i], round(history.epoch_time[i], 4), flags.get(epoch, "")]
        w.writerow(row)
    return buf.getvalue()


def gradient_rows(history, after, offset=0):
    """``(step, scope, name, metric, value)`` of the rows recorded at monitor steps > ``after``,
    with ``offset`` added to the step (steps of earlier, resumed-from runs)."""
    steps = history.steps
    keep = steps > after
    if not keep.any():
        return []
    rows = []
    series = {m: history.series(m)[keep].reshape(int(keep.sum()), -1) for m in history.metrics}
    for i, step in enumerate(steps[keep]):
        for m, data in series.items():
            scope = history.scope(m)
            names = history.names(scope) if scope != "global" else [""]
            rows += [
                (int(step) + offset, scope, n, m, float(data[i, j])) for j, n in enumerate(names)
            ]
    return rows


def truncate_gradients(path, before):
    """Drop rows of steps >= ``before`` (recorded after the checkpoint a run resumes from)."""
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    kept = [lines[0]] + [ln for ln in lines[1:] if int(ln.split(",", 1)[0]) < before]
    write_text(path, "".join(kept))


class RunWriter(crtrain.Callback):
    """Writes the run folder as training goes (see the module docstring).

    Args:
        folder: the run folder.
        session: the :class:`~chainrule.cli.run.Session`.
        flags: the :class:`~chainrule.cli.run.HealthFlags` callback (its ``flags``).
        step_offset: optimizer steps done before this process (when resuming).
        tensorboard: a ``SummaryWriter`` or None.
    """

    def __init__(self, folder, session, flags, step_offset=0, tensorboard=None):
        self.folder, self.session, self.flags = folder, session, flags
        self.offset, self.tb = step_offset, tensorboard
        self.written_step = -1
        self.epochs_saved = None

    def path(self, name):
        return os.path.join(self.folder, name)

    def on_train_begin(self):
        if not os.path.exists(self.path(CHECKPOINT)):
            self._checkpoint(0)
        if not os.path.exists(self.path("gradients.csv")):
            write_text(self.path("gradients.csv"), GRADIENT_HEADER)

    def on_epoch_end(self, epoch, logs):
        write_text(self.path("metrics.csv"), metrics_csv(self.history, self.flags.flags))
        self._flush_gradients()
        if self.tb is not None:
            for key, value in logs.items():
                if isinstance(value, float) and math.isfinite(value):
                    self.tb.add_scalar(f"epoch/{key.replace('val_', 'test_')}", value, epoch + 1)
        self._checkpoint(epoch + 1)

    def on_train_end(self):
        self._flush_gradients()  # the steps of an interrupted epoch too
        if self.tb is not None:
            self.tb.flush()

    def _checkpoint(self, epochs_done):
        s = self.session
        extra = {
            "global_step": self.offset + s.monitor.steps_seen,
            "health": {int(k): v for k, v in self.flags.flags.items()},
        }
        crtrain.save_checkpoint(
            self.path(CHECKPOINT),
            s.model,
            s.optimizer,
            s.scheduler,
            epoch=epochs_done,
            history=self.history,
            extra=extra,
            loader=s.bundle.train,
            monitor=s.monitor,  # --resume gives it back: the report covers the whole run
        )
        self.epochs_saved = epochs_done

    def _flush_gradients(self):
        rows = gradient_rows(self.session.monitor.history, self.written_step, self.offset)
        if not rows:
            return
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(
            (step, scope, name, metric, f"{value:.6g}") for step, scope, name, metric, value in rows
        )
        with interrupts_deferred(), open(self.path("gradients.csv"), "a", encoding="utf-8") as f:
            f.write(buf.getvalue())
        self.written_step = rows[-1][0] - self.offset
        if self.tb is not None:
            for step, scope, name, metric, value in rows:
                if np.isfinite(value):
                    tag = metric if scope == "global" else f"{scope}/{name}/{metric}"
                    self.tb.add_scalar(tag, value, step)


def write_json(path, data):
    return write_text(path, json.dumps(data, indent=2, default=_plain) + "\n")


def _plain(x):
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def write_config(folder, config):
    return write_text(os.path.join(folder, CONFIG), config_text(config))
