"""Data parallelism: :class:`DistributedDataParallel` (one model replica per MPI rank)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
