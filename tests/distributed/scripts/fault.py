"""A failure on one rank while the others wait in a collective: all must end, promptly."""

import os
import sys
import time

import numpy as np

import chainrule as cr
import chainrule.distributed as dist

mode, folder = sys.argv[1], sys.argv[2]
dist.init_process_group("mpi")
rank = dist.get_rank()
dist.barrier()

if mode == "raise":
    if rank == 1:
        raise ValueError("deliberate failure on rank 1")
    dist.all_reduce(cr.ones(3))  # rank 0 waits here for a partner that died

elif mode == "sigint":
    if rank == 1:
        with open(os.path.join(folder, "pid.tmp"), "w") as f:
            f.write(str(os.getpid()))
        os.replace(os.path.join(folder, "pid.tmp"), os.path.join(folder, "pid"))
        while True:  # busy in Python until Ctrl-C arrives
            time.sleep(0.01)
    dist.barrier()

elif mode == "fit":
    from chainrule import nn
    from chainrule.data import DataLoader, DistributedSampler, TensorDataset
    from chainrule.nn.parallel import DistributedDataParallel as DDP

    rng = np.random.default_rng(0)
    data = TensorDataset(rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 2, 64))
    model = DDP(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)))
    opt = cr.optim.SGD(model.parameters(), lr=0.1)

    class FailInSecondEpoch(cr.train.Callback):
        def on_step_end(self, info):
            if rank == 1 and info["epoch"] == 1 and info["step"] == 2:
                raise RuntimeError("rank 1 lost its data in epoch 2")

    loader = DataLoader(data, batch_size=4, sampler=DistributedSampler(data, seed=0))
    cr.train.fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        loader,
        epochs=3,
        progress=False,
        callbacks=[FailInSecondEpoch()],
        checkpoint=os.path.join(folder, "run.ckpt"),
    )

print(f"<OK rank {rank}>", flush=True)
