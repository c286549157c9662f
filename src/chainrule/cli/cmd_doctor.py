"""``chainrule doctor``: diagnose a training configuration and prove which remedy fixes it."""

import json

import click

from .. import nn
from ..diagnostics.repair import MAX_TRIALS, repair
from .app import cli, debug_option
from .common import note, write_text
from .config import merge, options, validate
from .datasets import load_arrays, shape_for
from .models import activation_name, build_model, init_name
from .run import make_optimizer


@cli.command("doctor")
@options("model", "data", "optim")
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="Read options from a JSON or TOML file (the keys of 'chainrule train'); "
    "options on the command line override it.",
)
@click.option(
    "--steps",
    type=click.IntRange(min=2),
    default=100,
    show_default=True,
    help="Training steps of each trial (the short budget; the same for every trial).",
)
@click.option(
    "--max-trials",
    type=click.IntRange(min=0),
    default=MAX_TRIALS,  # the same default as cr.diagnostics.repair
    show_default=True,
    help="Remedies trained at most (in the report's order).",
)
@click.option(
    "--monitor-every",
    "every",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Record the gradient statistics every N steps.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Also write the result (every trial, verdicts, loss, accuracy) as JSON.",
)
@debug_option
def doctor_command(config_path, steps, max_trials, every, json_path, **params):
    """Diagnose a network's training, try the remedies, and recommend only proven ones.

    Builds the model of 'chainrule train' (same options), trains it for a short budget with
    the gradient monitor attached, then trains a fresh copy (same seed, same batches) with
    each remedy the report proposes applied alone: ReLU + He init, BatchNorm/LayerNorm,
    residual connections, gradient clipping, the learning rate x10 or /10 or the LR range
    test's suggestion, an LSTM instead of a tanh RNN... A remedy is RECOMMENDED only when the
    problem it was tried for is gone and the model learns better than the original (test loss
    down 5 % or test accuracy up 2 points, the other not worse).

    \b
    Examples:
      chainrule doctor --depth 10 --activation sigmoid --init xavier --optimizer sgd
      chainrule doctor --data adding --model rnn --optimizer sgd --lr 1 --seq-len 20
      chainrule doctor --config my_run.toml --steps 200 --json doctor.json
    """
    ctx = click.get_current_context()
    config = merge(ctx, params, config_path)
    for text in validate(config):
        note(text)
    config = config.replace(
        lr=config.learning_rate, activation=activation_name(config), init=init_name(config)
    )
    X_train, y_train, X_test, y_test, kind = load_arrays(config)
    X_train, X_test = (shape_for(config.model, X) for X in (X_train, X_test))
    regression = kind == "sequence"
    n_out = 1 if regression else int(max(y_train.max(), y_test.max())) + 1
    sample_shape = tuple(X_train.shape[1:])

    def build():
        return build_model(config, sample_shape, n_out)

    def optimizer(params, lr):
        return make_optimizer(config.replace(lr=lr), params)

    loss_fn = nn.MSELoss() if regression else nn.CrossEntropyLoss()
    click.echo(
        f"doctor: {config.model} depth {config.depth} width {config.width} "
        f"({config.activation or 'fixed gates'}, init {config.init}), "
        f"{config.optimizer} lr {config.lr:g} on {config.data}; {steps} steps per trial"
    )
    result = repair(
        build,
        loss_fn,
        (X_train, y_train),
        eval_data=(X_test, y_test),
        optimizer=optimizer,
        lr=config.lr,
        clip=config.clip_norm,
        steps=steps,
        batch_size=config.batch_size,
        every=every,
        seed=config.seed,
        max_trials=max_trials,
    )
    click.echo("")
    click.echo(str(result.report))
    click.echo("")
    click.echo(result.table())
    if json_path:
        write_text(json_path, json.dumps(result.to_dict(), indent=2, default=_plain) + "\n")
        click.echo(f"\nwrote {json_path}")


def _plain(x):
    """NumPy scalars and anything else JSON does not know, as plain values."""
    return x.item() if hasattr(x, "item") else str(x)
