"""The benchmark cases: one model definition, written once against PyTorch's ``nn`` API, built
with ``torch.nn`` and with ``chainrule.nn`` alike.

Each case fixes the model, the data (the bundled digits or synthetic arrays of the right
shapes), the batch size, the loss and the optimizer. PyTorch builds the model first (its default
initialisation, seeded); chainrule's copy then receives the very same weights through
``load_state_dict`` from NumPy arrays, so both start from identical float32 parameters.
"""

from dataclasses import dataclass, field

import numpy as np

N_CLASSES = 10


@dataclass
class Case:
    """One row of the table.

    ``build(nn, quick)`` returns the model; ``data(batch, quick)`` a list of ``(x, y)`` NumPy
    batches; ``loss`` is ``"cross_entropy"`` or ``"mse"``; ``optimizer`` ``"sgd"`` (momentum 0.9)
    or ``"adam"``; ``inference`` times a ``no_grad`` forward instead of a training step.
    ``mlp_sizes`` (layer widths) enables the GEMM analysis for MLPs; ``init(torch_model,
    torch)``, when given, re-initialises PyTorch's model before its weights are copied.
    """

    key: str
    title: str
    target: float
    batch: int
    build: object
    data: object
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    inference: bool = False
    mlp_sizes: tuple = field(default=())
    init: object = None


# ---- models (``nn`` is torch.nn or chainrule.nn) ----


def mlp(nn, sizes):
    """Linear-ReLU stack, e.g. sizes (64, 128, 128, 10): 3 Linear layers, ReLU between them."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(fan_in, fan_out))
    return nn.Sequential(*layers)


def lenet(nn):
    """LeNet-style CNN for (N, 1, 28, 28): conv 6@5x5, pool, conv 16@5x5, pool, 120, 84, 10."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, N_CLASSES),
    )


def lstm_classifier(nn, input_size=32, hidden=128):
    """LSTM over (T, N, input_size); the last hidden state goes through a Linear to 10 logits."""

    class LSTMClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(input_size, hidden)
            self.head = nn.Linear(hidden, N_CLASSES)

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return self.head(h[-1])

    return LSTMClassifier()


def deep_init(torch_model, torch):
    """He-normal weights and zero biases, so that 20 ReLU layers keep a healthy signal."""
    with torch.no_grad():
        for m in torch_model.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                m.bias.zero_()


# ---- data ----


def digits_batches(batch, quick, limit=16):
    """Consecutive batches of the bundled 8x8 digits: x (batch, 64) float32, y (batch,) int64."""
    from chainrule.data import load_digits

    X, y = load_digits()
    n = min(len(X) // batch, 2 if quick else limit)
    return [(X[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]) for i in range(n)]


def synthetic_batches(shape, batch, quick, uniform=False, count=4):
    """Random float32 inputs of shape (batch, *shape) and random labels in 0..9, fixed seed."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(2 if quick else count):
        size = (batch,) + tuple(shape)
        x = rng.random(size) if uniform else rng.standard_normal(size)
        out.append((x.astype(np.float32), rng.integers(0, N_CLASSES, batch).astype(np.int64)))
    return out


def sequence_batches(seq_len, batch, input_size, quick, count=4):
    """(T, N, input_size) float32 sequences (PyTorch's default LSTM layout) and labels."""
    rng = np.random.default_rng(0)
    out = []
    for _ in range(2 if quick else count):
        x = rng.standard_normal((seq_len, batch, input_size)).astype(np.float32)
        out.append((x, rng.integers(0, N_CLASSES, batch).astype(np.int64)))
    return out


# ---- the cases ----

SMALL = (64, 128, 128, 10)
MNIST = (784, 512, 512, 10)
DEEP_DEPTH, DEEP_WIDTH = 20, 256
SEQ_LEN, LSTM_INPUT = 50, 32


def deep_sizes(quick):
    """Widths of the deep MLP: 20 layers (4 when quick), all 256 wide, the last maps to 10."""
    depth = 4 if quick else DEEP_DEPTH
    return (DEEP_WIDTH,) * depth + (N_CLASSES,)


def all_cases(quick=False):
    """Every benchmark case (MLPs, LeNet, LSTM, inference), in table order. ``quick`` shrinks the deep MLP and the sequence."""
    seq = 5 if quick else SEQ_LEN
    deep = deep_sizes(quick)
    small = lambda nn, q: mlp(nn, SMALL)
    mnist = lambda nn, q: mlp(nn, MNIST)
    mnist_data = lambda b, q: synthetic_batches((784,), b, q, uniform=True)
    return [
        Case(
            "1-b32",
            "MLP 64-128-128-10, digits, batch 32",
            2.0,
            32,
            small,
            digits_batches,
            mlp_sizes=SMALL,
        ),
        Case(
            "1-b256",
            "MLP 64-128-128-10, digits, batch 256",
            1.3,
            256,
            small,
            digits_batches,
            mlp_sizes=SMALL,
        ),
        Case("2", "MLP 784-512-512-10, batch 128", 0.95, 128, mnist, mnist_data, mlp_sizes=MNIST),
        Case(
            "3",
            f"deep MLP {len(deep) - 1} x {DEEP_WIDTH}, batch 64, Adam",
            1.0,
            64,
            lambda nn, q: mlp(nn, deep_sizes(q)),
            lambda b, q: synthetic_batches((DEEP_WIDTH,), b, q),
            optimizer="adam",
            mlp_sizes=deep,
            init=deep_init,
        ),
        Case(
            "4",
            "LeNet CNN 1x28x28, batch 64",
            0.8,
            64,
            lambda nn, q: lenet(nn),
            lambda b, q: synthetic_batches((1, 28, 28), b, q, uniform=True),
        ),
        Case(
            "5",
            f"LSTM h128 seq {seq} in {LSTM_INPUT}, batch 32, Adam",
            0.8,
            32,
            lambda nn, q: lstm_classifier(nn, LSTM_INPUT),
            lambda b, q: sequence_batches(seq, b, LSTM_INPUT, q),
            optimizer="adam",
        ),
        Case(
            "6-1-b32",
            "inference (no_grad) case 1, batch 32",
            1.5,
            32,
            small,
            digits_batches,
            inference=True,
            mlp_sizes=SMALL,
        ),
        Case(
            "6-1-b256",
            "inference (no_grad) case 1, batch 256",
            1.5,
            256,
            small,
            digits_batches,
            inference=True,
            mlp_sizes=SMALL,
        ),
        Case(
            "6-2",
            "inference (no_grad) case 2, batch 128",
            0.95,
            128,
            mnist,
            mnist_data,
            inference=True,
            mlp_sizes=MNIST,
        ),
    ]
