"""Neural-network building blocks with PyTorch's names: ``Module``, layers, losses, ``init``.

Example::

    import chainrule as cr
    from chainrule import nn

    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)     # x (N, 64) float32, y (N,) int64
    loss.backward()
"""

from . import functional, init, parallel, utils
from .module import Module, RemovableHandle
from .modules import *  # noqa: F401,F403  (every layer: nn.Linear, nn.ReLU, ...)
from .modules import __all__ as _layers
from .parameter import Parameter

__all__ = [
    "Module",
    "Parameter",
    "RemovableHandle",
    "functional",
    "init",
    "parallel",
    "utils",
] + _layers
