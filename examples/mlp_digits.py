"""Train a multilayer perceptron on the bundled 8x8 digits (target: >= 97 % test accuracy).

Uses the fixed stratified split of ``cr.data.digits_split()`` (1,438 training and 359 test
images); inputs are standardised with the training set's per-pixel statistics. The test set is
used once, after training. Takes a few seconds on 2 CPU cores.

Run::

    python examples/mlp_digits.py [--epochs 60] [--seed 0]
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


def standardise(X_train, X_test):
    # Statistics from the training images only; the 0.1 keeps always-blank border pixels finite.
    mean, std = X_train.mean(axis=0), X_train.std(axis=0) + 0.1
    return ((X_train - mean) / std).astype(np.float32), ((X_test - mean) / std).astype(np.float32)


def main(epochs=60, seed=0):
    cr.manual_seed(seed)  # weights, dropout masks and shuffling all draw from this generator
    X_train, y_train, X_test, y_test = cr.data.digits_split()
    X_train, X_test = standardise(X_train, X_test)
    train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)
    test_loader = DataLoader(TensorDataset(X_test, y_test), batch_size=512)

    model = nn.Sequential(
        nn.Linear(64, 256),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(256, 10),
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = cr.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
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
        f"MLP on digits: test accuracy {test['accuracy']:.2%} on {len(y_test)} images; "
        f"training took {seconds:.1f} s ({cpu_seconds:.1f} s CPU)"
    )
    return test["accuracy"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="MLP on the bundled 8x8 digits")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.epochs, args.seed)
