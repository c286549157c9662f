"""Train a small convolutional network on the bundled digits as 1x8x8 images (target: >= 98 %
test accuracy).

Two 3x3 convolutions (16 and 32 channels, padding 1), a 2x2 max pool to 32x4x4, then a
128-unit hidden layer; dropout and label smoothing against overfitting 1,438 training images.
The test set (359 images of ``cr.data.digits_split()``) is used once, after training. Takes
well under a minute on 2 CPU cores.

Run::

    python examples/cnn_digits.py [--epochs 20] [--seed 0]
"""

import argparse
import time

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset


def print_epoch(epoch, logs):
    print(
        f"epoch {epoch + 1:3d}  train loss {logs['train_loss']:.4f}  "
        f"train accuracy {logs['train_accuracy']:.2%}  lr {logs['lr']:.2e}  "
        f"({logs['epoch_time']:.2f} s)",
        flush=True,
    )


def as_images(X, mean, std):
    """(N, 64) pixel rows -> standardised (N, 1, 8, 8) float32 images (channels first)."""
    return ((X - mean) / std).astype(np.float32).reshape(-1, 1, 8, 8)


def make_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),  # (N, 16, 8, 8)
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.ReLU(),  # (N, 32, 8, 8)
        nn.MaxPool2d(2),  # (N, 32, 4, 4)
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(32 * 4 * 4, 128),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(128, 10),
    )


def main(epochs=20, seed=0):
    cr.manual_seed(seed)  # weights, dropout masks and shuffling all draw from this generator
    X_train, y_train, X_test, y_test = cr.data.digits_split()
    mean, std = X_train.mean(), X_train.std()  # one scalar pair from the training images
    X_train, X_test = as_images(X_train, mean, std), as_images(X_test, mean, std)
    train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)
    test_loader = DataLoader(TensorDataset(X_test, y_test), batch_size=512)

    model = make_model()
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = cr.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    scheduler = cr.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    start, cpu_start = time.perf_counter(), time.process_time()
    cr.train.fit(
        model,
        loss_fn,
        optimizer,
        train_loader,
        epochs,
        scheduler=scheduler,
        callbacks=[cr.train.LambdaCallback(on_epoch_end=print_epoch)],
        progress=False,
    )
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    test = cr.train.evaluate(model, loss_fn, test_loader)
    print(
        f"CNN on digits: test accuracy {test['accuracy']:.2%} on {len(y_test)} images; "
        f"training took {seconds:.1f} s ({cpu_seconds:.1f} s CPU)"
    )
    return test["accuracy"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="small CNN on the bundled 8x8 digits")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.epochs, args.seed)
