"""More activations, built from recorded ops: ``mish``, ``hardswish``, ``hardsigmoid``, ``prelu``,
``softmin``. Their gradients (of any order) are those of the ops they are made of."""
from ...ops._util import as_tensor
from ._activation import hardtanh, softmax, softplus, tanh


def mish(input, inplace=False):
    """``x * tanh(softplus(x))`` elementwise (Misra, 2019).

    Example::

        y = F.mish(cr.randn(4, 8))
    """
    x = as_tensor(input)
    return x * tanh(softplus(x))


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between.

    Example::

        y = F.hardsigmoid(cr.randn(4, 8))
    """
    return hardtanh(as_tensor(input) + 3.0, 0.0, 6.0) / 6.0


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6`` (MobileNetV3).

    Example::

        y = F.hardswish(cr.randn(4, 8))
    """
    x = as_tensor(input)
    return x * hardsigmoid(x)


def prelu(input, weight):
    """``x`` where ``x > 0``, else ``weight * x``; ``weight`` has 1 entry or one per channel (dim 1).

    Example::

        y = F.prelu(cr.randn(4, 3, 5), cr.full((3,), 0.25))
    """
    x, w = as_tensor(input), as_tensor(weight)
    if w.ndim != 1:
        raise ValueError(f"prelu: weight must be 1-d, got shape {tuple(w.shape)}")
    if w.shape[0] != 1:
        if x.ndim < 2 or x.shape[1] != w.shape[0]:
            raise ValueError(f"prelu: weight has {w.shape[0]} entries but input {tuple(x.shape)} "
                             f"has {x.shape[1] if x.ndim > 1 else 1} channels (dim 1)")
        w = w.reshape((1, -1) + (1,) * (x.ndim - 2))
    return x.clamp(min=0) + w * x.clamp(max=0)


def softmin(input, dim=None, dtype=None):
    """``softmax(-x, dim)``.

    Example::

        p = F.softmin(cr.randn(2, 5), dim=1)
    """
    return softmax(-as_tensor(input), dim=dim, dtype=dtype)
