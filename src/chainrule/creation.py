"""Tensor constructors: ``tensor``, ``zeros``, ``randn``... (PyTorch's names and dtype rules).

Every constructor takes ``device=``: None or ``"cpu"`` (the one device); anything else raises a
clear RuntimeError. Random constructors take ``generator=`` (a ``cr.Generator``; default:
chainrule's default generator).
"""

import numpy as np

from .devices import check_device
from .random import resolve
from .tensor import Tensor, get_default_dtype, to_array


def _shape(size, where="size"):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        return tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(
            f"{where}: size must be integers or one tuple of integers, got {size!r}"
        ) from None


def _make(data, dtype, requires_grad):
    t = Tensor._wrap(data if dtype is None else data.astype(dtype, copy=False))
    return t.requires_grad_(True) if requires_grad else t


def _size(size, kwargs_size, where):
    """The shape from ``*size`` or a ``size=`` keyword (torch accepts both)."""
    if kwargs_size is not None:
        if size:
            raise TypeError(f"{where}: size given both positionally and as size=")
        size = (kwargs_size,)
    return _shape(size, where)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (lists and numbers get the default float dtype).

    Example:
        >>> cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        tensor([[1., 2.],
                [3., 4.]], requires_grad=True)
        >>> cr.tensor([1, 2]).dtype
        dtype('int64')
        >>> cr.tensor(3.5)
        tensor(3.5)
    """

    check_device(device, "tensor")
    arr = np.array(to_array(data, dtype), copy=True)
    return _make(arr, None, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` itself when it already is a Tensor of that dtype, else a Tensor sharing memory
    with an ndarray when possible (as torch.as_tensor).

    Example:
        >>> a = np.arange(3)
        >>> t = cr.as_tensor(a)
        >>> a[0] = 7
        >>> t
        tensor([7, 1, 2])
    """
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return Tensor._wrap(to_array(data, dtype))  # Tensor(3) would be a size


def from_numpy(array):
    """A tensor sharing memory with ``array`` (its dtype kept).

    Example:
        >>> a = np.array([1.0, 2.0])
        >>> t = cr.from_numpy(a)
        >>> a[0] = 5.0
        >>> t
        tensor([5., 2.], dtype=float64)
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def _dtype(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False, **kw):
    """Zeros of shape ``size`` (default float dtype).

    Example:
        >>> cr.zeros(2, 3)
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
        >>> cr.zeros((2,), dtype=cr.bool)
        tensor([False, False])
    """
    check_device(device, "zeros")
    shape = _size(size, kw.pop("size", None), "zeros")
    _no_extra(kw, "zeros")
    return _make(np.zeros(shape, _dtype(dtype)), None, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **kw):
    """Ones of shape ``size`` (default float dtype).

    Example:
        >>> cr.ones(2, 3)
        tensor([[1., 1., 1.],
                [1., 1., 1.]])
        >>> cr.ones((2,), dtype=cr.int64)
        tensor([1, 1])
    """
    check_device(device, "ones")
    shape = _size(size, kw.pop("size", None), "ones")
    _no_extra(kw, "ones")
    return _make(np.ones(shape, _dtype(dtype)), None, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kw):
    """Uninitialised tensor of shape ``size`` (default float dtype).

    Example:
        >>> cr.empty(2, 3).shape
        (2, 3)
    """
    check_device(device, "empty")
    shape = _size(size, kw.pop("size", None), "empty")
    _no_extra(kw, "empty")
    return _make(np.empty(shape, _dtype(dtype)), None, requires_grad)


def _no_extra(kw, where):
    kw.pop("layout", None)  # torch.strided is the only layout; accepted for porting
    kw.pop("pin_memory", None)  # no GPU: nothing to pin
    if kw:
        raise TypeError(f"{where}() got unexpected keyword arguments {sorted(kw)}")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """``fill_value`` everywhere; bool and int fills give bool / int64 tensors, as in torch.

    Example:
        >>> cr.full((2, 2), 7)
        tensor([[7, 7],
                [7, 7]])
        >>> cr.full((2,), 0.5)
        tensor([0.5, 0.5])
    """
    check_device(device, "full")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    return _make(np.full(_shape((size,)), fill_value, _dtype(dtype)), None, requires_grad)


class memory_format:  # noqa: N801  (torch's name)
    """A layout request (``cr.preserve_format``, ``contiguous_format``, ``channels_last``...):
    accepted wherever torch takes one; chainrule's results are always row-major.

    Example:
        >>> cr.zeros_like(cr.ones(2), memory_format=cr.preserve_format)
        tensor([0., 0.])
    """

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"chainrule.{self.name}"


preserve_format = memory_format("preserve_format")
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


def _like(t, dtype):
    return t.dtype if dtype is None else dtype


def zeros_like(t, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with ``t``'s shape and dtype (unless ``dtype`` is given).

    Example:
        >>> cr.zeros_like(cr.tensor([1.5, 2.5]))
        tensor([0., 0.])
    """
    return zeros(t.shape, dtype=_like(t, dtype), device=device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Ones with ``t``'s shape and dtype (unless ``dtype`` is given).

    Example:
        >>> cr.ones_like(cr.tensor([1, 2]))
        tensor([1, 1])
    """
    return ones(t.shape, dtype=_like(t, dtype), device=device, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Uninitialised tensor with ``t``'s shape (and dtype, unless ``dtype`` is given).

    Example:
        >>> cr.empty_like(cr.zeros(2, 3)).shape
        (2, 3)
    """
    return empty(t.shape, dtype=_like(t, dtype), device=device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False, memory_format=None):
    """``fill_value`` everywhere, with ``t``'s shape and dtype (unless ``dtype`` is given).

    Example:
        >>> cr.full_like(cr.zeros(2), 3.0)
        tensor([3., 3.])
    """
    return full(
        t.shape, fill_value, dtype=_like(t, dtype), device=device, requires_grad=requires_grad
    )


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Like torch.arange: int64 for integer arguments, the default float dtype otherwise.

    Shape: (ceil((end - start) / step),); ``arange(n)`` counts from 0.

    Example:
        >>> cr.arange(4)
        tensor([0, 1, 2, 3])
        >>> cr.arange(1, 2, 0.25)
        tensor([1.  , 1.25, 1.5 , 1.75])
    """
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    start, end, step = (v.item() if isinstance(v, Tensor) else v for v in (start, end, step))
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else get_default_dtype()
    return _make(np.arange(start, end, step, dtype=np.dtype(dtype)), None, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included.

    Shape: (steps,), the default float dtype.

    Example:
        >>> cr.linspace(0, 1, 5)
        tensor([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    check_device(device, "linspace")
    return _make(np.linspace(start, end, steps, dtype=_dtype(dtype)), None, requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in the exponent.

    Shape: (steps,), the default float dtype.

    Example:
        >>> cr.logspace(0, 2, 3)
        tensor([  1.,  10., 100.])
    """
    check_device(device, "logspace")
    return _make(
        np.logspace(start, end, steps, base=base).astype(_dtype(dtype)), None, requires_grad
    )


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """Identity matrix: ones on the main diagonal. Shape: (n, n), or (n, m) when ``m`` is given.

    Example:
        >>> cr.eye(2)
        tensor([[1., 0.],
                [0., 1.]])
        >>> cr.eye(2, 3).shape
        (2, 3)
    """
    check_device(device, "eye")
    return _make(np.eye(n, m, dtype=_dtype(dtype)), None, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw):
    """Uniform on [0, 1), drawn from ``generator`` or the default one (see ``cr.manual_seed``).

    Example:
        >>> g = cr.Generator().manual_seed(0)
        >>> x = cr.rand(2, 3, generator=g)
        >>> x.shape, bool((x >= 0).all() and (x < 1).all())
        ((2, 3), True)
    """
    check_device(device, "rand")
    shape = _size(size, kw.pop("size", None), "rand")
    _no_extra(kw, "rand")
    rng = resolve(generator, "rand")
    return _make(rng.random(shape, dtype=np.float64), _dtype(dtype), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw):
    """Standard normal draws of shape ``size`` (default float dtype).

    Example:
        >>> _ = cr.manual_seed(0)
        >>> a = cr.randn(3, 4)
        >>> _ = cr.manual_seed(0)
        >>> cr.equal(a, cr.randn(3, 4))
        True
    """
    check_device(device, "randn")
    shape = _size(size, kw.pop("size", None), "randn")
    _no_extra(kw, "randn")
    rng = resolve(generator, "randn")
    return _make(rng.standard_normal(shape), _dtype(dtype), requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``.

    Example:
        >>> x = cr.randint(3, 10, size=(2, 2))
        >>> x.dtype, bool(((x >= 3) & (x < 10)).all())
        (dtype('int64'), True)
    """
    check_device(device, "randint")
    args = list(args)
    if size is None and args and isinstance(args[-1], (tuple, list)):
        size = args.pop()
    if size is None:
        raise TypeError("randint() missing the size argument (a tuple), e.g. cr.randint(10, (3,))")
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError(
            f"randint() takes (high, size) or (low, high, size), got {len(args)} bounds"
        )
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"randint(): argument '{name}' must be int, not {type(v).__name__}")
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    rng = resolve(generator, "randint")
    data = rng.integers(low, high, size=_shape((size,)), dtype=np.int64)
    return _make(data, np.dtype(dtype or np.int64), requires_grad)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64). Shape: (n,).

    Example:
        >>> cr.randperm(5).sort().values
        tensor([0, 1, 2, 3, 4])
    """
    check_device(device, "randperm")
    data = resolve(generator, "randperm").permutation(int(n))
    return _make(data, np.dtype(dtype or np.int64), requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False, generator=None, memory_format=None):
    """Uniform draws on [0, 1) with ``t``'s shape and dtype (unless ``dtype`` is given).

    Example:
        >>> cr.rand_like(cr.zeros(2, 3)).shape
        (2, 3)
    """
    return rand(
        t.shape,
        dtype=_like(t, dtype),
        device=device,
        requires_grad=requires_grad,
        generator=generator,
    )


def randn_like(t, dtype=None, device=None, requires_grad=False, generator=None, memory_format=None):
    """Standard normal draws with ``t``'s shape and dtype (unless ``dtype`` is given).

    Example:
        >>> cr.randn_like(cr.zeros(2, 3)).shape
        (2, 3)
    """
    return randn(
        t.shape,
        dtype=_like(t, dtype),
        device=device,
        requires_grad=requires_grad,
        generator=generator,
    )


def randint_like(
    t,
    low=0,
    high=None,
    dtype=None,
    device=None,
    requires_grad=False,
    generator=None,
    memory_format=None,
):
    """Integers uniform in [low, high) with ``t``'s shape (and dtype, unless ``dtype`` is given).

    Example:
        >>> x = cr.randint_like(cr.zeros(4, dtype=cr.int64), 0, 2)
        >>> x.shape, bool(((x == 0) | (x == 1)).all())
        ((4,), True)
    """
    if high is None:
        low, high = 0, low
    return randint(
        low,
        high,
        tuple(t.shape),
        dtype=_like(t, dtype),
        device=device,
        requires_grad=requires_grad,
        generator=generator,
    )


def scalar_tensor(s, dtype=None, device=None, requires_grad=False):
    """A 0-dim tensor of the number ``s``, of the default float dtype unless ``dtype`` is given.

    Example:
        >>> cr.scalar_tensor(3)
        tensor(3.)
    """
    check_device(device, "scalar_tensor")
    return _make(np.asarray(s, dtype=_dtype(dtype)), None, requires_grad)


def empty_strided(size, stride, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of ``size`` whose memory steps are ``stride`` (in elements), as
    torch's; the values are undefined until written.

    Example:
        >>> cr.empty_strided((2, 3), (1, 2)).stride()
        (1, 2)
    """
    check_device(device, "empty_strided")
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride) or any(s < 0 for s in stride):
        raise ValueError(f"empty_strided: size {size} and stride {stride} do not match")
    dtype = _dtype(dtype)
    extent = 1 + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) if all(size) else 0
    memory = np.empty(extent, dtype=dtype)
    steps = tuple(s * dtype.itemsize for s in stride)
    view = np.lib.stride_tricks.as_strided(memory, size, steps, writeable=True)
    return _make(view, None, requires_grad)


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-d tensor sharing memory with a Python buffer (``bytes`` give a read-only array),
    ``count`` elements of ``dtype`` from byte ``offset``.

    Example:
        >>> cr.frombuffer(bytearray(b"\\x01\\x02"), dtype=cr.uint8)
        tensor([1, 2], dtype=uint8)
    """
    return _make(
        np.frombuffer(buffer, dtype=dtype, count=count, offset=offset), None, requires_grad
    )


def _window(name, length, periodic, dtype, values):
    """A window of ``length`` samples; ``periodic`` drops the last sample of a window one longer
    (for spectral analysis), as torch's windows."""
    if length < 0:
        raise RuntimeError(f"{name}: window_length must be non-negative, got {length}")
    dtype = _dtype(dtype)
    if dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point dtype, got {dtype}")
    if length <= 1:
        return Tensor._wrap(np.ones(length, dtype=dtype))
    n = length + 1 if periodic else length
    return Tensor._wrap(values(n)[:length].astype(dtype))


def hann_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """The Hann window ``0.5 - 0.5 cos(2 pi k / (N - 1))``. Shape: (window_length,).

    Example:
        >>> cr.hann_window(4)
        tensor([0. , 0.5, 1. , 0.5])
    """
    check_device(device, "hann_window")
    out = _window("hann_window", window_length, periodic, dtype, np.hanning)
    return out.requires_grad_(True) if requires_grad else out


def hamming_window(
    window_length,
    periodic=True,
    alpha=0.54,
    beta=0.46,
    *,
    dtype=None,
    device=None,
    requires_grad=False,
):
    """The Hamming window ``alpha - beta cos(2 pi k / (N - 1))``. Shape: (window_length,).

    Example:
        >>> cr.hamming_window(3, periodic=False)
        tensor([0.08, 1.  , 0.08])
    """
    check_device(device, "hamming_window")
    values = lambda n: alpha - beta * np.cos(2 * np.pi * np.arange(n) / (n - 1))  # noqa: E731
    out = _window("hamming_window", window_length, periodic, dtype, values)
    return out.requires_grad_(True) if requires_grad else out


def blackman_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """The Blackman window. Shape: (window_length,).

    Example:
        >>> cr.blackman_window(3, periodic=False)[1]
        tensor(1.)
    """
    check_device(device, "blackman_window")
    out = _window("blackman_window", window_length, periodic, dtype, np.blackman)
    return out.requires_grad_(True) if requires_grad else out


def bartlett_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """The Bartlett (triangular) window. Shape: (window_length,).

    Example:
        >>> cr.bartlett_window(5, periodic=False)
        tensor([0. , 0.5, 1. , 0.5, 0. ])
    """
    check_device(device, "bartlett_window")
    out = _window("bartlett_window", window_length, periodic, dtype, np.bartlett)
    return out.requires_grad_(True) if requires_grad else out


def kaiser_window(
    window_length, periodic=True, beta=12.0, *, dtype=None, device=None, requires_grad=False
):
    """The Kaiser window with shape parameter ``beta``. Shape: (window_length,).

    Example:
        >>> cr.kaiser_window(3, periodic=False, beta=0.0)
        tensor([1., 1., 1.])
    """
    check_device(device, "kaiser_window")
    values = lambda n: np.kaiser(n, beta)  # noqa: E731
    out = _window("kaiser_window", window_length, periodic, dtype, values)
    return out.requires_grad_(True) if requires_grad else out
