"""A custom Dataset with a WeightedRandomSampler, a BatchSampler, workers and random_split."""

import torch
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    random_split,
)

COMPARE = {
    "sum_sequential": 0,
    "n_batches": 0,
    "split_sizes": 0,
    "weighted_share": 0.06,
    "subset_covered": 0,
}


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return torch.tensor([float(i)]), i * i


def main():
    ds = Squares(40)
    loader = DataLoader(ds, batch_size=8, num_workers=2, sampler=SequentialSampler(ds))
    total = 0
    n_batches = 0
    for _xb, yb in loader:
        total += int(yb.sum())
        n_batches += 1
    weights = [5.0 if i < 10 else 1.0 for i in range(40)]
    g = torch.Generator().manual_seed(0)
    sampler = WeightedRandomSampler(weights, num_samples=4000, replacement=True, generator=g)
    picks = torch.tensor(list(sampler))
    share = float((picks < 10).float().mean())
    train, val = random_split(ds, [30, 10], generator=torch.Generator().manual_seed(1))
    batches = list(
        BatchSampler(SubsetRandomSampler(list(range(10))), batch_size=3, drop_last=False)
    )
    covered = sorted(i for b in batches for i in b) == list(range(10))
    return {
        "sum_sequential": total,
        "n_batches": n_batches,
        "split_sizes": [len(train), len(val)],
        "weighted_share": share,
        "subset_covered": int(covered),
    }
