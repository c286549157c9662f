"""Datasets: the map-style base class, in-memory arrays, subsets and random splits."""
import math

import numpy as np

from ._rng import resolve_rng


def _as_array(x):
    """A chainrule Tensor or array-like as a NumPy array (no copy when it already is one)."""
    data = getattr(x, "data", None)
    if isinstance(data, np.ndarray) and hasattr(x, "requires_grad"):
        return data
    return np.asarray(x)


class Dataset:
    """Map-style dataset: subclasses implement ``__getitem__(i)`` and ``__len__()``.

    Example::

        class Squares(cr.data.Dataset):
            def __len__(self):
                return 10
            def __getitem__(self, i):
                return np.float32(i), np.float32(i * i)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")


class TensorDataset(Dataset):
    """Samples are rows of equally long tensors or arrays.

    ``ds[i]`` is the tuple ``(a[i], b[i], ...)`` of NumPy rows; :class:`DataLoader` turns a whole
    batch into Tensors with one fancy index per array.

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
        sizes = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(f"TensorDataset tensors must share the first dimension, got shapes {shapes}")

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def __len__(self):
        return self.arrays[0].shape[0]

    def _batch(self, indices):
        """Whole batch as a tuple of arrays (the DataLoader fast path)."""
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
        inner = getattr(self.dataset, "_batch", None)
        return inner(self.indices[indices]) if inner is not None else None


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
        raise ValueError(f"random_split lengths must be non-negative integers or fractions summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split lengths sum to {sum(lengths)} but the dataset has {n} samples")
    return [int(c) for c in lengths]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random :class:`Subset` objects.

    Args:
        dataset: any sized dataset.
        lengths: sample counts summing to ``len(dataset)``, or fractions summing to 1.
        generator: a ``numpy.random.Generator``; defaults to chainrule's global generator.

    Example::

        train, val = random_split(ds, [0.8, 0.2], generator=np.random.default_rng(0))
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    order = resolve_rng(generator).permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
