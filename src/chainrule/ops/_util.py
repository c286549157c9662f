"""Helpers shared by the ops: operand coercion, broadcast reduction and array/tensor dispatch.

A vjp receives arrays on the fast path and Tensors when ``create_graph=True``. The helpers here
accept either, so each vjp is written once.
"""
import numpy as np

from ..tensor import Tensor, get_default_dtype


def tensor_operand(x, like):
    """``x`` as a Tensor; a Python number keeps ``like``'s dtype (float for an int tensor)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor._wrap(x)
    if isinstance(x, (int, float, bool, np.number)):
        dtype = like.dtype
        if isinstance(x, float) and dtype.kind in "iub":
            dtype = get_default_dtype()
        elif isinstance(x, (int, float)) and not isinstance(x, bool) and dtype.kind == "b":
            dtype = np.dtype(np.int64) if isinstance(x, int) else get_default_dtype()
        return Tensor._wrap(np.asarray(x, dtype=dtype))
    return Tensor(x)


def as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def sum_to(g, shape):
    """Sum a broadcast gradient back down to ``shape`` (the one place broadcasting is undone)."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if lead else g


def unbroadcast(ctx, i, g):
    """Gradient for input ``i`` reduced to its shape, or None when it needs none."""
    return sum_to(g, ctx.inputs[i].shape) if ctx.needs[i] else None


def is_array(x):
    return isinstance(x, (np.ndarray, np.generic))


# Array versions of functions NumPy lacks, registered by the ops that define them.
ARRAY_FUNCTIONS = {}


def call(name, *args):
    """``np.<name>(*args)`` on arrays; the chainrule op of that name when any argument is a Tensor.

    One vjp formula then serves the plain backward (arrays) and the recorded one (Tensors).
    """
    for a in args:
        if isinstance(a, Tensor):
            from .. import ops
            return getattr(ops, name)(*args)
    fn = ARRAY_FUNCTIONS.get(name)
    return (fn or getattr(np, name))(*args)


def broadcast_to(g, shape):
    """Broadcast a gradient; arrays are materialised (faster than NumPy's read-only view)."""
    if not is_array(g):
        return g.expand(shape)
    out = np.empty(shape, g.dtype)
    out[...] = g
    return out


def permute(g, axes):
    return g.transpose(axes) if is_array(g) else g.permute(axes)


def normalize_dims(dim, ndim, op):
    """``dim`` (int, tuple or None) as a sorted tuple of non-negative axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims")
        out.append(d % ndim if ndim else None)
    return tuple(sorted({d for d in out if d is not None}))


def keepdim_shape(shape, dims):
    """``shape`` with the reduced ``dims`` kept as size 1."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def dim_kwargs(dim, keepdim, kwargs, op):
    """Accept NumPy's ``axis``/``keepdims`` as aliases of PyTorch's ``dim``/``keepdim``."""
    if "axis" in kwargs:
        dim = kwargs.pop("axis")
    if "keepdims" in kwargs:
        keepdim = kwargs.pop("keepdims")
    if kwargs:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kwargs)}")
    return dim, bool(keepdim)


def shape_error(op, a, b, why=""):
    return ValueError(f"{op}: incompatible shapes {tuple(a)} and {tuple(b)}{why}")
