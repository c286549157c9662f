"""Collectives on chainrule Tensors (in place, as torch.distributed): all_reduce, broadcast,
all_gather, barrier, and the pickling ``*_object`` variants."""

import numpy as np

from .group import _comm, _mpi


class ReduceOp:
    """How :func:`all_reduce` combines the ranks' values (torch's names)."""

    SUM = "sum"
    AVG = "avg"
    MAX = "max"
    MIN = "min"


def _mpi_op(op):
    MPI = _mpi()
    ops = {
        ReduceOp.SUM: MPI.SUM,
        ReduceOp.AVG: MPI.SUM,
        ReduceOp.MAX: MPI.MAX,
        ReduceOp.MIN: MPI.MIN,
    }
    if op not in ops:
        raise ValueError(f"all_reduce: unknown op {op!r}; use ReduceOp.SUM, AVG, MAX or MIN")
    return ops[op]


def _array(tensor, what):
    data = getattr(tensor, "_data", None)
    if not isinstance(data, np.ndarray):
        raise TypeError(f"{what}: expected a chainrule Tensor, got {type(tensor).__name__}")
    if not data.flags.c_contiguous:
        raise ValueError(f"{what}: the tensor (shape {data.shape}) must be contiguous")
    return data


class Work:
    """Handle of a non-blocking collective (``async_op=True``): ``wait()`` finishes it."""

    def __init__(self, request, finish=None):
        self._request, self._finish = request, finish

    def is_completed(self):
        """True once the collective is done (drives MPI's progress as a side effect)."""
        if self._request is None:
            return True
        done = self._request.Test()
        if done:
            self._complete()
        return done

    def wait(self):
        """Block until the collective is done; the tensor then holds the result."""
        if self._request is not None:
            self._request.Wait()
            self._complete()
        return True

    def _complete(self):
        self._request = None
        if self._finish is not None:
            self._finish()
            self._finish = None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across ranks, in place: every rank ends with the same result.

    ``AVG`` sums and divides by the world size (floating tensors only). With ``async_op=True``
    the reduction runs in the background (MPI ``Iallreduce``) and a :class:`Work` is returned.

    Example::

        t = cr.tensor([1.0, 2.0]) * (dist.get_rank() + 1)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)     # every rank: [world, 2 * world]
    """
    data = _array(tensor, "all_reduce")
    if op == ReduceOp.AVG and data.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating tensor, got {data.dtype}")
    comm, MPI = _comm(), _mpi()
    mpi_op = _mpi_op(op)
    size = comm.Get_size()

    def finish():
        if op == ReduceOp.AVG and size > 1:
            np.divide(data, size, out=data)
        tensor._version_counter[0] += 1  # an in-place change, as any other

    if async_op:
        return Work(comm.Iallreduce(MPI.IN_PLACE, data, op=mpi_op), finish)
    comm.Allreduce(MPI.IN_PLACE, data, op=mpi_op)
    finish()
    return None


def broadcast(tensor, src, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor`` (same shape and dtype)."""
    data = _array(tensor, "broadcast")
    comm = _comm()
    _check_rank(src, comm, "broadcast")

    def finish():
        tensor._version_counter[0] += 1

    if async_op:
        return Work(comm.Ibcast(data, root=src), finish)
    comm.Bcast(data, root=src)
    finish()
    return None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor``, on every rank.

    Example::

        out = [cr.zeros(3) for _ in range(dist.get_world_size())]
        dist.all_gather(out, cr.ones(3) * dist.get_rank())   # out[r] == r
    """
    data = _array(tensor, "all_gather")
    comm = _comm()
    size = comm.Get_size()
    if len(tensor_list) != size:
        raise ValueError(
            f"all_gather: tensor_list has {len(tensor_list)} tensors for a world of {size}"
        )
    for i, t in enumerate(tensor_list):
        if _array(t, "all_gather").shape != data.shape or t.dtype != data.dtype:
            raise ValueError(
                f"all_gather: tensor_list[{i}] has shape {t.shape} {t.dtype}, the "
                f"input {data.shape} {data.dtype}"
            )
    gathered = np.empty((size,) + data.shape, data.dtype)
    comm.Allgather(data, gathered)
    for t, part in zip(tensor_list, gathered, strict=True):
        t._data[...] = part
        t._version_counter[0] += 1
    return Work(None) if async_op else None


def barrier(group=None):
    """Wait until every rank has reached this call."""
    _comm().Barrier()


def broadcast_object_list(object_list, src=0, group=None):
    """Replace the items of ``object_list`` on every rank by rank ``src``'s (pickled)."""
    comm = _comm()
    _check_rank(src, comm, "broadcast_object_list")
    received = comm.bcast(list(object_list) if comm.Get_rank() == src else None, root=src)
    object_list[:] = received


def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list[r]`` with rank r's ``obj`` (any picklable object), on every rank."""
    comm = _comm()
    if len(object_list) != comm.Get_size():
        raise ValueError(
            f"all_gather_object: object_list has {len(object_list)} items for a "
            f"world of {comm.Get_size()}"
        )
    object_list[:] = comm.allgather(obj)


def _check_rank(src, comm, what):
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"{what}: src={src} is not a rank of a world of {comm.Get_size()}")
