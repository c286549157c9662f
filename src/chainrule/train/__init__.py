"""Training: the loop, callbacks, metrics, history and full training checkpoints.

* :mod:`.loop`: :func:`fit`, :class:`Trainer`, :func:`evaluate`;
* :mod:`.callbacks`: :class:`Callback`, :class:`LambdaCallback`, :class:`EarlyStopping`,
  :class:`MonitorCallback` (the gradient monitor follows a run through it);
* :mod:`.metrics`: :func:`accuracy`, :func:`mse`, :func:`mae`;
* :mod:`.history`: :class:`TrainingHistory` (``History`` is its deprecated old name);
* :mod:`.checkpoint`: :func:`save_checkpoint`, :func:`load_checkpoint`.

Example::

    history = cr.train.fit(model, cr.nn.CrossEntropyLoss(), opt, train_loader, epochs=10,
                           val_loader=val_loader, callbacks=[cr.train.EarlyStopping(patience=3)])
    history['val_accuracy'][-1]
"""

import warnings

from .callbacks import Callback, EarlyStopping, LambdaCallback, MonitorCallback
from .checkpoint import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, load_checkpoint, save_checkpoint
from .history import TrainingHistory
from .loop import Trainer, evaluate, fit
from .metrics import accuracy, mae, mse

# ``History`` (deprecated) stays importable by name but out of ``*`` imports.
__all__ = [
    "fit",
    "evaluate",
    "Trainer",
    "TrainingHistory",
    "Callback",
    "EarlyStopping",
    "LambdaCallback",
    "MonitorCallback",
    "accuracy",
    "mse",
    "mae",
    "save_checkpoint",
    "load_checkpoint",
]


def __getattr__(name):
    # ``History`` was renamed: ``chainrule.diagnostics.History`` is another class (the gradient
    # monitor's per-step record), and two public classes of one name confuse readers.
    if name == "History":
        warnings.warn(
            "chainrule.train.History is deprecated: use chainrule.train.TrainingHistory",
            DeprecationWarning,
            stacklevel=2,
        )
        return TrainingHistory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
