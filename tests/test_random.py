"""Generators and sampling: reproducible seeding, and the right distributions (within tolerance)."""

import numpy as np
import pytest

import chainrule as cr


def test_manual_seed_returns_the_default_generator_and_replays_draws():
    g = cr.manual_seed(5)
    assert g is cr.default_generator and isinstance(g, cr.Generator)
    assert cr.initial_seed() == 5
    a = (cr.rand(3), cr.randn(2), cr.randint(0, 10, (4,)), cr.randperm(6))
    cr.manual_seed(5)
    b = (cr.rand(3), cr.randn(2), cr.randint(0, 10, (4,)), cr.randperm(6))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_generator_objects_are_independent_of_the_default():
    g = cr.Generator().manual_seed(1)
    assert g.initial_seed() == 1 and g.device == cr.device("cpu")
    cr.manual_seed(0)
    state = cr.random.get_rng_state()
    x = cr.rand(4, generator=g)
    assert cr.random.get_rng_state() == state  # the default generator was not used
    g.manual_seed(1)
    np.testing.assert_array_equal(cr.rand(4, generator=g).numpy(), x.numpy())
    assert cr.Generator().initial_seed() == 67280421310721  # torch's default seed


def test_generator_state_roundtrip_and_seed():
    g = cr.Generator().manual_seed(3)
    cr.randn(5, generator=g)
    state = g.get_state()
    assert isinstance(state, cr.Tensor) and state.dtype == np.uint8
    x = cr.randn(5, generator=g)
    g.set_state(state)
    np.testing.assert_array_equal(cr.randn(5, generator=g).numpy(), x.numpy())
    s = g.seed()
    assert g.initial_seed() == s
    with pytest.raises(RuntimeError, match="set_state"):
        g.set_state(cr.zeros(4, dtype=cr.uint8))
    with pytest.raises(TypeError, match="generator"):
        cr.rand(2, generator=42)


def test_every_random_function_takes_a_generator():
    calls = [
        lambda g: cr.rand(3, generator=g),
        lambda g: cr.randn(3, generator=g),
        lambda g: cr.randint(5, (3,), generator=g),
        lambda g: cr.randperm(5, generator=g),
        lambda g: cr.multinomial(cr.ones(4), 2, generator=g),
        lambda g: cr.normal(cr.zeros(3), 1.0, generator=g),
        lambda g: cr.bernoulli(cr.full((3,), 0.5), generator=g),
        lambda g: cr.poisson(cr.full((3,), 2.0), generator=g),
        lambda g: cr.rand_like(cr.zeros(3), generator=g),
        lambda g: cr.zeros(3).uniform_(generator=g),
        lambda g: cr.zeros(3).normal_(generator=g),
        lambda g: cr.zeros(3).bernoulli_(0.5, generator=g),
        lambda g: cr.zeros(3).exponential_(generator=g),
        lambda g: cr.zeros(3).random_(0, 10, generator=g),
    ]
    for call in calls:
        a = call(cr.Generator().manual_seed(11))
        b = call(cr.Generator().manual_seed(11))
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("args,shape", [((10, (3,)), (3,)), ((3, 10, (2, 2)), (2, 2))])
def test_randint_signatures_match_torch(args, shape):
    torch = pytest.importorskip("torch")
    ours = cr.randint(*args)
    assert ours.shape == tuple(torch.randint(*args).shape) == shape and ours.dtype == np.int64
    low = args[0] if len(args) == 3 else 0
    assert low <= ours.numpy().min() and ours.numpy().max() < args[-2]
    assert cr.randint(3, 10, size=(5,)).shape == (5,)
    with pytest.raises(TypeError, match="high"):
        cr.randint(5.5, (2,))


def test_multinomial_with_replacement_frequencies():
    g = cr.Generator().manual_seed(0)
    p = cr.tensor([0.1, 0.0, 0.6, 0.3])
    draws = cr.multinomial(p, 20000, replacement=True, generator=g)
    assert draws.shape == (20000,) and draws.dtype == np.int64
    freq = np.bincount(draws.numpy(), minlength=4) / 20000
    np.testing.assert_allclose(freq, [0.1, 0.0, 0.6, 0.3], atol=0.015)
    rows = cr.multinomial(cr.tensor([[1.0, 0.0], [0.0, 5.0]]), 7, replacement=True, generator=g)
    assert rows.shape == (2, 7) and rows[0].tolist() == [0] * 7 and rows[1].tolist() == [1] * 7


def test_multinomial_without_replacement_matches_torch_distribution():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    g = cr.Generator().manual_seed(0)
    w = [0.5, 0.3, 0.15, 0.05]
    n = 6000
    ours = cr.multinomial(cr.tensor([w] * n), 2, generator=g).numpy()
    theirs = torch.multinomial(torch.tensor([w] * n), 2).numpy()
    assert np.all(ours[:, 0] != ours[:, 1])

    def pair_freq(a):
        return np.bincount(a[:, 0] * 4 + a[:, 1], minlength=16) / len(a)

    # Exact probability of the ordered pair (i, j): w_i * w_j / (1 - w_i).
    exact = np.array(
        [[w[i] * w[j] / (1 - w[i]) if i != j else 0 for j in range(4)] for i in range(4)]
    )
    np.testing.assert_allclose(pair_freq(ours), exact.ravel(), atol=0.02)
    np.testing.assert_allclose(pair_freq(theirs), exact.ravel(), atol=0.02)
    full = cr.multinomial(cr.tensor(w), 4, generator=g)
    assert sorted(full.tolist()) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "bad,match",
    [
        (lambda: cr.multinomial(cr.tensor([1.0, 0.0]), 2), "not enough"),
        (lambda: cr.multinomial(cr.tensor([1.0, -1.0]), 1), "element < 0"),
        (lambda: cr.multinomial(cr.tensor([0.0, 0.0]), 1, True), "sum"),
        (lambda: cr.multinomial(cr.ones(2), 3), "n_sample"),
        (lambda: cr.multinomial(cr.ones(2, 2, 2), 1), "1 or 2 dim"),
        (lambda: cr.multinomial(cr.ones(2), 0), "num_samples"),
    ],
)
def test_multinomial_bad_input_raises(bad, match):
    with pytest.raises(RuntimeError, match=match):
        bad()


def test_normal_forms():
    g = cr.Generator().manual_seed(2)
    a = cr.normal(cr.full((20000,), 3.0), 2.0, generator=g)
    assert (
        a.dtype == np.float32
        and abs(a.numpy().mean() - 3) < 0.05
        and abs(a.numpy().std() - 2) < 0.05
    )
    b = cr.normal(0.0, cr.tensor([1.0, 10.0]).expand(10000, 2), generator=g).numpy()
    np.testing.assert_allclose(b.std(axis=0), [1.0, 10.0], rtol=0.05)
    c = cr.normal(1.0, 0.5, size=(4, 5), generator=g)
    assert c.shape == (4, 5) and c.dtype == np.float32
    assert cr.normal(cr.zeros(3, dtype=cr.float64), 1.0).dtype == np.float64
    with pytest.raises(RuntimeError, match="std >= 0"):
        cr.normal(cr.zeros(2), -1.0)


def test_bernoulli_poisson_and_inplace_fills():
    g = cr.Generator().manual_seed(4)
    b = cr.bernoulli(cr.tensor([0.0, 0.25, 1.0]).expand(20000, 3), generator=g).numpy()
    np.testing.assert_allclose(b.mean(axis=0), [0.0, 0.25, 1.0], atol=0.015)
    assert cr.full((3,), 0.5).bernoulli().dtype == np.float32
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        cr.bernoulli(cr.tensor([1.5]))
    p = cr.poisson(cr.full((20000,), 4.0), generator=g).numpy()
    assert abs(p.mean() - 4) < 0.1 and abs(p.var() - 4) < 0.2
    u = cr.zeros(20000).uniform_(-1, 3, generator=g).numpy()
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.05
    e = cr.zeros(20000).exponential_(2.0, generator=g).numpy()
    assert abs(e.mean() - 0.5) < 0.02
    r = cr.zeros(20000).random_(2, 5, generator=g).numpy()
    assert set(np.unique(r)) == {2, 3, 4}
    assert set(np.unique(cr.zeros(1000).random_(3, generator=g).numpy())) == {0, 1, 2}
    bb = cr.zeros(20000).bernoulli_(0.3, generator=g).numpy()
    assert abs(bb.mean() - 0.3) < 0.015
    m = cr.full((4,), 1.0).multinomial(2)
    assert m.shape == (2,) and m[0].item() != m[1].item()


def test_cuda_seeding_is_an_honest_no_op():
    cr.manual_seed(0)
    x = cr.rand(3)
    cr.manual_seed(0)
    cr.cuda.manual_seed_all(123)  # must not disturb chainrule's generator
    np.testing.assert_array_equal(cr.rand(3).numpy(), x.numpy())


def test_generator_pickles_and_fork_rng_restores_state():
    import pickle

    g = cr.Generator().manual_seed(9)
    cr.rand(2, generator=g)
    h = pickle.loads(pickle.dumps(g))
    assert isinstance(h, cr.Generator) and h.initial_seed() == 9
    np.testing.assert_array_equal(cr.rand(3, generator=h).numpy(), cr.rand(3, generator=g).numpy())
    cr.manual_seed(1)
    with cr.random.fork_rng():
        cr.randn(10)
    after = cr.rand(2).numpy()
    cr.manual_seed(1)
    np.testing.assert_array_equal(cr.rand(2).numpy(), after)
