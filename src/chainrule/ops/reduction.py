"""Reductions over dimensions (``dim``/``keepdim``, NumPy's ``axis``/``keepdims`` accepted)."""

from __future__ import annotations

import builtins
import math
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._typing import Dims, DTypeLike, Grad, Grads, TensorLike
from ..autograd.engine import reads_no_input_values, record
from ..backend import xp as np
from ..tensor import Tensor
from . import dispatch as d
from ._util import as_tensor, dim_kwargs, keepdim_shape, normalize_dims

if TYPE_CHECKING:
    from ..autograd.engine import Node

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _expand_back(ctx: Node, g: Grad) -> Grad:
    """Gradient of a reduction broadcast back to the input's shape."""
    x_shape, kept = ctx.saved
    return d.broadcast_to(g.reshape(kept), x_shape)


def _reduce(
    x: Tensor,
    fn: Callable[..., Any],
    vjp: Callable[..., Any],
    name: str,
    dim: Dims,
    keepdim: bool,
    save_inputs: bool = False,
    extra: Any = None,
    save_output: bool = True,
) -> Tensor:
    shape = x._data.shape
    if dim is None and extra is None:  # the common full reduction: no dim bookkeeping
        out = fn(x._data, None, keepdims=keepdim)
        return record(
            out,
            (x,),
            vjp,
            name,
            saved=(shape, (1,) * len(shape)),
            save_inputs=save_inputs,
            save_output=save_output,
        )
    dims = normalize_dims(dim, len(shape), name.lower())
    out = fn(x._data, dims, keepdims=keepdim)
    saved = (shape, keepdim_shape(shape, dims)) if extra is None else extra(dims)
    return record(
        out, (x,), vjp, name, saved=saved, save_inputs=save_inputs, save_output=save_output
    )


def _int64_accumulator(x: Tensor) -> Tensor:
    """Bools and unsigned integers sum and multiply in int64, as in PyTorch (NumPy: uint64)."""
    if x._data.dtype.kind in "bu":
        return Tensor._wrap(x._data.astype(np.int64))
    return x


@reads_no_input_values
def _sum_vjp(ctx: Node, g: Grad) -> Grads:
    return (_expand_back(ctx, g),)


def sum(
    x: TensorLike,
    dim: Dims = None,
    keepdim: bool = False,
    dtype: DTypeLike | None = None,
    **kwargs: Any,
) -> Tensor:
    """Sum over ``dim`` (all dims when None). Shape: input with ``dim`` removed (or kept as 1).

    Example:
        >>> x = cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> cr.sum(x)
        tensor(21.)
        >>> cr.sum(x, dim=1)
        tensor([ 8., 13.])
        >>> x.sum(0, keepdim=True).shape
        (1, 3)
    """
    x = as_tensor(x)
    if kwargs:
        dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "sum")
    x = _int64_accumulator(x)
    out = _reduce(x, np.ndarray.sum, _sum_vjp, "Sum", dim, keepdim, save_output=False)
    return out if dtype is None else out.to(dtype)


@reads_no_input_values
def _mean_vjp(ctx: Node, g: Grad) -> Grads:
    x_shape, kept = ctx.saved
    n = math.prod(x_shape) // builtins.max(math.prod(kept), 1)
    return (d.broadcast_to(g.reshape(kept) * (1.0 / builtins.max(n, 1)), x_shape),)


def mean(x: TensorLike, dim: Dims = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Mean over ``dim`` (all elements when None); floating inputs only, as in PyTorch.

    Shape: input with ``dim`` removed (or kept as 1 with ``keepdim=True``).

    Example:
        >>> x = cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> cr.mean(x)
        tensor(3.5)
        >>> cr.mean(x, dim=0)
        tensor([2.5, 4. , 4. ])
    """
    x = as_tensor(x)
    if kwargs:
        dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "mean")
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(f"mean: needs a floating point tensor, got {x.dtype}")
    return _reduce(x, np.ndarray.mean, _mean_vjp, "Mean", dim, keepdim, save_output=False)


def _var_vjp(ctx: Node, g: Grad) -> Grads:
    # PyTorch's formula: 2 / (n - correction) * g * (x - mean). Written out rather than
    # differentiated through the mean, whose term is zero but would turn an Inf input into NaN
    # for every entry.
    x_shape, kept, dims, dof = ctx.saved
    x = ctx.input(0)
    centred = x - x.mean(axis=dims, keepdims=True)
    factor = 2.0 / dof if dof else math.inf
    return ((d.broadcast_to(g.reshape(kept), x_shape) * factor) * centred,)


def _var_array(x: np.ndarray, dims: tuple[int, ...], keepdims: bool, dof: float) -> np.ndarray:
    centred = x - x.mean(axis=dims, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((centred * centred).sum(axis=dims, keepdims=keepdims) / dof, x.dtype)


def var(
    x: TensorLike,
    dim: Dims = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    correction: float | None = None,
    **kwargs: Any,
) -> Tensor:
    """Variance with Bessel's correction by default (``correction=1``), as in PyTorch.

    Shape: input with ``dim`` removed (or kept as 1). NaN when ``n <= correction``.

    Example:
        >>> cr.var(cr.tensor([1.0, 2.0, 3.0]))
        tensor(1.)
        >>> cr.tensor([[1.0, 3.0], [2.0, 2.0]]).var(dim=1)
        tensor([2., 0.])
    """
    x = as_tensor(x)
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "var")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"var: needs a floating point tensor, got {x.dtype}")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = normalize_dims(dim, x.ndim, "var")
    n = math.prod(x.shape[d] for d in dims)
    dof = builtins.max(0, n - correction)
    out = _var_array(x._data, dims, keepdim, dof)
    return record(
        out,
        (x,),
        _var_vjp,
        "Var",
        saved=(x.shape, keepdim_shape(x.shape, dims), dims, dof),
        save_output=False,
    )


def _std_vjp(ctx: Node, g: Grad) -> Grads:
    # d sqrt(v) = g / (2 sqrt(v)), set to 0 where the std is 0: PyTorch's rule, so a constant
    # input normalised as (x - mean) / (std + eps) gets gradient 0, not NaN. Selected after an
    # unguarded division, as PyTorch does, so second derivatives agree with PyTorch's too.
    zero = ctx.out_data == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return (d.where(zero, 0, g / (2 * ctx.output())),)


def std(
    x: TensorLike,
    dim: Dims = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    correction: float | None = None,
    **kwargs: Any,
) -> Tensor:
    """Standard deviation (Bessel-corrected by default); its gradient is 0 where it is 0.

    Example:
        >>> cr.std(cr.tensor([1.0, 2.0, 3.0]))
        tensor(1.)
        >>> cr.std(cr.tensor([1.0, 2.0, 3.0]), correction=0)
        tensor(0.8165)
    """
    v = var(x, dim, unbiased, keepdim, correction, **kwargs)
    return record(np.sqrt(v._data), (v,), _std_vjp, "Std", save_inputs=False)


def _extreme_vjp(ctx: Node, g: Grad) -> Grads:
    """amax/amin and the whole-tensor max/min: the gradient is shared equally among the entries
    equal to the result (ties, as in PyTorch); when the result is NaN, among the NaN entries
    (PyTorch's max() rule, also used for amax, where PyTorch gives NaN to every entry)."""
    x_shape, kept, dims = ctx.saved
    x = ctx._inputs[0]._data
    out = ctx.out_data.reshape(kept)
    hit = (x == out) | (np.isnan(x) & np.isnan(out)) if x.dtype.kind == "f" else x == out
    count = hit.sum(axis=dims, keepdims=True).astype(x.dtype)
    return (d.where(hit, d.broadcast_to(g.reshape(kept) / count, x_shape), 0),)


def _extreme(
    x: TensorLike,
    fn: Callable[..., Any],
    name: str,
    dim: Dims,
    keepdim: bool,
    kwargs: dict[str, Any],
) -> Tensor:
    x = as_tensor(x)
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, name.lower())
    if x._data.size == 0:
        raise RuntimeError(f"{name.lower()}: cannot reduce an empty tensor of shape {x.shape}")
    return _reduce(
        x,
        fn,
        _extreme_vjp,
        name,
        dim,
        keepdim,
        save_inputs=True,
        extra=lambda dims: (x.shape, keepdim_shape(x.shape, dims), dims),
    )


def amax(x: TensorLike, dim: Dims = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Largest values over ``dim`` (all when None), values only; ties share the gradient.

    Shape: input with ``dim`` removed (or kept as 1 with ``keepdim=True``).

    Example:
        >>> x = cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> cr.amax(x, dim=1)
        tensor([5., 6.])
    """
    return _extreme(x, np.max, "Amax", dim, keepdim, kwargs)


def amin(x: TensorLike, dim: Dims = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Smallest values over ``dim`` (all when None), values only; ties share the gradient.

    Shape: input with ``dim`` removed (or kept as 1 with ``keepdim=True``).

    Example:
        >>> x = cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> cr.amin(x, dim=1)
        tensor([1., 3.])
    """
    return _extreme(x, np.min, "Amin", dim, keepdim, kwargs)


def _pick_vjp(ctx: Node, g: Grad) -> Grads:
    """max(dim)/min(dim): the gradient goes to the returned index only."""
    x_shape, kept, onehot = ctx.saved
    return (d.where(onehot, d.broadcast_to(g.reshape(kept), x_shape), 0),)


def _select(x: TensorLike, dim: int, keepdim: bool, arg_fn: Callable[..., Any], name: str) -> Any:
    x = as_tensor(x)
    (d,) = normalize_dims(dim, x.ndim, name.lower())
    idx = arg_fn(x._data, axis=d, keepdims=True)
    values = np.take_along_axis(x._data, idx, axis=d)
    onehot = np.arange(x.shape[d]).reshape([-1 if i == d else 1 for i in range(x.ndim)]) == idx
    kept = values.shape
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    out = record(
        values,
        (x,),
        _pick_vjp,
        name,
        saved=(x.shape, kept, onehot),
        save_inputs=False,
        save_output=False,
    )
    return MaxResult(out, Tensor._wrap(idx.astype(np.int64)))


def _max_or_min(
    x: TensorLike,
    dim: Any,
    keepdim: Any,
    kwargs: dict[str, Any],
    pairwise: Callable[..., Tensor],
    whole: Callable[..., Tensor],
    arg_fn: Callable[..., Any],
    name: str,
) -> Any:
    """``max``/``min``: elementwise with a tensor, whole-tensor, or (values, indices) per dim."""
    if isinstance(dim, Tensor):
        return pairwise(x, dim)
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, name.lower())
    if dim is None:
        return whole(x)
    return _select(x, dim, keepdim, arg_fn, name)


def max(x: TensorLike, dim: Dims | Tensor = None, keepdim: bool = False, **kwargs: Any) -> Any:
    """Largest value; with ``dim``, a ``(values, indices)`` pair like ``torch.max``.

    Example:
        >>> x = cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> cr.max(x)
        tensor(6.)
        >>> values, indices = cr.max(x, dim=1)
        >>> values, indices
        (tensor([5., 6.]), tensor([1, 2]))
    """
    from .pointwise import maximum

    return _max_or_min(x, dim, keepdim, kwargs, maximum, amax, np.argmax, "Max")


def min(x: TensorLike, dim: Dims | Tensor = None, keepdim: bool = False, **kwargs: Any) -> Any:
    """Smallest value; with ``dim``, a ``(values, indices)`` pair like ``torch.min``.

    Example:
        >>> x = cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> cr.min(x)
        tensor(1.)
        >>> cr.min(x, dim=0).indices
        tensor([0, 1, 0])
    """
    from .pointwise import minimum

    return _max_or_min(x, dim, keepdim, kwargs, minimum, amin, np.argmin, "Min")


def _index_of(
    x: TensorLike,
    dim: Dims,
    keepdim: bool,
    kwargs: dict[str, Any],
    arg_fn: Callable[..., Any],
    name: str,
) -> Tensor:
    x = as_tensor(x)
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, name)
    if dim is None:
        return Tensor._wrap(np.asarray(arg_fn(x._data), dtype=np.int64))
    return Tensor._wrap(arg_fn(x._data, axis=dim, keepdims=keepdim).astype(np.int64))


def argmax(x: TensorLike, dim: Dims = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Index of the largest value (flattened when ``dim`` is None); int64, no gradient.

    Example:
        >>> x = cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> cr.argmax(x)
        tensor(5)
        >>> cr.argmax(x, dim=1)
        tensor([1, 2])
    """
    return _index_of(x, dim, keepdim, kwargs, np.argmax, "argmax")


def argmin(x: TensorLike, dim: Dims = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Index of the smallest value (flattened when ``dim`` is None); int64, no gradient.

    Example:
        >>> x = cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> cr.argmin(x, dim=1)
        tensor([0, 1])
    """
    return _index_of(x, dim, keepdim, kwargs, np.argmin, "argmin")


def _prod_vjp(ctx: Node, g: Grad) -> Grads:
    # d prod / d x_i is the product of the other elements. PyTorch's rule, followed exactly:
    # result / x when the input holds no zero; otherwise the product of the others, computed by
    # products only (exact at zeros, the same in the plain and the recorded backward).
    x_shape, kept, dims, whole = ctx.saved
    data = ctx._inputs[0]._data
    if data.ndim == 0:
        return (g,)
    x = ctx.input(0)
    g = d.broadcast_to(g.reshape(kept), x_shape)
    zeros = np.count_nonzero(data == 0)
    if not zeros:
        return (g * (ctx.output().reshape(kept) / x),)
    if whole and zeros > 1 and not d.is_recorded(x):
        # PyTorch's plain backward: a whole-tensor product with two zeros has a zero gradient
        # whatever arrives (a NaN included); its recorded backward multiplies, as below.
        return (d.zeros(x_shape, x),)
    return (g * d.prod_of_others(x, dims),)


def _prod_of_others(x: np.ndarray, dims: Sequence[int]) -> np.ndarray:
    """For each element, the product of the other elements of its reduction group (zeros allowed)."""
    moved = np.moveaxis(x, dims, tuple(range(-len(dims), 0)))
    flat = moved.reshape(moved.shape[: moved.ndim - len(dims)] + (-1,))
    ones = np.ones_like(flat[..., :1])
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return np.moveaxis((left * right).reshape(moved.shape), tuple(range(-len(dims), 0)), dims)


def _prod_of_others_recorded(x: Tensor, dims: Sequence[int]) -> Tensor:
    """``_prod_of_others`` with recorded ops (differentiable again): exclusive prefix and suffix
    products by a log-depth scan, ``s[i] *= s[i - d]`` for d = 1, 2, 4, ... (Hillis-Steele)."""
    from .shape import cat, getitem, permute, reshape

    rest = [d for d in range(x.ndim) if d not in dims]
    moved = permute(x, rest + list(dims))
    lead = moved.shape[: len(rest)]
    flat = reshape(moved, lead + (-1,))
    n = flat.shape[-1]

    def exclusive_scan(seq: Tensor) -> Tensor:
        ones = Tensor._wrap(np.ones(lead + (1,), x.dtype))
        acc = cat([ones, getitem(seq, (Ellipsis, slice(0, n - 1)))], -1)
        d = 1
        while d < n:
            pad = Tensor._wrap(np.ones(lead + (d,), x.dtype))
            acc = acc * cat([pad, getitem(acc, (Ellipsis, slice(0, n - d)))], -1)
            d *= 2
        return acc

    backwards = (Ellipsis, slice(None, None, -1))
    others = exclusive_scan(flat) * getitem(exclusive_scan(getitem(flat, backwards)), backwards)
    inverse = tuple(np.argsort(rest + list(dims)))
    return permute(reshape(others, moved.shape), inverse)


def prod(x: TensorLike, dim: Dims = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """Product over ``dim`` (all elements when None); exact gradients with zeros.

    Shape: input with ``dim`` removed (or kept as 1 with ``keepdim=True``).

    Example:
        >>> x = cr.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 6.0]])
        >>> cr.prod(x, dim=1)
        tensor([10., 72.])
        >>> cr.prod(cr.tensor([0.0, 2.0, 3.0]))
        tensor(0.)
    """
    x = as_tensor(x)
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "prod")
    x = _int64_accumulator(x)
    return _reduce(
        x,
        np.prod,
        _prod_vjp,
        "Prod",
        dim,
        keepdim,
        save_inputs=True,
        extra=lambda dims: (x.shape, keepdim_shape(x.shape, dims), dims, dim is None),
    )


def _logsumexp_vjp(ctx: Node, g: Grad) -> Grads:
    x_shape, kept = ctx.saved
    softmax = d.exp(ctx.input(0) - ctx.output().reshape(kept))
    return (d.broadcast_to(g.reshape(kept), x_shape) * softmax,)


def _logsumexp_array(x: np.ndarray, axis: Dims, keepdims: bool) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else out.squeeze(axis)


def logsumexp(x: TensorLike, dim: Dims = None, keepdim: bool = False, **kwargs: Any) -> Tensor:
    """log(sum(exp(x))) computed without overflow (the max is subtracted first).

    Example:
        >>> cr.logsumexp(cr.tensor([1000.0, 1000.0]), dim=0)
        tensor(1000.6932)
    """
    x = as_tensor(x)
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "logsumexp")
    return _reduce(
        x,
        _logsumexp_array,
        _logsumexp_vjp,
        "Logsumexp",
        dim,
        keepdim,
        save_inputs=True,
        extra=lambda dims: (x.shape, keepdim_shape(x.shape, dims)),
    )


def _norm2_vjp(ctx: Node, g: Grad) -> Grads:
    # PyTorch's rule, as it is: g * (x / norm), with x / norm set to 0 where the norm is 0.
    x_shape, kept = ctx.saved
    zero = ctx.out_data.reshape(kept) == 0
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 where the norm is 0
        unit = ctx.input(0) / ctx.output().reshape(kept)
    return (d.broadcast_to(g.reshape(kept), x_shape) * d.where(zero, 0, unit),)


def _norm2_array(x: np.ndarray, axis: Dims, keepdims: bool) -> np.ndarray:
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def norm(
    x: TensorLike, p: Any = 2, dim: Dims = None, keepdim: bool = False, **kwargs: Any
) -> Tensor:
    """Vector p-norm over ``dim`` (all elements when None); p may be a number, inf or -inf.

    Example:
        >>> cr.norm(cr.tensor([3.0, 4.0]))
        tensor(5.)
        >>> cr.norm(cr.tensor([3.0, -4.0]), p=float("inf"))
        tensor(4.)
    """
    x = as_tensor(x)
    dim, keepdim = dim_kwargs(dim, keepdim, kwargs, "norm")
    if p in (2, "fro"):
        return _reduce(
            x,
            _norm2_array,
            _norm2_vjp,
            "Norm",
            dim,
            keepdim,
            save_inputs=True,
            extra=lambda dims: (x.shape, keepdim_shape(x.shape, dims)),
        )
    from .pointwise import abs as abs_

    if p == np.inf:
        return amax(abs_(x), dim, keepdim)
    if p == -np.inf:
        return amin(abs_(x), dim, keepdim)
    if p == 1:
        return sum(abs_(x), dim, keepdim)
    if p == 0:  # the count of nonzero entries (no gradient: zero, as torch's)
        return sum((x != 0).to(x.dtype) + x * 0, dim, keepdim)
    return sum(abs_(x) ** p, dim, keepdim) ** (1.0 / p)
