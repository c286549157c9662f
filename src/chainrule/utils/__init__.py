"""``chainrule.utils``: PyTorch's ``torch.utils`` namespace (``chainrule.utils.data``)."""

from . import data

__all__ = ["data"]
