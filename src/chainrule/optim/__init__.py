"""Optimizers (``cr.optim.SGD``, ``Adam``, ...) and learning-rate schedulers
(``cr.optim.lr_scheduler``), with PyTorch's names, options and update formulas."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
           "LBFGS", "lr_scheduler"]
