"""Fetching batches, in the main process or in DataLoader worker processes.

A worker gets requests on its own index queue and answers on a queue shared by all workers.
Every answer is pickled inside the worker, so a sample that cannot be pickled becomes a clear
error in the main process instead of a lost message (and a hang). Workers exit when told to,
or when the process that started them is gone.
"""

import itertools
import os
import pickle
import queue
import random
import traceback

import numpy as np

from .. import random as _random
from ..tensor import Tensor


class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker: ``id``, ``num_workers``, ``seed``,
    ``dataset`` (this worker's copy)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


_worker_info = None


def get_worker_info():
    """Inside a DataLoader worker process, its :class:`WorkerInfo`; None in the main process.

    Example::

        info = get_worker_info()
        shard = range(info.id, n, info.num_workers) if info else range(n)
    """
    return _worker_info


class _KeyErrorMessage(str):
    """KeyError shows ``repr`` of its message; this keeps the worker's traceback readable."""

    def __repr__(self):
        return self


class WorkerError:
    """An exception raised in a worker, carried to the main process with its traceback text."""

    def __init__(self, worker_id, what="in DataLoader worker process"):
        exc_type, exc, _ = __import__("sys").exc_info()
        try:
            pickle.dumps(exc_type)
        except Exception:  # e.g. an exception class defined inside a function
            exc_type = RuntimeError
        self.exc_type = exc_type
        self.message = (
            f"Caught {type(exc).__name__} {what} {worker_id}.\nOriginal {traceback.format_exc()}"
        )

    def reraise(self):
        message = _KeyErrorMessage(self.message) if self.exc_type is KeyError else self.message
        try:
            exc = self.exc_type(message)
        except Exception:
            raise RuntimeError(self.message) from None
        try:
            raise exc
        finally:
            exc = None  # no frame -> exception -> traceback -> frame cycle keeps the loader alive


class MapFetcher:
    """Batches of a map-style dataset from lists of indices (or one sample from one index)."""

    def __init__(self, dataset, auto_collation, collate_fn, fast):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        # A TensorDataset (or a Subset of one) builds the batch with one fancy index per tensor.
        self.fast = getattr(dataset, "_batch", None) if fast else None

    def fetch(self, indices):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[indices])
        if self.fast is not None:
            arrays = self.fast(np.asarray(indices, dtype=np.int64))
            if arrays is not None:
                return [Tensor._wrap(np.ascontiguousarray(a)) for a in arrays]
        return self.collate_fn([self.dataset[i] for i in indices])


class IterFetcher:
    """Batches (or single samples) taken from one pass over an iterable dataset."""

    def __init__(self, dataset, auto_collation, collate_fn, batch_size, drop_last):
        self.iterator = iter(dataset)
        self.auto_collation, self.collate_fn = auto_collation, collate_fn
        self.batch_size, self.drop_last = batch_size, drop_last

    def fetch(self, _=None):
        """The next batch; raises StopIteration at the end of the pass."""
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        batch = list(itertools.islice(self.iterator, self.batch_size))
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)


def _seed_worker(seed):
    random.seed(seed)
    _random.manual_seed(seed)
    np.random.seed(seed % (1 << 32))  # NumPy's legacy global generator, as PyTorch does


def worker_loop(spec, index_queue, result_queue, worker_id, seed, parent_pid):
    """Body of one worker process. ``spec`` holds the dataset and how to fetch from it.

    Requests: ``(kind, epoch, idx, payload)`` with kind ``"fetch"`` (payload: indices),
    ``"next"`` (iterable datasets) or ``"reset"`` (a new pass, persistent workers); ``None`` stops.
    Answers: ``(epoch, idx, worker_id, kind, pickled payload)``, kind ``"ok"``, ``"error"`` or
    ``"stop"`` (the worker's pass over an iterable dataset is over).
    """
    global _worker_info
    _seed_worker(seed)
    _worker_info = WorkerInfo(worker_id, spec["num_workers"], seed, spec["dataset"])
    init_error = None
    try:
        if spec["worker_init_fn"] is not None:
            spec["worker_init_fn"](worker_id)
    except Exception:
        init_error = WorkerError(worker_id, "in worker_init_fn of DataLoader worker process")
    fetcher, exhausted = None, False
    try:
        while True:
            try:
                msg = index_queue.get(timeout=1.0)
            except queue.Empty:
                if os.getppid() != parent_pid:  # the main process died: do not linger
                    break
                continue
            if msg is None:
                break
            kind, epoch, idx, payload = msg
            if kind == "reset":
                fetcher, exhausted = None, False
                continue
            result, status = None, "ok"
            try:
                if init_error is not None:
                    result, status = init_error, "error"
                elif exhausted:
                    status = "stop"
                else:
                    if fetcher is None:
                        fetcher = _make_fetcher(spec)
                    result = fetcher.fetch(payload)
            except StopIteration:
                exhausted, status = True, "stop"
            except Exception:
                result, status = WorkerError(worker_id), "error"
            try:
                blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:
                status = "error"
                blob = pickle.dumps(
                    WorkerError(worker_id, "while sending a batch from DataLoader worker process")
                )
            result_queue.put((epoch, idx, worker_id, status, blob))
    except KeyboardInterrupt:
        pass
    result_queue.cancel_join_thread()  # nothing left that the main process waits for


def _make_fetcher(spec):
    if spec["iterable"]:
        return IterFetcher(
            spec["dataset"],
            spec["auto_collation"],
            spec["collate_fn"],
            spec["batch_size"],
            spec["drop_last"],
        )
    return MapFetcher(spec["dataset"], spec["auto_collation"], spec["collate_fn"], spec["fast"])
