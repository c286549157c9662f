"""``Parameter``: a Tensor that a Module registers as a learnable weight."""

from __future__ import annotations

from typing import Any, SupportsIndex

import numpy as np

from ..tensor import Tensor, to_array


class Parameter(Tensor):
    """A tensor that, assigned as a Module attribute, becomes one of its ``parameters()``.

    ``data`` may be a Tensor (its memory is shared), a NumPy array (shared, dtype kept) or
    anything ``cr.tensor`` accepts (lists get the default float dtype). Operations on a
    Parameter return plain Tensors.

    Example::

        w = cr.nn.Parameter(cr.randn(3, 4))   # (3, 4) float32, requires_grad=True
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        # A Tensor: Tensor.__init__ shares its memory and dtype (an array would get the default
        # float dtype there, as torch.Tensor(array) does; a Parameter keeps the array's dtype).
        tensor = data if isinstance(data, Tensor) else Tensor._wrap(to_array(data))
        super().__init__(tensor, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        # Rebuild through the constructor: a pickle or deepcopy stays a Parameter with its flag.
        return (Parameter, (self._data, self.requires_grad))

    def __deepcopy__(self, memo: Any) -> Any:
        if id(self) in memo:
            return memo[id(self)]
        out = Parameter(self._data.copy(), self.requires_grad)
        if self.grad is not None:
            out.grad = Tensor._wrap(self.grad._data.copy())
        memo[id(self)] = out
        return out
