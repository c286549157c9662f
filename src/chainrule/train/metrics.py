"""Metrics of a training run: per-batch ``accuracy``, ``mse``, ``mae``, and the running means
``fit`` and ``evaluate`` log (weighted by batch size).

Example::

    cr.train.accuracy(cr.tensor([[2., 1.], [0., 3.]]), cr.tensor([0, 0]))    # 0.5
"""

import numpy as np

from ..tensor import Tensor

__all__ = ["accuracy", "mse", "mae"]


def _array(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def accuracy(output, target):
    """Fraction of correct predictions in a batch (a float in [0, 1]).

    * ``output`` of shape ``(N, C, ...)`` with ``C > 1``: the prediction is the argmax over dim 1;
      ``target`` holds class indices ``(N, ...)``, or probabilities / one-hot of ``output``'s shape.
    * ``output`` of shape ``(N,)`` or ``(N, 1)``: binary logits, predicted class ``output > 0``;
      ``target`` holds 0 / 1 (ints, bools or floats).

    Example::

        accuracy(cr.tensor([[2., 1.], [0., 3.]]), cr.tensor([0, 0]))    # 0.5
    """
    out, tgt = _array(output), _array(target)
    if out.ndim >= 2 and out.shape[1] > 1:
        predicted = out.argmax(axis=1)
        if tgt.shape == out.shape:  # one-hot or class probabilities
            tgt = tgt.argmax(axis=1)
    else:
        predicted = (out > 0).reshape(-1)
        tgt = tgt.reshape(-1)
    _check_labels(tgt, predicted.shape)
    return float(np.mean(predicted == tgt))


def _check_labels(tgt, shape):
    if tgt.shape != shape:
        raise ValueError(
            f"accuracy: targets of shape {tgt.shape} do not match predictions of shape {shape}"
        )
    if np.issubdtype(tgt.dtype, np.floating) and not np.all(tgt == np.round(tgt)):
        raise ValueError(
            "accuracy: targets are not class labels (they have fractional values); "
            "for regression use metrics=('mse',) or metrics=()"
        )


def _paired(output, target, name):
    out, tgt = _array(output), _array(target)
    if out.size != tgt.size:
        raise ValueError(
            f"{name}: output of shape {out.shape} and target of shape {tgt.shape} "
            "have different sizes"
        )
    return out.astype(np.float64).reshape(-1), tgt.astype(np.float64).reshape(-1)


def mse(output, target):
    """Mean squared error of a batch, for regression: ``mean((output - target) ** 2)``."""
    out, tgt = _paired(output, target, "mse")
    return float(np.mean((out - tgt) ** 2))


def mae(output, target):
    """Mean absolute error of a batch, for regression: ``mean(|output - target|)``."""
    out, tgt = _paired(output, target, "mae")
    return float(np.mean(np.abs(out - tgt)))


_METRICS = {"accuracy": accuracy, "acc": accuracy, "mse": mse, "mae": mae}


def resolve_metrics(metrics):
    """``{name: fn(output, target) -> float}`` from names and callables."""
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        return dict(metrics)
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    resolved = {}
    for metric in metrics:
        if isinstance(metric, str):
            if metric not in _METRICS:
                raise ValueError(
                    f"unknown metric {metric!r}: use one of {sorted(_METRICS)} or a "
                    "callable fn(output, target) -> float"
                )
            resolved[metric] = _METRICS[metric]
        elif callable(metric):
            resolved[getattr(metric, "__name__", type(metric).__name__)] = metric
        else:
            raise TypeError(f"a metric must be a name or a callable, got {metric!r}")
    return resolved


class Meter:
    """Sample-weighted running means of the loss and the metrics over one pass of a loader."""

    def __init__(self, metric_fns):
        self.metric_fns = metric_fns
        self.sums, self.count = {}, 0

    def update(self, output, target, loss):
        n = batch_size(target)
        values = {"loss": float(loss.item())}
        values.update((name, float(fn(output, target))) for name, fn in self.metric_fns.items())
        for name, value in values.items():
            self.sums[name] = self.sums.get(name, 0.0) + value * n
        self.count += n
        return values["loss"]

    def means(self):
        return {name: total / self.count for name, total in self.sums.items()}


def batch_size(target):
    return len(target) if getattr(target, "ndim", 0) else 1
