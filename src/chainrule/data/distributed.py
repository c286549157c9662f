"""DistributedSampler: each rank reads its own share of a dataset, every epoch (as torch's)."""

import math

import numpy as np


class DistributedSampler:
    """Indices of the samples this rank reads, an equal count on every rank.

    Each epoch the order is a permutation of ``range(len(dataset))`` drawn from ``seed + epoch``
    (so every rank draws the same one: call :meth:`set_epoch` before each epoch), or the natural
    order when ``shuffle=False``. It is then cut to a multiple of ``num_replicas``: by repeating
    its first indices (``drop_last=False``, padding as PyTorch does) or by dropping its tail
    (``drop_last=True``); rank ``r`` takes every ``num_replicas``-th index starting at ``r``.

    ``num_replicas`` and ``rank`` default to those of the process group.

    Example::

        sampler = DistributedSampler(dataset, shuffle=True, seed=0)
        loader = DataLoader(dataset, batch_size=32, sampler=sampler)
        for epoch in range(epochs):
            sampler.set_epoch(epoch)
            for xb, yb in loader:      # this rank's len(sampler) samples, in batches
                ...
    """

    def __init__(
        self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False
    ):
        if num_replicas is None or rank is None:
            from .. import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: pass num_replicas and rank, or call "
                    "chainrule.distributed.init_process_group() first"
                )
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last and n % self.num_replicas:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Use the permutation of this epoch (the same on every rank)."""
        self.epoch = int(epoch)

    def order(self):
        """The epoch's full order over all ranks, before padding: ``(len(dataset),)`` int64."""
        n = len(self.dataset)
        if self.shuffle:
            return np.random.default_rng(self.seed + self.epoch).permutation(n)
        return np.arange(n)

    def __iter__(self):
        return iter(self.indices().tolist())

    def indices(self):
        """This rank's indices for the current epoch, ``(num_samples,)`` int64."""
        return partition(
            self.order(), self.num_replicas, self.rank, self.total_size, self.drop_last
        )

    def __len__(self):
        return self.num_samples


def partition(order, num_replicas, rank, total_size, drop_last):
    """Pad (repeating the start) or cut ``order`` to ``total_size``, then take rank's stride."""
    order = np.asarray(order, dtype=np.int64)
    if drop_last:
        order = order[:total_size]
    elif total_size > len(order):
        repeats = math.ceil(total_size / len(order))
        order = np.concatenate([order, np.tile(order, repeats)[: total_size - len(order)]])
    return order[rank:total_size:num_replicas]
