import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _data(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return X, y


@pytest.fixture
def no_sample_access(monkeypatch):
    """TensorDataset's per-sample access fails: proves batches use the fast path."""

    def fail(self, index):
        raise AssertionError("DataLoader indexed a TensorDataset sample by sample")

    monkeypatch.setattr(TensorDataset, "__getitem__", fail)


class Doubled(TensorDataset):
    """A subclass with its own samples: the fast path must not bypass it."""

    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        return x * 2, y


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full(2, i, dtype=np.float32), i * i


# --- datasets -------------------------------------------------------------------------------


def test_tensor_dataset_indexing_returns_tuple_of_rows():
    X, y = _data()
    ds = TensorDataset(X, y)
    assert len(ds) == 10
    x3, y3 = ds[3]
    np.testing.assert_array_equal(x3, X[3])
    assert y3 == 3


def test_tensor_dataset_accepts_chainrule_tensors():
    X, y = _data()
    ds = TensorDataset(cr.tensor(X), cr.tensor(y))
    assert ds.arrays[0].dtype == np.float32 and ds.arrays[1].dtype == np.int64
    np.testing.assert_array_equal(ds[4][0], X[4])


def test_tensor_dataset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"\(10, 3\), \(9,\)"):
        TensorDataset(np.zeros((10, 3)), np.zeros(9))
    with pytest.raises(ValueError):
        TensorDataset()


def test_base_dataset_methods_must_be_overridden():
    with pytest.raises(TypeError, match="has no len"):  # torch's Dataset has no __len__
        len(Dataset())
    with pytest.raises(NotImplementedError):
        Dataset()[0]


# --- loader: batches ------------------------------------------------------------------------


def test_batches_are_tensors_keeping_dtype_and_order():
    X, y = _data(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    xb, yb = batches[0]
    assert isinstance(xb, cr.Tensor) and isinstance(yb, cr.Tensor)
    assert xb.shape == (4, 3) and xb.dtype == np.float32
    assert yb.shape == (4,) and yb.dtype == np.int64
    assert batches[-1][0].shape == (2, 3)
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), X)


def test_drop_last_and_len():
    X, y = _data(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[1].shape[0] for b in loader] == [4, 4]


@pytest.mark.parametrize(
    "n,bs,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, True)]
)
def test_len_matches_torch(n, bs, drop_last):
    torch = pytest.importorskip("torch")
    ours = DataLoader(TensorDataset(np.zeros(n)), batch_size=bs, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(torch.zeros(n), batch_size=bs, drop_last=drop_last)
    assert len(ours) == len(theirs) == len(list(ours))


def test_batch_does_not_alias_dataset_memory():
    X, y = _data()
    xb, _ = next(iter(DataLoader(TensorDataset(X, y), batch_size=4)))
    xb.numpy()[:] = -1
    assert X.min() == 0


def test_tensor_dataset_uses_one_fancy_index_per_batch(no_sample_access):
    X, y = _data(50)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, seed=0)
    assert sum(b[0].shape[0] for b in loader) == 50


def test_subclass_overriding_getitem_is_not_bypassed():
    X, y = _data(6)
    xb, yb = next(iter(DataLoader(Doubled(X, y), batch_size=6)))
    np.testing.assert_array_equal(xb.numpy(), 2 * X)
    xb, _ = next(iter(DataLoader(Subset(Doubled(X, y), [3, 4]), batch_size=2)))
    np.testing.assert_array_equal(xb.numpy(), 2 * X[[3, 4]])


def test_subset_of_tensor_dataset_keeps_fast_path(no_sample_access):
    X, y = _data(20)
    sub = Subset(TensorDataset(X, y), [5, 1, 7])
    xb, yb = next(iter(DataLoader(sub, batch_size=3)))
    np.testing.assert_array_equal(yb.numpy(), [5, 1, 7])
    np.testing.assert_array_equal(xb.numpy(), X[[5, 1, 7]])


def test_general_dataset_is_collated_by_stacking():
    xb, yb = next(iter(DataLoader(Squares(), batch_size=3)))
    assert xb.shape == (3, 2) and xb.dtype == np.float32
    assert yb.dtype == np.int64
    np.testing.assert_array_equal(yb.numpy(), [0, 1, 4])


def test_custom_collate_fn_receives_list_of_samples():
    X, y = _data(6)
    seen = []
    loader = DataLoader(
        TensorDataset(X, y), batch_size=4, collate_fn=lambda s: seen.append(len(s)) or s
    )
    list(loader)
    assert seen == [4, 2]


def test_default_collate_fields_dicts_and_python_numbers():
    out = default_collate(
        [{"x": np.ones(2, np.float32), "w": 0.5}, {"x": np.zeros(2, np.float32), "w": 1.5}]
    )
    assert out["x"].shape == (2, 2) and out["x"].dtype == np.float32
    assert out["w"].dtype == np.float64  # a batch of Python floats is float64, as in torch
    x, y, name = default_collate([(cr.tensor([1.0, 2.0]), 3, "a"), (cr.tensor([3.0, 4.0]), 4, "b")])
    assert x.shape == (2, 2) and x.dtype == np.float32
    assert y.dtype == np.int64 and name == ["a", "b"]
    assert default_collate([np.int32(1), np.int32(2)]).dtype == np.int32


def test_default_collate_ragged_samples_error_names_shapes():
    with pytest.raises(RuntimeError, match=r"\(2,\), \(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_batch_size_raises(bad):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=bad)


# --- loader: shuffling ----------------------------------------------------------------------


def _order(loader):
    return np.concatenate([b[1].numpy() for b in loader])


def test_shuffle_is_a_permutation_and_changes_each_epoch():
    X, y = _data(100)
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True, seed=1)
    first, second = _order(loader), _order(loader)
    np.testing.assert_array_equal(np.sort(first), y)
    assert not np.array_equal(first, y)
    assert not np.array_equal(first, second)


def test_shuffle_draws_from_global_generator():
    X, y = _data(30)
    loader = DataLoader(TensorDataset(X, y), batch_size=7, shuffle=True)
    cr.manual_seed(123)
    np.testing.assert_array_equal(_order(loader), np.random.default_rng(123).permutation(30))


def test_shuffle_order_replays_from_rng_state_at_epoch_start():
    X, y = _data(40)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True)
    cr.manual_seed(0)
    _order(loader)  # epoch 0
    state = cr.random.get_rng_state()
    epoch1 = _order(loader)
    cr.random.default_generator().random(5)  # unrelated draws after the epoch
    cr.random.set_rng_state(state)
    np.testing.assert_array_equal(_order(loader), epoch1)


def test_order_is_fixed_when_iteration_starts():
    X, y = _data(40)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True)
    cr.manual_seed(5)
    it = iter(loader)
    cr.random.default_generator().random(100)  # e.g. dropout draws during the epoch
    got = np.concatenate([b[1].numpy() for b in it])
    np.testing.assert_array_equal(got, np.random.default_rng(5).permutation(40))


def test_seed_and_generator_give_reproducible_private_orders():
    X, y = _data(50)
    a = DataLoader(TensorDataset(X, y), batch_size=10, shuffle=True, seed=7)
    b = DataLoader(TensorDataset(X, y), batch_size=10, shuffle=True, seed=7)
    np.testing.assert_array_equal(_order(a), _order(b))
    g = DataLoader(
        TensorDataset(X, y), batch_size=10, shuffle=True, generator=np.random.default_rng(7)
    )
    cr.manual_seed(0)
    state = cr.random.get_rng_state()
    np.testing.assert_array_equal(_order(g), np.random.default_rng(7).permutation(50))
    assert cr.random.get_rng_state() == state  # the global generator was not touched
    with pytest.raises(ValueError, match="not both"):
        DataLoader(TensorDataset(X, y), generator=np.random.default_rng(0), seed=0)
    with pytest.raises(TypeError, match="Generator"):
        DataLoader(TensorDataset(X, y), shuffle=True, generator=7)
    h = DataLoader(
        TensorDataset(X, y), batch_size=10, shuffle=True, generator=cr.Generator().manual_seed(7)
    )
    np.testing.assert_array_equal(_order(h), np.random.default_rng(7).permutation(50))


# --- random_split -------------------------------------------------------------------------------


def test_random_split_counts_are_disjoint_and_cover():
    X, y = _data(20)
    parts = random_split(TensorDataset(X, y), [12, 5, 3], generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == [12, 5, 3]
    labels = np.concatenate([[p[i][1] for i in range(len(p))] for p in parts])
    np.testing.assert_array_equal(np.sort(labels), y)


def test_random_split_is_deterministic_given_generator_or_global_seed():
    ds = TensorDataset(np.arange(30))
    a = random_split(ds, [0.5, 0.5], generator=np.random.default_rng(3))
    b = random_split(ds, [0.5, 0.5], generator=np.random.default_rng(3))
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    cr.manual_seed(9)
    c = random_split(ds, [0.5, 0.5])
    cr.manual_seed(9)
    d = random_split(ds, [0.5, 0.5])
    np.testing.assert_array_equal(c[1].indices, d[1].indices)


@pytest.mark.parametrize(
    "n,fractions",
    [(10, [0.3, 0.3, 0.4]), (7, [0.5, 0.5]), (101, [0.8, 0.1, 0.1]), (5, [1 / 3] * 3)],
)
def test_random_split_fraction_lengths_match_torch(n, fractions):
    torch = pytest.importorskip("torch")
    ours = [
        len(s)
        for s in random_split(
            TensorDataset(np.zeros(n)), fractions, generator=np.random.default_rng(0)
        )
    ]
    theirs = [len(s) for s in torch.utils.data.random_split(range(n), fractions)]
    assert ours == theirs and sum(ours) == n


@pytest.mark.parametrize("lengths", [[5, 4], [0.5, 0.6], [2.5, 7.5], [-1, 11]])
def test_random_split_bad_lengths_raise(lengths):
    with pytest.raises(ValueError, match="random_split"):
        random_split(TensorDataset(np.zeros(10)), lengths)


def test_iterable_datasets_without_len_chain_and_list_like_torch():
    torch = pytest.importorskip("torch")

    def make(base):
        class Stream(base):
            def __init__(self, a, b):
                self.a, self.b = a, b

            def __iter__(self):
                return iter(range(self.a, self.b))

        return Stream

    ours, theirs = make(cr.data.IterableDataset), make(torch.utils.data.IterableDataset)
    chained = cr.data.ChainDataset([ours(0, 3), ours(7, 9)])
    assert (
        list(chained)
        == list(torch.utils.data.ChainDataset([theirs(0, 3), theirs(7, 9)]))
        == [0, 1, 2, 7, 8]
    )
    with pytest.raises(TypeError):
        len(chained)


def test_stack_dataset_zips_like_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(6, 2)
    ours = cr.data.StackDataset(TensorDataset(x), list(range(6)))
    theirs = torch.utils.data.StackDataset(
        torch.utils.data.TensorDataset(torch.tensor(x)), list(range(6))
    )
    assert len(ours) == len(theirs) == 6
    assert ours[4][1] == theirs[4][1] == 4
    np.testing.assert_array_equal(ours[4][0][0].numpy(), theirs[4][0][0].numpy())
    named = cr.data.StackDataset(a=list("abcdef"), b=list(range(6)))
    assert named[2] == {"a": "c", "b": 2}
    with pytest.raises(ValueError, match="Size mismatch"):
        cr.data.StackDataset([1, 2], [1])
    with pytest.raises(ValueError, match="either"):
        cr.data.StackDataset([1], b=[1])
    loader = cr.data.DataLoader(named, batch_size=3)
    first = next(iter(loader))
    assert first["a"] == ["a", "b", "c"] and first["b"].tolist() == [0, 1, 2]
