"""Data-parallel training of an MLP on the bundled digits with DistributedDataParallel.

Every rank holds a replica of the model and reads its share of each epoch
(``DistributedSampler``); ``backward`` averages the gradients over the ranks, so the replicas
stay identical. Rank 0 alone prints and writes the checkpoint. Launch with MPI::

    mpiexec -n 2 python examples/ddp_digits.py [--epochs 20] [--checkpoint ddp.ckpt]

(``pip install "chainrule[mpi]"`` brings mpi4py and mpiexec.) Run as ``python
examples/ddp_digits.py`` it is a world of one and trains as usual.
"""

import argparse

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.data import DataLoader, DistributedSampler, TensorDataset
from chainrule.nn.parallel import DistributedDataParallel as DDP


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32, help="per rank")
    p.add_argument("--checkpoint", default=None)
    args = p.parse_args()

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    cr.manual_seed(0)
    X_train, y_train, X_test, y_test = cr.data.digits_split()
    train_set = TensorDataset(X_train, y_train)  # pixels in [0, 1]
    sampler = DistributedSampler(train_set, shuffle=True, seed=0)
    train = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler)
    test = DataLoader(TensorDataset(X_test, y_test), batch_size=256)

    model = DDP(nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)))
    opt = cr.optim.SGD(model.parameters(), lr=0.05 * world, momentum=0.9)  # linear scaling
    history = cr.train.fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        train,
        args.epochs,
        val_loader=test,
        progress=rank == 0,
        checkpoint=args.checkpoint,
    )
    if rank == 0:
        print(
            f"{world} rank(s), global batch {args.batch_size * world}: test accuracy "
            f"{history['val_accuracy'][-1]:.1%}"
        )
    assert dist.replicas_agree(model), "replicas drifted apart"
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
