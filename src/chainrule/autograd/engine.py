"""The autograd engine: how operations are recorded and how backward applies the chain rule.

Every differentiable op computes its result on arrays and, when some input needs a gradient,
calls :func:`record`, which attaches a :class:`Node` to the result. A node keeps its inputs (strong
references: they are what backward walks to) and only a weak reference to its output, so a graph
has no reference cycles and is freed as soon as the user drops the result.

``backward`` is an iterative topological walk from the root: each node receives the sum of the
gradients of its output, calls its op's vector-Jacobian product ``vjp(ctx, grad)`` and passes one
gradient to each input. Gradients are arrays (fast path) or, with ``create_graph=True``, Tensors
whose operations are recorded again, so that second derivatives come for free.
"""
import traceback
import weakref

import numpy as np

from .grad_mode import _MODE, _MODES, PLAIN_NO_GRAD


class Node:
    """One recorded operation: the ``grad_fn`` of the tensor it produced."""

    __slots__ = ("vjp", "inputs", "needs", "saved", "out_data", "out_ref", "name",
                 "versions", "graph", "created_at", "hooks", "__weakref__")

    def __init__(self, vjp, inputs, saved, out, name, save_inputs, anomaly, save_output=True):
        self.vjp = vjp
        self.inputs = inputs
        self.needs = [t.requires_grad for t in inputs]
        self.saved = saved
        self.out_data = out._data if save_output else None   # kept only if the vjp reads it
        self.out_ref = weakref.ref(out)
        self.name = name
        # Version of each input the vjp reads, to catch in-place edits made before backward.
        self.versions = [t._vc[0] for t in inputs] if save_inputs else None
        self.graph = False
        self.hooks = None        # the output tensor's hooks: they outlive the tensor object
        self.created_at = _user_frame() if anomaly else None

    # --- what a vjp reads: arrays on the fast path, Tensors when the backward is recorded ---
    def input(self, i):
        t = self.inputs[i]
        return t if self.graph else t._data

    def output(self):
        if not self.graph:
            return self.out_data
        out = self.out_ref()
        if out is None:   # only reachable if nothing downstream holds the output any more
            raise RuntimeError(f"{self.name}: output was freed; cannot build a graph of its backward")
        return out

    def __repr__(self):
        return f"<{self.name}Backward>"


def record(data, inputs, vjp, name, saved=None, save_inputs=True, save_output=True):
    """Wrap ``data`` in a Tensor; attach a Node when grad mode is on and an input needs a gradient.

    ``vjp(ctx, grad)`` returns one gradient per input (None where ``ctx.needs[i]`` is False);
    ``ctx`` is the Node: ``ctx.input(i)``, ``ctx.output()``, ``ctx.saved``, ``ctx.inputs[i].shape``.
    ``save_inputs`` says the vjp reads the inputs' values (their versions are then checked);
    ``save_output=False`` lets the result's memory go as soon as nothing else holds it.
    """
    out = _tensor_class._wrap(data)
    if _MODE.get() is PLAIN_NO_GRAD:      # inference: nothing to record or check
        return out
    return attach(out, inputs, vjp, name, saved, save_inputs, save_output)


def attach(out, inputs, vjp, name, saved=None, save_inputs=True, save_output=True):
    """Make the tensor ``out`` the result of a recorded op (see :func:`record`)."""
    grad_on, anomaly = _MODE.get()
    if grad_on:
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                out._node = Node(vjp, inputs, saved, out, name, save_inputs, anomaly, save_output)
                break
    if anomaly:
        _check_finite(out._data, name, "forward", out._node)
    return out


# ----------------------------------------------------------------------------------------------
# backward
# ----------------------------------------------------------------------------------------------

def backward(roots, grads, retain_graph=False, create_graph=False, inputs=None, allow_unused=False):
    """Propagate ``grads`` (one per root tensor) back through the graph.

    With ``inputs=None`` gradients accumulate into every leaf's ``.grad`` (``Tensor.backward``).
    Otherwise the gradients of exactly ``inputs`` are returned and no ``.grad`` is touched
    (``cr.grad``); nodes that lead to none of them are skipped.
    """
    order = _topological_order(roots)
    wanted, targets = (None, ()) if inputs is None else _leads_to(order, inputs)
    # Leaves with post-accumulate hooks get their .grad as soon as their last consumer has run,
    # so that a hook can start work (DDP's all-reduce) while the rest of backward goes on.
    early = _last_consumers(order) if inputs is None and _POST_HOOKS else None
    handed_out = set()       # arrays given to a leaf already: a second leaf gets a copy
    pending = {}             # node -> summed gradient of its output, freed once consumed
    leaf_grads = {}          # leaf tensor -> summed gradient
    captured = {}            # requested non-leaf tensor's node -> its gradient
    for root, g in zip(roots, grads):
        _send(root, g, pending, leaf_grads)
    _CALLBACKS.append([])            # what queue_callback adds during this pass
    try:
        _walk(order, pending, leaf_grads, captured, early, handed_out, retain_graph,
              create_graph, inputs, wanted, targets)
        if inputs is None:
            _accumulate_into_leaves(leaf_grads, create_graph, handed_out)
            if early is not None:
                for leaf in leaf_grads:
                    _run_post_hooks(leaf)
    finally:
        callbacks = _CALLBACKS.pop()
    for callback in callbacks:           # queue_callback: after every .grad is in place
        callback()
    if inputs is None:
        return None
    return _collect(inputs, captured, leaf_grads, allow_unused)


# ---- hooks that run when a leaf's .grad is complete, and at the end of backward ----

# id(leaf) -> (weak reference, {handle id: hook(leaf)}). Keyed by id, not by tensor: a Tensor's
# == is elementwise. The entry goes when the leaf dies.
_POST_HOOKS = {}
_CALLBACKS = []                             # one list per running backward (innermost last)


def queue_callback(callback):
    """Run ``callback()`` once, when the backward pass now running has finished (as torch's
    ``Variable._execution_engine.queue_callback``). Call it from a hook during backward."""
    if not _CALLBACKS:
        raise RuntimeError("queue_callback: no backward pass is running (call it from a hook)")
    _CALLBACKS[-1].append(callback)


def post_hooks_of(leaf):
    """The (mutable) dict of ``leaf``'s post-accumulate hooks, created on first use."""
    entry = _POST_HOOKS.get(id(leaf))
    if entry is None:
        key = id(leaf)
        entry = _POST_HOOKS[key] = (weakref.ref(leaf, lambda _: _POST_HOOKS.pop(key, None)), {})
    return entry[1]


def _last_consumers(order):
    """node -> the hooked leaves for which it is the last node (in ``order``) that reads them."""
    last = {}
    for node in order:
        for t in node.inputs or ():
            if t._node is None and id(t) in _POST_HOOKS:
                last[t] = node
    early = {}
    for leaf, node in last.items():
        early.setdefault(node, []).append(leaf)
    return early


def _flush_early(leaves, leaf_grads, create_graph, handed_out):
    """Accumulate these leaves' finished gradients into .grad now, then run their hooks."""
    for leaf in leaves:
        g = leaf_grads.pop(leaf, None)
        if g is not None:
            _accumulate_into_leaves({leaf: g}, create_graph, handed_out)
            _run_post_hooks(leaf)


def _run_post_hooks(leaf):
    entry = _POST_HOOKS.get(id(leaf))
    hooks = entry[1] if entry is not None else None
    if hooks and leaf.requires_grad:
        for hook in list(hooks.values()):
            hook(leaf)


def _walk(order, pending, leaf_grads, captured, early, handed_out, retain_graph, create_graph,
          inputs, wanted, targets):
    """Run every node in topological order, each once the gradient of its output is summed."""
    token = _MODE.set(_MODES[bool(create_graph), _MODE.get().anomaly])
    prev = None
    try:
        for node in order:
            if early is not None and prev in early:
                _flush_early(early.pop(prev), leaf_grads, create_graph, handed_out)
            prev = node
            g = pending.pop(node, None)
            if g is None:
                continue
            if type(g) is SliceGrad:
                g = g.dense()
            if node.hooks is not None:
                g = _run_hooks(node.hooks, g, create_graph)
                out = node.out_ref()
                if out is not None and out._retain and inputs is None:
                    out.grad = _as_grad_tensor(g)
            if node in targets:
                captured[node] = g
            if wanted is not None and node not in wanted:
                continue
            _apply(node, g, create_graph, pending, leaf_grads, wanted, targets)
            if not retain_graph:
                node.inputs = node.saved = node.out_data = None
    finally:
        _MODE.reset(token)


def _apply(node, g, create_graph, pending, leaf_grads, wanted, targets=()):
    """Run one node's vjp and send each input its share of the gradient."""
    if node.inputs is None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time ({node.name}): its saved values "
            "were freed by the first backward. Pass retain_graph=True to the first call.")
    if node.versions is not None:
        _check_versions(node)
    node.graph = create_graph
    for t, need, gi in zip(node.inputs, node.needs, node.vjp(node, g)):
        if not need or gi is None:
            continue
        if not create_graph and type(gi) is not np.ndarray and type(gi) is not SliceGrad:
            gi = np.asarray(gi)           # NumPy returns scalars for 0-d results
        if gi.shape != t._data.shape:
            raise RuntimeError(f"{node.name}: gradient of shape {gi.shape} for an input of shape "
                               f"{t._data.shape} (bug in the op's vjp)")
        if node.created_at is not None:
            dense = gi._data if create_graph else (gi.dense() if type(gi) is SliceGrad else gi)
            _check_finite(dense, node.name, "backward", node)
        if t._node is None or wanted is None or t._node in wanted or t._node in targets:
            _send(t, gi, pending, leaf_grads)


def _send(t, g, pending, leaf_grads):
    """Add ``g`` to what ``t`` has received so far."""
    key, store = (t._node, pending) if t._node is not None else (t, leaf_grads)
    prev = store.get(key)
    store[key] = g if prev is None else prev + g


def _topological_order(roots):
    """Nodes reachable from the roots, each before all nodes it depends on. Iterative DFS."""
    order, seen = [], set()
    stack = [(r._node, False) for r in roots if r._node is not None]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        if node.inputs is None:
            continue
        for t in node.inputs:
            if t._node is not None and t._node not in seen:
                stack.append((t._node, False))
    order.reverse()
    return order


def _leads_to(order, inputs):
    """Nodes whose vjp must run to reach a requested input (the rest need no work)."""
    targets = {t._node for t in inputs if t._node is not None}
    leaves = {id(t) for t in inputs if t._node is None}
    useful = set()
    for node in reversed(order):          # dependencies come first in reversed order
        if any((t._node in useful or t._node in targets) if t._node is not None else id(t) in leaves
               for t in (node.inputs or ())):
            useful.add(node)
    return useful, targets


def _run_hooks(hooks, g, create_graph):
    Tensor = _tensor_class
    gt = g if create_graph else Tensor._wrap(g)
    for hook in list(hooks.values()):
        new = hook(gt)
        if new is not None:
            gt = new if isinstance(new, Tensor) else Tensor(np.asarray(new))
    return gt if create_graph else gt._data


def _accumulate_into_leaves(leaf_grads, create_graph, handed_out):
    wrap = _tensor_class._wrap
    for leaf, g in leaf_grads.items():
        if not leaf.requires_grad:
            continue
        if type(g) is SliceGrad:
            g = g.dense()
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g, create_graph)
        if create_graph:
            leaf.grad = g if leaf.grad is None else leaf.grad + g
            continue
        if id(g) in handed_out or not g.flags.writeable:
            g = g.copy()
        handed_out.add(id(g))
        leaf.grad = wrap(g if leaf.grad is None else leaf.grad._data + g)


def _collect(inputs, captured, leaf_grads, allow_unused):
    result = []
    for i, t in enumerate(inputs):
        g = captured.get(t._node) if t._node is not None else leaf_grads.get(t)
        if type(g) is SliceGrad:
            g = g.dense()
        if g is None and not allow_unused:
            raise RuntimeError(f"One of the differentiated tensors (input {i}, shape {t.shape}) "
                               "was not used in the graph. Set allow_unused=True if this is intended.")
        result.append(None if g is None else _as_grad_tensor(g))
    return tuple(result)


class SliceGrad:
    """The gradient of a tensor read through slices: (index, value) parts, summed only when used.

    Differentiating ``x[0], x[1], ..., x[T-1]`` (an RNN's time steps) would otherwise build and
    add T full-size arrays, O(T^2) work; kept sparse until the node consumes it, it costs O(T).
    """

    __slots__ = ("shape", "dtype", "parts")
    __array_ufunc__ = None       # ndarray + SliceGrad goes to __radd__

    def __init__(self, shape, dtype, index, value):
        self.shape, self.dtype, self.parts = shape, dtype, [(index, value)]

    def __add__(self, other):
        if type(other) is SliceGrad:
            self.parts.extend(other.parts)     # both were made by this backward pass: safe
            return self
        out = np.array(other, dtype=np.result_type(other, self.dtype), copy=True)
        return self._add_into(out)

    __radd__ = __add__

    def _add_into(self, out):
        for index, value in self.parts:
            out[index] += value
        return out

    def dense(self):
        return self._add_into(np.zeros(self.shape, self.dtype))


# ----------------------------------------------------------------------------------------------
# safety checks
# ----------------------------------------------------------------------------------------------

def _check_versions(node):
    if node.versions is None:
        return
    for i, (t, v) in enumerate(zip(node.inputs, node.versions)):
        if t._vc[0] != v:
            raise RuntimeError(
                f"{node.name}: input {i} (shape {t.shape}) was modified by an in-place operation "
                f"after it was used (version {t._vc[0]}, expected {v}); its gradient would be wrong. "
                "Use an out-of-place operation (e.g. x = x + 1 instead of x += 1).")


def _check_finite(data, name, phase, node):
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "fc" or np.isfinite(data).all():
        return
    where = f", created at {node.created_at}" if node is not None and node.created_at else ""
    kind = "NaN" if np.isnan(data).any() else "Inf"
    raise AnomalyError(f"detect_anomaly: '{name}' produced {kind} in its {phase} pass{where}",
                       name, phase, node)


class AnomalyError(FloatingPointError):
    """Raised in ``detect_anomaly`` mode; carries the op's ``name``, the ``phase`` and its ``node``
    (``node.inputs`` are the op's inputs, ``node.created_at`` the user's line)."""

    def __init__(self, message, name, phase, node):
        super().__init__(message)
        self.op, self.phase, self.node = name, phase, node
        self.created_at = node.created_at if node is not None else None


def _user_frame():
    """'file:line in function' of the innermost frame outside chainrule's engine and ops."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        f = frame.filename.replace("\\", "/")
        if "/chainrule/" not in f or "/chainrule/nn/" in f:
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
    return None


_tensor_class = None   # set by chainrule.tensor at import (the engine must not import it back)


def _new_tensor(data):
    return _tensor_class._wrap(data)


def _as_grad_tensor(g):
    return g if isinstance(g, _tensor_class) else _tensor_class(g)
