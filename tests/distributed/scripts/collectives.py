"""Every collective on 2+ ranks, checked against what it must give."""

import os

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed.group import alone

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
if os.environ.get("CHECK_BLAS_THREADS"):  # started without any thread variable
    from threadpoolctl import threadpool_info

    cores = len(os.sched_getaffinity(0))
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == max(1, cores // world) for p in blas), blas
assert dist.is_initialized() and world >= 2

base = np.array([1.0, -2.0, 3.0], np.float32)
expect = {
    "sum": sum(base * (r + 1) for r in range(world)),
    "avg": None,
    "max": base * np.where(base > 0, world, 1),
    "min": base * np.where(base > 0, 1, world),
}
expect["avg"] = expect["sum"] / world
for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX, dist.ReduceOp.MIN):
    t = cr.tensor(base * (rank + 1))
    version = t._version_counter[0]
    dist.all_reduce(t, op=op)
    np.testing.assert_allclose(t.numpy(), expect[op], rtol=1e-6)
    assert t._version_counter[0] == version + 1  # recorded as an in-place change

t = cr.tensor(base * (rank + 1))
work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
work.wait()
np.testing.assert_allclose(t.numpy(), expect["avg"], rtol=1e-6)

ints = cr.tensor(np.array([rank, 10 * rank], np.int64))
dist.all_reduce(ints)
assert ints.numpy().tolist() == [sum(range(world)), 10 * sum(range(world))]
try:
    dist.all_reduce(ints, op=dist.ReduceOp.AVG)
    raise AssertionError("AVG on int64 must be refused")
except TypeError as e:
    assert "floating" in str(e)

b = cr.full((2, 3), float(rank))
dist.broadcast(b, src=world - 1)
assert (b.numpy() == world - 1).all()

out = [cr.zeros(2, 2) for _ in range(world)]
dist.all_gather(out, cr.full((2, 2), float(rank)))
for r, o in enumerate(out):
    assert (o.numpy() == r).all()

objs = [None] * world
dist.all_gather_object(objs, {"rank": rank})
assert objs == [{"rank": r} for r in range(world)]
lst = [rank, "x"] if rank == 0 else [None, None]
dist.broadcast_object_list(lst, src=0)
assert lst == [0, "x"]

model = cr.nn.Linear(3, 2)
assert dist.replicas_agree(model)  # same default seed on every rank
if rank == 1:
    with cr.no_grad():
        model.bias.add_(1e-3)
assert dist.rank_divergence(model) == ["bias"]
assert not dist.replicas_agree(model)

# alone(): a rank trains on its own (no collective; fit and the monitor see one process)
with alone():
    assert not dist.is_initialized()
    trainer = cr.train.Trainer(model, cr.nn.MSELoss(), cr.optim.SGD(model.parameters(), lr=0.1))
    assert trainer._world == 1
    # rank 1 trains twice as long: under the group, the epoch averages would hang
    data = cr.data.TensorDataset(cr.ones(4, 3), cr.zeros(4, 2))
    trainer.fit(cr.data.DataLoader(data, batch_size=2), epochs=1 + rank)
try:
    with alone():
        raise KeyError("inside")
except KeyError:
    pass
assert dist.is_initialized() and dist.get_world_size() == world  # back after an exception

dist.barrier()
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"<OK rank {rank}>", flush=True)
