"""The ceiling: the same MLP step written by hand in NumPy, with no autodiff at all.

Any NumPy-based engine runs the same GEMMs and elementwise kernels as this code plus its own
bookkeeping, so on a given machine and BLAS this is the fastest a NumPy engine can be. The
suite times it in the same interleaved rounds as chainrule and PyTorch and reports chainrule's
speed as a percentage of it: the ceiling moves with the machine and its BLAS, the percentage
much less.

The code is what a careful person would write: forward ``z = h @ W.T + b`` then ReLU in
place, softmax cross-entropy from the logits, backward with the three GEMMs per layer and the
ReLU mask, then SGD with momentum (or Adam) in place, parameter by parameter. It starts from
the very same weights as the two libraries (the agreement check covers it too).
"""

import math

import numpy as np

from .harness import Side


class HandMLP:
    """A Linear-ReLU stack as plain arrays: ``weights[i]`` (out, in), ``biases[i]`` (out,)."""

    def __init__(self, weights, biases, optimizer, lr):
        self.weights = [np.array(w, dtype=np.float32) for w in weights]
        self.biases = [np.array(b, dtype=np.float32) for b in biases]
        self.params = [a for pair in zip(self.weights, self.biases, strict=True) for a in pair]
        self.optimizer, self.lr, self.t = optimizer, lr, 0
        self.m = [None] * len(self.params)  # momentum buffer / Adam's first moment
        self.v = [np.zeros_like(p) for p in self.params] if optimizer == "adam" else None

    def forward(self, x):
        """Logits (N, classes) of x (N, in); ReLU between layers, none after the last."""
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = x @ w.T
            z += b
            if i < last:
                np.maximum(z, 0, out=z)
            x = z
        return x

    def train_step(self, x, y):
        """One step on (x, y): forward, mean softmax cross-entropy, backward, update. The loss."""
        acts = [x]  # the input of each layer (post-ReLU output of the previous)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = acts[-1] @ w.T
            z += b
            if i < last:
                np.maximum(z, 0, out=z)
            acts.append(z)
        logits = acts.pop()
        n, rows = len(y), np.arange(len(y))
        g = logits - logits.max(axis=1, keepdims=True)
        shifted_target = g[rows, y]
        np.exp(g, out=g)
        total = g.sum(axis=1, keepdims=True)
        loss = np.mean(np.log(total[:, 0]) - shifted_target)
        g /= total  # softmax
        g[rows, y] -= 1.0
        g *= np.float32(1.0 / n)
        grads = [None] * len(self.params)
        for i in range(last, -1, -1):
            h = acts[i]
            grads[2 * i] = g.T @ h
            grads[2 * i + 1] = g.sum(axis=0)
            if i:
                g = g @ self.weights[i]
                g *= h > 0  # ReLU's derivative: where its output is positive
        self._update(grads)
        return loss

    def _update(self, grads):
        self.t += 1
        if self.optimizer == "sgd":  # momentum 0.9, as the cases use
            for k, (p, g) in enumerate(zip(self.params, grads, strict=True)):
                if self.m[k] is None:
                    self.m[k] = g.copy()
                else:
                    self.m[k] *= 0.9
                    self.m[k] += g
                p -= self.lr * self.m[k]
            return
        b1, b2, eps = 0.9, 0.999, 1e-8  # Adam, PyTorch's defaults
        step = self.lr / (1 - b1**self.t)
        root = math.sqrt(1 - b2**self.t)
        for k, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if self.m[k] is None:
                self.m[k] = np.zeros_like(p)
            m, v = self.m[k], self.v[k]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            d = np.sqrt(v)
            d /= root
            d += eps
            p -= step * (m / d)


def numpy_side(case, state, batches):
    """The hand-written side of an MLP case, from PyTorch's initial ``state`` (NumPy arrays)."""
    linears = sorted({k.rsplit(".", 1)[0] for k in state}, key=lambda name: int(name))
    model = HandMLP(
        [state[f"{k}.weight"] for k in linears],
        [state[f"{k}.bias"] for k in linears],
        case.optimizer,
        lr=0.01 if case.optimizer == "sgd" else 1e-3,
    )
    if case.inference:
        return Side("numpy", lambda x, y: model.forward(x), batches, lambda: None)
    return Side("numpy", model.train_step, batches, lambda: None)
