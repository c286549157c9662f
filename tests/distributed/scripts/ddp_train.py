"""Two epochs of DDP training with fit() equal single-process training on the global batch;
rank 0 alone writes the checkpoint; resuming from it reproduces the uninterrupted run."""

import os
import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.data import DataLoader, DistributedSampler, TensorDataset
from chainrule.nn.parallel import DistributedDataParallel as DDP

folder = sys.argv[1]
dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
F = nn.functional
rng = np.random.default_rng(1)
X = rng.standard_normal((90, 12)).astype(np.float32)  # 90: not a multiple of the batches
Y = rng.integers(0, 3, 90)
data = TensorDataset(X, Y)
BATCH, EPOCHS = 8, 2


def build(seed):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(12, 32), nn.Tanh(), nn.Linear(32, 3))
    return model, cr.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)


def ddp_run(epochs, checkpoint=None, resume=None):
    model, opt = build(seed=7 + 100 * rank)  # DDP makes them rank 0's anyway
    ddp = DDP(model)
    sampler = DistributedSampler(data, shuffle=True, seed=5)
    loader = DataLoader(data, batch_size=BATCH, sampler=sampler)
    start, history = 0, None
    if resume is not None:
        state = cr.train.load_checkpoint(resume, ddp, opt)
        start, history = state["epoch"], state["history"]
    trainer = cr.train.Trainer(
        ddp, nn.CrossEntropyLoss(), opt, checkpoint=checkpoint, progress=True
    )
    assert trainer.progress is (rank == 0)  # the other ranks' bars are silent
    history = trainer.fit(
        loader,
        epochs,
        val_loader=DataLoader(data, batch_size=32),
        start_epoch=start,
        history=history,
    )
    return model, history


# 1. DDP for two epochs
model, history = ddp_run(EPOCHS, checkpoint=os.path.join(folder, f"full-{rank}.ckpt"))
assert dist.replicas_agree(model)

# 2. the same on one process: each step's batch = the ranks' batches side by side
ref, ref_opt = build(seed=7)
for epoch in range(EPOCHS):
    parts = []
    for r in range(world):
        s = DistributedSampler(data, num_replicas=world, rank=r, shuffle=True, seed=5)
        s.set_epoch(epoch)
        parts.append(s.indices())
    for start in range(0, len(parts[0]), BATCH):
        idx = np.concatenate([p[start : start + BATCH] for p in parts])
        ref_opt.zero_grad()
        F.cross_entropy(ref(cr.tensor(X[idx])), cr.tensor(Y[idx])).backward()
        ref_opt.step()
for (name, p), q in zip(model.named_parameters(), ref.parameters(), strict=True):
    np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)

# 3. logs are averaged over ranks: every rank has the same history
logs = [None] * world
dist.all_gather_object(logs, (history.train_loss, history["val_loss"]))
assert all(entry == logs[0] for entry in logs), logs

# 4. rank 0 alone wrote its checkpoint
dist.barrier()
assert os.path.exists(os.path.join(folder, "full-0.ckpt"))
assert not any(os.path.exists(os.path.join(folder, f"full-{r}.ckpt")) for r in range(1, world))

# 5. stop after one epoch, resume from rank 0's checkpoint: the same weights as step 1
ddp_run(1, checkpoint=os.path.join(folder, "half.ckpt"))
dist.barrier()  # rank 0's file is complete
resumed, resumed_history = ddp_run(EPOCHS, resume=os.path.join(folder, "half.ckpt"))
for (name, p), q in zip(resumed.named_parameters(), model.parameters(), strict=True):
    np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=f"resumed {name}")
assert resumed_history.train_loss == history.train_loss

dist.destroy_process_group()
print(f"<OK rank {rank}>", flush=True)
