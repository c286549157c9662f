"""Samplers: which dataset indices a DataLoader visits, and in which order (PyTorch's API).

Random samplers draw from their ``generator`` (a ``cr.Generator`` or ``numpy.random.Generator``)
or else from chainrule's default generator, once per epoch when ``iter()`` is called, so the
order of an epoch depends only on the generator state at its start.
"""

import numbers
from typing import Generic, TypeVar

import numpy as np

from .. import random as _random


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _check_bool(value, name):
    if not isinstance(value, bool):
        raise TypeError(f"{name} should be a boolean value, but got {name}={value!r}")
    return value


T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class: subclasses implement ``__iter__`` (indices) and usually ``__len__``.

    Example::

        class Reversed(Sampler):
            def __init__(self, n): self.n = n
            def __iter__(self): return iter(range(self.n - 1, -1, -1))
            def __len__(self): return self.n
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1``.

    Example::

        list(SequentialSampler(range(3)))     # [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, or ``num_samples`` draws with replacement.

    Args:
        data_source: a sized dataset.
        replacement: draw with replacement (then ``num_samples`` may exceed the dataset size).
        num_samples: how many indices per epoch (default ``len(data_source)``).
        generator: generator to draw from (default: chainrule's default generator).

    Example::

        list(RandomSampler(range(5), generator=cr.Generator().manual_seed(0)))   # a permutation
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _check_bool(replacement, "replacement")
        self._num_samples = num_samples
        self.generator = generator
        _positive_int(self.num_samples, "num_samples")
        _random.resolve(generator, "RandomSampler")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        # Drawn eagerly (not in a generator function): the epoch's order is fixed by iter().
        n, k = len(self.data_source), self.num_samples
        rng = _random.resolve(self.generator, "RandomSampler")
        if self.replacement:
            order = rng.integers(0, n, size=k)
        else:
            order = np.concatenate([rng.permutation(n) for _ in range(-(-k // n))])[:k] if n else []
        return iter(np.asarray(order, dtype=np.int64).tolist())

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, freshly drawn each epoch.

    Example::

        list(SubsetRandomSampler([10, 20, 30]))     # e.g. [30, 10, 20]
    """

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator
        _random.resolve(generator, "SubsetRandomSampler")

    def __iter__(self):
        order = _random.resolve(self.generator, "SubsetRandomSampler").permutation(
            len(self.indices)
        )
        return iter([self.indices[i] for i in order.tolist()])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probability proportional to ``weights``.

    Args:
        weights: (N,) non-negative weights, need not sum to 1.
        num_samples: draws per epoch.
        replacement: with replacement (default); without, each index appears at most once.
        generator: generator to draw from.

    Example::

        counts = np.bincount(labels); w = 1.0 / counts[labels]     # balance the classes
        sampler = WeightedRandomSampler(w, num_samples=len(w))
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        self.num_samples = _positive_int(num_samples, "num_samples")
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement!r}"
            )
        self.replacement = replacement
        w = np.asarray(weights._data if hasattr(weights, "_data") else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {w.shape}"
            )
        self.weights = w
        self.generator = generator
        _random.resolve(generator, "WeightedRandomSampler")

    def __iter__(self):
        draws = _random.multinomial(
            self.weights, self.num_samples, self.replacement, generator=self.generator
        )
        return iter(draws._data.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    Example::

        list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        # [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        self.sampler = sampler
        self.batch_size = _positive_int(batch_size, "batch_size")
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"drop_last should be a boolean value, but got drop_last={drop_last!r}"
            )
        self.drop_last = drop_last

    def __iter__(self):
        return self._batches(iter(self.sampler))  # iter() now: a random order is drawn here

    def _batches(self, indices):
        batch = []
        for index in indices:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
