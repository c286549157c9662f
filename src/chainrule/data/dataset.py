"""Datasets: map-style and iterable bases, in-memory tensors, subsets, concatenation, splits."""

import bisect
import math
from typing import Generic, TypeVar

import numpy as np

from ..tensor import Tensor
from ._rng import resolve_rng


def _as_array(x):
    """A chainrule Tensor or array-like as a NumPy array (no copy when it already is one)."""
    return x._data if isinstance(x, Tensor) else np.asarray(x)


T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """Map-style dataset: subclasses implement ``__getitem__(i)`` and ``__len__()``.

    Like torch's, it can be subscripted for type hints: ``class Pairs(Dataset[tuple])``.

    Example::

        class Squares(cr.data.Dataset):
            def __len__(self):
                return 10
            def __getitem__(self, i):
                return np.float32(i), np.float32(i * i)
    """

    # No __len__ here, as in PyTorch: len() of a dataset without one raises TypeError, which
    # list() and length hints expect (an iterable dataset rarely knows its length).

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Stream-style dataset: subclasses implement ``__iter__`` yielding samples.

    With ``num_workers > 0`` every worker iterates its own copy; use
    :func:`get_worker_info` inside ``__iter__`` to give each worker its own share.

    Example::

        class Count(IterableDataset):
            def __init__(self, n): self.n = n
            def __iter__(self):
                info = cr.utils.data.get_worker_info()
                start, step = (0, 1) if info is None else (info.id, info.num_workers)
                return iter(range(start, self.n, step))
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index):
        raise TypeError(
            f"{type(self).__name__} is an IterableDataset: iterate over it instead of indexing"
        )

    def __add__(self, other):
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows of equally long tensors or arrays.

    ``ds[i]`` is the tuple ``(a[i], b[i], ...)`` of Tensors (views, as in PyTorch);
    :class:`DataLoader` builds a whole batch with one fancy index per tensor. ``ds.tensors`` holds
    the Tensors, ``ds.arrays`` their NumPy arrays.

    Args:
        *tensors: chainrule Tensors or array-likes, all with the same first dimension ``N``.

    Example::

        X = np.zeros((100, 2), np.float32); y = np.zeros(100, np.int64)
        ds = TensorDataset(X, y)
        x0, y0 = ds[0]          # shapes (2,) and ()
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.arrays = tuple(_as_array(t) for t in tensors)
        self.tensors = tuple(
            t if isinstance(t, Tensor) else Tensor._wrap(a)
            for t, a in zip(tensors, self.arrays, strict=True)
        )
        sizes = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(
                f"TensorDataset tensors must share the first dimension, got shapes {shapes}"
            )

    def __getitem__(self, index):
        return tuple(Tensor._wrap(np.asarray(a[index])) for a in self.arrays)

    def __len__(self):
        return self.arrays[0].shape[0]

    def _batch(self, indices):
        """Whole batch as a tuple of arrays (the DataLoader fast path), or None when a subclass
        changes what a sample is (its own ``__getitem__`` must then be called)."""
        if type(self).__getitem__ is not TensorDataset.__getitem__:
            return None
        return tuple(a[indices] for a in self.arrays)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Example::

        first_ten = Subset(ds, range(10))
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    def _batch(self, indices):
        # Compose the indices so a subset of a TensorDataset keeps the one-fancy-index fast path.
        if type(self).__getitem__ is not Subset.__getitem__:
            return None
        inner = getattr(self.dataset, "_batch", None)
        return inner(self.indices[indices]) if inner is not None else None


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other.

    Example::

        both = ConcatDataset([train_a, train_b])     # len(both) == len(train_a) + len(train_b)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        if index >= len(self):
            raise IndexError(f"ConcatDataset index {index} out of range for length {len(self)}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets chained into one stream.

    Example::

        stream = ChainDataset([part1, part2])
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset):
    """Datasets of equal length zipped: sample ``i`` is the tuple (positional datasets) or the
    dict (keyword datasets) of their ``i``-th samples.

    Example::

        pairs = StackDataset(images, labels)           # pairs[i] == (images[i], labels[i])
        named = StackDataset(image=images, label=labels)   # named[i]["label"]
    """

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                "input/output, but both types are given."
            )
        datasets = args or tuple(kwargs.values())
        if not datasets:
            raise ValueError("At least one dataset should be passed")
        length = len(datasets[0])
        if any(len(d) != length for d in datasets):
            raise ValueError("Size mismatch between datasets")
        self._length = length
        self.datasets = args if args else dict(kwargs)

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


def _split_lengths(n, lengths):
    """Integer lengths from counts or from fractions summing to 1 (torch's rounding rule)."""
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"random_split fractions must lie in [0, 1], got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):  # hand out the remainder round-robin, like torch
            counts[i % len(counts)] += 1
        return counts
    if any(int(c) != c or c < 0 for c in lengths):
        raise ValueError(
            f"random_split lengths must be non-negative integers or fractions summing to 1, got {lengths}"
        )
    if sum(lengths) != n:
        raise ValueError(
            f"random_split lengths sum to {sum(lengths)} but the dataset has {n} samples"
        )
    return [int(c) for c in lengths]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` objects.

    Args:
        dataset: any sized dataset.
        lengths: sample counts summing to ``len(dataset)``, or fractions summing to 1.
        generator: a ``cr.Generator`` (or ``numpy.random.Generator``); defaults to chainrule's
            default generator.

    Example::

        train, val = random_split(ds, [0.8, 0.2], generator=cr.Generator().manual_seed(0))
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    order = resolve_rng(generator).permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
