"""Tensor constructors: ``tensor``, ``zeros``, ``randn``... (PyTorch's names and dtype rules)."""
import numpy as np

from .random import default_generator
from .tensor import Tensor, get_default_dtype


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _make(data, dtype, requires_grad):
    t = Tensor(data if dtype is None else data.astype(dtype, copy=False))
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (lists and numbers get the default float dtype).

    Example::

        cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)   # (2, 2) float32
    """
    from .tensor import to_array
    arr = np.array(to_array(data, dtype), copy=True)
    return _make(arr, None, requires_grad)


def as_tensor(data, dtype=None):
    return data if isinstance(data, Tensor) and dtype is None else Tensor(data, dtype=dtype)


def from_numpy(array):
    """A tensor sharing memory with ``array`` (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _dtype(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*size, dtype=None, requires_grad=False):
    return _make(np.zeros(_shape(size), _dtype(dtype)), None, requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    return _make(np.ones(_shape(size), _dtype(dtype)), None, requires_grad)


def empty(*size, dtype=None, requires_grad=False):
    return _make(np.empty(_shape(size), _dtype(dtype)), None, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False):
    if dtype is None and isinstance(fill_value, bool):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int):
        dtype = np.int64
    return _make(np.full(_shape((size,)), fill_value, _dtype(dtype)), None, requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Like torch.arange: int64 for integer arguments, the default float dtype otherwise."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else get_default_dtype()
    return _make(np.arange(start, end, step, dtype=np.dtype(dtype)), None, requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False):
    return _make(np.linspace(start, end, steps, dtype=_dtype(dtype)), None, requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_dtype(dtype)), None, requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None):
    """Uniform on [0, 1), drawn from the global generator (see ``cr.manual_seed``)."""
    rng = generator or default_generator()
    return _make(rng.random(_shape(size), dtype=np.float64), _dtype(dtype), requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None):
    rng = generator or default_generator()
    return _make(rng.standard_normal(_shape(size)), _dtype(dtype), requires_grad)


def randint(low, high=None, size=(), dtype=None, generator=None):
    if high is None:
        low, high = 0, low
    rng = generator or default_generator()
    return Tensor(rng.integers(low, high, size=_shape((size,)), dtype=np.dtype(dtype or np.int64)))


def randperm(n, generator=None):
    return Tensor((generator or default_generator()).permutation(n).astype(np.int64))


def rand_like(t, dtype=None, requires_grad=False):
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def randn_like(t, dtype=None, requires_grad=False):
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)
