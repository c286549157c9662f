"""Data-science idioms on tensors: tabular preprocessing (NaN imputation with nanmean,
quantile clipping, bucketize binning, one_hot, hstack), a k-nearest-neighbours classifier
(cdist, topk(largest=False), a majority vote with torch.mode), retrieval metrics (recall@k with
isin, mean reciprocal rank from argsort and nonzero, take_along_dim), pair enumeration
(combinations, cartesian_prod, triu_indices), graph-style aggregation with scatter_reduce and
index_add_, and tensor reshaping helpers (movedim, unflatten, tensordot, count_nonzero,
kthvalue, logaddexp, vstack/column_stack)."""

import numpy as np
import torch
import torch.nn.functional as F

COMPARE = {
    "imputed": 1e-6,
    "clipped": 1e-6,
    "bins": 0,
    "features_shape": 0,
    "knn_pred": 0,
    "knn_acc": 1e-9,
    "recall_at_3": 1e-9,
    "mrr": 1e-6,
    "top_scores": 1e-6,
    "pairs": 0,
    "grid": 0,
    "upper": 1e-6,
    "group_mean": 1e-6,
    "group_max": 1e-6,
    "degree": 0,
    "moved_shape": 0,
    "unflat_shape": 0,
    "tensordot": 1e-5,
    "nonzero_counts": 0,
    "median_k": 1e-6,
    "logaddexp": 1e-6,
    "stacked": 1e-6,
    "unique": 0,
}


def main():
    rng = np.random.default_rng(45)

    # Tabular preprocessing
    X = torch.from_numpy(rng.normal(50, 15, (12, 3)).astype(np.float32))
    X[2, 0] = float("nan")
    X[5, 1] = float("nan")
    X[7, 2] = float("nan")
    col_means = torch.nanmean(X, dim=0)
    imputed = torch.where(torch.isnan(X), col_means.expand_as(X), X)
    lo = torch.quantile(imputed, 0.1, dim=0, keepdim=True)
    hi = torch.quantile(imputed, 0.9, dim=0, keepdim=True)
    clipped = torch.clamp(imputed, min=lo, max=hi)
    age = clipped[:, 0]
    boundaries = torch.tensor([30.0, 45.0, 60.0])
    bins = torch.bucketize(age, boundaries)
    onehot = F.one_hot(bins, num_classes=4).float()
    normed = (clipped - clipped.mean(0)) / clipped.std(0)
    features = torch.hstack([normed, onehot])

    # k-nearest neighbours
    train_x = torch.from_numpy(rng.standard_normal((30, 4)).astype(np.float32))
    train_y = torch.from_numpy(rng.integers(0, 3, 30))
    test_x = torch.from_numpy(rng.standard_normal((8, 4)).astype(np.float32))
    test_y = torch.from_numpy(rng.integers(0, 3, 8))
    dists = torch.cdist(test_x, train_x)
    knn_idx = dists.topk(5, largest=False).indices
    knn_labels = train_y[knn_idx]
    knn_pred = torch.mode(knn_labels, dim=1).values
    knn_acc = (knn_pred == test_y).float().mean().item()

    # Retrieval metrics
    queries = F.normalize(torch.from_numpy(rng.standard_normal((6, 5)).astype(np.float32)), dim=1)
    docs = F.normalize(torch.from_numpy(rng.standard_normal((10, 5)).astype(np.float32)), dim=1)
    relevant = torch.tensor([3, 7, 1, 0, 9, 4])
    scores = queries @ docs.T
    ranking = scores.argsort(dim=1, descending=True)
    top3 = ranking[:, :3]
    recall_at_3 = torch.isin(relevant, top3.flatten()).float().mean().item()
    hits = (ranking == relevant.unsqueeze(1)).nonzero()
    mrr = (1.0 / (hits[:, 1].float() + 1)).mean().item()
    top_scores = torch.take_along_dim(scores, top3, dim=1)

    # Pairs
    pairs = torch.combinations(torch.arange(4), r=2)
    grid = torch.cartesian_prod(torch.arange(2), torch.arange(3))
    iu = torch.triu_indices(5, 5, offset=1)
    pd = torch.cdist(train_x[:5], train_x[:5])
    upper = pd[iu[0], iu[1]]

    # Graph-style aggregation
    src = torch.from_numpy(rng.standard_normal((9, 2)).astype(np.float32))
    group = torch.tensor([0, 2, 1, 0, 2, 2, 1, 0, 0])
    idx2 = group.unsqueeze(1).expand(-1, 2)
    group_mean = torch.zeros(3, 2).scatter_reduce(0, idx2, src, reduce="mean", include_self=False)
    group_max = torch.zeros(3, 2).scatter_reduce(0, idx2, src, reduce="amax", include_self=False)
    degree = torch.zeros(3, dtype=torch.long).index_add_(0, group, torch.ones(9, dtype=torch.long))

    # Reshaping helpers
    video = torch.from_numpy(rng.standard_normal((2, 5, 3, 4, 4)).astype(np.float32))
    moved = torch.movedim(video, 2, 1)
    flat = video.flatten(2)
    unflat = flat.unflatten(2, (3, 16))
    a = torch.from_numpy(rng.standard_normal((3, 4, 5)).astype(np.float32))
    b = torch.from_numpy(rng.standard_normal((4, 5, 2)).astype(np.float32))
    td = torch.tensordot(a, b, dims=([1, 2], [0, 1]))
    nonzero_counts = torch.count_nonzero(torch.relu(a), dim=2)
    median_k = torch.kthvalue(a, 3, dim=2).values
    la = torch.logaddexp(a[0], a[1])
    stacked = torch.vstack([a[0, 0], a[1, 0]]) + torch.column_stack([a[0, :, 0], a[1, :, 0]]).sum()
    values, inverse, counts = torch.unique(
        train_y, sorted=True, return_inverse=True, return_counts=True
    )
    return {
        "imputed": imputed.numpy().ravel().tolist(),
        "clipped": clipped.numpy().ravel().tolist(),
        "bins": bins.tolist(),
        "features_shape": list(features.shape),
        "knn_pred": knn_pred.tolist(),
        "knn_acc": knn_acc,
        "recall_at_3": recall_at_3,
        "mrr": mrr,
        "top_scores": top_scores.numpy().ravel().tolist(),
        "pairs": pairs.tolist(),
        "grid": grid.tolist(),
        "upper": upper.tolist(),
        "group_mean": group_mean.numpy().ravel().tolist(),
        "group_max": group_max.numpy().ravel().tolist(),
        "degree": degree.tolist(),
        "moved_shape": list(moved.shape),
        "unflat_shape": list(unflat.shape),
        "tensordot": td.numpy().ravel().tolist(),
        "nonzero_counts": nonzero_counts.tolist(),
        "median_k": median_k.numpy().ravel().tolist(),
        "logaddexp": la.numpy().ravel().tolist(),
        "stacked": stacked.numpy().ravel().tolist(),
        "unique": torch.cat([values, inverse, counts]).tolist(),
    }
