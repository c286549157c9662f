"""DDP: one step's gradients equal single-process gradients on the concatenated batch."""

import copy

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
F = nn.functional
per_rank = 6
rng = np.random.default_rng(0)  # same data on every rank
X = rng.standard_normal((per_rank * world, 20)).astype(np.float32)
Y = rng.integers(0, 5, per_rank * world)
mine = slice(rank * per_rank, (rank + 1) * per_rank)


def mlp():
    return nn.Sequential(
        nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 5)
    )


def close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=what)


# 1. wrap: rank 0's weights everywhere, although each rank initialised differently
cr.manual_seed(100 + rank)
model = mlp()
started_before_last = []  # runs before DDP's hook on this weight
model[0].weight.register_post_accumulate_grad_hook(lambda p: started_before_last.append(ddp._next))
ddp = DDP(model, bucket_cap_mb=0.005)  # small buckets: several of them
assert len(ddp._buckets) > 1
assert dist.replicas_agree(ddp)
reference = copy.deepcopy(model)  # single process, same start

# 2. one step: averaged gradients == full-batch gradients
F.cross_entropy(ddp(cr.tensor(X[mine])), cr.tensor(Y[mine])).backward()
F.cross_entropy(reference(cr.tensor(X)), cr.tensor(Y)).backward()
for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
    close(p.grad.numpy(), q.grad.numpy(), f"grad of {name}")
# when the first layer's gradient (the last to finish) arrived, every other bucket's
# all-reduce was already running: they overlapped with the rest of backward
assert started_before_last == [len(ddp._buckets) - 1], started_before_last
assert ddp.buckets_started_early == len(ddp._buckets)

# 3. an optimizer step keeps the replicas identical, and equal to the reference
opt = cr.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
ref_opt = cr.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
opt.step()
ref_opt.step()
assert dist.replicas_agree(ddp)
for p, q in zip(model.parameters(), reference.parameters(), strict=True):
    close(p.numpy(), q.numpy(), "weights after a step")

# 4. no_sync: two local micro-batches, then one synchronised: the average of the sums
opt.zero_grad()
ref_opt.zero_grad()
half = per_rank // 2
with ddp.no_sync():
    F.cross_entropy(ddp(cr.tensor(X[mine][:half])), cr.tensor(Y[mine][:half])).backward()
local = [p.grad.numpy().copy() for p in model.parameters()]
F.cross_entropy(ddp(cr.tensor(X[mine][half:])), cr.tensor(Y[mine][half:])).backward()
for r in range(world):
    part = slice(r * per_rank, (r + 1) * per_rank)
    for a in (slice(0, half), slice(half, per_rank)):
        F.cross_entropy(reference(cr.tensor(X[part][a])), cr.tensor(Y[part][a])).backward()
for p, q in zip(model.parameters(), reference.parameters(), strict=True):
    close(p.grad.numpy(), q.grad.numpy() / world, "grad after no_sync accumulation")
assert not all(
    np.allclose(a, p.grad.numpy()) for a, p in zip(local, model.parameters(), strict=True)
)


# 5. a parameter unused on one rank: treated as zero there, still averaged everywhere
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 1), nn.Linear(4, 1)

    def forward(self, x, use_b):
        return self.a(x) + (self.b(x) if use_b else 0)


cr.manual_seed(0)
br = DDP(Branchy())
x = cr.ones(2, 4)
br(x, use_b=(rank == 0)).sum().backward()
b_grad = br.module.b.weight.grad.numpy()
np.testing.assert_allclose(b_grad, np.full((1, 4), 2.0 / world), rtol=1e-6)

# 6. BatchNorm: buffers follow rank 0 at every forward; state_dict keys get 'module.'
cr.manual_seed(0)
bn_model = nn.Sequential(nn.Linear(20, 8), nn.BatchNorm1d(8))
alone = copy.deepcopy(bn_model)  # what rank 0 alone would compute
bn = DDP(bn_model)
assert all(k.startswith("module.") for k in bn.state_dict())
assert "module.1.running_mean" in bn.state_dict()
for _step in range(3):
    bn(cr.tensor(X[mine] + rank)).sum().backward()  # different batch statistics per rank
    alone(cr.tensor(X[:per_rank]))
assert not dist.replicas_agree(bn)  # this forward's update is local...
bn.eval()
with cr.no_grad():
    out = bn(cr.tensor(X[:4])).numpy()  # ...until the next forward broadcasts
assert dist.replicas_agree(bn)
close(bn_model[1].running_mean.numpy(), alone[1].running_mean.numpy(), "rank 0's statistics")
gathered = [None] * world
dist.all_gather_object(gathered, out)
for g in gathered:
    np.testing.assert_array_equal(g, gathered[0])  # eval: same buffers, same output

# 7. overlap off (every bucket after backward, as the benchmark compares): the same averages
cr.manual_seed(5)
plain = mlp()
serial, ref = DDP(copy.deepcopy(plain), bucket_cap_mb=0.005), copy.deepcopy(plain)
serial._overlap = False
F.cross_entropy(serial(cr.tensor(X[mine])), cr.tensor(Y[mine])).backward()
F.cross_entropy(ref(cr.tensor(X)), cr.tensor(Y)).backward()
assert serial.buckets_started_early == 0 and len(serial._buckets) > 1
for p, q in zip(serial.module.parameters(), ref.parameters(), strict=True):
    close(p.grad.numpy(), q.grad.numpy(), "grad without overlap")

dist.destroy_process_group()
print(f"<OK rank {rank}>", flush=True)
