"""Every differentiable op, and the binding of operators and methods onto ``Tensor``."""
import numpy as _np

from ..tensor import Tensor
from .activation import log_softmax, softmax
from .comparison import (all, any, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, eq, ge,
                         greater, greater_equal, gt, le, less, less_equal, lt, ne, not_equal,
                         rbitwise_and, rbitwise_or, rbitwise_xor)
from .linalg import dot, linear, matmul, outer
from .pointwise import (abs, acos, add, arccos, arcsin, arctan, asin, atan, clamp, clip, clone, cos,
                        cosh, log10, log2, sinh, tan, div, exp, expm1, floor_divide, fmod, log,
                        log1p, maximum, minimum, mul, neg, pow, rdiv, relu, remainder,
                        rfloor_divide, rpow, rremainder, rsqrt, rsub, sigmoid, sign, sin, sqrt,
                        square, sub, tanh, to_dtype, where)
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


def _bind_methods():
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
    T.__floordiv__, T.__rfloordiv__ = floor_divide, rfloor_divide
    T.__mod__, T.__rmod__ = remainder, rremainder
    T.__lt__, T.__le__, T.__gt__, T.__ge__, T.__eq__, T.__ne__ = lt, le, gt, ge, eq, ne
    T.__invert__ = bitwise_not
    T.__and__, T.__or__, T.__xor__ = bitwise_and, bitwise_or, bitwise_xor
    T.__rand__, T.__ror__, T.__rxor__ = rbitwise_and, rbitwise_or, rbitwise_xor
    T.eq, T.ne, T.lt, T.le, T.gt, T.ge = eq, ne, lt, le, gt, ge
    T.logical_not = lambda self: Tensor._wrap(_np.logical_not(self._data))
    for fn in (log10, log2, sinh, cosh, tan, asin, acos, atan, floor_divide, remainder, fmod, bitwise_and, bitwise_or, bitwise_xor, bitwise_not,
               all, any):
        setattr(T, fn.__name__, fn)
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
    T.to = lambda self, dtype, *a, **k: to_dtype(self, dtype) if not isinstance(dtype, str) else self
    T.astype = to_dtype
    T.type = to_dtype
    T.float = lambda self: to_dtype(self, _np.float32)
    T.half = lambda self: to_dtype(self, _np.float16)
    T.double = lambda self: to_dtype(self, _np.float64)
    T.long = lambda self: to_dtype(self, _np.int64)
    T.int = lambda self: to_dtype(self, _np.int32)
    T.bool = lambda self: to_dtype(self, _np.bool_)
    T.contiguous = lambda self: self
    T.cpu = lambda self: self
    T.masked_fill = lambda self, mask, value: where(mask, value, self)
    T.view_as = lambda self, other: reshape(self, other.shape)
    T.reshape_as = T.view_as
    T.isnan = lambda self: Tensor._wrap(_np.isnan(self._data))
    T.isinf = lambda self: Tensor._wrap(_np.isinf(self._data))
    T.isfinite = lambda self: Tensor._wrap(_np.isfinite(self._data))


_bind_methods()
