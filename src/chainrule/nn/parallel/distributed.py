"""DistributedDataParallel: every rank trains a replica on its share of the batch; gradients are
averaged with bucketed, non-blocking all-reduces that start during backward.

How a step goes (as PyTorch's DDP):

* At wrap time rank 0's parameters and buffers are broadcast, so every replica starts equal.
* Parameters are grouped into buckets in reverse order of ``parameters()`` (roughly the order
  in which backward finishes their gradients): the first bucket holds about 1 MiB (or
  ``bucket_cap_mb`` if smaller), the others ``bucket_cap_mb``. A post-accumulate hook on each
  parameter copies its finished ``.grad`` into its bucket's flat buffer; when a bucket is full
  its ``Iallreduce`` starts at once, while backward goes on with the layers below. Buckets are started strictly in bucket order on every
  rank, which is what MPI requires of non-blocking collectives.
* A callback queued for the end of backward starts any bucket still waiting (a parameter that
  got no gradient on a rank counts as zero there; one unused on every rank keeps ``grad=None``),
  waits for all of them and writes the averages back into
  ``.grad``. So ``loss.backward()`` returns with averaged gradients; ``optimizer.step()`` needs
  nothing special.
* ``no_sync()`` skips the all-reduce: gradients accumulate locally and the next backward outside
  it averages the total.
* With ``broadcast_buffers=True`` (default) every forward first copies rank 0's buffers
  (BatchNorm running statistics) to the other ranks.
"""

import contextlib
import time

import numpy as np

from ... import distributed as dist
from ...autograd import engine
from ...tensor import Tensor
from ..module import Module

FIRST_BUCKET_BYTES = 1024 * 1024


class DistributedDataParallel(Module):
    """Wrap ``module`` so that ``backward`` leaves gradients averaged over all ranks.

    Args:
        module: the model (same architecture on every rank).
        bucket_cap_mb: size of a gradient bucket after the first (MiB).
        broadcast_buffers: copy rank 0's buffers to all ranks at each forward.
        device_ids, output_device, find_unused_parameters: accepted for PyTorch compatibility;
            parameters without a gradient are always treated as zero.

    Attributes: ``module`` (the wrapped model); ``comm_seconds`` (time spent in MPI calls for
    gradients since creation, a float) and ``wait_seconds`` (of which blocked waiting at the end
    of backward) for benchmarks; ``buckets_started_early``: how many buckets of the last
    backward started their all-reduce before backward reached its end. Setting ``_overlap =
    False`` starts every bucket at the end of backward instead (what the overlap saves, for
    the benchmark; the averages are the same).

    Example::

        dist.init_process_group("mpi")
        model = DistributedDataParallel(nn.Linear(4, 1))
        loss = ((model(x) - y) ** 2).mean()     # x: this rank's (N, 4) share of the batch
        loss.backward()                         # .grad = average over ranks
        opt.step()
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        broadcast_buffers=True,
        bucket_cap_mb=25,
        find_unused_parameters=False,
        process_group=None,
        gradient_as_bucket_view=False,
    ):
        super().__init__()
        if not dist.is_initialized():
            raise RuntimeError(
                "DistributedDataParallel: call chainrule.distributed.init_process_group() first"
            )
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: expected a Module, got {type(module).__name__}"
            )
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.comm_seconds = 0.0
        self.buckets_started_early = 0
        self.wait_seconds = 0.0
        self._world = dist.get_world_size()
        self._sync = True
        self._overlap = True  # start full buckets during backward (False: all at its end)
        self._sync_module_states()
        params = [p for p in module.parameters() if p.requires_grad]
        self._buckets = _make_buckets(params, int(bucket_cap_mb * 1024 * 1024))
        self._where = {
            id(p): (bucket, i) for bucket in self._buckets for i, p in enumerate(bucket.params)
        }
        self._backward = None  # the backward pass (its callback list) being synced
        self._handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    # ---- forward ----
    def forward(self, *args, **kwargs):
        if self.broadcast_buffers and self._world > 1:
            self._broadcast(b for _, b in self.module.named_buffers() if b is not None)
        return self.module(*args, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, backward only accumulates local gradients (no communication).

        Example::

            with model.no_sync():
                model(x1).sum().backward()      # local
            model(x2).sum().backward()          # averages the sum of both
        """
        old, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = old

    # ---- startup: every replica starts from rank 0's state ----
    def _sync_module_states(self):
        if self._world > 1:
            self._broadcast(
                list(self.module.parameters())
                + [b for _, b in self.module.named_buffers() if b is not None]
            )

    def _broadcast(self, tensors):
        for t in tensors:
            dist.broadcast(t, src=0)

    # ---- backward: buckets start as they fill ----
    def _grad_ready(self, param):
        if not self._sync or self._world == 1:
            return
        if self._backward is not engine._CALLBACKS[-1]:  # first gradient of this backward
            self._backward = engine._CALLBACKS[-1]
            for bucket in self._buckets:
                bucket.reset()
            self._next = 0  # next bucket to start: the same order everywhere
            engine.queue_callback(self._finish)
        bucket, i = self._where[id(param)]
        bucket.put(i, param.grad._data)
        if not self._overlap:
            return
        started = time.perf_counter()
        self._start_ready_buckets()
        self.comm_seconds += time.perf_counter() - started

    def _start_ready_buckets(self, force=False):
        while self._next < len(self._buckets):
            bucket = self._buckets[self._next]
            if len(bucket.have) < len(bucket.params) and not force:
                break
            bucket.start()
            self._next += 1
        for bucket in self._buckets[: self._next]:
            bucket.poke()  # lets MPI progress the ones already started

    def _finish(self):
        self._backward = None
        self.buckets_started_early = self._next  # started during backward, before the end
        started = time.perf_counter()
        self._start_ready_buckets(force=True)
        for bucket in self._buckets:
            bucket.wait()
        waited = time.perf_counter() - started
        self.comm_seconds += waited
        self.wait_seconds += waited
        for bucket in self._buckets:
            np.divide(bucket.buffer, self._world, out=bucket.buffer)
            for p, offset in zip(bucket.params, bucket.offsets, strict=True):
                avg = bucket.buffer[offset : offset + p._data.size].reshape(p.shape)
                if p.grad is None:
                    if not avg.any():
                        continue  # unused on every rank: stays None, as in torch
                    p.grad = Tensor._wrap(avg.copy())
                elif p.grad._data.flags.writeable:
                    np.copyto(p.grad._data, avg)
                else:
                    p.grad = Tensor._wrap(avg.copy())

    def extra_repr(self):
        return f"world_size={self._world}, buckets={len(self._buckets)}"

    def __del__(self):
        for h in getattr(self, "_handles", ()):
            h.remove()


class _Bucket:
    """Gradients of some parameters in one flat buffer, all-reduced by one ``Iallreduce``."""

    def __init__(self, params, dtype):
        self.params = params
        self.offsets = list(np.cumsum([0] + [p._data.size for p in params[:-1]]))
        self.buffer = np.zeros(sum(p._data.size for p in params), dtype)
        self.have = set()  # indices of the parameters whose gradient is in
        self.request = None

    def reset(self):
        self.have = set()
        self.request = None

    def put(self, i, grad):
        offset = self.offsets[i]
        self.buffer[offset : offset + grad.size] = grad.ravel()
        self.have.add(i)

    def start(self):
        for i, (p, offset) in enumerate(zip(self.params, self.offsets, strict=True)):
            if i not in self.have:  # no gradient on this rank (unused here): zero
                self.buffer[offset : offset + p._data.size] = 0
        from mpi4py import MPI

        comm = dist.group._comm()
        self.request = comm.Iallreduce(MPI.IN_PLACE, self.buffer, op=MPI.SUM)

    def poke(self):
        if self.request is not None and self.request.Test():
            self.request = None

    def wait(self):
        if self.request is not None:
            self.request.Wait()
            self.request = None


def _make_buckets(params, cap_bytes):
    """Buckets in reverse parameter order: ~1 MiB first, then ``cap_bytes``; one dtype each."""
    buckets, current, size = [], [], 0
    limit = min(FIRST_BUCKET_BYTES, cap_bytes)
    for p in reversed(params):
        if current and p.dtype != current[0].dtype:
            buckets.append(_Bucket(current, current[0].dtype))
            current, size = [], 0
        current.append(p)
        size += p._data.nbytes
        if size >= limit:
            buckets.append(_Bucket(current, current[0].dtype))
            current, size, limit = [], 0, cap_bytes
    if current:
        buckets.append(_Bucket(current, current[0].dtype))
    return buckets
