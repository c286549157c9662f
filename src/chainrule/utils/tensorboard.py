"""``torch.utils.tensorboard``'s path to ``SummaryWriter``, from tensorboardX (the optional
``tensorboard`` extra: ``pip install chainrule[tensorboard]``)."""

try:
    from tensorboardX import SummaryWriter
except ImportError as error:  # a clear message instead of a bare ModuleNotFoundError
    raise ImportError(
        "chainrule.utils.tensorboard needs tensorboardX: pip install 'chainrule[tensorboard]'"
    ) from error

__all__ = ["SummaryWriter"]
