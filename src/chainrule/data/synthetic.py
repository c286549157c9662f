"""Synthetic datasets: 2-D toy classification sets and long-time-lag sequence tasks.

All return NumPy arrays and draw from ``np.random.default_rng(seed)`` when ``seed`` is given,
otherwise from chainrule's global generator (so ``cr.manual_seed`` makes them reproducible).
"""

import numpy as np

from ._rng import resolve_rng


def _class_sizes(n_samples, n_classes):
    """Split ``n_samples`` as evenly as possible; the first classes get the remainder."""
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples={n_samples} is smaller than the number of classes ({n_classes})"
        )
    return [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]


def _finish(points, sizes, noise, rng):
    """Stack per-class point sets, add Gaussian noise, shuffle; float32 X and int64 y."""
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    X = np.concatenate(points).astype(np.float32)
    y = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    X += (noise * rng.standard_normal(X.shape)).astype(np.float32)
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_spirals(n_samples=300, n_classes=2, noise=0.05, turns=1.5, seed=None):
    """Interleaved spiral arms, one per class, in the unit disc.

    Arm ``k`` is the curve ``r * (cos a, sin a)`` with ``a = 2*pi*(k/n_classes + turns*r)`` for
    radius ``r`` evenly spaced in [0, 1]; Gaussian noise with std ``noise`` is added to each
    coordinate and the samples are shuffled.

    Returns:
        ``X`` float32 ``(n_samples, 2)`` and ``y`` int64 ``(n_samples,)`` in ``0..n_classes-1``.

    Example::

        X, y = cr.data.make_spirals(n_samples=300, n_classes=3, seed=0)
    """
    if n_classes < 2:
        raise ValueError(f"make_spirals needs n_classes >= 2, got {n_classes}")
    rng = resolve_rng(seed=seed)
    sizes = _class_sizes(n_samples, n_classes)
    points = []
    for k, m in enumerate(sizes):
        r = np.linspace(0.0, 1.0, m)
        angle = 2 * np.pi * (k / n_classes + turns * r)
        points.append(np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1))
    return _finish(points, sizes, noise, rng)


def make_moons(n_samples=200, noise=0.1, seed=None):
    """Two interleaving half circles of radius 1.

    Class 0 is the upper half of the circle centred at (0, 0); class 1 the lower half of the
    circle centred at (1, 0.5). Noise and shuffling as in :func:`make_spirals`.

    Returns:
        ``X`` float32 ``(n_samples, 2)`` and ``y`` int64 ``(n_samples,)`` in ``{0, 1}``.

    Example::

        X, y = cr.data.make_moons(200, noise=0.1, seed=0)
    """
    rng = resolve_rng(seed=seed)
    sizes = _class_sizes(n_samples, 2)
    t0, t1 = (np.linspace(0.0, np.pi, m) for m in sizes)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    return _finish([upper, lower], sizes, noise, rng)


def make_circles(n_samples=200, noise=0.05, factor=0.5, seed=None):
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor``.

    Points are evenly spaced in angle; noise and shuffling as in :func:`make_spirals`.

    Returns:
        ``X`` float32 ``(n_samples, 2)`` and ``y`` int64 ``(n_samples,)`` in ``{0, 1}``.

    Example::

        X, y = cr.data.make_circles(200, factor=0.3, seed=0)
    """
    if not 0 < factor < 1:
        raise ValueError(f"factor must be strictly between 0 and 1, got {factor}")
    rng = resolve_rng(seed=seed)
    sizes = _class_sizes(n_samples, 2)
    rings = []
    for radius, m in zip((1.0, factor), sizes, strict=True):
        t = np.linspace(0.0, 2 * np.pi, m, endpoint=False)
        rings.append(radius * np.stack([np.cos(t), np.sin(t)], axis=1))
    return _finish(rings, sizes, noise, rng)


def adding_problem(seq_len, n, seed=None):
    """The adding problem (Hochreiter & Schmidhuber 1997): sum two marked numbers of a sequence.

    Channel 0 holds uniform random values in [0, 1); channel 1 is a marker that is 1 at exactly
    two steps, one in the first half (``t < seq_len // 2``) and one in the second, 0 elsewhere.
    The target is the sum of the two marked values, so predicting it needs memory spanning up
    to ``seq_len`` steps. Always predicting 1.0 gives a mean squared error of about 0.167.

    Returns:
        ``X`` float32 ``(n, seq_len, 2)`` and ``y`` float32 ``(n, 1)``.

    Example::

        X, y = cr.data.adding_problem(seq_len=50, n=1000, seed=0)
    """
    if seq_len < 2:
        raise ValueError(f"adding_problem needs seq_len >= 2, got {seq_len}")
    rng = resolve_rng(seed=seed)
    values = rng.random((n, seq_len), dtype=np.float32)
    rows = np.arange(n)
    first = rng.integers(0, seq_len // 2, n)
    second = rng.integers(seq_len // 2, seq_len, n)
    marker = np.zeros((n, seq_len), dtype=np.float32)
    marker[rows, first] = 1
    marker[rows, second] = 1
    y = values[rows, first] + values[rows, second]
    return np.stack([values, marker], axis=2), y[:, None]


# Symbols of the temporal-order task: four distractors, the two relevant ones, start and end.
TEMPORAL_ORDER_SYMBOLS = ("a", "b", "c", "d", "X", "Y", "B", "E")


def _temporal_order_windows(seq_len):
    """Where the two relevant symbols may sit: about 10-20% and 50-60% into the sequence."""
    lo1 = max(1, seq_len // 10)
    hi1 = max(lo1 + 1, 2 * seq_len // 10)
    lo2 = max(hi1, 5 * seq_len // 10)
    hi2 = max(lo2 + 1, 6 * seq_len // 10)
    return (lo1, hi1), (lo2, hi2)


def temporal_order(seq_len, n, seed=None):
    """The temporal-order task (Hochreiter & Schmidhuber 1997, experiment 6a): a long-lag classification.

    Each sequence starts with ``B``, ends with ``E`` and is filled with random distractors
    ``a..d``, except two steps holding ``X`` or ``Y``: one at ``t1`` in roughly [0.1, 0.2) *
    seq_len, one at ``t2`` in roughly [0.5, 0.6) * seq_len (for ``seq_len=100``: t1 in
    [10, 20), t2 in [50, 60)). The class is the ordered pair: XX=0, XY=1, YX=2, YY=3, so the
    network must keep the first symbol in memory over ~0.4 * seq_len distractor steps and
    until the end. Symbols are one-hot in the order of ``TEMPORAL_ORDER_SYMBOLS``.

    Returns:
        ``X`` float32 ``(n, seq_len, 8)`` one-hot and ``y`` int64 ``(n,)`` in ``0..3``.

    Example::

        X, y = cr.data.temporal_order(seq_len=100, n=2000, seed=0)
    """
    if seq_len < 4:
        raise ValueError(
            f"temporal_order needs seq_len >= 4 (B, two relevant symbols, E), got {seq_len}"
        )
    rng = resolve_rng(seed=seed)
    (lo1, hi1), (lo2, hi2) = _temporal_order_windows(seq_len)
    symbols = rng.integers(0, 4, (n, seq_len))
    symbols[:, 0], symbols[:, -1] = 6, 7
    rows = np.arange(n)
    first, second = rng.integers(0, 2, n), rng.integers(0, 2, n)
    symbols[rows, rng.integers(lo1, hi1, n)] = 4 + first
    symbols[rows, rng.integers(lo2, hi2, n)] = 4 + second
    X = np.eye(len(TEMPORAL_ORDER_SYMBOLS), dtype=np.float32)[symbols]
    return X, (2 * first + second).astype(np.int64)
