"""d2l.ai, softmax regression from scratch: softmax by hand, cross_entropy through
``y_hat[range(len(y_hat)), y]``, accuracy with argmax/type, an Accumulator, ``d2l.sgd`` (in-place
update under no_grad, then grad.zero_()), data.TensorDataset(*arrays) / DataLoader, and
synthetic_data with torch.normal / torch.matmul; then the concise version with nn.Sequential,
init_weights applied, CrossEntropyLoss(reduction='none')."""

# ruff: noqa: B007, E721  (written as in the original examples)
import numpy as np
import torch
from torch import nn
from torch.utils import data

COMPARE = {
    "train_loss": 1e-4,
    "train_acc": 1e-6,
    "test_acc": 1e-6,
    "concise_loss": 1e-4,
    "normal_shape": 0,
    "lin_w": 1e-4,
}


class Accumulator:
    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args, strict=True)]

    def __getitem__(self, idx):
        return self.data[idx]


def load_array(data_arrays, batch_size, is_train=True):
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=False)


def synthetic_data(w, b, num_examples):
    X = torch.normal(0, 1, (num_examples, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def main():
    rng = np.random.default_rng(0)
    num_inputs, num_outputs = 12, 3
    W = torch.tensor(
        rng.normal(0, 0.01, (num_inputs, num_outputs)), dtype=torch.float32, requires_grad=True
    )
    b = torch.zeros(num_outputs, requires_grad=True)

    def net(X):
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    features = torch.from_numpy(rng.standard_normal((60, num_inputs)).astype(np.float32))
    labels = torch.from_numpy(
        (rng.standard_normal(60) > 0).astype(np.int64) + (rng.standard_normal(60) > 1)
    )
    train_iter = load_array((features, labels), 16)
    metric = Accumulator(3)
    for epoch in range(2):
        metric = Accumulator(3)
        for X, y in train_iter:
            y_hat = net(X)
            l = cross_entropy(y_hat, y)
            l.sum().backward()
            sgd([W, b], 0.1, X.shape[0])
            metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    train_loss, train_acc = metric[0] / metric[2], metric[1] / metric[2]
    test_acc = evaluate_accuracy(net, train_iter)

    concise = nn.Sequential(nn.Flatten(), nn.Linear(num_inputs, num_outputs))

    def init_weights(m):
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, std=0.01)

    concise.apply(init_weights)
    concise.load_state_dict(
        {
            k: torch.from_numpy(rng.normal(0, 0.1, tuple(v.shape)).astype(np.float32))
            for k, v in concise.state_dict().items()
        }
    )
    loss = nn.CrossEntropyLoss(reduction="none")
    trainer = torch.optim.SGD(concise.parameters(), lr=0.1)
    for X, y in train_iter:
        l = loss(concise(X), y)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
    concise_loss = loss(concise(features), labels).mean().item()

    true_w = torch.tensor([2, -3.4])
    X, y = synthetic_data(true_w, 4.2, 100)
    lin = nn.Linear(2, 1)
    lin.weight.data.fill_(0.0)
    lin.bias.data.fill_(0.0)
    X = torch.from_numpy(rng.standard_normal((100, 2)).astype(np.float32))
    y = (torch.matmul(X, true_w) + 4.2).reshape((-1, 1))
    opt = torch.optim.SGD(lin.parameters(), lr=0.03)
    for Xb, yb in load_array((X, y), 10):
        l = nn.MSELoss()(lin(Xb), yb)
        opt.zero_grad()
        l.backward()
        opt.step()
    return {
        "train_loss": train_loss,
        "train_acc": train_acc,
        "test_acc": test_acc,
        "concise_loss": concise_loss,
        "normal_shape": list(synthetic_data(true_w, 4.2, 5)[1].shape),
        "lin_w": lin.weight.data.flatten().tolist() + [lin.bias.data.item()],
    }
