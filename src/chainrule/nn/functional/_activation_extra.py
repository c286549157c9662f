"""More activations, built from recorded ops: ``mish``, ``hardswish``, ``hardsigmoid``, ``prelu``,
``softmin``. Their gradients (of any order) are those of the ops they are made of."""

import numpy as np

from ...ops import where
from ...ops._util import as_tensor
from ._activation import _in_place, hardtanh, softmax, softplus, tanh


def mish(input, inplace=False):
    """``x * tanh(softplus(x))`` elementwise (Misra, 2019).

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.mish(x)
        tensor([-0.2525,  0.    ,  2.9865])
    """
    if inplace:
        # (a composition that saves its input at several nodes: computed from a copy)
        return _in_place(input, "mish_", lambda x: mish(x.clone()))
    x = as_tensor(input)
    return x * tanh(softplus(x))


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between.

    Example:
        >>> F.hardsigmoid(cr.tensor([-4.0, 0.0, 4.0]))
        tensor([0. , 0.5, 1. ])
    """
    if inplace:
        return _in_place(input, "hardsigmoid_", hardsigmoid)
    return hardtanh(as_tensor(input) + 3.0, 0.0, 6.0) / 6.0


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6`` (MobileNetV3).

    Example:
        >>> F.hardswish(cr.tensor([-4.0, 0.0, 4.0]))
        tensor([-0.,  0.,  4.])
    """
    if inplace:
        return _in_place(input, "hardswish_", hardswish)
    x = as_tensor(input)
    return x * hardsigmoid(x)


def prelu(input, weight):
    """``x`` where ``x > 0``, else ``weight * x``; ``weight`` has 1 entry or one per channel (dim 1).

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.prelu(x, cr.tensor([0.25]))
        tensor([-0.5,  0. ,  3. ])
    """
    x, w = as_tensor(input), as_tensor(weight)
    if w.ndim != 1:
        raise ValueError(f"prelu: weight must be 1-d, got shape {tuple(w.shape)}")
    if w.shape[0] != 1:
        if x.ndim < 2 or x.shape[1] != w.shape[0]:
            raise ValueError(
                f"prelu: weight has {w.shape[0]} entries but input {tuple(x.shape)} "
                f"has {x.shape[1] if x.ndim > 1 else 1} channels (dim 1)"
            )
        w = w.reshape((1, -1) + (1,) * (x.ndim - 2))
    return x.clamp(min=0) + w * x.clamp(max=0)


def softmin(input, dim=None, dtype=None):
    """``softmax(-x, dim)``.

    Example:
        >>> F.softmin(cr.tensor([0.0, 0.6931472]), dim=0)
        tensor([0.6667, 0.3333])
    """
    return softmax(-as_tensor(input), dim=dim, dtype=dtype)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> x = cr.tensor([-2.0, 0.0, 3.0])
        >>> F.celu(x, alpha=0.5)
        tensor([-0.4908,  0.    ,  3.    ])
    """
    if inplace:
        return _in_place(input, "celu_", lambda x: celu(x.clone(), alpha))
    x = as_tensor(input)
    return x.clamp(min=0) + ((x.clamp(max=0) / alpha).exp() - 1) * alpha


def glu(input, dim=-1):
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second half.

    Example:
        >>> F.glu(cr.tensor([[1.0, 2.0, 0.0, 100.0]]))
        tensor([[0.5, 2. ]])
    """
    x = as_tensor(input)
    if x.shape[dim] % 2:
        raise ValueError(f"glu: dim {dim} of {tuple(x.shape)} must have an even size")
    a, b = x.chunk(2, dim)
    return a * b.sigmoid()


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    Example:
        >>> F.softshrink(cr.tensor([-1.0, 0.25, 0.75]))
        tensor([-0.5 ,  0.  ,  0.25])
    """
    x = as_tensor(input)
    return (x - lambd).clamp(min=0) + (x + lambd).clamp(max=0)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0.

    Example:
        >>> F.hardshrink(cr.tensor([-1.0, 0.25, 0.75]))
        tensor([-1.  ,  0.  ,  0.75])
    """
    x = as_tensor(input)
    return where((x > lambd) | (x < -lambd), x, x * 0)


def tanhshrink(input):
    """``x - tanh(x)``.

    Example:
        >>> F.tanhshrink(cr.tensor([0.0, 1.0]))
        tensor([0.    , 0.2384])
    """
    x = as_tensor(input)
    return x - tanh(x)


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value``.

    Example:
        >>> F.threshold(cr.tensor([0.0, 0.5, 2.0]), 0.1, 20.0)
        tensor([20. ,  0.5,  2. ])
    """
    if inplace:
        return _in_place(input, "threshold_", lambda x: where(x > threshold, x, x * 0 + value))
    x = as_tensor(input)
    return where(x > threshold, x, x * 0 + value)


def celu_(input, alpha=1.0):
    """In-place :func:`celu`: writes the result into ``input`` and returns it.

    Example:
        >>> F.celu_(cr.tensor([-2.0, 3.0]), 0.5)
        tensor([-0.4908,  3.    ])
    """
    return celu(input, alpha, inplace=True)


def threshold_(input, threshold, value):
    """In-place :func:`threshold`.

    Example:
        >>> x = cr.tensor([0.0, 2.0])
        >>> F.threshold_(x, 0.1, 20.0) is x, x
        (True, tensor([20.,  2.]))
    """
    return _threshold(input, threshold, value, inplace=True)


_threshold = threshold  # the argument named ``threshold`` hides the function in threshold_


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU (Xu et al., 2015): in training each element ``x <= 0`` is
    multiplied by its own slope drawn from U(lower, upper); otherwise by the fixed slope
    ``(lower + upper) / 2`` (a leaky ReLU). The gradient is that slope.

    Example:
        >>> F.rrelu(cr.tensor([-3.0, 2.0]), 0.1, 0.3)
        tensor([-0.6,  2. ])
    """
    from ...random import default_generator
    from ...tensor import Tensor
    from ._activation import leaky_relu

    if not 0 <= lower <= upper:
        raise ValueError(f"rrelu: expected 0 <= lower <= upper, got lower={lower}, upper={upper}")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    x = as_tensor(input)
    draw = default_generator().uniform(lower, upper, x.shape).astype(x.dtype)
    slope = Tensor._wrap(np.where(x.numpy() <= 0, draw, x.dtype.type(1)))
    if inplace:
        return _in_place(x, "rrelu_", lambda t: t * slope)
    return x * slope


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place :func:`rrelu`: writes the result into ``input`` and returns it.

    Example:
        >>> F.rrelu_(cr.tensor([-3.0, 2.0]), 0.1, 0.3)
        tensor([-0.6,  2. ])
    """
    return rrelu(input, lower, upper, training, inplace=True)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A sample of the Gumbel-softmax (concrete) distribution (Jang et al., 2016):
    ``softmax((logits + g) / tau)`` with ``g`` standard Gumbel noise. With ``hard`` the result
    is the one-hot of its argmax in the forward pass and the soft sample's gradient in the
    backward (straight-through). Shape: as ``logits``.

    Example:
        >>> y = F.gumbel_softmax(cr.zeros(4, 3), tau=0.5, hard=True)
        >>> y.sum(-1)
        tensor([1., 1., 1., 1.])
    """
    from ...random import default_generator
    from ...tensor import Tensor

    x = as_tensor(logits)
    gumbels = -np.log(default_generator().standard_exponential(x.shape))
    y = softmax((x + Tensor._wrap(gumbels.astype(x.dtype))) / tau, dim)
    if not hard:
        return y
    index = np.expand_dims(np.argmax(y.numpy(), axis=dim), dim)
    one_hot = np.zeros(x.shape, x.dtype)
    np.put_along_axis(one_hot, index, 1, axis=dim)
    return Tensor._wrap(one_hot) - y.detach() + y
