"""DistributedSampler: an exact partition of every epoch, padded or cut as PyTorch does."""

import numpy as np
import pytest

from chainrule.data import DataLoader, DistributedSampler, TensorDataset
from chainrule.data.distributed import partition

CONFIGS = [
    (n, replicas, drop_last)
    for n in (1, 2, 5, 10, 11, 16, 17, 100)
    for replicas in (1, 2, 3, 4, 7)
    for drop_last in (False, True)
]


@pytest.mark.parametrize("n,replicas,drop_last", CONFIGS)
def test_same_indices_as_torch_without_shuffle(n, replicas, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler

    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(data, replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs)
        assert ours.total_size == theirs.total_size
    del torch


@pytest.mark.parametrize(
    "n,replicas,drop_last", [(17, 4, False), (17, 4, True), (3, 7, False), (100, 3, False)]
)
def test_same_as_torch_given_torch_permutation(n, replicas, drop_last):
    """Shuffled: torch's padding and striding applied to the same permutation give ours."""
    torch = pytest.importorskip("torch")
    from torch.utils.data import DistributedSampler as TorchSampler

    for epoch in (0, 3):
        g = torch.Generator()
        g.manual_seed(11 + epoch)
        perm = torch.randperm(n, generator=g).numpy()
        for rank in range(replicas):
            theirs = TorchSampler(
                list(range(n)), replicas, rank, shuffle=True, seed=11, drop_last=drop_last
            )
            theirs.set_epoch(epoch)
            ours = DistributedSampler(list(range(n)), replicas, rank, drop_last=drop_last)
            got = partition(perm, replicas, rank, ours.total_size, drop_last)
            assert got.tolist() == list(theirs)


@pytest.mark.parametrize("n,replicas", [(10, 2), (11, 3), (17, 4), (100, 7)])
def test_each_epoch_is_partitioned_exactly(n, replicas):
    data = list(range(n))
    for epoch in range(3):
        parts = []
        for rank in range(replicas):
            s = DistributedSampler(data, replicas, rank, shuffle=True, seed=3)
            s.set_epoch(epoch)
            parts.append(list(s))
        assert len({len(p) for p in parts}) == 1  # equal shares
        flat = [i for p in parts for i in p]
        assert set(flat) == set(range(n))  # every sample read
        pad = len(flat) - n
        assert 0 <= pad < replicas and len(flat) == len(set(flat)) + pad
        cut = [
            DistributedSampler(data, replicas, r, seed=3, drop_last=True) for r in range(replicas)
        ]
        for c in cut:
            c.set_epoch(epoch)
        flat = [i for c in cut for i in c]
        assert len(flat) == len(set(flat)) == n - n % replicas  # no repeats, tail dropped


def test_epochs_differ_and_seed_reproduces():
    a = DistributedSampler(range(50), 2, 0, seed=1)
    b = DistributedSampler(range(50), 2, 0, seed=1)
    first = list(a)
    a.set_epoch(1)
    assert list(a) != first
    assert list(b) == first


def test_bad_arguments_and_no_process_group():
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(5), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(5), num_replicas=0, rank=0)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(5))


def test_dataloader_with_sampler_reads_this_ranks_share():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    data = TensorDataset(X, np.arange(10))
    sampler = DistributedSampler(data, num_replicas=3, rank=1, shuffle=False)
    loader = DataLoader(data, batch_size=2, sampler=sampler)
    assert len(loader) == 2
    labels = [int(i) for _, y in loader for i in y.numpy()]
    assert labels == [1, 4, 7, 0]
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(data, sampler=sampler, shuffle=True)


def test_torch_import_path():
    from chainrule.utils.data import DataLoader as DL
    from chainrule.utils.data import DistributedSampler as DS

    assert DS is DistributedSampler and DL is DataLoader
