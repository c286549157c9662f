"""``parameters_to_vector`` / ``vector_to_parameters``: all parameters as one flat vector."""

import numpy as np

from ...ops import cat
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, flattened and concatenated in order.

    Differentiable: gradients flow back to the parameters.

    Example::

        vec = nn.utils.parameters_to_vector(model.parameters())    # (total number of weights,)
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not params:
        raise RuntimeError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy the consecutive slices of the 1-D ``vec`` into ``parameters`` (in place, unrecorded),
    the inverse of :func:`parameters_to_vector`.

    Example::

        nn.utils.vector_to_parameters(vec, model.parameters())
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got: {type(vec).__name__}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise RuntimeError(
            f"vector_to_parameters: vec has shape {tuple(vec.shape)}, the "
            f"parameters hold {total} numbers"
        )
    start = 0
    for p in params:
        n = p.numel()
        # As torch's ``param.data = ...``: new values without recording, the same Parameter object.
        p.data = np.array(vec._data[start : start + n].reshape(p.shape), dtype=p.dtype)
        start += n
