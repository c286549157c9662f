import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    TEMPORAL_ORDER_SYMBOLS,
    adding_problem,
    make_circles,
    make_moons,
    make_spirals,
    temporal_order,
)

TOY = [
    lambda **kw: make_spirals(n_samples=101, n_classes=2, **kw),
    lambda **kw: make_spirals(n_samples=101, n_classes=3, **kw),
    lambda **kw: make_moons(n_samples=101, **kw),
    lambda **kw: make_circles(n_samples=101, **kw),
]


@pytest.mark.parametrize("make", TOY)
def test_toy_sets_shapes_dtypes_and_balance(make):
    X, y = make(seed=0)
    assert X.shape == (101, 2) and X.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 101


@pytest.mark.parametrize("make", TOY)
def test_toy_sets_deterministic_given_seed_or_global_generator(make):
    a, b = make(seed=4), make(seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], make(seed=5)[0])
    cr.manual_seed(11)
    c = make()
    cr.manual_seed(11)
    np.testing.assert_array_equal(c[0], make()[0])


def test_spirals_points_lie_on_their_class_arm():
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.0, turns=1.5, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    keep = r > 1e-3
    arm_angle = 2 * np.pi * (y / 3 + 1.5 * r)
    diff = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - arm_angle)))
    np.testing.assert_allclose(diff[keep], 0, atol=1e-4)
    assert r.max() <= 1 + 1e-6


def test_moons_geometry_without_noise():
    X, y = make_moons(n_samples=100, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1, atol=1e-6)
    assert lower[:, 1].max() <= 0.5 + 1e-6


def test_circles_radii_without_noise():
    X, y = make_circles(n_samples=100, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)


def test_noise_is_gaussian_with_std_noise():
    X, y = make_circles(n_samples=4000, noise=0.05, seed=0)
    radial = np.hypot(*X[y == 0].T) - 1  # radial part of isotropic noise has std 0.05
    assert abs(radial.mean()) < 0.01 and 0.045 < radial.std() < 0.055


def test_toy_sets_reject_bad_arguments():
    with pytest.raises(ValueError, match="n_classes"):
        make_spirals(n_classes=1)
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=1.5)
    with pytest.raises(ValueError, match="noise"):
        make_moons(noise=-1)
    with pytest.raises(ValueError, match="n_samples"):
        make_spirals(n_samples=2, n_classes=3)


# --- adding problem ---------------------------------------------------------------------------


def test_adding_problem_shapes_dtypes_and_targets():
    X, y = adding_problem(seq_len=20, n=500, seed=0)
    assert X.shape == (500, 20, 2) and X.dtype == np.float32
    assert y.shape == (500, 1) and y.dtype == np.float32
    values, marker = X[..., 0], X[..., 1]
    assert values.min() >= 0 and values.max() < 1
    assert set(np.unique(marker)) == {0.0, 1.0}
    np.testing.assert_array_equal(marker[:, :10].sum(1), 1)
    np.testing.assert_array_equal(marker[:, 10:].sum(1), 1)
    np.testing.assert_allclose(y[:, 0], (values * marker).sum(1), rtol=1e-6)


def test_adding_problem_deterministic_and_uses_all_positions():
    a, b = adding_problem(10, 2000, seed=1), adding_problem(10, 2000, seed=1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], adding_problem(10, 2000, seed=2)[0])
    assert (a[0][..., 1].sum(0) > 0).all()  # every step gets marked sometimes
    # Constant prediction 1.0 has MSE var(U1 + U2) = 1/6.
    assert abs(np.mean((a[1] - 1) ** 2) - 1 / 6) < 0.02


def test_adding_problem_short_sequence_error():
    with pytest.raises(ValueError, match="seq_len"):
        adding_problem(1, 5)


# --- temporal order ----------------------------------------------------------------------------


@pytest.mark.parametrize("seq_len", [4, 7, 100])
def test_temporal_order_labels_follow_the_two_relevant_symbols(seq_len):
    X, y = temporal_order(seq_len, 400, seed=0)
    assert X.shape == (400, seq_len, 8) and X.dtype == np.float32
    assert y.shape == (400,) and y.dtype == np.int64
    np.testing.assert_array_equal(X.sum(-1), 1)  # exactly one-hot
    symbols = X.argmax(-1)
    assert (symbols[:, 0] == TEMPORAL_ORDER_SYMBOLS.index("B")).all()
    assert (symbols[:, -1] == TEMPORAL_ORDER_SYMBOLS.index("E")).all()
    is_relevant = (symbols == 4) | (symbols == 5)  # X or Y
    np.testing.assert_array_equal(is_relevant.sum(1), 2)
    rows, steps = np.nonzero(is_relevant)
    relevant = symbols[is_relevant].reshape(400, 2) - 4  # 0 for X, 1 for Y, in time order
    np.testing.assert_array_equal(y, 2 * relevant[:, 0] + relevant[:, 1])
    assert set(np.unique(y)) == {0, 1, 2, 3}
    if seq_len == 100:
        first, second = steps.reshape(400, 2).T
        assert first.min() >= 10 and first.max() < 20
        assert second.min() >= 50 and second.max() < 60


def test_temporal_order_deterministic_and_short_error():
    a, b = temporal_order(30, 50, seed=3), temporal_order(30, 50, seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], temporal_order(30, 50, seed=4)[1])
    with pytest.raises(ValueError, match="seq_len"):
        temporal_order(3, 5)
