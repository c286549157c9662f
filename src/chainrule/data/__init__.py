"""Datasets, the DataLoader and bundled / synthetic / IDX data for chainrule.

The PyTorch-style part (``Dataset``, ``DataLoader``, samplers, ``default_collate``...) is also
importable as ``chainrule.utils.data``, as in PyTorch.

Example::

    import chainrule as cr
    X, y = cr.data.load_digits()                      # (1797, 64) float32, (1797,) int64
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=64, shuffle=True)
    for xb, yb in loader:                             # Tensors (64, 64) float32, (64,) int64
        ...
"""

from .collate import default_collate, default_convert
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .digits import digits_split, load_digits
from .distributed import DistributedSampler
from .idx import MNIST, FashionMNIST, load_idx
from .loader import DataLoader
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .synthetic import (
    TEMPORAL_ORDER_SYMBOLS,
    adding_problem,
    make_circles,
    make_moons,
    make_spirals,
    temporal_order,
)
from .worker import WorkerInfo, get_worker_info

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "ChainDataset",
    "StackDataset",
    "random_split",
    "DataLoader",
    "default_collate",
    "default_convert",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "get_worker_info",
    "WorkerInfo",
    "DistributedSampler",
    "load_digits",
    "digits_split",
    "load_idx",
    "MNIST",
    "FashionMNIST",
    "make_spirals",
    "make_moons",
    "make_circles",
    "adding_problem",
    "temporal_order",
    "TEMPORAL_ORDER_SYMBOLS",
]
