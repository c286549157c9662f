"""Type aliases for the annotations of the public core (checked by mypy, see pyproject.toml).

Nothing here runs at import time beyond defining the names: ``Tensor`` is only named in strings,
so this module can be imported by ``tensor.py`` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from numpy.typing import ArrayLike, DTypeLike

if TYPE_CHECKING:
    from .autograd.engine import Node
    from .tensor import Tensor

# What an op accepts as an operand: a Tensor, or anything NumPy turns into an array (numbers,
# nested lists, ndarrays).
TensorLike: TypeAlias = "Tensor | ArrayLike"
# A dimension or several; None means all of them (reductions).
Dims: TypeAlias = "int | Sequence[int] | None"
Shape: TypeAlias = "tuple[int, ...]"
# What a vjp receives and returns per input: an array on the plain backward, a Tensor when the
# backward is itself recorded (create_graph=True). The arithmetic runs on either kind through
# ops/dispatch.py, so it is not narrowed further here.
Grad: TypeAlias = Any
Grads: TypeAlias = "Sequence[Grad | None]"
# An op's vector-Jacobian product: ``vjp(node, grad)`` -> one gradient per input (None where the
# input needs none); see ``autograd.engine.record``.
VJP: TypeAlias = "Callable[[Node, Grad], Grads]"
# NumPy's rules for storing a value in an array of another dtype (in-place ops).
Casting: TypeAlias = Literal["no", "equiv", "safe", "same_kind", "unsafe"]

__all__ = [
    "ArrayLike",
    "Casting",
    "DTypeLike",
    "Dims",
    "Grad",
    "Grads",
    "Shape",
    "TensorLike",
    "VJP",
]
