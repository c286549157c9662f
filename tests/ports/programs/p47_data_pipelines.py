"""Input pipelines beyond TensorDataset: a map-style Dataset returning dicts (default_collate
stacks them into a dict of batches, nested tuples too), ConcatDataset and Subset, an
IterableDataset that shards itself with get_worker_info (with num_workers=0 and 2), ChainDataset,
a custom length-bucketing BatchSampler passed as batch_sampler with a pad_sequence collate_fn,
DataLoader(batch_size=None) for already-batched data, drop_last, and the persistent_workers /
pin_memory / prefetch_factor / worker_init_fn keywords."""

# ruff: noqa: B905  (written as in the tutorials)
import math

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import (
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    Sampler,
    Subset,
    TensorDataset,
    default_collate,
    get_worker_info,
)

COMPARE = {
    "dict_keys": 0,
    "dict_batch": 1e-6,
    "nested_shapes": 0,
    "concat_len": 0,
    "concat_items": 0,
    "iterable_0": 0,
    "iterable_2": 0,
    "chain": 0,
    "bucket_shapes": 0,
    "bucket_lengths": 0,
    "prebatched": 0,
    "drop_last": 0,
    "collate_direct": 1e-6,
}


class Points(Dataset):
    def __init__(self, n, rng):
        self.x = rng.standard_normal((n, 3)).astype(np.float32)
        self.y = rng.integers(0, 4, n)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return {
            "features": torch.from_numpy(self.x[idx]),
            "label": int(self.y[idx]),
            "meta": (idx, float(self.x[idx, 0])),
        }


class RangeStream(IterableDataset):
    def __init__(self, start, end):
        super().__init__()
        self.start, self.end = start, end

    def __iter__(self):
        worker_info = get_worker_info()
        if worker_info is None:
            iter_start, iter_end = self.start, self.end
        else:
            per_worker = int(math.ceil((self.end - self.start) / float(worker_info.num_workers)))
            worker_id = worker_info.id
            iter_start = self.start + worker_id * per_worker
            iter_end = min(iter_start + per_worker, self.end)
        return iter(range(iter_start, iter_end))


class BucketBatchSampler(Sampler):
    def __init__(self, lengths, batch_size):
        self.order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        self.batch_size = batch_size

    def __iter__(self):
        for i in range(0, len(self.order), self.batch_size):
            yield self.order[i : i + self.batch_size]

    def __len__(self):
        return (len(self.order) + self.batch_size - 1) // self.batch_size


def pad_collate(batch):
    seqs, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in seqs])
    return pad_sequence(seqs, batch_first=True), lengths, torch.tensor(labels)


def seed_worker(worker_id):
    np.random.seed(worker_id)


def main():
    rng = np.random.default_rng(47)
    points = Points(10, rng)
    loader = DataLoader(points, batch_size=4, shuffle=False, pin_memory=True)
    first = next(iter(loader))
    nested_shapes = list(first["meta"][0].shape) + [first["meta"][1].dtype == torch.float64]

    more = Points(5, rng)
    concat = ConcatDataset([points, more])
    subset = Subset(concat, [0, 11, 14])
    concat_items = [int(item["label"]) for item in subset] + [len(subset)]

    stream = RangeStream(3, 10)
    iterable_0 = [int(v) for v in DataLoader(stream, num_workers=0)]
    iterable_2 = sorted(
        int(v)
        for v in DataLoader(
            stream,
            num_workers=2,
            worker_init_fn=seed_worker,
            persistent_workers=True,
            prefetch_factor=2,
        )
    )
    chain = list(ChainDataset([RangeStream(0, 3), RangeStream(7, 9)]))

    seqs = [torch.from_numpy(rng.standard_normal(n).astype(np.float32)) for n in [5, 2, 7, 3, 4, 6]]
    labels = [0, 1, 0, 1, 1, 0]
    pairs = list(zip(seqs, labels))
    bucket_loader = DataLoader(
        pairs,
        batch_sampler=BucketBatchSampler([len(s) for s in seqs], 2),
        collate_fn=pad_collate,
    )
    bucket_shapes, bucket_lengths = [], []
    for padded, lengths, _ in bucket_loader:
        bucket_shapes.append(list(padded.shape))
        bucket_lengths.extend(lengths.tolist())

    X = torch.arange(24.0).reshape(6, 4)
    prebatched = [list(b.shape) for b in DataLoader(X.split(4), batch_size=None)]
    dl = DataLoader(TensorDataset(X, torch.arange(6)), batch_size=4, drop_last=True)
    drop_last = [len(dl), sum(1 for _ in dl)]
    collate_direct = default_collate([(torch.ones(2), 1.5), (torch.zeros(2), 2.5)])
    return {
        "dict_keys": sorted(first.keys()),
        "dict_batch": first["features"].numpy().ravel().tolist() + first["label"].tolist(),
        "nested_shapes": nested_shapes,
        "concat_len": len(concat),
        "concat_items": concat_items,
        "iterable_0": iterable_0,
        "iterable_2": iterable_2,
        "chain": chain,
        "bucket_shapes": bucket_shapes,
        "bucket_lengths": bucket_lengths,
        "prebatched": prebatched,
        "drop_last": drop_last,
        "collate_direct": collate_direct[0].ravel().tolist() + collate_direct[1].tolist(),
    }
