"""Samplers, DataLoader argument checks and the chainrule.utils.data import path, against PyTorch."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.utils.data as d
from chainrule.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
)


class Stream(IterableDataset):
    def __iter__(self):
        return iter(range(5))


def test_utils_data_is_the_same_implementation():
    assert d.DataLoader is cr.data.DataLoader and d.default_collate is cr.data.default_collate
    assert cr.utils.data.TensorDataset is cr.data.TensorDataset
    for name in (
        "Dataset",
        "TensorDataset",
        "DataLoader",
        "Subset",
        "random_split",
        "ConcatDataset",
        "IterableDataset",
        "Sampler",
        "RandomSampler",
        "SequentialSampler",
        "BatchSampler",
        "SubsetRandomSampler",
        "WeightedRandomSampler",
        "default_collate",
        "get_worker_info",
    ):
        assert getattr(d, name) is getattr(cr.data, name)


def test_tensor_dataset_items_are_tensors_like_torch():
    X = cr.arange(12).reshape(6, 2)
    ds = TensorDataset(X, cr.arange(6))
    x, y = ds[2]
    assert isinstance(x, cr.Tensor) and x.tolist() == [4, 5] and y.item() == 2
    assert ds.tensors[0] is X
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 2) and yb.tolist() == [0, 1, 2, 3]


def test_batches_of_tuple_samples_are_lists_like_torch():
    torch = pytest.importorskip("torch")
    ours = next(
        iter(DataLoader(TensorDataset(np.zeros((4, 2), np.float32), np.arange(4)), batch_size=2))
    )
    theirs = next(
        iter(
            torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(torch.zeros(4, 2), torch.arange(4)), batch_size=2
            )
        )
    )
    assert type(ours) is type(theirs) is list


def test_sequential_batch_and_concat():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, False)) == 3
    both = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))])
    assert len(both) == 5 and both[3][0].item() == 10 and both[-1][0].item() == 11
    with pytest.raises(IndexError):
        both[5]


def test_random_sampler_permutation_and_replacement():
    g = cr.Generator().manual_seed(0)
    order = list(RandomSampler(range(10), generator=g))
    assert sorted(order) == list(range(10)) and order != list(range(10))
    draws = list(RandomSampler(range(3), replacement=True, num_samples=3000, generator=g))
    assert len(draws) == 3000 and set(draws) == {0, 1, 2}
    assert abs(np.mean(np.array(draws) == 0) - 1 / 3) < 0.05
    longer = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert len(longer) == 10 and sorted(longer[:4]) == [0, 1, 2, 3]


def test_subset_random_sampler_visits_exactly_the_indices():
    got = list(SubsetRandomSampler([10, 20, 30, 40], generator=cr.Generator().manual_seed(1)))
    assert sorted(got) == [10, 20, 30, 40]


def test_weighted_random_sampler_frequencies():
    g = cr.Generator().manual_seed(0)
    draws = np.array(list(WeightedRandomSampler([1.0, 3.0, 0.0], 8000, generator=g)))
    assert not np.any(draws == 2)
    assert abs(np.mean(draws == 1) - 0.75) < 0.03
    once = list(WeightedRandomSampler([1.0, 1.0, 1.0, 5.0], 4, replacement=False, generator=g))
    assert sorted(once) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="1d"):
        WeightedRandomSampler([[1.0]], 1)


def test_sampler_and_batch_sampler_drive_the_loader():
    ds = TensorDataset(np.arange(6))
    loader = DataLoader(ds, sampler=[5, 4, 3, 2, 1, 0], batch_size=4)
    assert [b[0].tolist() for b in loader] == [[5, 4, 3, 2], [1, 0]]
    loader = DataLoader(ds, batch_sampler=[[0, 5], [1, 2, 3]])
    assert [b[0].tolist() for b in loader] == [[0, 5], [1, 2, 3]] and len(loader) == 2
    singles = DataLoader(ds, batch_size=None)
    assert [b[0].item() for b in singles][:3] == [0, 1, 2]


def _error(fn):
    try:
        fn()
    except Exception as err:
        return type(err).__name__, str(err)
    return None


BAD = [
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(num_workers=-1),
    dict(timeout=-1),
    dict(prefetch_factor=2),
    dict(persistent_workers=True),
    dict(batch_size=0),
    dict(drop_last=1),
]


@pytest.mark.parametrize("kwargs", BAD, ids=[",".join(k) for k in BAD])
def test_argument_errors_match_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours = _error(lambda: DataLoader(TensorDataset(np.zeros(4)), **kwargs))
    theirs = _error(
        lambda: torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.zeros(4)), **kwargs
        )
    )
    assert ours is not None and theirs is not None
    assert ours[0] == theirs[0]
    assert ours[1].split(",")[0] == theirs[1].split(",")[0]


@pytest.mark.parametrize(
    "kwargs", [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])]
)
def test_iterable_dataset_refuses_samplers_like_torch(kwargs):
    torch = pytest.importorskip("torch")

    class TorchStream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(5))

    ours = _error(lambda: DataLoader(Stream(), **kwargs))
    theirs = _error(lambda: torch.utils.data.DataLoader(TorchStream(), **kwargs))
    assert ours[0] == theirs[0] == "ValueError"
    assert ours[1].split(":")[0] == theirs[1].split(":")[0]


def test_attributes_are_frozen_after_init():
    loader = DataLoader(TensorDataset(np.zeros(4)), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute"):
        loader.batch_size = 3
    loader.num_workers = 0  # not frozen in torch either


def test_pin_memory_is_accepted():
    batches = list(DataLoader(TensorDataset(np.arange(4)), batch_size=2, pin_memory=True))
    assert len(batches) == 2


def test_random_split_with_a_chainrule_generator_is_reproducible():
    ds = TensorDataset(np.arange(20))
    a = d.random_split(ds, [0.75, 0.25], generator=cr.Generator().manual_seed(4))
    b = d.random_split(ds, [15, 5], generator=cr.Generator().manual_seed(4))
    np.testing.assert_array_equal(a[0].indices, b[0].indices)
    assert sorted(a[0].indices.tolist() + a[1].indices.tolist()) == list(range(20))


def test_dataset_and_sampler_can_be_subscripted_for_type_hints():
    class Pairs(d.Dataset[tuple]):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (i, float(i))

    class Evens(d.Sampler[int]):
        def __iter__(self):
            return iter([0])

        def __len__(self):
            return 1

    assert [b[0].tolist() for b in DataLoader(Pairs(), sampler=Evens())] == [[0]]


def test_torch_submodule_paths_import():
    from chainrule.utils.data.dataloader import DataLoader as DL
    from chainrule.utils.data.dataloader import default_collate as dc
    from chainrule.utils.data.dataset import Dataset as DS
    from chainrule.utils.data.sampler import RandomSampler as RS

    assert DL is DataLoader and dc is d.default_collate and DS is d.Dataset and RS is RandomSampler
