"""The official mnist example, shrunk to 12x12 images: Conv2d/Dropout/max_pool2d, Adadelta with
StepLR, train()/test() loops over DataLoaders. Dropout masks are random, so the numbers compared
come from an eval-mode step on shared weights, the schedule and the test pass."""

# ruff: noqa: B007, E721  (written as in the original examples)
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

COMPARE = {
    "eval_loss": 1e-4,
    "grad_norm": 1e-3,
    "lrs": 1e-7,
    "test_loss_eval_trained": 1e-3,
    "n_train_batches": 0,
    "correct_type": 0,
}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(256, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, train_loader, optimizer, epoch):
    model.train()
    n = 0
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        n += 1
    return n


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct


def main():
    use_cuda = torch.cuda.is_available()
    torch.manual_seed(1)
    device = torch.device("cuda" if use_cuda else "cpu")
    rng = np.random.default_rng(0)
    images = rng.random((64, 1, 12, 12)).astype(np.float32)
    labels = rng.integers(0, 10, 64)
    x = (torch.from_numpy(images) - 0.1307) / 0.3081
    dataset = TensorDataset(x, torch.from_numpy(labels))
    train_loader = DataLoader(dataset, batch_size=16, shuffle=True)
    test_loader = DataLoader(dataset, batch_size=32)

    model = Net().to(device)
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    model.eval()
    out = model(x[:16])
    eval_loss = F.nll_loss(out, torch.from_numpy(labels[:16]))
    eval_loss.backward()
    grad_norm = torch.sqrt(sum((p.grad**2).sum() for p in model.parameters())).item()

    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    lrs, n = [], 0
    for epoch in range(1, 3):
        n += train(model, device, train_loader, optimizer, epoch)
        test_loss, correct = test(model, device, test_loader)
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    # the trained weights differ (random dropout and shuffling); evaluate shared weights again
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    test_loss, correct = test(model, device, test_loader)
    return {
        "eval_loss": eval_loss.item(),
        "grad_norm": grad_norm,
        "lrs": lrs,
        "test_loss_eval_trained": test_loss,
        "n_train_batches": n,
        "correct_type": type(correct).__name__,
    }
