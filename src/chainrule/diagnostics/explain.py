"""The chain rule made visible: the backward path from a loss to one parameter, op by op.

Backpropagation multiplies local derivatives. :func:`explain_gradient` shows that product on the
user's own graph: for every op between the loss and a parameter, how much the gradient norm
changes when it passes through the op (its *local gain*), the running product of those gains,
and where that product fell below ``1e-3`` (the signal collapsed: vanishing gradient) or rose
above ``1e3`` (it blew up). Given one element of the parameter, it also writes the scalar chain
∂L/∂w = ∂L/∂y · ∂y/∂h · … with numbers and checks that the product is what backward computed.

Example::

    loss = ((model(x) - y) ** 2).mean()
    path = cr.diagnostics.explain_gradient(loss, model.fc1.weight, index=(0, 0))
    print(path)                  # table of ops, gains, cumulative product, scalar chain
    path.chain_matches           # True: the chain rule, checked by hand
    loss.backward()              # the graph is still there
"""

import math
from typing import NamedTuple

import numpy as np

from ..tensor import Tensor
from .graph import HOOK_OPS, grad_leaves, graph_nodes, norm, output_grads

COLLAPSE = 1e-3  # cumulative gain below this: the signal reaching the parameter collapsed
BLOWUP = 1e3  # cumulative gain above this: it blew up
MAX_PATHS = 16  # paths enumerated in full; beyond, only the dominant one is followed
MAX_CHAIN_ELEMENTS = 4096  # the scalar chain costs one vjp per output element: small nets only


class GradientStep(NamedTuple):
    """One op on the path: the gradient enters at its output and leaves towards its input."""

    op: str
    shape: tuple  # the op's output shape
    grad_in_norm: float  # ‖dL/d(output of the op)‖
    grad_out_norm: float  # ‖this op's share of dL/d(its input on the path)‖
    local_gain: float  # grad_out_norm / grad_in_norm
    cumulative: float  # product of the local gains from the loss down to here


class ChainFactor(NamedTuple):
    """One scalar factor ∂top/∂bottom of the chain rule, with its value."""

    top: str
    bottom: str
    value: float


class GradientPath:
    """What :func:`explain_gradient` found. Attributes:

    - ``steps``: list of :class:`GradientStep`, from the loss down to the parameter (the
      dominant path when there are several);
    - ``paths``: every enumerated path (lists of steps), dominant first; ``n_paths``: how many
      paths join the loss to the parameter;
    - ``gradient``: dL/dparam (Tensor, same shape as the parameter);
    - ``collapsed_at`` / ``exploded_at``: index in ``steps`` where the cumulative gain first went
      below ``COLLAPSE`` / above ``BLOWUP`` (None if never);
    - with ``index``: ``chain`` (list of :class:`ChainFactor`), ``chain_product``,
      ``backward_value`` (dL/dparam[index] from backward), ``chain_matches``; ``chain_note``
      says why there is no chain, or where it stops being a single scalar path.
    """

    def __init__(self, steps, paths, n_paths, gradient, index=None):
        self.steps, self.paths, self.n_paths = steps, paths, n_paths
        self.gradient = gradient
        self.index = index
        self.collapsed_at = _first(steps, lambda s: s.cumulative < COLLAPSE)
        self.exploded_at = _first(steps, lambda s: s.cumulative > BLOWUP)
        self.chain = None
        self.chain_product = None
        self.backward_value = None
        self.chain_matches = None
        self.chain_note = ""

    def __repr__(self):
        return (
            f"<GradientPath: {len(self.steps)} ops, {self.n_paths} path(s), "
            f"‖grad‖ {norm(self.gradient._data):.3g}>"
        )

    def __str__(self):
        paths = "1 path" if self.n_paths == 1 else f"{self.n_paths} paths, the dominant one shown"
        lines = [
            f"Backward path from the loss to a parameter of shape "
            f"{tuple(self.gradient.shape)} ({paths})",
            f"{'#':>3}  {'op':<14}{'output shape':<16}{'|grad in|':>11}{'|grad out|':>12}"
            f"{'local gain':>12}{'cumulative':>12}",
        ]
        for i, s in enumerate(self.steps):
            mark = _mark(i, self.collapsed_at, " <- collapsed") + _mark(
                i, self.exploded_at, " <- blew up"
            )
            lines.append(
                f"{i + 1:>3}  {s.op:<14}{str(s.shape):<16}{s.grad_in_norm:>11.3g}"
                f"{s.grad_out_norm:>12.3g}{s.local_gain:>12.3g}{s.cumulative:>12.3g}{mark}"
            )
        lines.append(f"parameter gradient norm: {norm(self.gradient._data):.4g}")
        lines += self._verdict()
        if self.chain is not None:
            lines += self._chain_lines()
        elif self.chain_note:
            lines.append(self.chain_note)
        return "\n".join(lines)

    def _verdict(self):
        out = []
        if self.collapsed_at is not None:
            s = self.steps[self.collapsed_at]
            out.append(
                f"signal collapsed at step {self.collapsed_at + 1} ({s.op}): cumulative "
                f"gain {s.cumulative:.3g} < {COLLAPSE:g}"
            )
        if self.exploded_at is not None:
            s = self.steps[self.exploded_at]
            out.append(
                f"signal blew up at step {self.exploded_at + 1} ({s.op}): cumulative "
                f"gain {s.cumulative:.3g} > {BLOWUP:g}"
            )
        return out

    def _chain_lines(self):
        w = self.chain[-1].bottom
        symbols = " · ".join(f"∂{f.top}/∂{f.bottom}" for f in self.chain)
        numbers = " × ".join(f"({f.value:.6g})" for f in self.chain)
        verdict = "matches" if self.chain_matches else "DOES NOT match"
        lines = [
            "scalar chain rule:",
            f"  ∂L/∂{w} = {symbols}",
            f"  = {numbers}",
            f"  = {self.chain_product:.8g}",
            f"  backward computed {self.backward_value:.8g}: {verdict}",
        ]
        if self.chain_note:
            lines.append("  " + self.chain_note)
        return lines


def explain_gradient(loss, param, index=None):
    """Follow the gradient from ``loss`` back to ``param`` and measure each op's gain.

    Runs its own backward pass (``retain_graph=True``, no ``.grad`` written), so call it before
    ``loss.backward()`` (or after ``backward(retain_graph=True)``). Tensor and module backward
    hooks see that pass like any other.

    Args:
        loss (Tensor): a scalar in a recorded graph.
        param (Tensor): a tensor the loss depends on: a parameter, or an intermediate result
            (a layer's output) to see the path down to it.
        index (tuple | int | None): one element of ``param``; adds the scalar chain
            ∂L/∂w = ∂L/∂y · ∂y/∂h · … with numbers and checks it against backward.

    Returns:
        GradientPath: ``.steps`` (op, output shape, local gain, cumulative), ``.gradient``,
        ``.chain_matches`` ...; ``print()`` it for a table.

    Local gain = ‖grad leaving the op towards the input on the path‖ / ‖grad arriving at the
    op's output‖ (the op's own share when an input is used several times). For a single chain
    the cumulative product is ‖dL/d(that input)‖ exactly.

    Limits: when several paths join the loss to ``param`` (a weight used twice, residual
    connections), each op's gain is measured on the total gradient arriving there, so the
    cumulative products of separate paths do not add up to the gradient; ``.steps`` is the
    dominant path (largest cumulative product), ``.paths`` lists up to 16 paths (beyond that
    only a greedy dominant path is followed: at each op, the input that keeps the most
    gradient). The scalar chain needs one path, and one vjp per element of each tensor along
    it (at most 4096 elements each); it is written as a product as long as the weight
    influences a single element of each tensor, and ends with the backward gradient of the
    last such element (∂L/∂h[i], a sum over the paths beyond) when the influence fans out.
    """
    _check_args(loss, param, index)
    nodes = graph_nodes(loss)
    if param._node is None:
        node_grads, (param_grad,) = output_grads(loss, nodes, [param])
    else:  # an intermediate tensor: its gradient is seen by a hook
        node_grads, _ = output_grads(loss, nodes, grad_leaves(nodes))
        param_grad = node_grads.get(param._node)
    if param_grad is None:
        raise ValueError(
            f"explain_gradient: the loss does not depend on the parameter of shape "
            f"{tuple(param.shape)} (no path in the recorded graph leads to it)"
        )
    counts = _path_counts(nodes, param)
    local = _LocalGrads(node_grads)
    raw_paths = _enumerate_paths(loss._node, param, counts, local)
    paths = sorted((_steps(p, node_grads, local) for p in raw_paths), key=lambda s: -_final(s))
    result = GradientPath(paths[0], paths, counts[loss._node], Tensor._wrap(param_grad), index)
    if index is not None:
        _scalar_chain(result, raw_paths, counts[loss._node], node_grads, param_grad, index)
    return result


# ---- checks ----


def _check_args(loss, param, index):
    if not isinstance(loss, Tensor) or not isinstance(param, Tensor):
        raise TypeError(
            "explain_gradient(loss, param): both must be Tensors, got "
            f"{type(loss).__name__} and {type(param).__name__}"
        )
    if loss._data.size != 1 or loss._node is None:
        raise ValueError(
            f"explain_gradient: loss must be a scalar computed from the parameters "
            f"(got shape {tuple(loss.shape)}, grad_fn={loss._node!r})"
        )
    if not param.requires_grad:
        raise ValueError(
            f"explain_gradient: the parameter of shape {tuple(param.shape)} does not require grad"
        )
    if index is not None:
        idx = index if isinstance(index, tuple) else (index,)
        if len(idx) != param.ndim or any(
            not -n <= i < n for i, n in zip(idx, param.shape, strict=True)
        ):
            raise IndexError(
                f"explain_gradient: index {index} is not an element of a parameter "
                f"of shape {tuple(param.shape)}"
            )


# ---- paths ----


class _LocalGrads:
    """Each node's vjp applied to the gradient that arrived at its output (computed once).

    Never called on the hook identity ops: their vjp runs the module's backward hooks.
    """

    def __init__(self, node_grads):
        self.node_grads = node_grads
        self.cache = {}

    def __call__(self, node, slot):
        if node not in self.cache:
            with np.errstate(all="ignore"):
                self.cache[node] = node.vjp(node, self.node_grads[node])
        g = self.cache[node][slot]
        return np.zeros(node.inputs[slot].shape) if g is None else np.asarray(g)


def _path_counts(nodes, param):
    """node -> number of distinct paths from it down to ``param`` (dependencies first)."""
    counts = {}
    for node in reversed(nodes):
        counts[node] = sum(
            1 if t is param else counts.get(nxt, 0) if nxt is not None else 0
            for t, nxt in zip(node.inputs, node.next, strict=True)
        )
    return counts


def _slots_towards(node, param, counts):
    return [
        k
        for k, (t, nxt) in enumerate(zip(node.inputs, node.next, strict=True))
        if t is param or (nxt is not None and counts.get(nxt, 0) > 0)
    ]


def _enumerate_paths(root, param, counts, local):
    """Paths as lists of (node, input slot), from the loss's node down to ``param``."""
    if counts[root] > MAX_PATHS:
        return [_greedy_path(root, param, counts, local)]
    paths, stack = [], [(root, [])]
    while stack:
        node, prefix = stack.pop()
        for k in _slots_towards(node, param, counts):
            t = node.inputs[k]
            path = prefix + [(node, k)]
            if t is param:
                paths.append(path)
            else:
                stack.append((node.next[k], path))  # the producer when the op ran
    return paths


def _greedy_path(node, param, counts, local):
    path = []
    while True:
        slots = _slots_towards(node, param, counts)
        k = slots[0] if len(slots) == 1 else max(slots, key=lambda s: norm(local(node, s)))
        path.append((node, k))
        if node.inputs[k] is param:
            return path
        node = node.next[k]


def _steps(path, node_grads, local):
    steps, cumulative = [], 1.0
    for node, k in path:
        if node.name in HOOK_OPS:
            continue
        g_in, g_out = node_grads[node], local(node, k)
        n_in, n_out = norm(g_in), norm(g_out)
        gain = n_out / n_in if n_in > 0 else (0.0 if n_out == 0 else math.inf)
        cumulative *= gain
        steps.append(GradientStep(node.name, tuple(g_in.shape), n_in, n_out, gain, cumulative))
    return steps


def _final(steps):
    c = steps[-1].cumulative if steps else 0.0
    return c if math.isfinite(c) else math.inf


def _first(steps, test):
    return next((i for i, s in enumerate(steps) if test(s)), None)


def _mark(i, where, text):
    return text if where == i else ""


# ---- the scalar chain ----


def _scalar_chain(result, raw_paths, n_paths, node_grads, param_grad, index):
    idx = _norm_index(index if isinstance(index, tuple) else (index,), param_grad.shape)
    result.backward_value = float(param_grad[idx])
    if n_paths != 1:
        result.chain_note = (
            f"no scalar chain: {n_paths} paths join the loss to this weight, "
            "so dL/dw is a sum of chains, one per path"
        )
        return
    path = [(n, k) for n, k in raw_paths[0] if n.name not in HOOK_OPS]
    factors, element, below = [], idx, "w" + _fmt_index(idx)
    for depth in reversed(range(len(path))):  # from the parameter up to the loss
        node, k = path[depth]
        shape = node_grads[node].shape
        if int(np.prod(shape)) > MAX_CHAIN_ELEMENTS:
            result.chain_note = (
                f"the chain stops at {below}: the output of {node.name} has "
                f"{int(np.prod(shape))} elements (> {MAX_CHAIN_ELEMENTS})"
            )
            break
        column = _jacobian_column(node, k, element, shape, node_grads[node].dtype)
        hit = np.flatnonzero(column)
        if len(hit) == 0:  # e.g. a ReLU that is off: the whole chain is zero
            result.chain_note = f"no element of the output of {node.name} depends on {below}"
            factors.append(ChainFactor(node.name, below, 0.0))
            return _finish_chain(result, factors[::-1], param_grad)
        if len(hit) > 1:
            result.chain_note = (
                f"the chain stops at {below}: it reaches {len(hit)} elements of "
                f"the output of {node.name}; ∂L/∂{below} is their sum, "
                "taken from backward"
            )
            break
        top = tuple(int(i) for i in np.unravel_index(hit[0], shape))
        top_name = "L" if depth == 0 else node.name + _fmt_index(top)
        factors.append(ChainFactor(top_name, below, float(column[hit[0]])))
        below, element = top_name, top
    else:
        return _finish_chain(result, factors[::-1], param_grad)
    if not factors:  # nothing to multiply: the influence fans out at once
        result.chain_note = "no scalar chain: " + result.chain_note
        return None
    # Stopped below path[depth]: the rest of the chain is the gradient backward found there.
    g = node_grads[path[depth + 1][0]] if depth + 1 < len(path) else param_grad
    factors.append(ChainFactor("L", below, float(g[element])))
    _finish_chain(result, factors[::-1], param_grad)


def _jacobian_column(node, k, element, shape, dtype):
    """∂out[j]/∂in_k[element] for every output element j: one vjp per output element."""
    column = np.empty(int(np.prod(shape)))
    seed = np.zeros(shape, dtype=dtype)
    flat = seed.reshape(-1)
    with np.errstate(all="ignore"):
        for j in range(flat.size):
            flat[j] = 1
            g = node.vjp(node, seed)[k]
            column[j] = 0.0 if g is None else np.asarray(g)[element]
            flat[j] = 0
    return column


def _finish_chain(result, factors, param_grad):
    result.chain = factors
    product = 1.0
    for f in factors:
        product *= f.value
    result.chain_product = product
    rtol = 1e-4 if param_grad.dtype.itemsize <= 4 else 1e-9
    result.chain_matches = bool(np.isclose(product, result.backward_value, rtol=rtol, atol=1e-30))


def _norm_index(idx, shape):
    return tuple(i % n for i, n in zip(idx, shape, strict=True))


def _fmt_index(idx):
    return "[" + ", ".join(str(int(i)) for i in idx) + "]" if len(idx) else ""
