"""The recorded computation graph, drawn as Graphviz DOT text (and SVG/PNG when Graphviz is there).

Also holds the two graph walks the other diagnostics share: :func:`graph_nodes` (every recorded
op behind a tensor, outputs before inputs) and :func:`output_grads` (the gradient arriving at each
op's output, measured by a side backward pass that leaves every ``.grad`` untouched).

The walks follow each node's ``next`` edges (the node that produced input ``i`` when the op was
recorded), as backward does, never ``inputs[i]._node``: an in-place op gives a tensor a new
node afterwards, and the op that read its old value depends on the old node.

Example::

    loss = cr.nn.functional.cross_entropy(model(x), y)
    g = cr.diagnostics.draw_graph(loss, params=dict(model.named_parameters()))
    print(g.source)              # digraph chainrule { ... }
    g.render("graph.svg")        # needs Graphviz's `dot` program
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np

from ..autograd import grad as _grad
from ..autograd.engine import node_hooks
from ..tensor import Tensor

# The identity op that Module full backward hooks wrap around a module's inputs and outputs:
# it carries no computation, so the drawings and tables see through it.
HOOK_OPS = frozenset({"BackwardHook"})

_FORMATS = ("svg", "png", "pdf")


def graph_nodes(root):
    """The recorded nodes behind ``root``, each listed before the nodes it depends on.

    Raises ``RuntimeError`` when the graph was freed by a ``backward()`` without
    ``retain_graph=True``.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"expected a Tensor, got {type(root).__name__}")
    order, seen = [], set()
    stack = [(root._node, False)] if root._node is not None else []
    while stack:  # iterative DFS: deep graphs (long RNNs) do not recurse
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            if node.inputs is None:
                raise RuntimeError(
                    f"the graph behind this tensor was freed by backward() ({node.name} has no "
                    "saved inputs): call the diagnostic before backward(), or call "
                    "backward(retain_graph=True)"
                )
            stack.append((node, True))
            stack.extend((n, False) for n in node.next if n is not None and n not in seen)
    order.reverse()
    return order


def output_grads(root, nodes, leaves):
    """Gradients of scalar ``root`` at every node's output, and at each of ``leaves``.

    Returns ``({node: ndarray}, [ndarray or None per leaf])``. Runs one backward with
    ``retain_graph=True`` through tensor hooks; no ``.grad`` attribute is written.
    """
    seen, handles, key = {}, [], object()
    for node in nodes:
        # the node's hooks, not its tensor's: the graph may not keep an intermediate tensor
        hooks = node_hooks(node)
        hooks[key] = lambda g, n=node: seen.__setitem__(n, g._data)
        handles.append(hooks)
    try:
        with np.errstate(all="ignore"):
            leaf_grads = _grad(root, list(leaves), retain_graph=True, allow_unused=True)
    finally:
        for h in handles:
            h.pop(key, None)
    return seen, [None if g is None else g._data for g in leaf_grads]


def grad_leaves(nodes):
    """The distinct leaf tensors that need a gradient, in the order the walk meets them
    (inputs that were leaves needing a gradient when the op was recorded)."""
    leaves, ids = [], set()
    for node in nodes:
        for t, nxt, needs in zip(node.inputs, node.next, node.needs, strict=True):
            if nxt is None and needs and id(t) not in ids:
                ids.add(id(t))
                leaves.append(t)
    return leaves


def see_through(t, nxt):
    """Input ``t`` of an op and the node that had produced it (``nxt``, from ``node.next``):
    the same pair behind any chain of hook identity ops."""
    while nxt is not None and nxt.name in HOOK_OPS and nxt.inputs:
        t, nxt = nxt.inputs[0], nxt.next[0]
    return t, nxt


def norm(a):
    """Euclidean norm in float64 (no float32 overflow); NaN/Inf propagate."""
    a = np.asarray(a, dtype=np.float64)
    with np.errstate(all="ignore"):
        return float(np.sqrt(np.sum(a * a)))


class GraphDrawing:
    """A computation graph as DOT text: ``.source``; ``.render(path)`` runs Graphviz's ``dot``."""

    def __init__(self, source):
        self.source = source

    def __str__(self):
        return self.source

    def __repr__(self):
        lines = self.source.count("->")
        return f"<GraphDrawing: {lines} edges; .source is DOT text, .render(path) draws it>"

    def save(self, path):
        """Write the DOT text to ``path`` (open it with any Graphviz viewer)."""
        Path(path).write_text(self.source, encoding="utf-8")
        return path

    def render(self, path, format=None):
        """Draw the graph to ``path`` as SVG, PNG or PDF (default: from the suffix, else SVG).

        Needs the ``dot`` program of Graphviz on the PATH; raises ``RuntimeError`` saying how to
        install it otherwise. Returns ``path``.
        """
        format = (format or Path(path).suffix.lstrip(".") or "svg").lower()
        if format not in _FORMATS:
            raise ValueError(f"render: format must be one of {_FORMATS}, got {format!r}")
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(
                "render: Graphviz's 'dot' program is not on the PATH. Install Graphviz "
                "(apt install graphviz / brew install graphviz / conda install graphviz), or "
                "save the DOT text with .save('graph.dot') and render it elsewhere."
            )
        done = subprocess.run(
            [dot, f"-T{format}", "-o", str(path)], input=self.source.encode(), capture_output=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"render: dot failed on {path}: {done.stderr.decode().strip()}")
        return path


def draw_graph(tensor, show_grad=True, params=None):
    """The graph that computed ``tensor``, as a :class:`GraphDrawing` (DOT text in ``.source``).

    Op nodes (boxes) show the op name, the output shape and, with ``show_grad``, the norm of the
    gradient arriving at their output; leaves that need a gradient (ellipses) show their name
    (from ``params``, e.g. ``dict(model.named_parameters())``), shape and gradient norm. Edges
    follow the data, from inputs to the op using them. Constants (tensors that need no gradient)
    are left out. Non-finite gradients are drawn in red.

    Gradient norms: when ``tensor`` is a scalar in a graph, they are those of d tensor / d node,
    measured by a separate backward pass (the graph is retained, no ``.grad`` is written;
    backward hooks see it like any other);
    otherwise the ``.grad`` already present (leaves, or tensors with ``retain_grad()``) is shown.

    Args:
        tensor (Tensor): the result to draw (typically the loss), before ``backward()`` or
            after ``backward(retain_graph=True)``.
        show_grad (bool): add gradient norms to the labels.
        params (dict[str, Tensor] | None): names for leaves.

    Example::

        g = draw_graph(loss, params=dict(model.named_parameters()))
        g.render("loss.svg")
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    nodes = [n for n in graph_nodes(tensor) if n.name not in HOOK_OPS]
    leaves = grad_leaves(nodes)
    node_grads, leaf_grads = _grads_for_drawing(tensor, nodes, leaves, show_grad)
    names = {id(t): name for name, t in (params or {}).items()}
    ids = {node: f"op{i}" for i, node in enumerate(nodes)}
    ids.update({id(t): f"leaf{i}" for i, t in enumerate(leaves)})
    lines = [
        "digraph chainrule {",
        '  node [shape=box, style="rounded,filled", fillcolor="#eeeeee", '
        'fontname="Helvetica", fontsize=10];',
    ]
    for i, node in enumerate(nodes):
        extra = ", peripheries=2" if i == 0 else ""
        lines.append(_dot_node(ids[node], [node.name, _shape(node)], node_grads.get(node), extra))
    for t, g in zip(leaves, leaf_grads, strict=True):
        label = [
            names.get(id(t), "parameter" if t.__class__.__name__ == "Parameter" else "leaf"),
            str(tuple(t.shape)),
        ]
        lines.append(_dot_node(ids[id(t)], label, g, ', shape=ellipse, fillcolor="#d6e6ff"'))
    for node in nodes:
        for t, nxt in zip(node.inputs, node.next, strict=True):
            t, nxt = see_through(t, nxt)
            src = ids.get(nxt) if nxt is not None else ids.get(id(t))
            if src is not None:
                lines.append(f"  {src} -> {ids[node]};")
    lines.append("}")
    return GraphDrawing("\n".join(lines) + "\n")


def _grads_for_drawing(tensor, nodes, leaves, show_grad):
    if not show_grad:
        return {}, [None] * len(leaves)
    if tensor.requires_grad and tensor._node is not None and tensor._data.size == 1:
        return output_grads(tensor, nodes, leaves)
    retained = {}
    for node in nodes:
        out = node.out_ref()
        if out is not None and out.grad is not None:
            retained[node] = out.grad._data
    return retained, [None if t.grad is None else t.grad._data for t in leaves]


def _shape(node):
    out = node.out_ref()
    data = node.out_data if out is None else out._data
    return "?" if data is None else str(tuple(data.shape))


def _dot_node(name, label_lines, grad, extra):
    if grad is not None:
        n = norm(grad)
        label_lines = label_lines + [f"|grad| {n:.3g}"]
        if not np.isfinite(n):
            extra += ', fillcolor="#ff9999"'
    label = "\\n".join(_escape(s) for s in label_lines)
    return f'  {name} [label="{label}"{extra}];'


def _escape(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"')
