"""Optimizers (``cr.optim.SGD``, ``Adam``, ...) and learning-rate schedulers
(``cr.optim.lr_scheduler``), with PyTorch's names, options and update formulas."""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "LBFGS",
    "lr_scheduler",
    "swa_utils",
]
__all__ += ["Adamax", "NAdam", "RAdam", "Rprop", "ASGD", "Adafactor"]
