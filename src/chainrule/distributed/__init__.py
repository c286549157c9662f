"""Data-parallel training over MPI, with PyTorch's ``torch.distributed`` names.

Install with ``pip install "chainrule[mpi]"`` (``mpi4py`` and the ``mpich`` wheel), launch with
``mpiexec -n 4 python train.py``. Each process is one *rank*; collectives act in place on
chainrule Tensors. See docs/distributed.md.

Example::

    import chainrule as cr
    import chainrule.distributed as dist

    dist.init_process_group("mpi")
    t = cr.tensor([float(dist.get_rank())])
    dist.all_reduce(t, op=dist.ReduceOp.SUM)      # every rank: 0 + 1 + ... + (world - 1)
    dist.destroy_process_group()
"""

from .checks import parameters_checksum, rank_divergence, replicas_agree
from .collectives import (
    ReduceOp,
    Work,
    all_gather,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
)
from .group import (
    destroy_process_group,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
)

__all__ = [
    "init_process_group",
    "destroy_process_group",
    "is_available",
    "is_initialized",
    "get_rank",
    "get_world_size",
    "ReduceOp",
    "Work",
    "all_reduce",
    "broadcast",
    "all_gather",
    "barrier",
    "all_gather_object",
    "broadcast_object_list",
    "parameters_checksum",
    "replicas_agree",
    "rank_divergence",
]
