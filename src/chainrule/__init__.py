"""chainrule: neural networks trained by backpropagation, with gradient-flow diagnostics.

Example::

    import chainrule as cr
    x = cr.randn(32, 4)
    w = cr.randn(4, 1, requires_grad=True)
    loss = ((x @ w) ** 2).mean()
    loss.backward()          # w.grad now holds d loss / d w
"""

import importlib

import numpy as np

from . import ops
from .amp import autocast, is_autocast_enabled
from .autograd import (  # noqa: F401
    detect_anomaly,
    enable_grad,
    grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .compiler import compile  # noqa: A004  (torch.compile; it shadows the builtin, as in torch)
from .creation import (
    arange,
    as_tensor,
    bartlett_window,
    blackman_window,
    channels_last,
    channels_last_3d,
    contiguous_format,
    empty,
    empty_like,
    empty_strided,
    eye,
    from_numpy,
    frombuffer,
    full,
    full_like,
    hamming_window,
    hann_window,
    kaiser_window,
    linspace,
    logspace,
    memory_format,
    ones,
    ones_like,
    preserve_format,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    scalar_tensor,
    tensor,
    zeros,
    zeros_like,
)
from .devices import device, get_default_device, set_default_device
from .ops import *  # noqa: F401,F403  (every differentiable op: cr.exp, cr.matmul, ...)
from .ops import abs, max, min, pow, sum  # noqa: F401  (names that shadow builtins, on purpose)
from .random import (
    Generator,
    bernoulli,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    poisson,
    seed,
    set_rng_state,
)
from .random import _default as default_generator
from .tensor import Tensor, get_default_dtype, set_default_dtype

# torch.special (after ``from .ops import *``, which brought ops.special under this name)
special = importlib.import_module(".special", __name__)

__version__ = "0.1.0"

# PyTorch's names, aliases included: cr.float is float32 and cr.int is int32, as torch.float/int.
float16 = half = np.dtype(np.float16)
float32 = float_ = float = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = short = np.dtype(np.int16)
int32 = int = np.dtype(np.int32)
int64 = long = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = bool = np.dtype(np.bool_)
complex64 = cfloat = np.dtype(np.complex64)
complex128 = cdouble = np.dtype(np.complex128)
dtype = np.dtype  # the type of every dtype above (isinstance(x.dtype, cr.dtype))

_SUBMODULES = (
    "nn",
    "optim",
    "data",
    "diagnostics",
    "train",
    "serialization",
    "cli",
    "autograd",
    "distributed",
    "utils",
    "cuda",
    "backends",
    "accelerator",
    "distributions",
    "amp",
    "compiler",
    "testing",
)


# nn.functional's functions that torch also has at the top level with the same arguments (not
# those whose order or reduction argument differ there: batch_norm, embedding, the losses)
_FUNCTIONAL_AT_TOP = frozenset(
    """cosine_similarity pairwise_distance conv1d conv2d conv3d conv_transpose1d conv_transpose2d
    conv_transpose3d max_pool1d max_pool2d max_pool3d avg_pool1d adaptive_avg_pool1d dropout
    alpha_dropout feature_alpha_dropout layer_norm group_norm rms_norm pixel_shuffle
    pixel_unshuffle channel_shuffle selu celu prelu rrelu threshold hardshrink bilinear""".split()
)


def _in_place_function(name):
    def in_place(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    in_place.__name__ = in_place.__qualname__ = name
    in_place.__doc__ = f"``input.{name}(...)``, as ``torch.{name}``."
    return in_place


def __getattr__(name):
    # Submodules load on first use: the engine never pays for what it does not need.
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    if name in _FUNCTIONAL_AT_TOP:  # torch has them at the top level too, same signatures
        return getattr(importlib.import_module(".nn.functional", __name__), name)
    if name.endswith("_") and name[0] != "_" and callable(getattr(Tensor, name, None)):
        return _in_place_function(name)  # torch.relu_(x) is x.relu_()
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
