"""``torch.nn.modules.sparse``'s path to :class:`Embedding` (implemented in ``embedding.py``)."""

from .embedding import Embedding

__all__ = ["Embedding"]
