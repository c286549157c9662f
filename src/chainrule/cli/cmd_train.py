"""``chainrule train``: train a model with the gradient monitor attached, and write a run folder."""

import contextlib
import html
import os
import sys
import time

import click
import numpy as np

from .. import diagnostics
from .. import random as crrandom
from .. import train as crtrain
from . import distributed
from .app import INTERRUPTED, cli, debug_option
from .common import (
    PLOT_HINT,
    fmt,
    matplotlib_available,
    note,
    percent,
    save_png,
    seconds_text,
    write_text,
)
from .config import (
    RESUME_FREE,
    SPEC,
    TrainConfig,
    check_config_values,
    given_on_command_line,
    merge,
    options,
    read_config_file,
    validate,
)
from .datasets import load_data
from .folder import (
    CHECKPOINT,
    CONFIG,
    RunWriter,
    check_run_name,
    create_run_folder,
    run_lock,
    truncate_gradients,
    write_config,
    write_json,
)
from .models import activation_name, describe, init_name
from .run import HealthFlags, Progress, Session, StopOnNonFinite

EPOCH_DEPENDENT_SCHEDULES = ("onecycle", "cosine", "step")


@cli.command("train")
@options()
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Read options from a JSON or TOML file (keys as the options, e.g. "
    "clip_norm = 1.0); options on the command line override it.",
)
@click.option(
    "--resume",
    type=click.Path(exists=True, file_okay=False),
    metavar="RUN_DIR",
    help="Continue the run in RUN_DIR from its last checkpoint, with its own "
    "config; only --epochs (to train longer), --monitor-every, --tensorboard "
    "and --plots may be given.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress bar per epoch [default: when stderr is a terminal; otherwise "
    "one line per epoch].",
)
@click.option(
    "--nproc",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Train data-parallel on N MPI ranks of one BLAS thread each (runs "
    'mpiexec -n N itself; needs pip install "chainrule[mpi]"). '
    "--batch-size is per rank; rank 0 writes the run folder.",
)
@debug_option
def train_command(config_path, resume, progress, nproc, **params):
    """Train a network and report what its gradients did.

    Trains on the bundled 8x8 digits by default (an MLP, seconds on 2 CPU cores), shows
    loss, accuracy and a gradient-health flag per epoch, then prints the test accuracy and the
    health report, and writes the run folder RUNS_DIR/NAME/: report.html, metrics.csv,
    gradients.csv, config.json, checkpoint.npz, summary.json and figures/.

    Recurrent models (rnn, lstm, gru) read sequences: on digits each 8x8 image is fed as 8
    time steps of 8 features (its rows). Ctrl-C stops training; the checkpoint of the last
    complete epoch stays, and --resume continues from it exactly (exit code 130).

    \b
    Examples:
      chainrule train
      chainrule train --depth 20 --activation sigmoid --init normal --optimizer sgd --lr 0.05
      chainrule train --model lstm --epochs 10 --name lstm-digits
      chainrule train --data adding --model rnn --recurrent-gain 3 --optimizer sgd --clip-norm 1
      chainrule train --config my_run.toml --lr 0.01
      chainrule train --lr auto                    # range test first, then train at its pick
      chainrule train --resume runs/lstm-digits --epochs 20
      chainrule train --nproc 2 --data mnist
    """
    ctx = click.get_current_context()
    if nproc > 1 and not distributed.under_mpi():
        ctx.exit(distributed.relaunch(nproc))
    rank, world = distributed.join(nproc) if distributed.under_mpi() else (0, 1)
    with contextlib.ExitStack() as held:
        if resume:
            config, state = _resume_config(ctx, resume, config_path, params)
            distributed.check_resume_world(resume, state, world)
            if rank == 0:
                held.enter_context(run_lock(resume))  # no second process in this folder
        else:
            config, state = merge(ctx, params, config_path), None
        notes = validate(config)
        auto = config.lr == "auto"
        if auto and world > 1:
            raise click.UsageError(
                "--lr auto runs the range test in one process: run it "
                "without --nproc, then pass its suggestion as --lr"
            )
        config = config.replace(lr=None) if auto else config
        config = config.replace(
            lr=config.learning_rate, activation=activation_name(config), init=init_name(config)
        )
        started = time.perf_counter()
        if world > 1:
            folder = resume or _shared_folder(config, rank)
            crrandom.manual_seed(config.seed)
            session = Session(config, distributed.shard(load_data(config), config.seed))
            distributed.wrap(session)  # trains through DDP
            if resume:
                state = _restore(folder, session, state)
        else:
            if not resume:
                check_run_name(config)  # refused now if the name is taken
            session = Session(config)  # data, model, optimizer, monitor
            if auto:
                config, session = _auto_lr(config, session)
            if resume:
                folder = resume
                state = _restore(folder, session, state)  # all or nothing, before config.json
            else:
                folder = create_run_folder(config)  # atomic: never shared with another run
                held.enter_context(run_lock(folder))
        if rank == 0:
            write_config(folder, config)  # on resume: with the new --epochs
            _announce(config, session, folder, notes, state)
            if world > 1:
                click.echo(
                    f"distributed: {world} MPI ranks, batch {config.batch_size} per "
                    f"rank (global {config.batch_size * world}); rank 0 writes the run "
                    "folder"
                )
        code = _train(config, session, folder, state, progress, started, rank)
    if code:
        ctx.exit(code)


def _auto_lr(config, session):
    """``--lr auto``: the learning-rate range test on this model and data (the model restored
    afterwards), then a fresh session at its suggestion (same seed, so the same initial
    weights)."""
    with np.errstate(all="ignore"):
        result = diagnostics.lr_range_test(
            session.model, session.loss_fn, session.optimizer, session.bundle.train
        )
    session.close()
    lr = float(f"{result.suggested_lr:.3g}")
    click.echo(
        f"--lr auto: the learning-rate range test suggests {lr:g} (range "
        f"{result.suggested_range[0]:.3g} to {result.suggested_range[1]:.3g}); "
        "training at it"
    )
    config = config.replace(lr=lr)
    return config, Session(config)


def _shared_folder(config, rank):
    """Rank 0 picks the run folder (or the error), every rank gets the same answer."""
    box = [None, None]
    if rank == 0:
        try:
            check_run_name(config)
            box[0] = create_run_folder(config)  # atomic, as in one process
        except click.ClickException as e:
            box[1] = e
    box = [distributed.share_folder(box[0]), distributed.share_folder(box[1])]
    if box[1] is not None:
        raise box[1]
    return box[0]


# ---- resume ----


def _resume_config(ctx, run_dir, config_path, params):
    """The run's config with the allowed overrides, and its checkpoint's state (not yet loaded)."""
    if config_path:
        raise click.UsageError(
            "--resume continues a run with its own config.json: --config cannot be combined with it"
        )
    for name in (CONFIG, CHECKPOINT):
        if not os.path.isfile(os.path.join(run_dir, name)):
            raise click.UsageError(
                f"--resume {run_dir}: no {name} there (not a run folder written by chainrule train)"
            )
    path = os.path.join(run_dir, CONFIG)
    values = check_config_values(read_config_file(path), path, ctx)
    bad = [
        SPEC[k].flags.split("/")[0]
        for k in params
        if given_on_command_line(ctx, k) and k not in RESUME_FREE
    ]
    if bad:
        raise click.UsageError(
            f"--resume continues {run_dir} with its own settings: "
            f"{', '.join(bad)} cannot be changed (start a new run with "
            f"--config {path} instead)"
        )
    base = TrainConfig(**values)
    overrides = {k: params[k] for k in RESUME_FREE if given_on_command_line(ctx, k)}
    config = base.replace(**overrides, name=os.path.basename(os.path.normpath(run_dir)))
    state = _checkpoint_epochs(run_dir)
    _check_epochs(config, base, state, run_dir)
    return config, state


def _checkpoint_epochs(run_dir):
    from ..serialization import load

    path = os.path.join(run_dir, CHECKPOINT)
    try:
        ckpt = load(path)
    except ValueError as err:  # CheckpointError: damaged, truncated, foreign
        raise click.ClickException(f"--resume {run_dir}: {err}") from None
    epoch = ckpt.get("epoch") if isinstance(ckpt, dict) else None
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise click.ClickException(
            f"--resume {run_dir}: {path} is not a training checkpoint of chainrule train"
        )
    extra = ckpt.get("extra")
    extra = extra if isinstance(extra, dict) else {}
    saved = ckpt.get("callbacks")
    problem = _run_state_problem(extra, ckpt.get("world_size"))
    if problem:
        # read during the resumed training: refused now, before anything is written
        raise click.ClickException(f"--resume {run_dir}: {path} is damaged: {problem}")
    return {
        "epoch": epoch,
        "extra": extra,
        "world_size": ckpt.get("world_size"),
        "has_monitor": isinstance(saved, dict) and saved.get("monitor") is not None,
    }


def _is_count(value, least=0):
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _is_text(value):
    """A str that can be written to a file (JSON lets a lone surrogate such as '\\ud800' in)."""
    return isinstance(value, str) and value.isprintable()


def _run_state_problem(extra, world_size):
    """What is wrong with the run's own entries of a checkpoint (``extra``, ``world_size``)."""
    if not _is_count(extra.get("global_step", 0)):
        return f"extra['global_step'] is {extra.get('global_step')!r:.40}, not a step count"
    health = extra.get("health")
    if health is not None and not (
        isinstance(health, dict) and all(_is_count(k) and _is_text(v) for k, v in health.items())
    ):
        return f"extra['health'] is {health!r:.40}, not health flags by epoch"
    if world_size is not None and not _is_count(world_size, 1):
        return f"world_size is {world_size!r:.40}, not a number of ranks"
    return None


def _restore(run_dir, session, state):
    """Load the checkpoint into the session's objects (all or nothing); the loaded state."""
    path = os.path.join(run_dir, CHECKPOINT)
    # Checkpoints carry the monitor's state (older ones do not: then its series start afresh).
    monitor = session.monitor if state.get("has_monitor") else None
    try:
        loaded = crtrain.load_checkpoint(
            path,
            session.model,
            session.optimizer,
            session.scheduler,
            loader=session.bundle.train,
            monitor=monitor,
        )
    except (ValueError, RuntimeError, TypeError) as err:
        raise click.ClickException(
            f"--resume {run_dir}: the checkpoint does not fit its config.json: {err}"
        ) from None
    return dict(
        state, epoch=loaded["epoch"], history=loaded["history"], monitor=monitor is not None
    )


def _check_epochs(config, base, state, run_dir):
    done = state["epoch"]
    if config.epochs != base.epochs and config.schedule in EPOCH_DEPENDENT_SCHEDULES:
        raise click.UsageError(
            f"--epochs cannot change on resume with --schedule "
            f"{config.schedule}: its learning rates depend on the total"
        )
    if done >= config.epochs:
        raise click.UsageError(
            f"{run_dir} already finished {done} epochs: give --epochs N "
            f"with N > {done} to train it further"
        )


# ---- training ----


def _announce(config, session, folder, notes, state):
    b = session.bundle
    click.echo(f"model: {describe(config)} ({_n_params(session.model):,} parameters)")
    click.echo(f"data: {b.description}")
    click.echo(
        f"training: {config.optimizer} lr {config.learning_rate:g}, batch "
        f"{config.batch_size}, {config.epochs} epochs"
        + (f", {config.schedule} schedule" if config.schedule != "none" else "")
        + (f", clip norm {config.clip_norm:g}" if config.clip_norm else "")
        + f", seed {config.seed}"
    )
    for n in notes:
        note(n)
    if state is not None:
        click.echo(f"resuming {folder} after epoch {state['epoch']}")
    click.echo(f"run folder: {folder}")


def _n_params(model):
    return sum(p._data.size for p in model.parameters())


def _train(config, session, folder, state, progress, started, rank=0):
    start_epoch, history, offset, flags, written = 0, None, 0, {}, -1
    if state is not None:
        start_epoch, history = state["epoch"], state["history"]
        done = int(state["extra"].get("global_step", 0))
        flags = dict(state["extra"].get("health") or {})
        if rank == 0:
            truncate_gradients(os.path.join(folder, "gradients.csv"), done)
        # A restored monitor counts steps from the start of the run (its rows up to the
        # checkpoint are on disk already); a fresh one (an older checkpoint) from the resume.
        offset, written = (0, done - 1) if state.get("monitor") else (done, -1)
    session.monitor_restored = bool(state and state.get("monitor"))
    health = HealthFlags(session.monitor, flags)
    stop = StopOnNonFinite()
    tb = _tensorboard(folder) if config.tensorboard and rank == 0 else None
    writer = RunWriter(folder, session, health, offset, tb)
    writer.written_step = written
    bar = sys.stderr.isatty() if progress is None else progress
    callbacks = [
        health,
        stop,
        writer,
        Progress(config.epochs, len(session.bundle.train), session.metric, bar=bar),
    ]
    if tb is not None:
        callbacks.insert(3, Histograms(tb, session))
    if rank != 0:
        callbacks = [health, stop]  # rank 0 alone writes and shows progress
    history = session.fit(callbacks, start_epoch=start_epoch, history=history)
    if tb is not None:
        tb.close()
    if rank != 0:
        return _closing_other_rank(history, stop)
    return _finish(config, session, folder, writer, stop, history, started, start_epoch)


class Histograms(crtrain.Callback):
    """After each epoch: TensorBoard histograms of the weights, their last gradients and every
    layer's output on one test batch (``diagnostics.add_histograms``)."""

    def __init__(self, writer, session):
        self.writer = writer
        self.model = session.model
        self.batch = next(iter(session.bundle.test))[0]

    def on_epoch_end(self, epoch, logs):
        diagnostics.add_histograms(self.writer, self.model, epoch + 1, batch=self.batch)


def _closing_other_rank(history, stop):
    if history.interrupted:
        return INTERRUPTED
    return 1 if stop.stopped_at is not None else 0


def _tensorboard(folder):
    from tensorboardX import SummaryWriter

    return SummaryWriter(os.path.join(folder, "tensorboard"))


def _finish(config, session, folder, writer, stop, history, started, start_epoch):
    final = session.evaluate()
    report = session.report()
    status = (
        "interrupted"
        if history.interrupted
        else "diverged"
        if stop.stopped_at is not None
        else "completed"
    )
    # a restored monitor's series cover the whole run; a fresh one's start at the resume
    title = _title(folder, session, final, 0 if session.monitor_restored else start_epoch)
    figures = _write_report(config, session, folder, report, title)
    seconds = time.perf_counter() - started
    write_json(
        os.path.join(folder, "summary.json"),
        {
            "status": status,
            "epochs_done": _saved_epochs(folder, writer),
            "epochs": config.epochs,
            "test": final,
            "train_loss": history.train_loss[-1] if history.train_loss else None,
            "seconds": seconds,
            "health": report.to_dict(),
            "figures": figures,
            "resumed_from_epoch": start_epoch or None,
        },
    )
    _print_result(session, final, report, seconds, folder, figures)
    return _closing(status, folder, writer, stop, history)


def _title(folder, session, final, start_epoch):
    name = os.path.basename(os.path.normpath(folder))
    what = _final_text(session.metric, final)
    since = f" (gradient series since the resume after epoch {start_epoch})" if start_epoch else ""
    return f"chainrule train: {name}, {what}{since}"


def _final_text(metric, final):
    if metric == "accuracy":
        return f"test accuracy {percent(final['accuracy'])}"
    return f"test MSE {final['mse']:.4g}"


def _write_report(config, session, folder, report, title):
    """report.html (with plots when matplotlib is there) and figures/*.png; returns PNG names."""
    from ..diagnostics.html import render_page
    from ..diagnostics.names import layer_labels

    figs, note_text, curves = [], None, []
    if not config.plots:
        note_text = "Plots were turned off (--no-plots)."
    elif not matplotlib_available():
        note_text = f"No plots: matplotlib is not installed ({PLOT_HINT})."
    else:
        figs = diagnostics.plots.figures(session.monitor, report=report)
        if session.history is not None and len(session.history):
            curves = [
                (
                    "learning_curves",
                    "Learning curves per epoch (validation: the held-out test part)",
                    diagnostics.plots.plot_learning_curves(session.history, session.metric),
                )
            ]
    names = []
    if figs:
        os.makedirs(os.path.join(folder, "figures"), exist_ok=True)
        for key, _, fig in curves + figs:
            names.append(f"figures/{key}.png")
            save_png(fig, os.path.join(folder, names[-1]))
    page = render_page(
        report,
        figs,
        title,
        note_text,
        run_html=_run_html(config, session, curves),
        labels=layer_labels(session.monitor),
    )
    write_text(os.path.join(folder, "report.html"), page)
    return names


def _run_html(config, session, curves=()):
    """The run's settings, learning curves and per-epoch numbers, for the top of the report."""
    from ..diagnostics.html import figures_html

    h, metric = session.history, session.metric
    rows = [
        {
            "epoch": e + 1,
            "train loss": h.train_loss[i],
            f"train {metric}": h.metrics.get(f"train_{metric}", [None] * len(h))[i],
            f"test {metric}": h.metrics.get(f"val_{metric}", [None] * len(h))[i],
        }
        for i, e in enumerate(h.epochs)
    ]
    columns = [(k, k) for k in ("epoch", "train loss", f"train {metric}", f"test {metric}")]
    lines = [
        f"model: {describe(config)}",
        f"data: {session.bundle.description}",
        f"training: {config.optimizer}, lr {config.learning_rate:g}, batch "
        f"{config.batch_size}, {config.epochs} epochs, seed {config.seed}",
    ]
    return (
        "<h2>Run</h2><p>"
        + "<br>".join(html.escape(x) for x in lines)
        + "</p>"
        + figures_html(list(curves))
        + _html_table(rows, columns)
    )


def _html_table(rows, columns):
    head = "".join(f"<th>{html.escape(t)}</th>" for _, t in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(r[k] if isinstance(r.get(k), str) else fmt(r.get(k)))}</td>"
            for k, _ in columns
        )
        + "</tr>"
        for r in rows
    )
    return (
        f'<details><summary>Numbers per epoch</summary><div class="table-wrap"><table>'
        f"<tr>{head}</tr>{body}</table></div></details>"
    )


def _print_result(session, final, report, seconds, folder, figures):
    click.echo("")
    click.echo(
        f"{_final_text(session.metric, final)} ({session.bundle.n_test} held-out "
        f"examples), test loss {final['loss']:.4g}, {seconds_text(seconds)}"
    )
    click.echo("")
    click.echo(str(report))
    click.echo("")
    click.echo(f"report: {os.path.join(folder, 'report.html')}")
    if figures:
        click.echo(f"figures: {', '.join(os.path.join(folder, f) for f in figures)}")
    elif session.config.plots and not matplotlib_available():
        note(f"figures need matplotlib: {PLOT_HINT}")


def _saved_epochs(folder, writer):
    """The epochs the checkpoint on disk holds: what --resume continues from. Read back from
    the file, because a Ctrl-C held back while it was written is raised just after it was
    renamed into place, before the writer could note it."""
    try:
        return _checkpoint_epochs(folder)["epoch"]
    except Exception:  # noqa: BLE001  (no readable checkpoint: fall back to the writer's count)
        return writer.epochs_saved


def _closing(status, folder, writer, stop, history):
    if status == "interrupted":
        done = _saved_epochs(folder, writer)
        click.echo(
            f"Interrupted: {CHECKPOINT} holds the {done} complete epoch(s); continue "
            f"with: chainrule train --resume {folder}",
            err=True,
        )
        return INTERRUPTED
    if status == "diverged":
        raise click.ClickException(
            f"training diverged: the loss became non-finite in epoch "
            f"{stop.stopped_at + 1} (see the health report above and "
            f"{os.path.join(folder, 'report.html')})"
        )
    return 0
