"""``cr.backends``: PyTorch's backend switches. Only the CPU exists; flags are accepted.

``cr.backends.cudnn.benchmark = True`` and ``cr.backends.cudnn.deterministic = True`` are stored
and change nothing; ``cr.backends.mps.is_available()`` and ``cr.backends.cuda.is_built()`` are
False.
"""

from . import cpu, cuda, cudnn, mps

__all__ = ["cpu", "cuda", "cudnn", "mps"]
