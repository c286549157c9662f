"""Shape ops: views, transposes, broadcasting, indexing, joining and splitting."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .. import backend
from .._typing import Dims, Grad, Grads, TensorLike
from ..autograd.engine import SliceGrad, reads_no_input_values, record
from ..backend import xp as np
from ..tensor import Tensor
from . import dispatch as d
from ._util import as_tensor, normalize_dims, sum_to

if TYPE_CHECKING:
    from ..autograd.engine import Node


def _shape_arg(shape: Sequence[Any]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` alike."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _view(
    x: Tensor, out: np.ndarray, vjp: Callable[..., Any], name: str, saved: Any = None
) -> Tensor:
    """Record an op whose result may share memory with ``x`` (so it shares the version counter)."""
    t = record(out, (x,), vjp, name, saved=saved, save_inputs=False, save_output=False)
    if out.base is not None:
        t._version_counter = x._version_counter
    return t


@reads_no_input_values
def _reshape_vjp(ctx: Node, g: Grad) -> Grads:
    return (g.reshape(ctx._inputs[0].shape),)


def reshape(x: TensorLike, *shape: int | Sequence[int]) -> Tensor:
    """Same elements, new shape (one dim may be -1). A view when the memory allows.

    Example:
        >>> cr.arange(6).reshape(2, 3)
        tensor([[0, 1, 2],
                [3, 4, 5]])
        >>> cr.reshape(cr.zeros(2, 3, 4), (4, -1)).shape
        (4, 6)
    """
    x = as_tensor(x)
    shape = _shape_arg(shape)
    try:
        out = x._data.reshape(shape)
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} "
            f"({x._data.size} elements) into shape {shape}"
        ) from None
    return _view(x, out, _reshape_vjp, "Reshape")


view = reshape


def flatten(x: TensorLike, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim``..``end_dim`` into one (a view when the memory allows).

    Shapes: (a, b, c, d) with start_dim=1, end_dim=-1 -> (a, b*c*d).

    Example:
        >>> cr.flatten(cr.zeros(2, 3, 4)).shape
        (24,)
        >>> cr.flatten(cr.zeros(2, 3, 4), start_dim=1).shape
        (2, 12)
    """
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, 1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return reshape(x, x.shape[:s] + (-1,) + x.shape[e + 1 :])


def squeeze(x: TensorLike, dim: Dims = None) -> Tensor:
    """Remove dims of size 1: all of them, or only ``dim`` (an int or a tuple; kept if not 1).

    Shapes: (1, 3, 1) -> (3,); with dim=0 -> (3, 1).

    Example:
        >>> cr.squeeze(cr.zeros(1, 3, 1)).shape
        (3,)
        >>> cr.squeeze(cr.zeros(1, 3, 1), 0).shape
        (3, 1)
    """
    x = as_tensor(x)
    dims = normalize_dims(dim, x.ndim, "squeeze")
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(x: TensorLike, dim: int) -> Tensor:
    """``x`` with a new dim of size 1 at ``dim`` (negative counts from the end of the result).

    Shapes: (a, b) with dim=1 -> (a, 1, b).

    Example:
        >>> cr.unsqueeze(cr.zeros(2, 3), 1).shape
        (2, 1, 3)
        >>> cr.tensor([1, 2]).unsqueeze(-1)
        tensor([[1],
                [2]])
    """
    x = as_tensor(x)
    dim = dim % (x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def _permute_vjp(ctx: Node, g: Grad) -> Grads:
    return (d.permute(g, tuple(np.argsort(ctx.saved))),)


def permute(x: TensorLike, *dims: Any) -> Tensor:
    """The dims of ``x`` reordered (a view): dim ``i`` of the result is dim ``dims[i]`` of ``x``.

    Shapes: (a, b, c) with dims (2, 0, 1) -> (c, a, b).

    Example:
        >>> cr.permute(cr.zeros(2, 3, 4), (2, 0, 1)).shape
        (4, 2, 3)
        >>> cr.zeros(2, 3, 4).permute(1, 2, 0).shape
        (3, 4, 2)
    """
    x = as_tensor(x)
    dims = _shape_arg(dims)
    if sorted(d % max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: {dims} is not a permutation of the {x.ndim} dims of {x.shape}")
    dims = tuple(d % x.ndim for d in dims)
    return _view(x, x._data.transpose(dims), _permute_vjp, "Permute", saved=dims)


def transpose(x: TensorLike, dim0: int, dim1: int) -> Tensor:
    """``x`` with dims ``dim0`` and ``dim1`` swapped (a view); ``swapaxes`` is the same.

    Shapes: (a, b, c) with (0, 2) -> (c, b, a).

    Example:
        >>> cr.transpose(cr.zeros(2, 3, 4), 0, 2).shape
        (4, 3, 2)
        >>> cr.tensor([[1, 2], [3, 4]]).transpose(0, 1)
        tensor([[1, 3],
                [2, 4]])
    """
    x = as_tensor(x)
    dims = list(range(x.ndim))
    dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
    return permute(x, dims)


swapaxes = transpose


@reads_no_input_values
def _expand_vjp(ctx: Node, g: Grad) -> Grads:
    return (sum_to(g, ctx._inputs[0].shape),)


def broadcast_to(x: TensorLike, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` without copying (size-1 dims repeat, new dims in front).

    Shapes: ``x`` -> ``shape``; the gradient is summed back to ``x``'s shape.

    Example:
        >>> cr.broadcast_to(cr.tensor([1.0, 2.0]), (2, 2))
        tensor([[1., 2.],
                [1., 2.]])
    """
    x = as_tensor(x)
    shape = tuple(shape)
    try:
        out = np.broadcast_to(x._data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return _view(x, out, _expand_vjp, "Expand")


def expand(x: TensorLike, *sizes: int | Sequence[int]) -> Tensor:
    """Broadcast to ``sizes``; -1 keeps a dim's size. No copy.

    Example:
        >>> cr.tensor([[1.0], [2.0]]).expand(2, 3)
        tensor([[1., 1., 1.],
                [2., 2., 2.]])
        >>> cr.expand(cr.zeros(3, 1), -1, 4).shape
        (3, 4)
    """
    x = as_tensor(x)
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    return broadcast_to(x, shape)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """``x`` broadcast to ``other``'s shape (a view, as ``expand``).

    Shapes: ``x`` -> ``other.shape``.

    Example:
        >>> cr.expand_as(cr.tensor([1.0, 2.0]), cr.zeros(3, 2)).shape
        (3, 2)
    """
    return broadcast_to(x, other.shape)


def _repeat_vjp(ctx: Node, g: Grad) -> Grads:
    shape, reps = ctx.saved
    split = tuple(v for r, n in zip(reps, shape, strict=True) for v in (r, n))
    return (
        g.reshape(split).sum(axis=tuple(range(0, len(split), 2))).reshape(ctx._inputs[0].shape),
    )


def repeat(x: TensorLike, *reps: int | Sequence[int]) -> Tensor:
    """Tile ``x``; ``reps`` per dim (as torch.Tensor.repeat, i.e. numpy.tile).

    Example:
        >>> cr.tensor([1, 2]).repeat(2, 2)
        tensor([[1, 2, 1, 2],
                [1, 2, 1, 2]])
    """
    x = as_tensor(x)
    reps = _shape_arg(reps)
    if len(reps) < x.ndim:
        raise ValueError(f"repeat: {len(reps)} repeat counts for a tensor with {x.ndim} dims")
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    return record(
        np.tile(x._data, reps),
        (x,),
        _repeat_vjp,
        "Repeat",
        saved=(shape, reps),
        save_inputs=False,
        save_output=False,
    )


def _flip_vjp(ctx: Node, g: Grad) -> Grads:
    return (d.flip(g, ctx.saved),)


def flip(x: TensorLike, dims: int | Sequence[int]) -> Tensor:
    """Reverse the order of the entries along each dim in ``dims``. Shape: same as ``x``.

    Example:
        >>> cr.flip(cr.tensor([[1, 2], [3, 4]]), (1,))
        tensor([[2, 1],
                [4, 3]])
    """
    x = as_tensor(x)
    dims = normalize_dims(dims, x.ndim, "flip")
    return _view(x, np.flip(x._data, dims), _flip_vjp, "Flip", saved=dims)


def _pad_vjp(ctx: Node, g: Grad) -> Grads:
    return (g[ctx.saved],)


def pad(x: TensorLike, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last dims: ``pad = (left_last, right_last, left_2nd_last, ...)`` as in PyTorch.

    Example:
        >>> cr.pad(cr.tensor([[1.0, 2.0]]), (1, 2))
        tensor([[0., 1., 2., 0., 0.]])
        >>> F.pad(cr.zeros(1, 2, 3), (1, 1, 2, 0)).shape
        (1, 4, 5)
    """
    x = as_tensor(x)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: {pad} must hold a pair per padded dim (tensor has {x.ndim} dims)")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    np_mode = {
        "constant": "constant",
        "reflect": "reflect",
        "replicate": "edge",
        "circular": "wrap",
    }.get(mode)
    if np_mode is None:
        raise ValueError(f"pad: unknown mode {mode!r}")
    if np_mode != "constant":
        return _pad_by_index(x, widths, np_mode)
    out = np.pad(x._data, widths, mode="constant", constant_values=value)
    crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape, strict=True))
    return record(out, (x,), _pad_vjp, "Pad", saved=crop, save_inputs=False, save_output=False)


def _pad_by_index(x: Tensor, widths: Any, mode: Any) -> Tensor:
    """Non-constant padding is a gather: pad an index grid, then index (gradients accumulate)."""
    idx = np.pad(np.arange(x._data.size).reshape(x.shape), widths, mode=mode)
    return getitem(reshape(x, -1), idx)


# ---- indexing ----


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


def _raw_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, list):
        return np.asarray(index)
    return index


@reads_no_input_values
def _getitem_vjp(ctx: Node, g: Grad) -> Grads:
    index, basic = ctx.saved
    if basic and not d.is_recorded(g):  # kept sparse until used: slicing every time step stays O(T)
        return (SliceGrad(ctx._inputs[0].shape, g.dtype, index, g),)
    return (index_add_into_zeros(g, index, ctx._inputs[0].shape, basic),)


def getitem(x: TensorLike, index: Any) -> Tensor:
    """``x[index]``: basic and advanced indexing; repeated indices accumulate their gradients.

    Example:
        >>> x = cr.tensor([[1, 2, 3], [4, 5, 6]])
        >>> cr.getitem(x, (slice(None), 1))
        tensor([2, 5])
        >>> x[[1, 0], 2]
        tensor([6, 3])
    """
    x = as_tensor(x)
    index = _raw_index(index)
    try:
        out = x._data[index]
    except IndexError as e:
        raise IndexError(f"getitem: {e} (tensor of shape {x.shape})") from None
    basic = _is_basic(index)
    t = record(
        out, (x,), _getitem_vjp, "Index", saved=(index, basic), save_inputs=False, save_output=False
    )
    if basic:
        t._version_counter = x._version_counter
    return t


def _scatter_vjp(ctx: Node, g: Grad) -> Grads:
    index, _ = ctx.saved
    return (g[index],)


def index_add_into_zeros(g: Grad, index: Any, shape: Sequence[int], basic: bool = False) -> Grad:
    """Zeros of ``shape`` with ``g`` added at ``index``: the vjp of indexing (and differentiable).

    Example:
        >>> cr.index_add_into_zeros(cr.tensor([1.0, 2.0]), ([0, 0],), (3,))
        tensor([3., 0., 0.])
    """
    if not d.is_recorded(g):
        out = np.zeros(shape, dtype=g.dtype)
        if basic:
            out[index] = g
        else:
            backend.scatter_add(out, index, g)
        return out
    data = index_add_into_zeros(g._data, index, shape, basic)
    return record(data, (g,), _scatter_vjp, "IndexAdd", saved=(index, basic), save_inputs=False)


# ---- joining and splitting ----


def _cat_vjp(ctx: Node, g: Grad) -> Grads:
    dim, bounds = ctx.saved
    lead = (slice(None),) * dim
    return tuple(
        g[lead + (slice(a, b),)] if need else None
        for need, a, b in zip(ctx.needs, bounds[:-1], bounds[1:], strict=True)
    )


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim; all other dims must match.

    Example:
        >>> a, b = cr.zeros(2, 3), cr.ones(1, 3)
        >>> cr.cat([a, b]).shape
        (3, 3)
        >>> cr.cat([a, a], dim=1).shape
        (2, 6)
    """
    tensors = tuple(as_tensor(t) for t in tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    dim = dim % tensors[0].ndim
    try:
        out = np.concatenate([t._data for t in tensors], axis=dim)
    except ValueError:
        raise ValueError(
            f"cat: shapes {[t.shape for t in tensors]} differ outside dim {dim}"
        ) from None
    bounds = tuple(np.cumsum([0] + [t.shape[dim] for t in tensors]).tolist())
    return record(
        out, tensors, _cat_vjp, "Cat", saved=(dim, bounds), save_inputs=False, save_output=False
    )


concatenate = cat


def _stack_vjp(ctx: Node, g: Grad) -> Grads:
    lead = (slice(None),) * ctx.saved
    return tuple(g[lead + (i,)] if need else None for i, need in enumerate(ctx.needs))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shape tensors along a new dim.

    Example:
        >>> cr.stack([cr.tensor([1, 2]), cr.tensor([3, 4])])
        tensor([[1, 2],
                [3, 4]])
        >>> cr.stack([cr.zeros(2, 3)] * 4, dim=1).shape
        (2, 4, 3)
    """
    tensors = tuple(as_tensor(t) for t in tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    if len({t.shape for t in tensors}) > 1:
        raise ValueError(
            f"stack: all tensors must have the same shape, got {[t.shape for t in tensors]}"
        )
    dim = dim % (tensors[0].ndim + 1)
    out = np.stack([t._data for t in tensors], axis=dim)
    return record(
        out, tensors, _stack_vjp, "Stack", saved=dim, save_inputs=False, save_output=False
    )


def split(
    x: TensorLike, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Pieces of ``x`` along ``dim``: equal ``split_size`` pieces (last may be smaller) or sizes.

    Example:
        >>> [p.shape for p in cr.split(cr.zeros(5, 2), 2)]
        [(2, 2), (2, 2), (1, 2)]
        >>> [p.shape for p in cr.split(cr.zeros(5, 2), [1, 4])]
        [(1, 2), (4, 2)]
    """
    x = as_tensor(x)
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, n - a) for a in range(0, n, step)]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n} (dim {dim} of {x.shape})")
    lead = (slice(None),) * (dim % x.ndim)
    bounds = np.cumsum([0] + sizes).tolist()
    return tuple(
        getitem(x, lead + (slice(a, b),)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    )


def chunk(x: TensorLike, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split ``x`` into ``chunks`` nearly equal pieces along ``dim`` (the last may be smaller).

    Shapes: views of ``x`` whose sizes along ``dim`` add up to ``x.shape[dim]``.

    Example:
        >>> cr.chunk(cr.arange(5), 2)
        (tensor([0, 1, 2]), tensor([3, 4]))
    """
    n = as_tensor(x).shape[dim]
    return split(x, -(-n // chunks), dim)


def unbind(x: TensorLike, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``x`` along ``dim``, as a tuple (each one without that dim).

    Shapes: (a, b) with dim=0 -> ``a`` tensors of shape (b,).

    Example:
        >>> cr.unbind(cr.tensor([[1, 2], [3, 4]]))
        (tensor([1, 2]), tensor([3, 4]))
    """
    x = as_tensor(x)
    lead = (slice(None),) * (dim % x.ndim)
    return tuple(getitem(x, lead + (i,)) for i in range(x.shape[dim]))


# ---- slices, rolls, triangles, grids ----


def narrow(x: TensorLike, dim: int, start: int, length: int) -> Tensor:
    """``length`` entries of ``x`` along ``dim`` from ``start`` (a view, as torch.narrow).

    Example:
        >>> cr.narrow(cr.tensor([[1, 2, 3], [4, 5, 6]]), 1, 1, 2)
        tensor([[2, 3],
                [5, 6]])
    """
    x = as_tensor(x)
    n = x.shape[dim]
    start = int(start) + (n if int(start) < 0 else 0)
    if not (0 <= start and 0 <= length and start + length <= n):
        raise IndexError(
            f"narrow: start {start} and length {length} are out of range for dim {dim} of size {n}"
        )
    return getitem(x, (slice(None),) * (dim % x.ndim) + (slice(start, start + length),))


def t(x: TensorLike) -> Tensor:
    """Transpose of a matrix (vectors and 0-d tensors are returned as they are), as torch.t.

    Example:
        >>> cr.t(cr.tensor([[1, 2, 3]]))
        tensor([[1],
                [2],
                [3]])
    """
    x = as_tensor(x)
    if x.ndim > 2:
        raise ValueError(
            f"t: expects a tensor with at most 2 dims, got shape {x.shape}; use "
            "transpose(dim0, dim1)"
        )
    return transpose(x, 0, 1) if x.ndim == 2 else x


def _roll_vjp(ctx: Node, g: Grad) -> Grads:
    shifts, dims = ctx.saved
    back = tuple(-s for s in shifts)
    return (d.roll(g, back, dims),)


def roll(x: TensorLike, shifts: int | Sequence[int], dims: Dims = None) -> Tensor:
    """Shift entries circularly by ``shifts`` along ``dims`` (flattened when dims is None).

    Example:
        >>> cr.roll(cr.tensor([1, 2, 3]), 1)
        tensor([3, 1, 2])
        >>> cr.roll(cr.tensor([[1, 2], [3, 4]]), 1, dims=0)
        tensor([[3, 4],
                [1, 2]])
    """
    x = as_tensor(x)
    if dims is None:
        if not isinstance(shifts, int):
            raise ValueError("roll: without dims, shifts must be one int")
        return reshape(roll(reshape(x, -1), shifts, 0), x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
    return record(
        np.roll(x._data, shifts, dims),
        (x,),
        _roll_vjp,
        "Roll",
        saved=(shifts, dims),
        save_inputs=False,
        save_output=False,
    )


def _triangle_vjp(ctx: Node, g: Grad) -> Grads:
    return (g * ctx.saved,)


def _triangle(x: TensorLike, diagonal: int, lower: bool, op: str) -> Tensor:
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"{op}: expects a tensor with at least 2 dims, got shape {x.shape}")
    n, m = x.shape[-2:]
    keep = np.tri(n, m, diagonal, dtype=bool) if lower else ~np.tri(n, m, diagonal - 1, dtype=bool)
    out = np.where(keep, x._data, np.zeros((), x.dtype))
    return record(
        out, (x,), _triangle_vjp, op.capitalize(), saved=keep, save_inputs=False, save_output=False
    )


def tril(x: TensorLike, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (entries with ``col - row <= diagonal``), zeros
    above.

    Example:
        >>> cr.tril(cr.ones(3, 3))
        tensor([[1., 0., 0.],
                [1., 1., 0.],
                [1., 1., 1.]])
    """
    return _triangle(x, diagonal, True, "tril")


def triu(x: TensorLike, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (entries with ``col - row >= diagonal``).

    Example:
        >>> cr.triu(cr.ones(3, 3), diagonal=1)
        tensor([[0., 1., 1.],
                [0., 0., 1.],
                [0., 0., 0.]])
    """
    return _triangle(x, diagonal, False, "triu")


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids from 1-d tensors: with ``indexing="ij"`` (the default, as torch's) output
    ``k`` has shape ``(len(t0), len(t1), ...)`` and varies along dim ``k``; ``"xy"`` swaps the
    first two dims (as NumPy's default). Differentiable (each grid is an expanded view).

    Example:
        >>> ii, jj = cr.meshgrid(cr.tensor([1, 2]), cr.tensor([3, 4, 5]))
        >>> ii
        tensor([[1, 1, 1],
                [2, 2, 2]])
        >>> jj.shape
        (2, 3)
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = [reshape(as_tensor(v), -1) for v in tensors]
    swap = indexing == "xy" and len(tensors) > 1
    order = [1, 0] + list(range(2, len(tensors))) if swap else list(range(len(tensors)))
    shape = tuple(tensors[k].shape[0] for k in order)
    grids = []
    for k, v in enumerate(tensors):
        axis = order.index(k)
        view_shape = tuple(len(v._data) if d == axis else 1 for d in range(len(shape)))
        grids.append(broadcast_to(reshape(v, view_shape), shape))
    return tuple(grids)


__all__ = [
    "narrow",
    "t",
    "roll",
    "tril",
    "triu",
    "meshgrid",
    "reshape",
    "view",
    "flatten",
    "squeeze",
    "unsqueeze",
    "permute",
    "transpose",
    "swapaxes",
    "broadcast_to",
    "expand",
    "expand_as",
    "repeat",
    "flip",
    "pad",
    "getitem",
    "index_add_into_zeros",
    "cat",
    "concatenate",
    "stack",
    "split",
    "chunk",
    "unbind",
]
