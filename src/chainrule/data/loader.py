"""DataLoader: batches of chainrule Tensors from a dataset, in this process or in workers."""

import multiprocessing
import os
import pickle
import queue
import time

from ._rng import resolve_rng
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .worker import IterFetcher, MapFetcher, worker_loop

__all__ = ["DataLoader", "default_collate", "default_convert"]

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class DataLoader:
    """Iterate over ``dataset`` in batches of chainrule Tensors (PyTorch's DataLoader).

    Indices come from ``sampler`` (default: in order, or a fresh random permutation each epoch
    when ``shuffle``), grouped by ``batch_sampler`` (default: ``batch_size`` at a time); the
    samples of a batch are combined by ``collate_fn`` (:func:`default_collate`). With
    ``batch_size=None`` samples are not batched (``collate_fn`` defaults to
    :func:`default_convert`). A :class:`TensorDataset` (or a :class:`Subset` of one) builds each
    batch with one fancy index per tensor, with no Python loop over samples.

    With ``num_workers > 0`` batches are loaded by that many worker processes
    (``multiprocessing``), ``prefetch_factor`` batches ahead per worker, and returned in order
    (unless ``in_order=False``). Each worker seeds chainrule's default generator, Python's
    ``random`` and NumPy's legacy generator with ``base_seed + worker_id`` (``base_seed`` drawn
    from ``generator`` per epoch) and then calls ``worker_init_fn(worker_id)``. An exception in a
    worker is raised again in the main process with the worker's traceback in its message.
    ``timeout`` (seconds, 0 = wait forever) bounds the wait for one batch; a worker that dies
    raises RuntimeError. ``pin_memory`` is accepted and does nothing (there is no GPU).

    The shuffle order of an epoch is drawn when ``iter(loader)`` is called, from ``generator``,
    or a private generator seeded once from ``seed`` (a chainrule extra), or else chainrule's
    default generator -- so restoring ``cr.random.set_rng_state`` before an epoch replays it.

    Argument checks are PyTorch's: ``sampler`` excludes ``shuffle``; ``batch_sampler`` excludes
    ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``; an :class:`IterableDataset`
    takes neither ``shuffle`` nor samplers; ``prefetch_factor`` and ``persistent_workers`` need
    ``num_workers > 0``.

    Example::

        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, num_workers=2)
        for xb, yb in loader:     # xb (32, 64) float32, yb (32,) int64
            ...
        len(loader)               # number of batches
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
        in_order=True,
        seed=None,
    ):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to "
                "disable multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set "
                "prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(
                "multiprocessing_context can only be used with multi-process loading "
                f"(num_workers > 0), but got num_workers={num_workers}"
            )
        resolve_rng(generator, seed)  # validate early
        # A seed makes one private generator, so successive epochs still differ.
        generator = resolve_rng(seed=seed) if seed is not None else generator

        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle "
                    f"option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler "
                    f"option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified "
                    f"batch_sampler option, but got batch_sampler={batch_sampler}"
                )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, "
                    "shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually "
                "exclusive with drop_last"
            )
        if sampler is None and not iterable:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        elif batch_size is not None and iterable:
            BatchSampler([], batch_size, drop_last)  # the same checks of the two values
        auto_collation = batch_sampler is not None or (iterable and batch_size is not None)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn or (default_collate if auto_collation else default_convert)
        self.pin_memory = pin_memory  # no-op: there is no GPU memory to pin for
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._iterable = iterable
        self._auto_collation = auto_collation
        self._fast = collate_fn is None or collate_fn is default_collate
        self._iterator = None
        self._initialized = True

    def __setattr__(self, name, value):
        if getattr(self, "_initialized", False) and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after DataLoader is initialized")
        super().__setattr__(name, value)

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._iterable:
            n = len(self.dataset)  # TypeError when the iterable dataset has no length
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._iterator is None:
                self._iterator = _MultiProcessIter(self)
            else:
                self._iterator.reset()
            return self._iterator
        return _MultiProcessIter(self)


class _SingleProcessIter:
    """Batches fetched in the main process, one per ``next``."""

    def __init__(self, loader):
        if loader._iterable:
            self._fetcher = IterFetcher(
                loader.dataset,
                loader._auto_collation,
                loader.collate_fn,
                loader.batch_size,
                loader.drop_last,
            )
            self._indices = None
        else:
            self._fetcher = MapFetcher(
                loader.dataset, loader._auto_collation, loader.collate_fn, loader._fast
            )
            self._indices = iter(loader._index_sampler)  # a random order is drawn now

    def __iter__(self):
        return self

    def __next__(self):
        if self._indices is None:
            return self._fetcher.fetch()
        return self._fetcher.fetch(next(self._indices))


class _MultiProcessIter:
    """Batches fetched by ``num_workers`` worker processes, ``prefetch_factor`` ahead each."""

    def __init__(self, loader):
        self._loader = loader
        self._iterable = loader._iterable
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        n = loader.num_workers
        ctx = loader.multiprocessing_context
        if ctx is None or isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        spec = {
            "dataset": loader.dataset,
            "iterable": loader._iterable,
            "auto_collation": loader._auto_collation,
            "collate_fn": loader.collate_fn,
            "batch_size": loader.batch_size,
            "drop_last": loader.drop_last,
            "fast": loader._fast,
            "num_workers": n,
            "worker_init_fn": loader.worker_init_fn,
        }
        base_seed = int(resolve_rng(loader.generator).integers(0, 1 << 62))
        self._result_queue = ctx.Queue()
        self._index_queues, self._workers = [], []
        self._shut = False
        for worker_id in range(n):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            worker = ctx.Process(
                target=worker_loop,
                daemon=True,
                args=(
                    spec,
                    index_queue,
                    self._result_queue,
                    worker_id,
                    base_seed + worker_id,
                    os.getpid(),
                ),
            )
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)
        self._epoch = -1
        self.reset(first=True)

    def reset(self, first=False):
        """Start a new pass (persistent workers keep running between passes)."""
        self._epoch += 1
        self._send_idx = self._rcvd_idx = 0
        self._outstanding = {}  # batch number -> worker id, sent and not yet answered
        self._buffer = {}  # batch number -> (status, pickled payload)
        self._active = [True] * len(self._workers)
        self._next_worker = 0
        if self._iterable:
            if not first:
                for q in self._index_queues:
                    q.put(("reset", self._epoch, None, None))
            self._indices = None
        else:
            self._indices = iter(self._loader._index_sampler)  # a random order is drawn now
        for _ in range(max(1, self._loader.prefetch_factor) * len(self._workers)):
            if not self._dispatch():
                break

    def _dispatch(self):
        """Send the next request to the next active worker; False when there is nothing to send."""
        if not any(self._active):
            return False
        if self._iterable:
            kind, payload = "next", None
        else:
            try:
                kind, payload = "fetch", next(self._indices)
            except StopIteration:
                return False
        while not self._active[self._next_worker]:
            self._next_worker = (self._next_worker + 1) % len(self._workers)
        worker_id = self._next_worker
        self._next_worker = (self._next_worker + 1) % len(self._workers)
        self._index_queues[worker_id].put((kind, self._epoch, self._send_idx, payload))
        self._outstanding[self._send_idx] = worker_id
        self._send_idx += 1
        return True

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            if self._rcvd_idx in self._buffer:
                status, blob = self._buffer.pop(self._rcvd_idx)
                self._rcvd_idx += 1
            elif not self._outstanding and not self._buffer:
                self._finish()
                raise StopIteration
            elif not self._in_order and self._buffer:
                status, blob = self._buffer.pop(next(iter(self._buffer)))
            else:
                self._receive()
                continue
            if status == "stop":  # that worker's pass is over; its slot carries nothing
                continue
            self._dispatch()
            payload = pickle.loads(blob)
            if status == "error":
                payload.reraise()
            return payload

    def _receive(self):
        """Wait for one answer of the current pass, watching for dead workers and the timeout."""
        start = time.monotonic()
        poll = min(self._timeout, 1.0) if self._timeout > 0 else 1.0
        while True:
            try:
                epoch, idx, worker_id, status, blob = self._result_queue.get(timeout=poll)
            except queue.Empty:
                dead = [w.pid for w in self._workers if not w.is_alive()]
                if dead:
                    self._shutdown()
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) "
                        "exited unexpectedly"
                    ) from None
                if self._timeout > 0 and time.monotonic() - start >= self._timeout:
                    raise RuntimeError(
                        f"DataLoader timed out after {self._timeout} seconds"
                    ) from None
                continue
            if epoch != self._epoch:  # an answer for an abandoned pass
                continue
            del self._outstanding[idx]
            if status == "stop":
                self._active[worker_id] = False
            self._buffer[idx] = (status, blob)
            return

    def _finish(self):
        if not self._persistent:
            self._shutdown()

    def _shutdown(self):
        if self._shut:
            return
        self._shut = True
        for q in self._index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        # Drain answers while the workers exit, so none blocks on a full pipe; a worker busy with
        # a slow sample is terminated (its work is no longer wanted).
        deadline = time.monotonic() + 1.0
        while any(w.is_alive() for w in self._workers) and time.monotonic() < deadline:
            try:
                self._result_queue.get(timeout=0.05)
            except (queue.Empty, OSError, ValueError, EOFError):
                pass
        for w in self._workers:
            if w.is_alive():
                w.terminate()
            w.join(timeout=1.0)
        for q in self._index_queues + [self._result_queue]:
            q.cancel_join_thread()
            q.close()

    def __del__(self):
        try:
            self._shutdown()
        except Exception:
            pass
