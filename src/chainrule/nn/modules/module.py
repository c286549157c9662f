"""``torch.nn.modules.module``'s path to :class:`Module` (implemented in ``nn/module.py``)."""

from ..module import Module

__all__ = ["Module"]
