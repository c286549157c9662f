"""``chainrule.utils.data.dataset``: torch's module path for the dataset classes."""

from ...data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "StackDataset",
    "ChainDataset",
    "random_split",
]
