"""Every differentiable op, and the binding of operators and methods onto ``Tensor``."""
from ..tensor import Tensor
from .activation import log_softmax, softmax
from .linalg import dot, linear, matmul, outer
from .pointwise import (abs, add, clamp, clip, clone, cos, div, exp, expm1, log, log1p, maximum,
                        minimum, mul, neg, pow, rdiv, relu, rpow, rsqrt, rsub, sigmoid, sign, sin,
                        sqrt, square, sub, tanh, to_dtype, where)
from .special import erf
from .reduction import (amax, amin, argmax, argmin, logsumexp, max, mean, min, norm, prod, std, sum,
                        var)
from .shape import (broadcast_to, cat, chunk, concatenate, expand, expand_as, flatten, flip,
                    getitem, index_add_into_zeros, pad, permute, repeat, reshape, split, squeeze,
                    stack, swapaxes, transpose, unbind, unsqueeze, view)

true_divide = divide = div
multiply = mul
subtract = sub
negative = neg
absolute = abs


def _compare(fn):
    def method(self, other):
        other = other._data if isinstance(other, Tensor) else other
        return Tensor._wrap(fn(self._data, other))
    return method


def _bind_methods():
    import numpy as np
    T = Tensor
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
    for name, fn in [("__lt__", np.less), ("__le__", np.less_equal), ("__gt__", np.greater),
                     ("__ge__", np.greater_equal), ("__eq__", np.equal), ("__ne__", np.not_equal)]:
        setattr(T, name, _compare(fn))
    T.__invert__ = lambda self: Tensor._wrap(~self._data)
    T.__and__ = _compare(np.logical_and)
    T.__or__ = _compare(np.logical_or)
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = T.__eq__, T.__ne__, T.__lt__, T.__le__, T.__gt__, T.__ge__
    for fn in (erf, exp, log, log1p, expm1, sqrt, rsqrt, abs, sign, sin, cos, tanh, sigmoid, relu,
               clamp, clip, maximum, minimum, sum, mean, var, std, amax, amin, max, min, prod,
               logsumexp, norm, argmax, argmin, reshape, view, flatten, squeeze, unsqueeze,
               permute, transpose, swapaxes, expand, expand_as, broadcast_to, repeat, flip,
               split, chunk, unbind, matmul, softmax, log_softmax, clone, square, add, sub, mul,
               div, pow, neg, dot, outer):
        setattr(T, fn.__name__, fn)
    T.view = reshape
    T.swapaxes = transpose
    T.clip = clamp
    T.negative = neg
    T.astype = to_dtype
    T.type = to_dtype
    T.float = lambda self: to_dtype(self, np.float32)
    T.double = lambda self: to_dtype(self, np.float64)
    T.long = lambda self: to_dtype(self, np.int64)
    T.int = lambda self: to_dtype(self, np.int32)
    T.bool = lambda self: to_dtype(self, np.bool_)
    T.contiguous = lambda self: self
    T.masked_fill = lambda self, mask, value: where(mask, value, self)
    T.view_as = lambda self, other: reshape(self, other.shape)
    T.reshape_as = T.view_as
    T.any = lambda self, dim=None: Tensor._wrap(np.asarray(self._data.any(axis=dim)))
    T.all = lambda self, dim=None: Tensor._wrap(np.asarray(self._data.all(axis=dim)))
    T.isnan = lambda self: Tensor._wrap(np.isnan(self._data))
    T.isinf = lambda self: Tensor._wrap(np.isinf(self._data))
    T.isfinite = lambda self: Tensor._wrap(np.isfinite(self._data))


_bind_methods()
