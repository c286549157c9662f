"""PyTorch's ``torch.utils`` names: ``chainrule.utils.data`` is :mod:`chainrule.data`."""
from . import data

__all__ = ["data"]
