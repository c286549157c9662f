"""Weight initialisation, in place, with PyTorch's names, gains and fan rules.

Every function writes into ``tensor._data`` (its dtype kept), draws from
``chainrule.random.default_generator()`` (or the ``generator`` given) and returns the tensor.
For a weight of shape (out, in, *kernel) the fans are ``fan_in = in * prod(kernel)`` and
``fan_out = out * prod(kernel)``.

Example::

    w = cr.nn.Parameter(cr.empty(256, 128))
    cr.nn.init.kaiming_normal_(w, nonlinearity="relu")   # std = sqrt(2 / 128)
"""

import functools
import math
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..random import default_generator

_LINEAR_LIKE = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def default_layer_init_(weight, bias=None):
    """PyTorch's default for Linear and Conv layers: ``kaiming_uniform_(weight, a=sqrt(5))`` and
    ``bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


def calculate_gain(nonlinearity, param=None):
    """The factor by which to scale a std so that ``nonlinearity`` keeps activations' scale.

    linear/conv/sigmoid: 1, tanh: 5/3, relu: sqrt(2), leaky_relu: sqrt(2 / (1 + slope^2))
    (slope ``param``, default 0.01), selu: 3/4.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 "
            f"dimensions (got shape {shape})"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


_SKIP = False  # set while nn.utils.skip_init builds a module: every fill is skipped


def _skippable(fill):
    """A fill that does nothing (draws nothing) while ``nn.utils.skip_init`` builds a module."""

    @functools.wraps(fill)
    def wrapper(tensor, *args, **kwargs):
        return tensor if _SKIP else fill(tensor, *args, **kwargs)

    return wrapper


def _write(tensor, values):
    """Copy ``values`` into the tensor's array (cast to its dtype) as an untracked edit."""
    with no_grad():
        np.copyto(tensor._data, values, casting="unsafe")
        tensor._bump_version()
    return tensor


def _rng(generator):
    return default_generator() if generator is None else generator


@_skippable
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    return _write(tensor, _rng(generator).uniform(a, b, tensor.shape))


@_skippable
def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    return _write(tensor, _rng(generator).normal(mean, std, tensor.shape))


@_skippable
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) restricted to [a, b] (out-of-range draws are redrawn)."""
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a}, b={b}")
    rng = _rng(generator)
    values = rng.normal(mean, std, tensor.shape)
    bad = (values < a) | (values > b)
    for _ in range(1000):  # each round keeps the draws that landed inside [a, b]
        if not bad.any():
            break
        values[bad] = rng.normal(mean, std, int(bad.sum()))
        bad = (values < a) | (values > b)
    return _write(tensor, np.clip(values, a, b))


@_skippable
def constant_(tensor, val):
    return _write(tensor, val)


@_skippable
def zeros_(tensor):
    return _write(tensor, 0)


@_skippable
def ones_(tensor):
    return _write(tensor, 1)


@_skippable
def eye_(tensor):
    """The identity matrix for a 2-D tensor."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    return _write(tensor, np.eye(*tensor.shape))


@_skippable
def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


@_skippable
def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if 0 in tensor.shape:
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


@_skippable
def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-b, b) with ``b = gain * sqrt(3 / fan)`` (He et al., 2015); ``a`` is the leaky slope."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


@_skippable
def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std^2) with ``std = gain / sqrt(fan)`` (He et al., 2015)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0.0, std, generator)


@_skippable
def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix, from the QR decomposition of a Gaussian matrix, times gain.

    Tensors with more than 2 dims are flattened to (shape[0], rest) first.
    """
    if tensor.ndim < 2:
        raise ValueError(
            f"orthogonal_: only tensors with 2 or more dimensions are supported, "
            f"got shape {tensor.shape}"
        )
    if tensor._data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor._data.size // rows
    flat = _rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # makes the decomposition unique, so q is uniformly distributed
    if rows < cols:
        q = q.T
    return _write(tensor, gain * q.reshape(tensor.shape))


@_skippable
def dirac_(tensor, groups=1):
    """The identity for a convolution: weight (out, in, *kernel) of 3, 4 or 5 dims is zero but for
    a 1 at the kernel's centre where output channel ``d`` of each of the ``groups`` meets input
    channel ``d``, so the convolution passes those channels through.

    Example:
        >>> w = cr.nn.init.dirac_(cr.empty(2, 2, 3))
        >>> w[:, :, 1]
        tensor([[1., 0.],
                [0., 1.]])
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(
            f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got shape "
            f"{tuple(tensor.shape)}"
        )
    out_channels = tensor.shape[0]
    if out_channels % groups:
        raise ValueError(f"dirac_: dim 0 ({out_channels}) must be divisible by groups ({groups})")
    per_group = out_channels // groups
    values = np.zeros(tensor.shape)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    d = np.arange(min(per_group, tensor.shape[1]))
    for g in range(groups):
        values[(g * per_group + d, d) + centre] = 1
    return _write(tensor, values)


@_skippable
def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D tensor drawn from N(0, std^2) with ``ceil(sparsity * rows)`` entries of every column,
    at random rows, set to zero (Martens, 2010).

    Example:
        >>> w = cr.nn.init.sparse_(cr.empty(10, 3), sparsity=0.3)
        >>> [int((w[:, j] == 0).sum()) for j in range(3)]
        [3, 3, 3]
    """
    if tensor.ndim != 2:
        raise ValueError(
            f"sparse_: only tensors with 2 dimensions are supported, got shape "
            f"{tuple(tensor.shape)}"
        )
    rows, cols = tensor.shape
    zeros = math.ceil(sparsity * rows)
    rng = _rng(generator)
    values = rng.normal(0.0, std, (rows, cols))
    for j in range(cols):
        values[rng.permutation(rows)[:zeros], j] = 0
    return _write(tensor, values)


def _deprecated(new):
    """torch's old name without the trailing underscore: warns (FutureWarning), then calls it."""
    old = new.__name__[:-1]

    def alias(*args, **kwargs):
        warnings.warn(
            f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.",
            FutureWarning,
            stacklevel=2,
        )
        return new(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated alias of :func:`{new.__name__}` (warns, as torch does)."
    return alias


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
