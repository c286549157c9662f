"""In-place operations (``add_``, ``relu_``, ``x[idx] = v`` ...) and how a graph records them.

Outside a graph (grad mode off, or nothing involved requires grad) an in-place op writes into
the tensor's memory and bumps its version counter; nothing else. Inside a graph they follow
PyTorch:

* the op is computed out of place from the tensor's current value and recorded as usual, then
  its result is written into the tensor, which becomes that op's output (``engine.rebase``):
  ``h += x`` gives ``h.grad_fn`` an ``AddBackward`` whose input is the old ``h``;
* the version goes up, so a node that saved the old value refuses to backward (an error, never
  a wrong gradient); nodes that did not need it are unaffected;
* a leaf that requires grad (or a view of one) refuses in-place ops while grad mode is on;
* an in-place op on a basic-indexing view ``h[1:]`` is recorded on its base as
  ``h[1:] = op(h[1:])``, and the view is re-read from the base (PyTorch's CopySlices); on a
  reshape or permutation of a whole base the same, mapped back to the base's shape;
* in-place shape changes (``unsqueeze_``, ``squeeze_``, ``t_``, ``transpose_``) record the
  view op on an alias of the tensor's old self (:func:`reshape_`).

Example::

    h = x * 2
    h[0] = w.sum()          # h now depends on x (except entry 0) and on w
    h.relu_()               # recorded; h.grad_fn is <ReluBackward>
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._typing import ArrayLike, Casting, Grad, Grads
from ..autograd import engine
from ..autograd.grad_mode import is_grad_enabled
from ..backend import xp as np
from ..tensor import Tensor
from . import dispatch as d
from . import shape
from ._util import sum_to
from .shape import _getitem_vjp, getitem

if TYPE_CHECKING:
    from ..autograd.engine import Node

_LEAF_ERROR = (
    "a leaf Variable that requires grad is being used in an in-place operation "
    "({op}); wrap it in `with cr.no_grad():` (as an optimizer does) or use the "
    "out-of-place form"
)


def apply(
    t: Tensor,
    op: str,
    compute: Callable[[Tensor], Tensor],
    operands: Sequence[Any] = (),
    write: Callable[[], None] | None = None,
    casting: Casting = "same_kind",
) -> Tensor:
    """Run the in-place op ``op`` on tensor ``t``.

    ``compute(t)`` returns the new value as a Tensor, computed out of place with recorded ops
    (it may read ``t``); ``write()``, when given, writes the values straight into ``t._data``
    (used where recomputing the whole tensor would cost more, as for ``t[i] = v``). ``casting``
    is NumPy's rule for storing the result in ``t``'s dtype.
    """
    if not is_grad_enabled() or not (t.requires_grad or any(_needs_grad(o) for o in operands)):
        if write is not None:
            write()
        else:
            _store(t, compute(t)._data, op, casting)
        t._version_counter[0] += 1
        return t
    if t.requires_grad and t._node is None:
        raise RuntimeError(_LEAF_ERROR.format(op=op))
    base, index = _view_base(t, op)
    if type(index) is _Whole:  # a reshape (d2l's masked_softmax) or permute view of all of
        result = compute(t)  # base: the new view, turned back, is the base's new value
        _keep_old_value(result._node, t)
        apply(base, op, lambda b: index.to_base(result, b), (result,), casting=casting)
        engine.rebase(t, index.from_base(base, t), copy=False)
        return t
    if base is not None:  # record on the base, then re-read the view from it
        result = compute(t)
        _keep_old_value(result._node, t)
        setitem(base, index, result)
        engine.rebase(t, getitem(base, index), copy=False)
        return t
    result = compute(t)
    _check_cast(result._data.dtype, t, op, casting)
    _keep_old_value(result._node, t)
    if result.dtype != t.dtype:
        result = result.to(t.dtype)
    return engine.rebase(t, result)


def _keep_old_value(node: Node, t: Tensor) -> None:
    """If the op's vjp reads ``t``'s value (``h.mul_(w)`` needs the old ``h`` for ``w``'s
    gradient), give it a copy: ``t`` is about to be overwritten (PyTorch saves a copy too)."""
    if node is None or node.versions is None or not any(x is t for x in node._inputs):
        return
    old = old_value(t)
    node._inputs = tuple(old if x is t else x for x in node._inputs)


def old_value(t: Tensor) -> Tensor:
    """A copy of ``t``'s values with ``t``'s place in the graph, for ops recorded before ``t``
    is overwritten in place (``t`` itself when nothing is recorded)."""
    if not is_grad_enabled() or not t.requires_grad:
        return t
    old = Tensor._wrap(t._data.copy())
    old._node, old.requires_grad, old._version_counter = (
        t._node,
        t.requires_grad,
        [t._version_counter[0]],
    )
    return old


def _needs_grad(x: Any) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _store(t: Tensor, values: ArrayLike, op: str, casting: Casting) -> None:
    _check_cast(np.asarray(values).dtype, t, op, casting)
    np.copyto(t._data, values, casting="unsafe")


def _check_cast(dtype: np.dtype, t: Tensor, op: str, casting: Casting) -> None:
    if casting != "unsafe" and not np.can_cast(dtype, t.dtype, casting=casting):
        raise RuntimeError(
            f"{op}: result type {dtype} can't be cast to the desired output type "
            f"{t.dtype} (the tensor being modified in place)"
        )


class _Whole:
    """_view_base's index for a view of the whole base, made by reshape/view or a permutation
    (transpose, t, or in place t_): how a view's value maps back to the base and back again."""

    __slots__ = ("dims",)

    def __init__(self, dims: tuple[int, ...] | None) -> None:
        self.dims = dims  # the permutation, None for a reshape

    def to_base(self, view: Tensor, base: Tensor) -> Tensor:
        if self.dims is None:
            return shape.reshape(view, base.shape)
        return shape.permute(view, tuple(int(i) for i in np.argsort(self.dims)))

    def from_base(self, base: Tensor, view: Tensor) -> Tensor:
        if self.dims is None:
            return shape.reshape(base, view.shape)
        return shape.permute(base, self.dims)


def _view_base(t: Tensor, op: str) -> Any:
    """(base, index) when ``t`` is a basic-indexing view of a tensor in a graph, else (None, None)."""
    node = t._node
    if node is None:
        # No history, so no way to find tensors sharing its memory (its base, its views): if
        # any is alive (it holds the same version counter), writing a graph value here would
        # leave their histories wrong. With none alive, t simply becomes part of the graph.
        if sys.getrefcount(t._version_counter) > 2:  # t's own reference and the call's argument
            raise RuntimeError(
                f"{op}: in-place operation with an operand that requires grad on a tensor without "
                "history that shares its memory with another live tensor (a view, its base or a "
                ".detach()); apply it to a tensor that owns its memory (e.g. a .clone())"
            )
        return None, None
    base = node._inputs[0] if node._inputs is not None and len(node._inputs) == 1 else None
    if (
        base is None
        or type(base) is engine.Unsaved
        or base is t
        or base._version_counter is not t._version_counter
    ):
        return None, None  # owns its memory (base is t: an earlier in-place op)
    if node.vjp is shape._reshape_vjp or node.vjp is shape._permute_vjp:
        if base.requires_grad and base._node is None:
            raise RuntimeError("a view of " + _LEAF_ERROR.format(op=op))
        return base, _Whole(None if node.vjp is shape._reshape_vjp else node.saved)
    if node.vjp is not _getitem_vjp:
        raise RuntimeError(
            f"{op}: in-place operation on a view made by {node.name} of a tensor in a graph is "
            "not supported; change the base tensor through indexing (base[idx] = ...) or work on "
            "a .clone()"
        )
    if base.requires_grad and base._node is None:
        raise RuntimeError("a view of " + _LEAF_ERROR.format(op=op))
    return base, node.saved[0]


# ---- in-place shape changes: unsqueeze_, squeeze_, t_, transpose_ ----


def reshape_(t: Tensor, op: str, view: Callable[[Tensor], Tensor]) -> Tensor:
    """Give ``t`` the shape of ``view(t)`` (a view op: unsqueeze, squeeze, transpose) in place.

    The values do not change, but the version goes up as in PyTorch: a node that saved ``t``
    would read it in its new shape, so it refuses to backward. In a graph ``t`` becomes the
    output of ``view`` applied to an alias of its old self (the old shape and history, the same
    memory), so the gradient goes back through the view op. When ``t`` owns its memory the alias
    gets a version counter of its own (its values are never read: view ops' vjps read shapes),
    so that ``t`` still owns it for later in-place ops; when ``t`` is a view of a base, the alias
    shares the counter and ``t`` stays a view of that base. A tensor that other live tensors
    view is refused in a graph: their recorded views assume its old shape.
    """
    if not (is_grad_enabled() and t.requires_grad):
        t._data = view(Tensor._wrap(t._data))._data
        t._version_counter[0] += 1
        return t
    if t._node is None:
        raise RuntimeError(_LEAF_ERROR.format(op=op))
    refs, is_view = _own_counter_refs(t)
    if sys.getrefcount(t._version_counter) > 2 + refs:  # t's own reference, the call's argument
        raise RuntimeError(
            f"{op}: in-place shape change of a tensor in a graph that shares its memory with "
            "another live tensor (a view made from it, a .detach(), a view of the same base); "
            f"use the out-of-place form (x = x.{op[:-1]}(...))"
        )
    old = Tensor._wrap(t._data)
    old._node, old.requires_grad = t._node, True
    old._version_counter = t._version_counter if is_view else [t._version_counter[0]]
    result = view(old)
    t._version_counter[0] += 1
    if result is old:  # nothing to change (t_ of a vector)
        return t
    t._data = result._data
    return engine.rebase(t, result, copy=False)


def _own_counter_refs(t: Tensor) -> tuple[int, bool]:
    """How many references to ``t``'s version counter ``t``'s own history explains, besides
    ``t`` itself (the bases ``t`` is a view of, each a tensor sharing it, and the nodes that
    saved their output's version), and whether ``t`` is a view of a base."""
    counter, refs, x = t._version_counter, 0, t
    while True:
        node = x._node
        if node is None:
            return refs, x is not t
        refs += node.out_version_counter is counter
        ins = node._inputs
        base = ins[0] if ins is not None and len(ins) == 1 else None
        if (
            base is None
            or type(base) is engine.Unsaved
            or base is x
            or base._version_counter is not counter
        ):
            return refs, x is not t
        refs += 1
        x = base


# ---- x[index] = value ----


def _index_put_vjp(ctx: Node, g: Grad) -> Grads:
    index, mask = ctx.saved
    g_old = d.where(mask, 0, g) if ctx.needs[0] else None  # overwritten entries get 0
    g_value = sum_to(g[index], ctx._inputs[1].shape) if ctx.needs[1] else None
    return g_old, g_value


def index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """``x`` with ``x[index]`` replaced by ``value`` (out of place; the recorded form of setitem)."""
    value = value if isinstance(value, Tensor) else Tensor._wrap(np.asarray(value, dtype=x.dtype))
    out = x._data.copy()
    _put(out, index, value._data)
    mask = np.zeros(x.shape, dtype=bool)
    mask[index] = True
    return engine.record(
        out,
        (x, value),
        _index_put_vjp,
        "IndexPut",
        saved=(index, mask),
        save_inputs=False,
        save_output=False,
    )


def setitem(t: Tensor, index: Any, value: Any) -> None:
    """``t[index] = value`` (``Tensor.__setitem__``): a plain write, or recorded in a graph."""
    index = _raw_index(index)

    def write() -> None:
        _put(t._data, index, value._data if isinstance(value, Tensor) else value)

    apply(
        t,
        "__setitem__",
        lambda old: index_put(old, index, value),
        (value,),
        write=write,
        casting="unsafe",
    )


def _put(array: np.ndarray, index: Any, value: Any) -> None:
    """``array[index] = value`` with an error naming both shapes when they do not fit."""
    try:
        array[index] = value
    except ValueError:
        shape, target = np.shape(value), array[index].shape
        if _broadcasts_to(shape, target):
            raise
        raise ValueError(
            f"__setitem__: cannot assign a value of shape {shape} to the indexed part of shape "
            f"{target} (of a tensor of shape {array.shape})"
        ) from None


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    if tuple(shape) == tuple(target) or not shape:  # the common cases, without NumPy's call
        return True
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _raw_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def fill(t: Tensor, op: str, value: Any) -> Tensor:
    """``t`` filled with ``value`` (a number, an array or a Tensor broadcast to ``t``'s shape)."""
    from .pointwise import where

    shape = np.shape(value._data if isinstance(value, Tensor) else value)
    if not _broadcasts_to(shape, t.shape):
        raise ValueError(
            f"{op}: cannot broadcast a value of shape {shape} to the tensor's shape {t.shape}"
        )

    def write() -> None:
        np.copyto(t._data, value._data if isinstance(value, Tensor) else value, casting="unsafe")

    everywhere = np.ones(t.shape, dtype=bool)
    return apply(
        t, op, lambda old: where(everywhere, value, old), (value,), write=write, casting="unsafe"
    )


# How each view op is re-made from its base (engine._refresh_view).
engine.VIEW_REPLAY.update(
    {
        shape._getitem_vjp: lambda base, node, view: getitem(base, node.saved[0]),
        shape._reshape_vjp: lambda base, node, view: shape.reshape(base, view.shape),
        shape._permute_vjp: lambda base, node, view: shape.permute(base, node.saved),
        shape._expand_vjp: lambda base, node, view: shape.broadcast_to(base, view.shape),
        shape._flip_vjp: lambda base, node, view: shape.flip(base, node.saved),
    }
)
