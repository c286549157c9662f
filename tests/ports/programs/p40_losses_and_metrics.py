"""Losses and metrics as training scripts write them: CrossEntropyLoss with class weights,
ignore_index and label_smoothing (also on (N, C, H, W) segmentation logits), soft-label cross
entropy (mixup), a focal loss from ``reduction='none'``, a dice loss through F.one_hot and
permute, BCEWithLogitsLoss(pos_weight) for multi-label, knowledge distillation with
KLDivLoss(reduction='batchmean', log_target=True) and T**2, the other criteria of torch.nn
(Huber, SmoothL1, Poisson/Gaussian NLL, margin and embedding losses, CTC); then the ImageNet
example's top-k ``accuracy`` (topk, t(), eq, expand_as, mul_), a confusion matrix from
bincount, per-class precision/recall and an AverageMeter."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

COMPARE = {
    "ce_weighted": 1e-5,
    "ce_grad": 1e-5,
    "seg_loss": 1e-5,
    "soft_ce": 1e-5,
    "focal": 1e-5,
    "dice": 1e-5,
    "bce_pos_weight": 1e-5,
    "bce_grad": 1e-5,
    "kd": 1e-5,
    "zoo": 1e-5,
    "zoo_grads": 1e-4,
    "ctc": 1e-4,
    "ctc_grad": 1e-4,
    "topk_acc": 1e-6,
    "confusion": 0,
    "precision": 1e-6,
    "recall": 1e-6,
    "meter_avg": 1e-6,
}


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k"""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)

        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))

        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


class AverageMeter:
    def __init__(self):
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


class FocalLoss(nn.Module):
    def __init__(self, gamma=2.0, alpha=None):
        super().__init__()
        self.gamma = gamma
        self.alpha = alpha

    def forward(self, inputs, targets):
        ce_loss = F.cross_entropy(inputs, targets, reduction="none", weight=self.alpha)
        pt = torch.exp(-ce_loss)
        return ((1 - pt) ** self.gamma * ce_loss).mean()


def dice_loss(logits, target, num_classes, eps=1e-6):
    probs = logits.softmax(dim=1)
    one_hot = F.one_hot(target, num_classes).permute(0, 3, 1, 2).float()
    dims = (0, 2, 3)
    intersection = torch.sum(probs * one_hot, dims)
    cardinality = torch.sum(probs + one_hot, dims)
    dice = (2.0 * intersection + eps) / (cardinality + eps)
    return 1 - dice.mean()


def main():
    rng = np.random.default_rng(40)

    def randn(*shape):
        return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))

    logits = randn(8, 4).requires_grad_()
    target = torch.tensor([0, 3, 1, -100, 2, 2, 1, 0])
    class_weights = torch.tensor([1.0, 2.0, 0.5, 1.5])
    criterion = nn.CrossEntropyLoss(weight=class_weights, ignore_index=-100, label_smoothing=0.1)
    ce = criterion(logits, target)
    ce.backward()

    seg_logits = randn(2, 3, 4, 4)
    seg_target = torch.from_numpy(rng.integers(0, 3, (2, 4, 4)))
    seg_target[0, 0, :2] = 255
    seg_loss = nn.CrossEntropyLoss(ignore_index=255)(seg_logits, seg_target)
    seg_target[seg_target == 255] = 0
    dice = dice_loss(seg_logits, seg_target, 3)

    lam = 0.7
    y_a, y_b = torch.tensor([0, 1, 2, 3]), torch.tensor([3, 2, 1, 0])
    soft = lam * F.one_hot(y_a, 4).float() + (1 - lam) * F.one_hot(y_b, 4).float()
    mix_logits = randn(4, 4)
    soft_ce = F.cross_entropy(mix_logits, soft)
    focal = FocalLoss(gamma=2.0, alpha=class_weights)(mix_logits, y_a)

    ml_logits = randn(5, 3).requires_grad_()
    ml_target = torch.from_numpy(rng.integers(0, 2, (5, 3))).float()
    pos_weight = torch.tensor([3.0, 1.0, 0.5])
    bce = nn.BCEWithLogitsLoss(pos_weight=pos_weight)(ml_logits, ml_target)
    bce.backward()

    T = 4.0
    student, teacher = randn(6, 5), randn(6, 5)
    kd = nn.KLDivLoss(reduction="batchmean", log_target=True)(
        F.log_softmax(student / T, dim=1), F.log_softmax(teacher / T, dim=1)
    ) * (T * T)

    a = randn(4, 6).requires_grad_()
    b = randn(4, 6)
    c = randn(4, 6)
    sign = torch.tensor([1.0, -1.0, 1.0, -1.0])
    rate = torch.from_numpy(rng.uniform(0.5, 2, (4, 6))).float()
    zoo = [
        nn.HuberLoss(delta=0.5)(a, b),
        nn.SmoothL1Loss(beta=0.5)(a, b),
        nn.L1Loss(reduction="sum")(a, b),
        nn.PoissonNLLLoss(log_input=True)(a, rate),
        nn.GaussianNLLLoss()(a, b, torch.ones(4, 6) * 0.5),
        nn.TripletMarginLoss(margin=1.0, p=2)(a, b, c),
        nn.MarginRankingLoss(margin=0.2)(a[:, 0], b[:, 0], sign),
        nn.CosineEmbeddingLoss(margin=0.1)(a, b, sign),
        nn.HingeEmbeddingLoss(margin=1.0)(a, torch.where(b > 0, 1.0, -1.0)),
        nn.SoftMarginLoss()(a, torch.where(b > 0, 1.0, -1.0)),
        nn.MultiLabelSoftMarginLoss()(a, (b > 0).float()),
        nn.MultiMarginLoss()(a, torch.tensor([0, 5, 2, 3])),
        nn.MSELoss()(torch.sigmoid(a), torch.sigmoid(b)),
    ]
    sum(zoo).backward()

    # CTC as in speech recognition: (T, N, C) log-probs, blank 0, concatenated targets.
    ctc_logits = randn(10, 2, 5).requires_grad_()
    log_probs = ctc_logits.log_softmax(2)
    targets = torch.tensor([1, 2, 2, 3, 1, 4, 4])
    input_lengths = torch.tensor([10, 8])
    target_lengths = torch.tensor([4, 3])
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)(log_probs, targets, input_lengths, target_lengths)
    ctc.backward()

    output = randn(10, 5)
    labels = torch.tensor([0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    acc1, acc3 = accuracy(output, labels, topk=(1, 3))
    preds = output.argmax(dim=1)
    num_classes = 5
    confusion = torch.bincount(labels * num_classes + preds, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )
    tp = confusion.diag().float()
    precision = tp / confusion.sum(0).clamp(min=1)
    recall = tp / confusion.sum(1).clamp(min=1)
    meter = AverageMeter()
    for i in range(0, 10, 4):
        meter.update(acc1.item() * (i + 1) / 10, n=min(4, 10 - i))
    return {
        "ce_weighted": ce.item(),
        "ce_grad": logits.grad.numpy().ravel().tolist(),
        "seg_loss": seg_loss.item(),
        "soft_ce": soft_ce.item(),
        "focal": focal.item(),
        "dice": dice.item(),
        "bce_pos_weight": bce.item(),
        "bce_grad": ml_logits.grad.numpy().ravel().tolist(),
        "kd": kd.item(),
        "zoo": [z.item() for z in zoo],
        "zoo_grads": a.grad.numpy().ravel().tolist(),
        "ctc": ctc.item(),
        "ctc_grad": ctc_logits.grad.numpy().ravel().tolist(),
        "topk_acc": [acc1.item(), acc3.item()],
        "confusion": confusion.tolist(),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "meter_avg": meter.avg,
    }
