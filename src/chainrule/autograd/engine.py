"""The autograd engine: how operations are recorded and how backward applies the chain rule.

Every differentiable op computes its result on arrays and, when some input needs a gradient,
calls :func:`record`, which attaches a :class:`Node` to the result. A node keeps the inputs its
vjp reads (for the others only their shape and dtype, see :class:`Unsaved`) and, per input, the
node that produced it (its edge: what backward walks), and only a weak reference to its output,
so a graph has no reference cycles and is freed as soon as the user drops the result.

``backward`` is an iterative topological walk from the root: each node receives the sum of the
gradients of its output, calls its op's vector-Jacobian product ``vjp(ctx, grad)`` and passes one
gradient to each input, cast to that input's dtype. Gradients are arrays (fast path) or, with
``create_graph=True``, Tensors whose operations are recorded again, so second derivatives come
for free.

Safety: every value a vjp reads (inputs and output) has its version recorded; an in-place edit
made before backward (``y.mul_(3)``, through a view or ``.detach()`` too, which share the counter)
makes backward raise instead of returning a wrong gradient. In-place ops recorded in a graph
(``h += x``) replace the tensor's node with :func:`rebase`; see ``chainrule/ops/inplace.py``.
"""

from __future__ import annotations

import contextvars
import itertools
import operator
import os
import traceback
import weakref
from collections.abc import Callable, Container, Sequence
from typing import TYPE_CHECKING, Any

from .._typing import VJP, ArrayLike, DTypeLike, Grad
from ..backend import xp as np
from .grad_mode import _MODE, _MODES, PLAIN_NO_GRAD

if TYPE_CHECKING:
    from ..tensor import Tensor

_PLAIN_GRAD = _MODES[True, False]

_SEQ = itertools.count()  # creation sequence numbers of nodes


class Node:
    """One recorded operation: the ``grad_fn`` of the tensor it produced.

    ``inputs`` are the input tensors (what the vjp reads); ``next`` holds, per input, the node
    that had produced it when this op was recorded (None for a leaf). Backward follows ``next``,
    not ``inputs[i]._node``: an in-place op later gives a tensor a new node, and the ops that
    read its old value must still send their gradient to the old one.
    """

    __slots__ = (
        "vjp",
        "_inputs",
        "_partial",
        "needs",
        "next",
        "saved",
        "out_data",
        "out_ref",
        "_name",
        "versions",
        "out_version_counter",
        "out_version",
        "create_graph",
        "seq",
        "created_at",
        "hooks",
        "__weakref__",
    )
    vjp: VJP
    # Sequence[Tensor], list[Node | None] and the output array, or None once backward has freed
    # the node: Any, because the walks know when they are set and mypy cannot.
    _inputs: Any
    _partial: bool
    needs: list[bool]
    next: Any
    saved: Any
    out_data: Any
    out_ref: Callable[[], Tensor | None]
    _name: str
    versions: list[int | None] | None
    out_version_counter: Any  # list[int] and int when the vjp reads the output, else None
    out_version: Any
    create_graph: bool
    seq: int
    created_at: str | None
    hooks: dict[int, Callable[..., Any]] | None

    def __init__(
        self,
        vjp: VJP,
        inputs: Sequence[Tensor],
        saved: Any,
        out: Tensor,
        name: str,
        save_inputs: bool | Sequence[bool],
        anomaly: bool,
        save_output: bool = True,
    ) -> None:
        self.vjp = vjp
        if _INPLACE_RECORDED[0]:
            for t in inputs:
                _refresh_view(t)
        self.needs = [t.requires_grad for t in inputs]
        self.next = [t._node for t in inputs]
        # What backward reads: the inputs, with an Unsaved stand-in for each one whose values
        # the vjp does not read (so the memory of, e.g., ReLU's input goes with its last user).
        if (
            save_inputs is True
            or anomaly
            or vjp not in _READS_NO_INPUT_VALUES
            or KEEP_INPUT_VALUES.get()
        ):
            self._inputs, self._partial = inputs, False
        else:
            self._inputs = _unsaved(inputs, save_inputs, out._data)
            self._partial = self._inputs is not inputs
        self.saved = saved
        self.out_ref = weakref.ref(out)
        self._name = name
        # Versions of every value the vjp reads (inputs and output), to catch in-place edits
        # made before backward; views and .detach() share the counter list with their base.
        if save_inputs is True:
            self.versions = [t._version_counter[0] for t in inputs]
        elif save_inputs:  # one flag per input: only those the vjp will read
            self.versions = [
                t._version_counter[0] if s else None
                for t, s in zip(inputs, save_inputs, strict=True)
            ]
        else:
            self.versions = None
        if save_output:
            self.out_data, self.out_version_counter, self.out_version = (
                out._data,
                out._version_counter,
                out._version_counter[0],
            )
        else:
            self.out_data = self.out_version_counter = self.out_version = None
        self.create_graph = False  # True while its vjp runs under create_graph=True
        # Creation order: an op's inputs were made before it, so decreasing seq is a
        # topological order of any set of nodes (backward sorts by it instead of a DFS).
        self.seq = next(_SEQ)
        self.hooks = None  # the output tensor's hooks: they outlive the tensor object
        self.created_at = _user_frame() if anomaly else None

    @property
    def name(self) -> OpName:
        """The op's name (``"Mul"``); called, PyTorch's node name: ``y.grad_fn.name()`` is
        ``"MulBackward0"``."""
        return OpName(self._name)

    @property
    def next_functions(self) -> tuple[tuple[Node | AccumulateGrad | None, int], ...]:
        """PyTorch's edges of this node: per input, ``(node, 0)`` for the node that produced it,
        ``(AccumulateGrad, 0)`` for a leaf that requires grad (its ``.variable`` is the leaf)
        and ``(None, 0)`` for a constant. Empty once backward has freed the node (torch keeps
        the edges; chainrule frees them with the saved values)."""
        nxt, ins = self.next, self._inputs
        if nxt is None or ins is None:
            return ()
        return tuple(
            (n, 0) if n is not None else (AccumulateGrad.of(t) if need else None, 0)
            for n, t, need in zip(nxt, ins, self.needs, strict=True)
        )

    @property
    def inputs(self) -> Any:
        """The op's inputs (None once backward has freed them): each input tensor, or for one
        whose values the vjp does not read and that nothing else holds any more, an
        :class:`Unsaved` stand-in with its ``shape``, ``dtype``, ``requires_grad`` and ``_node``.

        The library's own vjps read ``_inputs`` (stand-ins left in place: no tuple is built),
        for the shapes and the values they declared."""
        ins = self._inputs
        if not self._partial or ins is None:
            return ins
        return tuple((x if (t := x()) is None else t) if type(x) is Unsaved else x for x in ins)

    @inputs.setter
    def inputs(self, value: Any) -> None:
        self._inputs, self._partial = value, value is not None

    # --- what a vjp reads: arrays on the fast path, Tensors when the backward is recorded ---
    def input(self, i: int) -> Grad:
        t = self._inputs[i]
        return t if self.create_graph else t._data

    def output(self) -> Grad:
        if not self.create_graph:
            return self.out_data
        out = self.out_ref()
        if out is None:
            # Nothing holds the result any more (the ops that consumed it did not keep it): a
            # tensor of the saved values with this node as its history stands in for it, as
            # PyTorch unpacks a saved output.
            out = _tensor_class._wrap(self.out_data)
            out._node, out.requires_grad, out._version_counter = (
                self,
                True,
                self.out_version_counter,
            )
            self.out_ref = weakref.ref(out)
        elif out._node is not self or out._data is not self.out_data:
            raise RuntimeError(
                f"{self.name}: its output was detached or replaced; cannot "
                "build a graph of its backward (create_graph=True)"
            )
        return out

    def __repr__(self) -> str:
        return f"<{self.name}Backward>"


class OpName(str):
    """A node's op name (``"Mul"``): a str, which called gives PyTorch's name of the node
    (``"MulBackward0"``), so that both ``node.name == "Mul"`` and torch's ``grad_fn.name()``
    work."""

    __slots__ = ()

    def __call__(self) -> str:
        return f"{self}Backward0"


class AccumulateGrad:
    """What PyTorch's ``next_functions`` show for a leaf that requires grad: ``.variable`` is
    the leaf (its ``.grad`` receives the gradient). One object per leaf while the leaf lives (as
    torch's), so graph walkers that key on ``id()`` see each leaf once; made on first read, not
    when the graph is recorded, and it holds the leaf weakly (no cycle, no leak)."""

    __slots__ = ("_leaf", "__weakref__")
    next_functions: tuple[()] = ()

    def __init__(self, leaf: Tensor) -> None:
        key = id(leaf)
        self._leaf = weakref.ref(leaf, lambda _: _ACCUMULATORS.pop(key, None))

    @staticmethod
    def of(leaf: Tensor) -> AccumulateGrad:
        """The leaf's one AccumulateGrad."""
        acc = _ACCUMULATORS.get(id(leaf))
        if acc is None or acc._leaf() is not leaf:
            acc = _ACCUMULATORS[id(leaf)] = AccumulateGrad(leaf)
        return acc

    @property
    def variable(self) -> Tensor | None:
        return self._leaf()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


_ACCUMULATORS: dict[int, AccumulateGrad] = {}  # id(leaf) -> its AccumulateGrad, while it lives


class Unsaved(weakref.ref):
    """Stands in a node for an input whose values its vjp never reads (ReLU's pre-activation,
    both sides of an add): its ``shape``, ``dtype``, ``requires_grad`` and producer ``_node``,
    which is all the vjp and the engine read, so the input's memory goes as soon as nothing
    else holds it (PyTorch saves only what a backward formula needs, too).

    It is a weak reference to the tensor: while the tensor is alive other attributes (``_data``)
    are read from it, so tools that inspect a graph (``chainrule.diagnostics``) still see the
    values of tensors the user holds; after, reading them raises AttributeError.
    """

    __slots__ = ("shape", "dtype", "requires_grad", "_node")
    shape: tuple[int, ...]
    dtype: Any
    requires_grad: bool
    _node: Node | None

    def __getattr__(self, name: str) -> Any:
        t = self()
        if t is None:
            raise AttributeError(
                f"{name}: this input's values were not saved for backward (its op's vjp does "
                "not read them) and the tensor has been freed"
            )
        return getattr(t, name)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<unsaved input of shape {self.shape}, dtype {self.dtype}>"


def input_values(x: Any) -> Any:
    """The array of a node's input ``x`` (an item of ``node.inputs``), or None when it was not
    saved for backward and is gone (then its producer's saved output, if it kept one)."""
    if type(x) is not Unsaved:
        return x._data
    t = x()
    if t is not None:
        return t._data
    return x._node.out_data if x._node is not None else None


# vjps that read no input values on either path (plain or create_graph): only their ops drop
# inputs. `save_inputs=False` alone is not enough: it says what the plain backward reads, and
# some recorded backwards recompute from the inputs (cross-entropy's double backward).
_READS_NO_INPUT_VALUES: set[Any] = set()


# While True, nodes keep every input whole, also those their vjp does not read: the NaN/Inf
# tracer then sees every intermediate value (GradientMonitor sets it for its recorded forwards;
# anomaly mode keeps them too). It costs memory only: the values live until backward.
KEEP_INPUT_VALUES: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "chainrule_keep_input_values", default=False
)


def reads_no_input_values(vjp: VJP) -> VJP:
    """Mark ``vjp`` as reading only its inputs' shapes and dtypes and its own output (never an
    input's values, also when the backward is recorded): its op's node then keeps no input that
    nothing else holds, so e.g. ReLU's pre-activation is freed with its last other user."""
    _READS_NO_INPUT_VALUES.add(vjp)
    return vjp


def _unsaved(inputs: Sequence[Tensor], save_inputs: Any, out_data: Any) -> Sequence[Any]:
    """``inputs`` with an :class:`Unsaved` stand-in for each one the vjp does not read.

    Only intermediate results are replaced: a leaf (a parameter, whose gradient goes to its
    ``.grad``; a constant, small and read by graph tools) is kept whole, and so is every input
    when the result may share memory with one (a view: in-place ops and view replay walk from a
    view to its base, and keeping a base costs no memory then)."""
    if out_data.base is not None:
        return inputs
    kept: list[Any] | None = None
    for i, t in enumerate(inputs):
        if t._node is None or (save_inputs is not False and save_inputs[i]) or t._data is out_data:
            continue
        if kept is None:
            kept = list(inputs)
        data = t._data
        u = kept[i] = Unsaved(t)
        u.shape, u.dtype, u.requires_grad, u._node = (
            data.shape,
            data.dtype,
            t.requires_grad,
            t._node,
        )
    return inputs if kept is None else tuple(kept)


def record(
    data: ArrayLike,
    inputs: Sequence[Tensor],
    vjp: VJP,
    name: str,
    saved: Any = None,
    save_inputs: bool | Sequence[bool] = True,
    save_output: bool = True,
) -> Tensor:
    """Wrap ``data`` in a Tensor; attach a Node when grad mode is on and an input needs a gradient.

    ``vjp(ctx, grad)`` returns one gradient per input (None where ``ctx.needs[i]`` is False);
    ``ctx`` is the Node: ``ctx.input(i)``, ``ctx.output()``, ``ctx.saved``, ``ctx.inputs[i].shape``.
    ``save_inputs`` says the vjp reads the inputs' values (their versions are then checked), or
    is one flag per input (e.g. ``a * b`` reads ``b`` only when ``a`` needs a gradient);
    ``save_output`` says it reads the result (kept, and its version checked); with False the
    result's memory goes as soon as nothing else holds it.
    """
    out = _tensor_class._wrap(data)
    mode = _MODE.get()
    if mode is PLAIN_NO_GRAD:  # inference: nothing to record or check
        return out
    if mode is not _PLAIN_GRAD:  # anomaly detection
        return attach(out, inputs, vjp, name, saved, save_inputs, save_output)
    for t in inputs:
        if t.requires_grad:
            out.requires_grad = True
            out._node = Node(vjp, inputs, saved, out, name, save_inputs, False, save_output)
            break
    return out


def attach(
    out: Tensor,
    inputs: Sequence[Tensor],
    vjp: VJP,
    name: str,
    saved: Any = None,
    save_inputs: bool | Sequence[bool] = True,
    save_output: bool = True,
) -> Tensor:
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


def rebase(t: Tensor, result: Tensor, copy: bool = True) -> Tensor:
    """Make tensor ``t`` hold ``result``: the last step of an in-place op recorded in a graph.

    ``result`` was computed out of place from ``t`` (its node's edges point at ``t``'s old
    history); its values are written into ``t``'s memory (unless ``copy=False``: already there),
    ``t``'s version goes up (so ops that saved the old values refuse to backward) and ``t``
    becomes the output of ``result``'s node.
    Hooks registered on ``t`` before stay with the old node (they see the old value's gradient);
    ``retain_grad`` moves to the new one, as in PyTorch.
    """
    _INPLACE_RECORDED[0] = True
    if copy:
        np.copyto(t._data, result._data, casting="unsafe")
        t._version_counter[0] += 1
    old, node = t._node, result._node
    if old is not None:
        old.out_ref = _dead_ref
    t._node = node
    t.requires_grad = result.requires_grad
    if node is not None:
        node.out_ref = weakref.ref(t)
        ins = node._inputs
        if node._partial and ins is not None and any(type(x) is Unsaved and x() is t for x in ins):
            # t is its own input here (relu_): keep it whole, so that later in-place ops and view
            # checks see "base is t" (it costs nothing: t lives on as the output)
            node._inputs = tuple(t if type(x) is Unsaved and x() is t else x for x in ins)
        if node.out_data is not None:  # the vjp reads the result: it now lives in t
            node.out_data, node.out_version_counter, node.out_version = (
                t._data,
                t._version_counter,
                t._version_counter[0],
            )
    if t._hooks is not None:
        t._hooks = None
        if t._retain:
            t._hook_dict()
    return t


def node_hooks(node: Node) -> dict[int, Callable[..., Any]]:
    """The dict of hooks run on the gradient of ``node``'s output: its tensor's hooks, or the
    node's own when nothing holds that tensor any more (graph tools hook every node with it).
    Add ``{key: hook(grad) -> Tensor or None}``; remove the key after."""
    out = node.out_ref()
    if out is not None and out._node is node:
        return out._hook_dict()
    if node.hooks is None:
        node.hooks = {}
    return node.hooks


def _dead_ref() -> None:
    return None


# Set once an in-place op has been recorded in a graph: from then on a view may be stale (its
# base got a new history after the view was made), and is refreshed when used. Until then the
# check costs nothing.
_INPLACE_RECORDED = [False]
VIEW_REPLAY = {}  # a view op's vjp -> replay(base, node, view): the view re-made from base


def _refresh_view(t: Tensor) -> None:
    """If ``t`` is a view whose base was changed in place by a recorded op after ``t`` was made,
    give ``t`` the history of the view re-made from the base as it is now (PyTorch's view replay);
    otherwise gradients through ``t`` would go to the base's old history. A view of a view is
    refreshed from the one nearest its base down."""
    chain = []
    v = t
    while v._node is not None and v._node._inputs is not None and len(v._node._inputs) == 1:
        base = v._node._inputs[0]
        if type(base) is Unsaved or base is v or base._version_counter is not v._version_counter:
            break  # not a view (a view keeps its base whole)
        chain.append(v)
        v = base
    for v in reversed(chain):
        node = v._node
        base = node._inputs[0]
        if node.next[0] is base._node:
            continue
        replay = VIEW_REPLAY.get(node.vjp)
        if replay is None:
            raise RuntimeError(
                f"a view made by {node.name} is used after its base was changed by "
                "an in-place operation in the graph; make the view again after that"
            )
        fresh = replay(base, node, v)
        v._node, v.requires_grad = fresh._node, fresh.requires_grad
        if fresh._node is not None:
            fresh._node.out_ref = weakref.ref(v)


# ----------------------------------------------------------------------------------------------
# backward
# ----------------------------------------------------------------------------------------------


def backward(
    roots: Sequence[Tensor],
    grads: Sequence[Grad],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
    allow_unused: bool = False,
) -> Any:
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
    handed_out = set()  # arrays given to a leaf already: a second leaf gets a copy
    pending = {}  # node -> summed gradient of its output, freed once consumed
    leaf_grads = {}  # leaf tensor -> summed gradient
    captured = {}  # requested non-leaf tensor's node -> its gradient
    for root, g in zip(roots, grads, strict=True):
        _send(root._node, root, g, pending, leaf_grads)
    _CALLBACKS.append([])  # what queue_callback adds during this pass
    try:
        _walk(
            order,
            pending,
            leaf_grads,
            captured,
            early,
            handed_out,
            retain_graph,
            create_graph,
            inputs,
            wanted,
            targets,
        )
        if inputs is None:
            _accumulate_into_leaves(leaf_grads, create_graph, handed_out)
            if early is not None:
                for leaf in leaf_grads:
                    _run_post_hooks(leaf)
    finally:
        callbacks = _CALLBACKS.pop()
    for callback in callbacks:  # queue_callback: after every .grad is in place
        callback()
    if inputs is None:
        return None
    return _collect(inputs, captured, leaf_grads, allow_unused)


# ---- hooks that run when a leaf's .grad is complete, and at the end of backward ----

# id(leaf) -> (weak reference, {handle id: hook(leaf)}). Keyed by id, not by tensor: a Tensor's
# == is elementwise. The entry goes when the leaf dies.
_POST_HOOKS = {}
_CALLBACKS = []  # one list per running backward (innermost last)


def queue_callback(callback: Callable[[], Any]) -> None:
    """Run ``callback()`` once, when the backward pass now running has finished (as torch's
    ``Variable._execution_engine.queue_callback``). Call it from a hook during backward."""
    if not _CALLBACKS:
        raise RuntimeError("queue_callback: no backward pass is running (call it from a hook)")
    _CALLBACKS[-1].append(callback)


def post_hooks_of(leaf: Tensor) -> dict[int, Callable[[Tensor], Any]]:
    """The (mutable) dict of ``leaf``'s post-accumulate hooks, created on first use."""
    entry = _POST_HOOKS.get(id(leaf))
    if entry is None:
        key = id(leaf)
        entry = _POST_HOOKS[key] = (weakref.ref(leaf, lambda _: _POST_HOOKS.pop(key, None)), {})
    return entry[1]


def _last_consumers(order: list[Node]) -> dict[Node, list[Tensor]]:
    """node -> the hooked leaves for which it is the last node (in ``order``) that reads them."""
    last = {}
    for node in order:
        for t in node._inputs or ():
            if t._node is None and id(t) in _POST_HOOKS:
                last[t] = node
    early = {}
    for leaf, node in last.items():
        early.setdefault(node, []).append(leaf)
    return early


def _flush_early(
    leaves: list[Tensor], leaf_grads: dict[Tensor, Grad], create_graph: bool, handed_out: set[int]
) -> None:
    """Accumulate these leaves' finished gradients into .grad now, then run their hooks."""
    for leaf in leaves:
        g = leaf_grads.pop(leaf, None)
        if g is not None:
            _accumulate_into_leaves({leaf: g}, create_graph, handed_out)
            _run_post_hooks(leaf)


def _run_post_hooks(leaf: Tensor) -> None:
    entry = _POST_HOOKS.get(id(leaf))
    hooks = entry[1] if entry is not None else None
    if hooks and leaf.requires_grad:
        for hook in list(hooks.values()):
            hook(leaf)


def _walk(
    order: list[Node],
    pending: dict[Node, Grad],
    leaf_grads: dict[Tensor, Grad],
    captured: dict[Node, Grad],
    early: dict[Any, list[Tensor]] | None,
    handed_out: set[int],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None,
    wanted: set[Node] | None,
    targets: Container[Node],
) -> None:
    """Run every node in topological order, each once the gradient of its output is summed."""
    token = _MODE.set(_MODES[bool(create_graph), _MODE.get().anomaly])
    prev = None
    pop = pending.pop
    try:
        for node in order:
            if early is not None and prev in early:
                _flush_early(early.pop(prev), leaf_grads, create_graph, handed_out)
            prev = node
            g = pop(node, None)
            if g is None:
                continue
            if type(g) is SliceGrad:
                g = g.dense()
            if node.hooks is not None:
                g = _run_hooks(node.hooks, g, create_graph)
                out = node.out_ref()
                if out is not None and out._retain and inputs is None:
                    out.grad = _as_grad_tensor(g)
            if wanted is not None:
                if node in targets:
                    captured[node] = g
                if node not in wanted:
                    continue
            _apply(node, g, create_graph, pending, leaf_grads, wanted, targets)
            if not retain_graph:
                node._inputs = node.next = node.saved = node.out_data = None
    finally:
        _MODE.reset(token)


def _apply(
    node: Node,
    g: Grad,
    create_graph: bool,
    pending: dict[Node, Grad],
    leaf_grads: dict[Tensor, Grad],
    wanted: set[Node] | None,
    targets: Container[Node] = (),
) -> None:
    """Run one node's vjp and send each input its share of the gradient."""
    if node._inputs is None:
        raise RuntimeError(
            f"Trying to backward through the graph a second time ({node.name}): its saved values "
            "were freed by the first backward. Pass retain_graph=True to the first call."
        )
    versions = node.versions
    if versions is not None:
        for t, v in zip(node._inputs, versions, strict=True):
            if v is not None and t._version_counter[0] != v:
                _check_versions(node)  # raises, naming the value
    if node.out_version_counter is not None and node.out_version_counter[0] != node.out_version:
        _check_versions(node)
    node.create_graph = create_graph
    anomaly = node.created_at is not None
    for t, nxt, need, gi in zip(
        node._inputs, node.next, node.needs, node.vjp(node, g), strict=False
    ):
        if not need or gi is None:
            continue
        tg = type(gi)
        if tg is not np.ndarray and not create_graph and tg is not SliceGrad:
            gi = np.asarray(gi)  # NumPy returns scalars for 0-d results
        data = t._data if type(t) is not Unsaved else t
        if gi.shape != data.shape:
            raise RuntimeError(
                f"{node.name}: gradient of shape {gi.shape} for an input of shape "
                f"{data.shape} (bug in the op's vjp)"
            )
        if gi.dtype != data.dtype:  # a gradient has its tensor's dtype (float16 stays so)
            gi = _cast(gi, data.dtype)
        if anomaly:
            dense = gi._data if create_graph else (gi.dense() if type(gi) is SliceGrad else gi)  # type: ignore[union-attr]
            _check_finite(dense, node.name, "backward", node)
        if wanted is not None and not (nxt is None or nxt in wanted or nxt in targets):
            continue
        # _send, inlined (it runs once per edge)
        if nxt is not None:
            prev = pending.get(nxt)
            pending[nxt] = gi if prev is None else prev + gi
        else:
            prev = leaf_grads.get(t)
            leaf_grads[t] = gi if prev is None else prev + gi


def _cast(g: Grad, dtype: DTypeLike) -> Grad:
    if type(g) is SliceGrad:
        g = g.dense()
    return g.astype(dtype) if type(g) is np.ndarray else g.to(dtype)


def _send(
    node: Node | None, t: Tensor, g: Grad, pending: dict[Any, Grad], leaf_grads: dict[Any, Grad]
) -> None:
    """Add ``g`` to what ``node`` (or the leaf ``t`` when node is None) has received so far."""
    key, store = (node, pending) if node is not None else (t, leaf_grads)
    prev = store.get(key)
    store[key] = g if prev is None else prev + g


def _topological_order(roots: Sequence[Tensor]) -> list[Node]:
    """Nodes reachable from the roots, each before all nodes it depends on: newest first (a
    node's inputs were all made before it)."""
    seen = {r._node for r in roots if r._node is not None}
    stack = list(seen)
    add, push, pop = seen.add, stack.append, stack.pop
    while stack:
        for nxt in pop().next or ():
            if nxt is not None and nxt not in seen:
                add(nxt)
                push(nxt)
    return sorted(seen, key=_by_seq, reverse=True)


_by_seq = operator.attrgetter("seq")


def _leads_to(order: list[Node], inputs: Sequence[Tensor]) -> tuple[set[Node], set[Node]]:
    """Nodes whose vjp must run to reach a requested input (the rest need no work)."""
    targets = {t._node for t in inputs if t._node is not None}
    leaves = {id(t) for t in inputs if t._node is None}
    useful = set()
    for node in reversed(order):  # dependencies come first in reversed order
        if any(
            (nxt in useful or nxt in targets) if nxt is not None else id(t) in leaves
            for t, nxt in zip(node._inputs or (), node.next or (), strict=True)
        ):
            useful.add(node)
    return useful, targets


def _run_hooks(hooks: dict[int, Callable[..., Any]], g: Grad, create_graph: bool) -> Grad:
    Tensor = _tensor_class
    gt = g if create_graph else Tensor._wrap(g)
    for hook in list(hooks.values()):
        new = hook(gt)
        if new is not None:
            gt = new if isinstance(new, Tensor) else Tensor._wrap(np.asarray(new))
    return gt if create_graph else gt._data


def _accumulate_into_leaves(
    leaf_grads: dict[Tensor, Grad], create_graph: bool, handed_out: set[int]
) -> None:
    wrap = _tensor_class._wrap
    for leaf, g in leaf_grads.items():
        if not leaf.requires_grad:
            continue
        if type(g) is SliceGrad:
            g = g.dense()
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g, create_graph)
        if g.dtype != leaf.dtype:  # a hook may return another dtype
            g = _cast(g, leaf.dtype)
        if create_graph:
            leaf.grad = g if leaf.grad is None else leaf.grad + g
            continue
        if id(g) in handed_out or not g.flags.writeable:
            g = g.copy()
        handed_out.add(id(g))
        leaf.grad = wrap(g if leaf.grad is None else leaf.grad._data + g)


def _collect(
    inputs: Sequence[Tensor],
    captured: dict[Node, Grad],
    leaf_grads: dict[Tensor, Grad],
    allow_unused: bool,
) -> tuple[Tensor | None, ...]:
    result = []
    for i, t in enumerate(inputs):
        g = captured.get(t._node) if t._node is not None else leaf_grads.get(t)
        if type(g) is SliceGrad:
            g = g.dense()
        if g is None and not allow_unused:
            raise RuntimeError(
                f"One of the differentiated tensors (input {i}, shape {t.shape}) "
                "was not used in the graph. Set allow_unused=True if this is intended."
            )
        result.append(None if g is None else _as_grad_tensor(g))
    return tuple(result)


class SliceGrad:
    """The gradient of a tensor read through slices: (index, value) parts, summed only when used.

    Differentiating ``x[0], x[1], ..., x[T-1]`` (an RNN's time steps) would otherwise build and
    add T full-size arrays, O(T^2) work; kept sparse until the node consumes it, it costs O(T).
    """

    __slots__ = ("shape", "dtype", "parts")
    __array_ufunc__ = None  # ndarray + SliceGrad goes to __radd__

    def __init__(
        self, shape: tuple[int, ...], dtype: np.dtype, index: Any, value: np.ndarray
    ) -> None:
        self.shape, self.dtype, self.parts = shape, dtype, [(index, value)]

    def __add__(self, other: Any) -> Any:
        if type(other) is SliceGrad:
            self.parts.extend(other.parts)  # both were made by this backward pass: safe
            return self
        out = np.array(other, dtype=np.result_type(other, self.dtype), copy=True)
        return self._add_into(out)

    __radd__ = __add__

    def _add_into(self, out: np.ndarray) -> np.ndarray:
        for index, value in self.parts:
            out[index] += value
        return out

    def dense(self) -> np.ndarray:
        return self._add_into(np.zeros(self.shape, self.dtype))


# ----------------------------------------------------------------------------------------------
# safety checks
# ----------------------------------------------------------------------------------------------


def _check_versions(node: Node) -> None:
    """Refuse to backward through a node whose saved input or output was overwritten in place."""
    checks = (
        []
        if node.versions is None
        else [
            (f"input {i}", t._data, t._version_counter[0], v)
            for i, (t, v) in enumerate(zip(node._inputs, node.versions, strict=True))
            if v is not None
        ]
    )
    if node.out_version_counter is not None:
        checks.append(("output 0", node.out_data, node.out_version_counter[0], node.out_version))
    for what, data, now, expected in checks:
        if now != expected:
            raise RuntimeError(
                f"one of the values needed for gradient computation has been modified by an "
                f"in-place operation: the {data.dtype} tensor of shape {data.shape}, {what} of "
                f"{node.name}Backward, is at version {now}; expected version {expected} instead. "
                "Its gradient would be wrong: use an out-of-place operation (x = x * 3 instead of "
                "x *= 3) or .clone() the value before changing it."
            )


def _check_finite(data: Any, name: str, phase: str, node: Node | None) -> None:
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "fc" or np.isfinite(data).all():
        return
    where = f", created at {node.created_at}" if node is not None and node.created_at else ""
    kind = "NaN" if np.isnan(data).any() else "Inf"
    raise AnomalyError(
        f"detect_anomaly: '{name}' produced {kind} in its {phase} pass{where}", name, phase, node
    )


class AnomalyError(FloatingPointError):
    """Raised in ``detect_anomaly`` mode; carries the op's ``name``, the ``phase`` and its ``node``
    (``node.inputs`` are the op's inputs, ``node.created_at`` the user's line)."""

    def __init__(self, message: str, name: str, phase: str, node: Node | None) -> None:
        super().__init__(message)
        self.op, self.phase, self.node = name, phase, node
        self.created_at = node.created_at if node is not None else None


# The installed package's own folder: a user's project may itself live in a folder named
# "chainrule" (a git clone does), so the test is on this exact directory, not on the name.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NN_DIR = os.path.join(_PACKAGE_DIR, "nn")


def is_library_file(filename: str) -> bool:
    """True for chainrule's own source files, except ``nn`` (whose layers are user-level code)."""
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGE_DIR + os.sep) and not path.startswith(_NN_DIR + os.sep)


def _user_frame() -> str | None:
    """'file:line in function' of the innermost frame outside chainrule's engine and ops."""
    for frame in reversed(traceback.extract_stack()[:-2]):
        if not is_library_file(frame.filename):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
    return None


_tensor_class: type[Tensor] = None  # type: ignore[assignment]  # set by chainrule.tensor at import (the engine must not import it back)


def _as_grad_tensor(g: Grad) -> Tensor:
    return g if isinstance(g, _tensor_class) else _tensor_class._wrap(g)
