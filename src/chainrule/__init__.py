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
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
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
)


def __getattr__(name):
    # Submodules load on first use: the engine never pays for what it does not need.
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    if name in ("cosine_similarity", "pairwise_distance"):  # torch has them at the top too
        return getattr(importlib.import_module(".nn.functional", __name__), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")
