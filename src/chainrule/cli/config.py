"""The options of a run: one table of them, merged from defaults, a config file and the command line.

Every option of ``chainrule train`` (except ``--config``, ``--resume``, ``--progress`` and
``--debug``) is also a key of the config file, spelled with underscores or dashes
(``clip_norm`` or ``clip-norm``). Precedence: built-in default < config file < command line.
A config file is JSON (``.json``) or TOML (``.toml``) with flat keys; an unknown key is refused,
naming the closest valid one.

Example config (TOML)::

    model = "mlp"
    depth = 20
    activation = "sigmoid"
    init = "normal"
    optimizer = "sgd"
    lr = 0.05
"""

import dataclasses
import difflib
import json
import math
import os
from dataclasses import dataclass, field

import click
from click.core import ParameterSource

MODELS = ("mlp", "cnn", "rnn", "lstm", "gru")
RECURRENT = ("rnn", "lstm", "gru")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "silu", "linear")
INITS = ("auto", "default", "normal", "xavier", "he", "lecun", "orthogonal")
NORMS = ("none", "batch", "layer")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
SCHEDULES = ("none", "step", "cosine", "exponential", "onecycle", "plateau")
DATASETS = ("digits", "spirals", "moons", "circles", "adding")
DEFAULT_LR = {"sgd": 0.1, "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "adagrad": 1e-2}


class DataSpec(click.ParamType):
    """``digits``, ``spirals``, ``moons``, ``circles``, ``adding`` or ``idx:FOLDER`` (checked to exist)."""

    name = "DATA"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            self.fail(f"expected a data name, got {value!r}", param, ctx)
        if value.startswith("idx:"):
            folder = os.path.expanduser(value[4:])
            if not folder:
                self.fail("idx: needs a folder, e.g. idx:~/data/mnist", param, ctx)
            if not os.path.isdir(folder):
                self.fail(f"{value}: folder {folder!r} does not exist", param, ctx)
            return value
        if value not in DATASETS:
            close = difflib.get_close_matches(value, DATASETS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            if "mnist" in value.lower():  # MNIST-like: read from IDX files
                hint = (
                    f" (for {value}, download its IDX files and give idx:FOLDER, e.g. "
                    f"idx:~/data/{value.lower()})"
                )
            self.fail(
                f"{value!r} is not one of {', '.join(DATASETS)} or idx:FOLDER{hint}", param, ctx
            )
        return value


class FiniteFloatRange(click.FloatRange):
    """A FloatRange that also refuses NaN and infinity (``--lr nan`` would pass a range check:
    every comparison with NaN is false)."""

    def convert(self, value, param, ctx):
        value = super().convert(value, param, ctx)
        if not math.isfinite(value):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return value


def _positive(kind):
    return FiniteFloatRange(min=0, min_open=True) if kind is float else click.IntRange(min=1)


class LearningRate(click.ParamType):
    """A positive float, or ``auto`` (chainrule train runs the range test and uses its
    suggestion)."""

    name = "FLOAT|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        return _positive(float).convert(value, param, ctx)


@dataclass(frozen=True)
class Spec:
    """One option: its config key, command-line flag(s), click type, default and help."""

    key: str
    flags: str
    type: object
    default: object
    help: str
    group: str  # 'model', 'data', 'optim', 'train' or 'run'
    meta: str = field(default=None)


SPECS = [
    Spec(
        "model",
        "--model",
        click.Choice(MODELS),
        "mlp",
        "Network: mlp, cnn, or a recurrent rnn|lstm|gru (these read sequences: on digits each "
        "8x8 image is fed as 8 time steps of 8 features, its rows).",
        "model",
    ),
    Spec(
        "depth",
        "--depth",
        click.IntRange(min=1),
        2,
        "Hidden layers (mlp), conv layers (cnn) or stacked recurrent layers.",
        "model",
    ),
    Spec(
        "width",
        "--width",
        click.IntRange(min=1),
        128,
        "Units per hidden layer, channels per conv layer, or the recurrent hidden size.",
        "model",
    ),
    Spec(
        "activation",
        "--activation",
        click.Choice(ACTIVATIONS),
        None,
        "Activation between layers [default: relu; tanh for rnn; fixed gates for lstm/gru].",
        "model",
    ),
    Spec(
        "init",
        "--init",
        click.Choice(INITS),
        "auto",
        "Weight initialisation: auto (he after ReLU-like activations, xavier after tanh, "
        "sigmoid or linear, default for rnn/lstm/gru), default (the layers' own, PyTorch's), "
        "normal N(0,1), xavier (Glorot), he (Kaiming), lecun, orthogonal. Biases start at 0 "
        "except with default.",
        "model",
    ),
    Spec(
        "recurrent_gain",
        "--recurrent-gain",
        _positive(float),
        None,
        "rnn/lstm/gru: re-initialise each recurrent matrix as orthogonal times this gain (its "
        "largest singular value; above 1 gradients can explode through time).",
        "model",
    ),
    Spec(
        "norm",
        "--norm",
        click.Choice(NORMS),
        "none",
        "Normalisation after each hidden layer (mlp, cnn): none, batch (BatchNorm), layer "
        "(LayerNorm).",
        "model",
    ),
    Spec(
        "residual",
        "--residual/--no-residual",
        click.BOOL,
        False,
        "Make hidden layers 2..depth residual blocks x + layer(activation(norm(x))) (mlp, "
        "cnn; pre-activation, He et al. 2016).",
        "model",
    ),
    Spec(
        "dropout",
        "--dropout",
        FiniteFloatRange(0, 1, max_open=True),
        0.0,
        "Dropout probability after each hidden activation.",
        "model",
    ),
    Spec(
        "data",
        "--data",
        DataSpec(),
        "digits",
        "digits (bundled 8x8 images), spirals, moons, circles (2-D points), adding (the adding "
        "problem, regression on sequences) or idx:FOLDER (MNIST-format IDX files "
        "train-/t10k-images/labels in FOLDER).",
        "data",
    ),
    Spec(
        "samples",
        "--samples",
        click.IntRange(min=10),
        None,
        "Training examples to use [default: all digits/IDX; 600 spirals, 400 moons/circles, "
        "2000 adding].",
        "data",
    ),
    Spec(
        "seq_len",
        "--seq-len",
        click.IntRange(min=2),
        50,
        "Sequence length of the adding problem.",
        "data",
    ),
    Spec("optimizer", "--optimizer", click.Choice(OPTIMIZERS), "adam", "Optimizer.", "optim"),
    Spec(
        "lr",
        "--lr",
        LearningRate(),
        None,
        "Learning rate, or auto (train: run the learning-rate range test first and train at "
        "its suggestion) [default: 0.1 sgd, 0.01 adagrad, 0.001 otherwise].",
        "optim",
    ),
    Spec(
        "momentum",
        "--momentum",
        FiniteFloatRange(0, 1, max_open=True),
        0.0,
        "Momentum (sgd, rmsprop).",
        "optim",
    ),
    Spec(
        "weight_decay", "--weight-decay", FiniteFloatRange(min=0), 0.0, "L2 weight decay.", "optim"
    ),
    Spec(
        "schedule",
        "--schedule",
        click.Choice(SCHEDULES),
        "none",
        "Learning-rate schedule: step (x0.1 every third of the epochs), cosine, exponential "
        "(x0.95 per epoch), onecycle (per batch), plateau (halve when the test loss stalls).",
        "optim",
    ),
    Spec(
        "clip_norm",
        "--clip-norm",
        _positive(float),
        None,
        "Clip the gradients' total 2-norm to this value before each step.",
        "optim",
    ),
    Spec("batch_size", "--batch-size", click.IntRange(min=1), 64, "Examples per batch.", "optim"),
    Spec(
        "seed",
        "--seed",
        click.IntRange(min=0),
        0,
        "Random seed (weights, shuffling, dropout, synthetic data).",
        "optim",
    ),
    Spec("epochs", "--epochs", click.IntRange(min=1), 30, "Epochs to train.", "train"),
    Spec(
        "monitor_every",
        "--monitor-every",
        click.IntRange(min=1),
        1,
        "Record the gradient statistics every N steps.",
        "train",
    ),
    Spec(
        "sharpness_every",
        "--sharpness-every",
        click.IntRange(min=0),
        0,
        "Every N steps, measure the loss surface's sharpness (largest Hessian eigenvalue "
        "λ_max; plain gradient descent is unstable above lr = 2/λ_max) for the learning-rate "
        "verdicts. 0: off.",
        "train",
    ),
    Spec(
        "name",
        "--name",
        click.STRING,
        None,
        "Run folder name under --runs-dir [default: the date and time].",
        "run",
    ),
    Spec(
        "runs_dir",
        "--runs-dir",
        click.Path(file_okay=False),
        "runs",
        "Folder that holds the run folders.",
        "run",
    ),
    Spec(
        "tensorboard",
        "--tensorboard/--no-tensorboard",
        click.BOOL,
        False,
        "Also write TensorBoard logs to RUN/tensorboard (needs tensorboardX).",
        "run",
    ),
    Spec(
        "plots",
        "--plots/--no-plots",
        click.BOOL,
        True,
        "Draw the figures (PNG files and the HTML report's plots; needs matplotlib).",
        "run",
    ),
]
SPEC = {s.key: s for s in SPECS}
KEYS = tuple(SPEC)
# Options a resumed run may set anew: they do not change what the finished epochs computed.
RESUME_FREE = ("epochs", "monitor_every", "sharpness_every", "tensorboard", "plots")


@dataclass
class TrainConfig:
    """Every option of a run; see ``SPECS`` for their meaning."""

    model: str = "mlp"
    depth: int = 2
    width: int = 128
    activation: str = None
    init: str = "auto"
    recurrent_gain: float = None
    norm: str = "none"
    residual: bool = False
    dropout: float = 0.0
    data: str = "digits"
    samples: int = None
    seq_len: int = 50
    optimizer: str = "adam"
    lr: float = None
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: str = "none"
    clip_norm: float = None
    batch_size: int = 64
    seed: int = 0
    epochs: int = 30
    monitor_every: int = 1
    sharpness_every: int = 0
    name: str = None
    runs_dir: str = "runs"
    tensorboard: bool = False
    plots: bool = True

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    @property
    def recurrent(self):
        return self.model in RECURRENT

    @property
    def learning_rate(self):
        """``lr``, or the optimizer's default when not set."""
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]


assert tuple(f.name for f in dataclasses.fields(TrainConfig)) == KEYS


def options(*groups):
    """Decorator adding the click options of ``groups`` (all when none given)."""
    specs = [s for s in SPECS if not groups or s.group in groups]

    def decorate(f):
        for s in reversed(specs):
            flag = "/" in s.flags  # --x/--no-x: a boolean flag
            f = click.option(
                s.flags,
                s.key,
                type=None if flag else s.type,
                default=s.default,
                help=s.help,
                show_default=s.default is not None,
            )(f)
        return f

    return decorate


# ---- config files ----


def read_config_file(path):
    """The raw key -> value dict of a JSON or TOML file, keys with underscores."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".json", ".toml"):
        raise click.UsageError(f"config file {path}: use a .json or .toml file")
    try:
        if suffix == ".json":
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        else:
            with open(path, "rb") as f:
                data = _toml().load(f)
    except OSError as e:
        raise click.UsageError(f"config file {path}: {e.strerror}") from None
    except ValueError as e:  # json.JSONDecodeError and tomllib.TOMLDecodeError
        raise click.UsageError(
            f"config file {path} is not valid {suffix[1:].upper()}: {str(e).splitlines()[0]}"
        ) from None
    except RecursionError:  # both parsers recurse into nested lists
        raise click.UsageError(
            f"config file {path}: values are nested too deeply (a config holds flat keys)"
        ) from None
    if not isinstance(data, dict):
        raise click.UsageError(
            f"config file {path}: expected a table of keys, got {type(data).__name__}"
        )
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _toml():
    try:
        import tomllib  # Python 3.11+
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            raise click.UsageError(
                "TOML config files need Python 3.11 or the tomli package "
                "(pip install tomli); a .json config works anywhere"
            ) from None
    return tomllib


# Other names people use for the same settings.
SYNONYMS = {
    "learning_rate": "lr",
    "optimiser": "optimizer",
    "layers": "depth",
    "num_layers": "depth",
    "n_layers": "depth",
    "hidden": "width",
    "hidden_size": "width",
    "units": "width",
    "batch": "batch_size",
    "dataset": "data",
    "initialization": "init",
    "initialisation": "init",
    "normalization": "norm",
    "normalisation": "norm",
    "grad_clip": "clip_norm",
    "max_grad_norm": "clip_norm",
    "clip": "clip_norm",
    "num_epochs": "epochs",
    "n_epochs": "epochs",
    "scheduler": "schedule",
    "lr_schedule": "schedule",
    "lr_scheduler": "schedule",
    "architecture": "model",
}


def closest_key(key, valid=KEYS):
    """The valid key most like ``key`` (a known synonym, else difflib), for 'did you mean'."""
    if SYNONYMS.get(key) in valid:
        return SYNONYMS[key]
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    if close:
        return close[0]
    return max(valid, key=lambda k: difflib.SequenceMatcher(None, key, k).ratio())


def check_config_values(raw, path, ctx=None, valid=KEYS):
    """Convert each value with its option's type; refuse unknown keys, naming the closest one."""
    values = {}
    for key, value in raw.items():
        if key not in valid:
            raise click.UsageError(
                f"config file {path}: unknown key {key!r} (did you mean "
                f"{closest_key(key, valid)!r}?)"
            )
        values[key] = _convert(SPEC[key], value, path, ctx)
    return values


def _convert(spec, value, path, ctx):
    if value is None:
        if spec.default is not None:
            raise click.UsageError(f"config file {path}: key {spec.key!r} cannot be null")
        return None
    if isinstance(value, (dict, list)):
        raise click.UsageError(
            f"config file {path}: key {spec.key!r} must be a single value, "
            f"got a {'table' if isinstance(value, dict) else 'list'}"
        )
    if spec.type is click.BOOL and not isinstance(value, bool):
        raise click.UsageError(
            f"config file {path}: key {spec.key!r} must be true or false, got {value!r}"
        )
    kind = _value_kind(spec.type)
    if isinstance(spec.type, LearningRate) and isinstance(value, str):
        return (
            spec.type.convert(value, None, ctx)
            if value.strip().lower() == "auto"
            else _convert_failed(spec, value, path)
        )
    # No silent coercion: 1.7 epochs is not 1, true is not a depth of 1, 0.5 is not seed 0.
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        raise click.UsageError(
            f"config file {path}: key {spec.key!r} must be an integer, got {value!r}"
        )
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise click.UsageError(
            f"config file {path}: key {spec.key!r} must be a number, got {value!r}"
        )
    if kind == "string" and not isinstance(value, str):
        raise click.UsageError(
            f"config file {path}: key {spec.key!r} must be a string, got {value!r}"
        )
    try:
        return spec.type.convert(value, None, ctx)
    except click.BadParameter as e:
        raise click.UsageError(f"config file {path}: key {spec.key!r}: {e.message}") from None


def _convert_failed(spec, value, path):
    raise click.UsageError(
        f"config file {path}: key {spec.key!r} must be a number, got "
        f'{value!r} (or the string "auto")'
    )


def _value_kind(param_type):
    """What a config value of this option must be in the file: integer, number, string, bool."""
    if isinstance(param_type, click.types.BoolParamType):
        return "bool"
    if isinstance(param_type, click.types.IntParamType):
        return "integer"
    if isinstance(param_type, (click.types.FloatParamType, LearningRate)):
        return "number"  # --lr also takes "auto" (checked before the kind)
    return "string"


def given_on_command_line(ctx, key):
    return ctx.get_parameter_source(key) in (
        ParameterSource.COMMANDLINE,
        ParameterSource.ENVIRONMENT,
    )


def merge(ctx, params, config_path=None):
    """A :class:`TrainConfig`: the defaults < the config file < the command line.

    ``params`` are the command's keyword arguments; keys the command does not have keep their
    config-file or default value.
    """
    values = TrainConfig().to_dict()
    if config_path is not None:
        values.update(check_config_values(read_config_file(config_path), config_path, ctx))
    for key in KEYS:
        if key in params and given_on_command_line(ctx, key):
            values[key] = params[key]
    return TrainConfig(**values)


def config_text(config, exclude=("name",)):
    """The config as JSON text (what ``--config`` reads back), without ``exclude`` keys."""
    data = {k: v for k, v in config.to_dict().items() if k not in exclude}
    return json.dumps(data, indent=2) + "\n"


# ---- consistency ----


def _refuse(message):
    raise click.UsageError(message)


def _check_recurrent(c):
    if c.activation is not None and (c.model != "rnn" or c.activation not in ("tanh", "relu")):
        _refuse(
            f"--activation {c.activation} does not apply to --model {c.model}: an rnn takes "
            "tanh or relu, lstm and gru have fixed gate activations"
        )
    if c.norm != "none" or c.residual:
        _refuse(
            f"--norm and --residual apply to mlp and cnn, not to --model {c.model} (an lstm "
            "or gru is the recurrent way to keep gradients flowing)"
        )
    if c.dropout and c.depth < 2:
        _refuse(
            f"--dropout with --model {c.model} acts between stacked layers: it needs "
            "--depth 2 or more"
        )
    if c.data in ("spirals", "moons", "circles"):
        _refuse(
            f"--model {c.model} reads sequences but --data {c.data} gives 2-D points: use "
            "--data digits (rows as time steps), adding or idx:FOLDER"
        )


def _check_feedforward(c):
    if c.recurrent_gain is not None:
        _refuse(f"--recurrent-gain applies to rnn, lstm and gru, not to --model {c.model}")
    if c.model == "cnn" and not (c.data == "digits" or c.data.startswith("idx:")):
        _refuse(
            f"--model cnn needs images but --data {c.data} is not: use --data digits or idx:FOLDER"
        )
    if c.residual and c.depth < 2:
        _refuse("--residual wraps hidden layers 2..depth: it needs --depth 2 or more")


def validate(c):
    """Refuse inconsistent options (``click.UsageError``); return notes on what will happen.

    An option set to something other than its default that would be ignored is refused rather
    than silently dropped.
    """
    (_check_recurrent if c.recurrent else _check_feedforward)(c)
    if c.momentum and c.optimizer not in ("sgd", "rmsprop"):
        _refuse(f"--momentum applies to sgd and rmsprop, not to --optimizer {c.optimizer}")
    if c.seq_len != SPEC["seq_len"].default and c.data != "adding":
        _refuse("--seq-len sets the length of the adding problem: it needs --data adding")
    if c.norm == "batch" and c.batch_size < 2:
        _refuse("--norm batch needs --batch-size 2 or more (BatchNorm averages over the batch)")
    if c.tensorboard:
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            _refuse("--tensorboard needs tensorboardX: pip install chainrule[tensorboard]")
    return _notes(c)


def _notes(c):
    notes = []
    if c.recurrent and c.data == "digits":
        notes.append(
            f"--model {c.model} on digits: each 8x8 image is fed as a sequence of 8 "
            "time steps (its rows) of 8 features"
        )
    if c.recurrent and c.data.startswith("idx:"):
        notes.append(
            f"--model {c.model} on images: each image is fed row by row, one row per time step"
        )
    if c.model == "mlp" and c.data == "adding":
        notes.append(
            "--model mlp on the adding problem: each sequence is flattened into one "
            "vector (no recurrence)"
        )
    return notes
