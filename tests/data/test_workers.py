"""DataLoader with num_workers > 0: real worker processes, order, seeding, errors, no hangs."""

import os
import random
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
    get_worker_info,
)


class Slow(Dataset):
    """Each sample takes ``delay`` seconds and records which process made it."""

    def __init__(self, n, delay=0.0):
        self.n, self.delay = n, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.delay)
        return np.float32(i), os.getpid()


class Faulty(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise KeyError(f"no sample {i}")
        return i


class Draws(Dataset):
    """A sample is a draw from chainrule's default generator and Python's random module."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return (float(cr.rand(1).item()), random.random(), info.id, info.num_workers, info.seed)


class Count(IterableDataset):
    """0..n-1, split between workers by get_worker_info (each value exactly once)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


def _init(worker_id):
    info = get_worker_info()
    assert info.id == worker_id
    info.dataset.init_by = worker_id  # each worker has its own copy of the dataset


class Unpicklable(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return {"f": lambda: i}


def _bad_init(worker_id):
    raise ValueError(f"init failed in {worker_id}")


class Dies(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


class Hangs(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(30)


def test_workers_are_other_processes_and_order_is_kept():
    loader = DataLoader(Slow(20), batch_size=3, num_workers=2)
    batches = list(loader)
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), np.arange(20))
    pids = set(np.concatenate([b[1].numpy() for b in batches]).tolist())
    assert os.getpid() not in pids and len(pids) == 2
    assert len(batches) == len(loader) == 7


def test_slow_getitem_gets_a_real_speedup():
    ds = Slow(48, delay=0.025)
    t0 = time.perf_counter()
    list(DataLoader(ds, batch_size=4))
    serial = time.perf_counter() - t0
    # Timed on a second epoch of persistent workers: starting processes (forking a big test
    # process) is a one-off cost that depends on the machine, the loading is what scales.
    loader = DataLoader(ds, batch_size=4, num_workers=4, persistent_workers=True)
    list(loader)
    t0 = time.perf_counter()
    list(loader)
    parallel = time.perf_counter() - t0
    assert serial > 1.2
    assert parallel < serial / 2, (serial, parallel)  # ideal: serial / 4


def test_shuffled_epochs_with_workers_cover_the_data():
    X = np.arange(30, dtype=np.float32).reshape(30, 1)
    loader = DataLoader(
        TensorDataset(X, np.arange(30)),
        batch_size=4,
        shuffle=True,
        num_workers=2,
        generator=cr.Generator().manual_seed(0),
    )
    orders = [np.concatenate([b[1].numpy() for b in loader]) for _ in range(2)]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(30))
    assert not np.array_equal(orders[0], orders[1])
    again = DataLoader(
        TensorDataset(X, np.arange(30)),
        batch_size=4,
        shuffle=True,
        num_workers=2,
        generator=cr.Generator().manual_seed(0),
    )
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in again]), orders[0])


def test_workers_are_seeded_distinctly_and_reproducibly():
    def run():
        loader = DataLoader(
            Draws(), batch_size=None, num_workers=2, generator=cr.Generator().manual_seed(3)
        )
        return list(loader)

    a, b = run(), run()
    assert a == b  # same generator seed: same draws
    by_worker = {}
    for u, r, wid, n, seed in a:
        assert n == 2
        by_worker.setdefault(wid, []).append((u, r, seed))
    assert set(by_worker) == {0, 1}
    seeds = {wid: {s for _, _, s in rows} for wid, rows in by_worker.items()}
    assert len(seeds[0]) == len(seeds[1]) == 1 and seeds[0] != seeds[1]
    first = [rows[0][:2] for rows in by_worker.values()]
    assert first[0] != first[1]  # the workers' streams differ


def test_worker_init_fn_runs_in_each_worker():
    class Who(Dataset):
        init_by = None

        def __len__(self):
            return 6

        def __getitem__(self, i):
            return self.init_by

    got = [b.item() for b in DataLoader(Who(), batch_size=1, num_workers=2, worker_init_fn=_init)]
    assert sorted(set(got)) == [0, 1]
    assert get_worker_info() is None  # in the main process


def test_worker_error_is_reraised_with_its_traceback():
    loader = DataLoader(Faulty(), batch_size=2, num_workers=2, timeout=20)
    it = iter(loader)
    assert next(it).tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    with pytest.raises(KeyError) as info:
        next(it)
    text = str(info.value)
    assert "worker process" in text and "no sample 5" in text and "__getitem__" in text


def test_worker_init_fn_error_is_reraised():
    with pytest.raises(ValueError, match="init failed"):
        list(DataLoader(Slow(4), batch_size=2, num_workers=1, worker_init_fn=_bad_init, timeout=20))


def test_unpicklable_sample_is_an_error_not_a_hang():
    with pytest.raises(Exception, match="sending a batch"):
        list(
            DataLoader(
                Unpicklable(), batch_size=1, num_workers=1, collate_fn=lambda b: b, timeout=20
            )
        )


def test_dead_worker_raises():
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(DataLoader(Dies(), batch_size=1, num_workers=1))
    assert time.perf_counter() - t0 < 10


def test_timeout_raises():
    t0 = time.perf_counter()
    with pytest.raises(RuntimeError, match="timed out after 0.5"):
        list(DataLoader(Hangs(), batch_size=1, num_workers=1, timeout=0.5))
    assert time.perf_counter() - t0 < 10


def test_iterable_dataset_with_workers_yields_each_value_once():
    loader = DataLoader(Count(23), batch_size=4, num_workers=3)
    values = np.concatenate([b.numpy() for b in loader])
    np.testing.assert_array_equal(np.sort(values), np.arange(23))
    assert len(loader) == 6


def test_iterable_dataset_in_main_process_with_drop_last():
    batches = list(DataLoader(Count(10), batch_size=4, drop_last=True))
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert list(DataLoader(Count(3), batch_size=None)) == [0, 1, 2]  # ints stay ints, as in torch


def test_persistent_workers_survive_epochs_and_restart_passes():
    loader = DataLoader(Slow(10), batch_size=5, num_workers=2, persistent_workers=True)
    pids = [set(np.concatenate([b[1].numpy() for b in loader]).tolist()) for _ in range(3)]
    assert pids[0] == pids[1] == pids[2]
    it = iter(loader)
    next(it)  # abandon a pass halfway
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in loader]), np.arange(10))
    stream = DataLoader(Count(7), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(np.concatenate([b.numpy() for b in stream]).tolist()) == list(range(7))


def test_out_of_order_delivery_still_delivers_everything():
    loader = DataLoader(Slow(12, delay=0.005), batch_size=2, num_workers=3, in_order=False)
    values = np.concatenate([b[0].numpy() for b in loader])
    np.testing.assert_array_equal(np.sort(values), np.arange(12))


def test_spawned_workers_and_readable_key_errors():
    # "spawn" pickles the dataset and re-imports chainrule in each worker (macOS / Windows default).
    loader = DataLoader(
        TensorDataset(np.arange(10)),
        batch_size=3,
        num_workers=2,
        multiprocessing_context="spawn",
        timeout=60,
    )
    assert [b[0].tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    with pytest.raises(KeyError) as info:
        list(DataLoader(Faulty(), batch_size=2, num_workers=1, timeout=20))
    assert str(info.value).startswith(
        "Caught KeyError in DataLoader worker process 0.\nOriginal Traceback"
    )


def test_prefetch_factor_zero_still_loads_everything():
    loader = DataLoader(
        TensorDataset(np.arange(10)), batch_size=3, num_workers=2, prefetch_factor=0
    )
    assert [b[0].tolist() for b in loader][-1] == [9]
