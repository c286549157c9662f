"""A ResNet-style block net as torchvision writes it: BatchNorm then ReLU(inplace=True), MaxPool
then an in-place ReLU, Dropout(inplace=True), trained a few steps under torch.compile, autocast
and a GradScaler on the CPU, with a chained learning-rate schedule and a forward hook that reads
keyword arguments."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

COMPARE = {
    "losses": 1e-4,
    "lrs": 1e-9,
    "scale": 0,
    "relu_changed_input": 0,
    "legacy_shape": 0,
    "hook_kwargs": 0,
    "eval_out": 1e-4,
    "leaves_seen": 0,
}


class Block(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += x
        return self.relu(out)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.block = Block(8)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.0, inplace=True), nn.Linear(32, 3))

    def forward(self, x, scale=1.0):
        x = F.relu(self.pool(self.block(self.stem(x))), inplace=True)
        return self.head(x) * scale


def count_leaves(fn):
    """AccumulateGrad nodes reachable through grad_fn.next_functions (a graph walk as
    visualisers do it)."""
    seen, stack, leaves = set(), [fn], 0
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None or id(nxt) in seen:
                continue
            seen.add(id(nxt))
            if hasattr(nxt, "variable"):
                leaves += 1
            else:
                stack.append(nxt)
    return leaves


def main():
    rng = np.random.default_rng(0)
    net = Net()
    state = net.state_dict()
    net.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(v.shape)).astype(np.float32))
            if v.dtype == torch.float32 and "running" not in k
            else v
            for k, v in state.items()
        }
    )
    hook_kwargs = []
    net.register_forward_pre_hook(
        lambda m, args, kwargs: hook_kwargs.append(sorted(kwargs)), with_kwargs=True
    )
    model = torch.compile(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.ChainedScheduler(
        [
            torch.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2),
            torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9),
        ]
    )
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    x = torch.tensor(rng.standard_normal((6, 1, 8, 8)), dtype=torch.float32)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    losses, lrs = [], []
    leaves = 0
    for step in range(4):
        opt.zero_grad()
        with torch.autocast("cpu", enabled=False):
            loss = F.cross_entropy(model(x, scale=1.0), y)
        if step == 0:
            leaves = count_leaves(loss.grad_fn)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        sched.step()
        losses.append(loss.item())
        lrs.append(opt.param_groups[0]["lr"])
    h = torch.tensor([[-1.0, 2.0, -3.0]])
    nn.ReLU(inplace=True)(h)
    net.eval()
    with torch.no_grad():
        eval_out = net(x)
    return {
        "losses": losses,
        "lrs": lrs,
        "scale": scaler.get_scale(),
        "relu_changed_input": h.tolist(),
        "legacy_shape": list(torch.Tensor(2, 3).shape),
        "hook_kwargs": hook_kwargs[0],
        "eval_out": eval_out.numpy().ravel().tolist(),
        "leaves_seen": leaves,
    }
