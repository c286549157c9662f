"""DataLoader: batches of chainrule Tensors from a dataset, optionally shuffled."""
import numbers

import numpy as np

import chainrule as cr

from ._rng import resolve_rng


def _to_tensor(array):
    # Every batch array here is freshly built (fancy index or stack), so sharing its memory is
    # safe and saves the copy cr.tensor would make.
    return cr.from_numpy(np.asarray(array))


def default_collate(batch):
    """Stack a list of samples into a batch of Tensors, field by field.

    Arrays, NumPy scalars and Tensors are stacked along a new first axis keeping their dtype;
    Python ints become int64, Python floats the default float dtype (float32) and bools bool.
    Tuples, lists and dicts are collated per field; strings are returned as a list.

    Example::

        x, y = default_collate([(np.ones(3, np.float32), 0), (np.zeros(3, np.float32), 1)])
        x.shape, y.dtype     # (2, 3), int64
    """
    first = batch[0]
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, dict):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(sample) != len(first) for sample in batch):
            raise ValueError("default_collate: samples in a batch have different numbers of fields")
        return tuple(default_collate(list(field)) for field in zip(*batch))
    if isinstance(first, bool):
        return _to_tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(first, int):
        return _to_tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(first, float):
        return cr.tensor(list(batch))  # takes chainrule's default float dtype
    arrays = [s._data if isinstance(s, cr.Tensor) else np.asarray(s) for s in batch]
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError(f"default_collate: cannot stack samples of different shapes {sorted(shapes)}; "
                         "pad them or pass a collate_fn")
    return _to_tensor(np.stack(arrays))


class DataLoader:
    """Iterate over ``dataset`` in batches of chainrule Tensors.

    For a :class:`TensorDataset` (or a :class:`Subset` of one) each batch is built with a single
    fancy index per array, with no Python loop over samples. Other datasets are indexed sample by
    sample and combined by ``collate_fn`` (:func:`default_collate` when None).

    The shuffle order of an epoch is drawn once, when ``iter(loader)`` is called, from
    ``generator``, or a generator seeded once from ``seed``, or else chainrule's global generator
    -- so restoring ``cr.random.set_rng_state`` before an epoch replays that epoch's order.

    Args:
        dataset: a map-style dataset.
        batch_size: samples per batch (the last one may be smaller unless ``drop_last``).
        shuffle: draw a fresh random order every epoch.
        drop_last: skip a final incomplete batch.
        generator: ``numpy.random.Generator`` for shuffling.
        seed: seed of a private generator for shuffling (exclusive with ``generator``).
        collate_fn: turns a list of samples into a batch.
        sampler: an iterable of indices with ``len`` (e.g. :class:`DistributedSampler`) that
            gives the order instead of ``shuffle``.

    Example::

        loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
        for xb, yb in loader:     # xb (32, 64) float32, yb (32,) int64
            ...
        len(loader)               # number of batches
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None,
                 seed=None, collate_fn=None, sampler=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        if sampler is not None and self.shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        self.sampler = sampler
        resolve_rng(generator, seed)  # validate early
        # A seed makes one private generator, so successive epochs still differ.
        self.generator = np.random.default_rng(seed) if seed is not None else generator

    def __len__(self):
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        if self.sampler is not None:
            return self._batches(np.fromiter(iter(self.sampler), dtype=np.int64))
        n = len(self.dataset)
        # Drawn eagerly: the order depends only on the generator state at the start of the epoch.
        order = resolve_rng(self.generator).permutation(n) if self.shuffle else np.arange(n)
        return self._batches(order)

    def _batches(self, order):
        stop = len(self) * self.batch_size
        for start in range(0, min(stop, len(order)), self.batch_size):
            yield self._fetch(order[start:start + self.batch_size])

    def _fetch(self, indices):
        fast = getattr(self.dataset, "_batch", None) if self.collate_fn is None else None
        arrays = fast(indices) if fast is not None else None
        if arrays is not None:
            return tuple(_to_tensor(a) for a in arrays)
        collate = self.collate_fn or default_collate
        return collate([self.dataset[int(i)] for i in indices])
