"""The bundled 8x8 handwritten digits (UCI optical recognition of handwritten digits)."""

import io
from importlib import resources

import numpy as np


def _read_npz():
    # importlib.resources works from a source tree, an installed wheel or a zip file alike.
    blob = resources.files(__package__).joinpath("digits.npz").read_bytes()
    with np.load(io.BytesIO(blob)) as archive:
        return archive["images"], archive["labels"]


def load_digits(return_images=False):
    """The 1,797 8x8 digit images bundled with chainrule (see ``DIGITS_SOURCE.txt``).

    Returns:
        ``(X, y)`` NumPy arrays. ``X`` is float32 with values in [0, 1] (pixel counts 0..16
        divided by 16), shape ``(1797, 64)``, or ``(1797, 8, 8)`` when ``return_images``;
        ``y`` is int64 of shape ``(1797,)`` with digits 0..9 (174 to 183 per class).

    Example::

        X, y = cr.data.load_digits()
        X.shape, y.shape     # (1797, 64), (1797,)
    """
    images, labels = _read_npz()
    X = images.astype(np.float32) / np.float32(16)
    if not return_images:
        X = X.reshape(len(X), 64)
    return X, labels.astype(np.int64)


def digits_split(test_fraction=0.2, seed=0):
    """A fixed stratified train/test split of :func:`load_digits`.

    Each class contributes ``round(test_fraction * class_count)`` random images to the test set;
    both parts are then shuffled. The split depends only on ``seed``.

    Returns:
        ``(X_train, y_train, X_test, y_test)``; X float32 ``(n, 64)``, y int64 ``(n,)``.
        With the defaults: 1,438 training and 359 test images.

    Example::

        X_train, y_train, X_test, y_test = cr.data.digits_split()
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    X, y = load_digits()
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        test.append(members[: int(round(test_fraction * len(members)))])
    is_test = np.zeros(len(y), dtype=bool)
    is_test[np.concatenate(test)] = True
    train_idx = rng.permutation(np.flatnonzero(~is_test))
    test_idx = rng.permutation(np.flatnonzero(is_test))
    return X[train_idx], y[train_idx], X[test_idx], y[test_idx]
