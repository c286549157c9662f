"""The data of a run (``--data``): arrays shaped for the model, and their loaders.

Every dataset comes as a training and a test part. Images are kept as ``(N, H, W)`` and shaped
per model: flattened for an mlp, ``(N, 1, H, W)`` for a cnn, and ``(N, H, W)`` for a recurrent
model, which reads the H rows as H time steps of W features. Sequences ``(N, T, F)`` are
flattened for an mlp.

Example::

    bundle = load_data(TrainConfig(model="lstm"))
    bundle.sample_shape        # (8, 8): 8 steps of 8 features
"""

import os
from dataclasses import dataclass

import click
import numpy as np

from .. import data as crdata

SIZES = {"spirals": 600, "moons": 400, "circles": 400, "adding": 2000}
EVAL_BATCH = 512


@dataclass
class DataBundle:
    """Loaders and what the model and the loss need to know."""

    train: object  # DataLoader of (x, y), shuffled each epoch
    test: object  # DataLoader of the held-out part, in order
    task: str  # 'classification' or 'regression'
    n_outputs: int
    sample_shape: tuple  # shape of one example as the model receives it
    description: str

    @property
    def n_test(self):
        return len(self.test.dataset)


def _digits():
    X_train, y_train, X_test, y_test = crdata.digits_split()
    return X_train.reshape(-1, 8, 8), y_train, X_test.reshape(-1, 8, 8), y_test, "image"


def _split(X, y, test_fraction=0.2):
    """Synthetic sets come shuffled: the last fifth is the test part."""
    n_test = max(1, int(round(len(X) * test_fraction)))
    return X[:-n_test], y[:-n_test], X[-n_test:], y[-n_test:]


def _points(name, n, seed):
    make = {
        "spirals": lambda: crdata.make_spirals(n, n_classes=3, noise=0.1, seed=seed),
        "moons": lambda: crdata.make_moons(n, noise=0.15, seed=seed),
        "circles": lambda: crdata.make_circles(n, noise=0.05, factor=0.5, seed=seed),
    }[name]
    X, y = make()
    return (*_split(X, y), "points")


def _adding(n, seq_len, seed):
    X, y = crdata.adding_problem(seq_len, n + n // 4, seed=seed)
    return (*_split(X, y), "sequence")


def _idx(folder):
    folder = os.path.expanduser(folder)
    try:
        train = crdata.MNIST(folder, train=True)
        test = crdata.MNIST(folder, train=False)
    except (FileNotFoundError, ValueError) as e:
        raise click.UsageError(f"--data idx:{folder}: {e}") from None
    scale = np.float32(1 / 255)
    return (
        train.data.astype(np.float32) * scale,
        train.targets,
        test.data.astype(np.float32) * scale,
        test.targets,
        "image",
    )


def load_arrays(config):
    """``(X_train, y_train, X_test, y_test, kind)``, kind 'image', 'points' or 'sequence'."""
    name = config.data
    if name == "digits":
        arrays = _digits()
    elif name.startswith("idx:"):
        arrays = _idx(name[4:])
    elif name == "adding":
        arrays = _adding(config.samples or SIZES["adding"], config.seq_len, config.seed)
    else:
        arrays = _points(name, config.samples or SIZES[name], config.seed)
    X_train, y_train, X_test, y_test, kind = arrays
    if config.samples and (name == "digits" or name.startswith("idx:")):
        X_train, y_train = X_train[: config.samples], y_train[: config.samples]
    return X_train, y_train, X_test, y_test, kind


def shape_for(model, X):
    """``X`` reshaped for ``model`` (see the module docstring)."""
    if model == "mlp":
        return X.reshape(len(X), -1)
    if model == "cnn":
        return X[:, None]
    return X


def load_data(config):
    """A :class:`DataBundle` for ``config`` (uses the global generator for shuffling)."""
    X_train, y_train, X_test, y_test, kind = load_arrays(config)
    X_train, X_test = (shape_for(config.model, X) for X in (X_train, X_test))
    regression = kind == "sequence"
    n_out = 1 if regression else int(max(y_train.max(), y_test.max())) + 1
    train = crdata.DataLoader(
        crdata.TensorDataset(X_train, y_train), batch_size=config.batch_size, shuffle=True
    )
    test = crdata.DataLoader(crdata.TensorDataset(X_test, y_test), batch_size=EVAL_BATCH)
    what = "regression" if regression else f"{n_out} classes"
    description = (
        f"{_label(config)}: {len(X_train)} training / {len(X_test)} test examples of "
        f"shape {tuple(X_train.shape[1:])}, {what}"
    )
    return DataBundle(
        train,
        test,
        "regression" if regression else "classification",
        n_out,
        tuple(X_train.shape[1:]),
        description,
    )


def _label(config):
    if config.data == "adding":
        return f"adding problem (length {config.seq_len})"
    return config.data
