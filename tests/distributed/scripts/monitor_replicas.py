"""The monitor's rank_divergence finding: replicas seeded by rank drift apart ("plain"); the same
model under DistributedDataParallel stays one model ("ddp"). Prints each rank's verdict kinds."""

import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn

mode = sys.argv[1]
dist.init_process_group("mpi")
rank = dist.get_rank()
cr.manual_seed(0 if mode == "ddp" else rank)  # "plain": the rank-dependent seed bug
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
train_model = nn.parallel.DistributedDataParallel(model) if mode == "ddp" else model
opt = cr.optim.SGD(model.parameters(), lr=0.1)
monitor = cr.diagnostics.GradientMonitor(model, optimizer=opt, replica_every=5)
rng = np.random.default_rng(rank)
for _ in range(10):
    x = cr.tensor(rng.standard_normal((16, 4)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 2, 16))
    loss = cr.nn.functional.cross_entropy(train_model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    monitor.step(loss)
report = monitor.report()
print(f"<KINDS rank {rank}> {','.join(report.kinds)}", flush=True)
print(f"<OK rank {rank}>", flush=True)
dist.destroy_process_group()
