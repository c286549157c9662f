"""Every differentiable op, and the binding of operators and methods onto ``Tensor``."""

from __future__ import annotations

import typing as _typing

from ..backend import xp as _np
from ..tensor import Tensor
from . import compat as _compat
from . import composite as _composite
from . import inplace
from ._softmax import log_softmax, softmax
from ._util import promote_types, result_type
from .comparison import (
    all,
    allclose,
    any,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    eq,
    equal,
    ge,
    greater,
    greater_equal,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    lt,
    ne,
    not_equal,
    rbitwise_and,
    rbitwise_left_shift,
    rbitwise_or,
    rbitwise_right_shift,
    rbitwise_xor,
)
from .compat import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    Size,
    addmm,
    bincount,
    clamp_max,
    clamp_min,
    diag,
    diagonal,
    finfo,
    iinfo,
    index_add,
    is_floating_point,
    is_tensor,
    lerp,
    nonzero,
    numel,
    reciprocal,
    repeat_interleave,
    std_mean,
    tile,
    trace,
    type_as,
    unique,
    var_mean,
)
from .compat_extra import (
    baddbmm,
    cummax,
    cummin,
    diff,
    dist,
    heaviside,
    masked_select,
    median,
    nan_to_num,
    searchsorted,
)
from .composite import *  # noqa: F403  (torch functions composed from the ops above)
from .cumulative import cumprod, cumsum
from .histogram import histc, histogram
from .indexing import gather, index_select, masked_fill, scatter, scatter_add
from .linalg import bmm, dot, einsum, linear, matmul, mm, outer
from .matrix import det, logdet, slogdet
from .matrix import inv as inverse
from .pointwise import (
    abs,
    acos,
    acosh,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    clamp,
    clip,
    clone,
    cos,
    cosh,
    div,
    exp,
    expm1,
    floor,
    floor_divide,
    fmod,
    log,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    rdiv,
    relu,
    remainder,
    rfloor_divide,
    round,
    rpow,
    rremainder,
    rsqrt,
    rsub,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    to_dtype,
    trunc,
)
from .reduction import (
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
)
from .shape import (
    broadcast_to,
    cat,
    chunk,
    concatenate,
    expand,
    expand_as,
    flatten,
    flip,
    getitem,
    index_add_into_zeros,
    meshgrid,
    narrow,
    pad,
    permute,
    repeat,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    swapaxes,
    t,
    transpose,
    tril,
    triu,
    unbind,
    unsqueeze,
    view,
)
from .sorting import argsort, sort, topk
from .special import digamma, erf, erfc, erfinv, lgamma, mvlgamma, polygamma

if _typing.TYPE_CHECKING:  # names for annotations only: `from chainrule.ops import *` stays ops
    from collections.abc import Callable, Sequence
    from typing import Any

    from .._typing import DTypeLike, TensorLike

where = _compat.where  # also where(cond) alone, as torch.where
true_divide = divide = div
multiply = mul
subtract = sub
negative = neg
absolute = abs


def _format(self: Tensor, spec: str) -> str:
    """``f"{loss:.2f}"``: a 0-d tensor formats as its number, as in PyTorch."""
    if self._data.ndim == 0:
        return format(self._data.item(), spec)
    return format(str(self), spec)


def _check_device(device: Any) -> None:
    if device is not None and not str(device).startswith("cpu"):
        raise RuntimeError(f"device {device!r} is not available: chainrule runs on the CPU only")


def _new_tensor(
    self: Tensor,
    data: TensorLike,
    dtype: DTypeLike | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ``data`` with this tensor's dtype unless ``dtype`` is given (torch's rule)."""
    _check_device(device)
    arr = _np.array(
        data._data if isinstance(data, Tensor) else data,
        dtype=self.dtype if dtype is None else dtype,
    )
    return Tensor._wrap(arr).requires_grad_(requires_grad)


def _new_filled(value: float) -> Callable[..., Tensor]:
    def new(
        self: Tensor,
        *size: Any,
        dtype: DTypeLike | None = None,
        device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        """A tensor of ``size`` filled with the value, with this tensor's dtype by default."""
        size = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return _new_full(self, size, value, dtype=dtype, device=device, requires_grad=requires_grad)

    return new


def _new_full(
    self: Tensor,
    size: int | Sequence[int],
    fill_value: float,
    dtype: DTypeLike | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, with this tensor's dtype by default."""
    _check_device(device)
    size = (size,) if isinstance(size, int) else tuple(size)
    arr = _np.full(size, fill_value, dtype=self.dtype if dtype is None else dtype)
    return Tensor._wrap(arr).requires_grad_(requires_grad)


def _bind_methods() -> None:
    T: Any = Tensor  # methods are added to the class: not checked
    T.__add__ = T.__radd__ = add
    T.__sub__, T.__rsub__ = sub, rsub
    T.__mul__ = T.__rmul__ = mul
    T.__truediv__, T.__rtruediv__ = div, rdiv
    T.__pow__, T.__rpow__ = pow, rpow
    T.__matmul__ = matmul
    T.__rmatmul__ = lambda self, other: matmul(other, self)
    T.__neg__ = neg
    T.__abs__ = abs
    T.__getitem__ = getitem
    T.__floordiv__, T.__rfloordiv__ = floor_divide, rfloor_divide
    T.__mod__, T.__rmod__ = remainder, rremainder
    T.__lt__, T.__le__, T.__gt__, T.__ge__, T.__eq__, T.__ne__ = lt, le, gt, ge, eq, ne
    T.__invert__ = bitwise_not
    T.__and__, T.__or__, T.__xor__ = bitwise_and, bitwise_or, bitwise_xor
    T.__rand__, T.__ror__, T.__rxor__ = rbitwise_and, rbitwise_or, rbitwise_xor
    T.__lshift__, T.__rshift__ = bitwise_left_shift, bitwise_right_shift
    T.__rlshift__, T.__rrshift__ = rbitwise_left_shift, rbitwise_right_shift
    T.bitwise_left_shift, T.bitwise_right_shift = bitwise_left_shift, bitwise_right_shift
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = eq, ne, lt, le, gt, ge
    for fn in (
        floor,
        ceil,
        trunc,
        round,
        log10,
        log2,
        sinh,
        cosh,
        tan,
        asin,
        acos,
        atan,
        floor_divide,
        remainder,
        fmod,
        bitwise_and,
        bitwise_or,
        bitwise_xor,
        bitwise_not,
        all,
        any,
        isclose,
        allclose,
        equal,
        isnan,
        isinf,
        isfinite,
        logical_not,
        logical_and,
        logical_or,
        cumsum,
        cumprod,
        histc,
        histogram,
        gather,
        scatter,
        scatter_add,
        index_select,
        masked_fill,
        mm,
        bmm,
        narrow,
        t,
        roll,
        tril,
        triu,
        sort,
        argsort,
        topk,
    ):
        setattr(T, fn.__name__, fn)
    T.__format__ = _format
    # In-place forms: the out-of-place op run through the tensor's in-place path (recorded
    # inside a graph, a plain write outside one). masked_fill_ is defined on Tensor itself.
    T.scatter_ = lambda self, dim, index, src=None, value=None, reduce=None: inplace.apply(
        self,
        "scatter_",
        lambda t: scatter(t, dim, index, src, value, reduce),
        (src,),
        casting="unsafe",
    )
    T.scatter_add_ = lambda self, dim, index, src: inplace.apply(
        self, "scatter_add_", lambda t: scatter_add(t, dim, index, src), (src,), casting="unsafe"
    )
    T.nelement = T.numel
    T.new_tensor = _new_tensor
    T.new_zeros, T.new_ones, T.new_empty = _new_filled(0), _new_filled(1), _new_filled(0)
    T.new_full = _new_full
    for fn in (
        erf,
        exp,
        log,
        log1p,
        expm1,
        sqrt,
        rsqrt,
        abs,
        sign,
        sin,
        cos,
        tanh,
        sigmoid,
        relu,
        clamp,
        clip,
        maximum,
        minimum,
        sum,
        mean,
        var,
        std,
        amax,
        amin,
        max,
        min,
        prod,
        logsumexp,
        norm,
        argmax,
        argmin,
        reshape,
        view,
        flatten,
        squeeze,
        unsqueeze,
        permute,
        transpose,
        swapaxes,
        expand,
        expand_as,
        broadcast_to,
        repeat,
        flip,
        split,
        chunk,
        unbind,
        matmul,
        softmax,
        log_softmax,
        clone,
        square,
        add,
        sub,
        mul,
        div,
        pow,
        neg,
        dot,
        outer,
    ):
        setattr(T, fn.__name__, fn)
    T.view = reshape
    T.swapaxes = transpose
    T.clip = clamp
    T.negative = neg
    T.astype = to_dtype
    T.type = _compat.tensor_type
    T.float = lambda self: to_dtype(self, _np.float32)
    T.half = lambda self: to_dtype(self, _np.float16)
    T.double = lambda self: to_dtype(self, _np.float64)
    T.long = lambda self: to_dtype(self, _np.int64)
    T.int = lambda self: to_dtype(self, _np.int32)
    T.bool = lambda self: to_dtype(self, _np.bool_)
    T.contiguous = lambda self, memory_format=None: self if self.is_contiguous() else clone(self)
    T.det, T.inverse, T.slogdet, T.logdet = det, inverse, slogdet, logdet
    T.view_as = lambda self, other: reshape(self, other.shape)
    # torch's other names of the same methods
    T.absolute, T.arccos, T.arcsin, T.arctan = abs, acos, asin, atan
    T.divide, T.true_divide, T.multiply, T.subtract = div, div, mul, sub
    T.greater, T.greater_equal, T.less, T.less_equal = gt, ge, lt, le
    T.not_equal, T.bitwise_not = ne, bitwise_not
    T.reshape_as = T.view_as
    _document_methods(T)


def _document_methods(T: Any) -> None:
    """Docstrings of the methods bound above as lambdas (casts and in-place forms)."""
    for name, dtype in [
        ("float", "float32"),
        ("half", "float16"),
        ("double", "float64"),
        ("long", "int64"),
        ("int", "int32"),
        ("bool", "bool"),
    ]:
        getattr(T, name).__doc__ = f"""``self`` cast to {dtype} (``self`` when it already is).

        Example:
            >>> cr.tensor([1.7, 0.0]).{name}().dtype
            dtype('{dtype}')
        """
    T.contiguous.__doc__ = """``self`` when its memory is in row-major order, else a row-major
    copy that stays in the graph (as ``torch.Tensor.contiguous``).

    Example:
        >>> x = cr.zeros(2, 3).t()
        >>> x.is_contiguous(), x.contiguous().is_contiguous()
        (False, True)
    """
    T.view_as.__doc__ = """``self`` reshaped to ``other``'s shape (``reshape_as`` is the same).

    Example:
        >>> cr.arange(6).view_as(cr.zeros(2, 3)).shape
        (2, 3)
    """
    T.scatter_.__doc__ = """In place ``scatter``: ``src`` (or ``value``) written at ``index``.

    Example:
        >>> cr.zeros(3).scatter_(0, cr.tensor([2]), cr.tensor([5.0]))
        tensor([0., 0., 5.])
    """
    T.scatter_add_.__doc__ = """In place ``scatter_add``: ``src`` added at ``index`` along ``dim``.

    Example:
        >>> cr.zeros(3).scatter_add_(0, cr.tensor([2, 2]), cr.tensor([1.0, 2.0]))
        tensor([0., 0., 3.])
    """


_bind_methods()


def _bind_compat_methods() -> None:
    for fn in (
        type_as,
        is_floating_point,
        reciprocal,
        clamp_min,
        clamp_max,
        lerp,
        nonzero,
        tile,
        repeat_interleave,
        diagonal,
        diag,
        trace,
        unique,
        bincount,
        index_add,
        masked_select,
        median,
        nan_to_num,
        diff,
        cummax,
        cummin,
        heaviside,
        dist,
    ):
        setattr(Tensor, fn.__name__, fn)
    Tensor.where = lambda self, condition, other: where(condition, self, other)
    Tensor.index_add_ = lambda self, dim, index, source, *, alpha=1: inplace.apply(
        self, "index_add_", lambda t: index_add(t, dim, index, source, alpha=alpha), (source,)
    )
    Tensor.addmm = lambda self, mat1, mat2, *, beta=1, alpha=1: addmm(
        self, mat1, mat2, beta=beta, alpha=alpha
    )
    Tensor.baddbmm = lambda self, batch1, batch2, *, beta=1, alpha=1: baddbmm(
        self, batch1, batch2, beta=beta, alpha=alpha
    )
    Tensor.baddbmm.__doc__ = """``beta * self + alpha * batch1 @ batch2``: ``cr.baddbmm``.

    Example:
        >>> cr.zeros(2, 2).baddbmm(cr.ones(1, 2, 3), cr.ones(1, 3, 2))[0, 0]
        tensor([3., 3.])
    """
    Tensor.baddbmm_ = lambda self, batch1, batch2, *, beta=1, alpha=1: inplace.apply(
        self,
        "baddbmm_",
        lambda t: baddbmm(t, batch1, batch2, beta=beta, alpha=alpha),
        (batch1, batch2),
    )
    Tensor.baddbmm_.__doc__ = """In place ``baddbmm``: ``self`` (B, n, m) becomes
    ``beta * self + alpha * batch1 @ batch2``.

    Example:
        >>> cr.ones(1, 2, 2).baddbmm_(cr.ones(1, 2, 3), cr.ones(1, 3, 2), beta=0.5)
        tensor([[[3.5, 3.5],
                 [3.5, 3.5]]])
    """
    Tensor.nan_to_num_ = lambda self, nan=0.0, posinf=None, neginf=None: inplace.apply(
        self, "nan_to_num_", lambda t: nan_to_num(t, nan, posinf, neginf)
    )
    Tensor.nan_to_num_.__doc__ = """In place ``nan_to_num``: NaN and infinities replaced.

    Example:
        >>> cr.tensor([float("nan"), 2.0]).nan_to_num_(nan=-1.0)
        tensor([-1.,  2.])
    """
    Tensor.where.__doc__ = """``self`` where ``condition`` else ``other`` (``cr.where``).

    Example:
        >>> cr.tensor([1.0, 2.0]).where(cr.tensor([True, False]), 0.0)
        tensor([1., 0.])
    """
    Tensor.index_add_.__doc__ = """In place ``index_add``: ``alpha * source`` added at ``index``.

    Example:
        >>> cr.zeros(3).index_add_(0, cr.tensor([0, 0]), cr.ones(2))
        tensor([2., 0., 0.])
    """
    Tensor.addmm.__doc__ = """``beta * self + alpha * mat1 @ mat2``: ``cr.addmm(self, mat1, mat2)``.

    Example:
        >>> cr.zeros(2).addmm(cr.ones(3, 4), cr.ones(4, 2))[0]
        tensor([4., 4.])
    """


_bind_compat_methods()
_composite.bind_methods()
