"""Datasets, the DataLoader and bundled / synthetic / IDX data for chainrule.

Example::

    import chainrule as cr
    X, y = cr.data.load_digits()                      # (1797, 64) float32, (1797,) int64
    loader = cr.data.DataLoader(cr.data.TensorDataset(X, y), batch_size=64, shuffle=True)
    for xb, yb in loader:                             # Tensors (64, 64) float32, (64,) int64
        ...
"""
from .dataset import Dataset, Subset, TensorDataset, random_split
from .distributed import DistributedSampler
from .digits import digits_split, load_digits
from .idx import MNIST, FashionMNIST, load_idx
from .loader import DataLoader, default_collate
from .synthetic import (
    TEMPORAL_ORDER_SYMBOLS,
    adding_problem,
    make_circles,
    make_moons,
    make_spirals,
    temporal_order,
)

__all__ = [
    "Dataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate",
    "DistributedSampler",
    "load_digits", "digits_split", "load_idx", "MNIST", "FashionMNIST",
    "make_spirals", "make_moons", "make_circles", "adding_problem", "temporal_order",
    "TEMPORAL_ORDER_SYMBOLS",
]
