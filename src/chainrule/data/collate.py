"""``default_collate`` and ``default_convert``: turning samples into batches, as PyTorch does.

The dtype of a batch follows PyTorch exactly: a batch of Python ints (and bools mixed with
ints) is int64, one that starts with a Python float is float64, a mix of ints and floats
is the default float dtype, NumPy arrays and Tensors are stacked with type promotion (an
int64 and a float32 sample give float32).
"""

import collections.abc

import numpy as np

from ..tensor import Tensor, get_default_dtype

_ERR = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _wrap(array):
    array = np.asarray(array)
    return Tensor._wrap(array if array.flags.c_contiguous else array.copy())


def _promote(dtypes):
    """PyTorch's promoteTypes over full dtypes: a float wins over every int (int64 + float32 is
    float32, not NumPy's float64); within one kind the wider type wins."""
    floats = [d for d in dtypes if d.kind in "fc"]
    if floats:
        return np.result_type(*floats)
    ints = [d for d in dtypes if d.kind in "iu"]
    if ints:
        return np.result_type(*ints)
    return np.dtype(np.bool_)


def _scalar_dtype(x):
    """The dtype torch.tensor infers for one Python or NumPy scalar."""
    if isinstance(x, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(x, np.generic):
        if x.dtype.kind not in "biufc":
            raise TypeError(_ERR.format(x.dtype))
        return x.dtype
    if isinstance(x, int):
        return np.dtype(np.int64)
    if isinstance(x, float):
        return get_default_dtype()
    if isinstance(x, complex):
        return np.dtype(np.complex64)
    raise TypeError(
        f"default_collate: cannot put {type(x).__name__} into a tensor of numbers "
        f"(batch mixes numbers with {type(x).__name__}); pass a collate_fn"
    )


def _numbers(batch, dtype=None):
    """A 1-D tensor of Python / NumPy scalars, with torch.tensor's dtype inference."""
    if dtype is None:
        dtype = _promote([_scalar_dtype(x) for x in batch])
    else:
        for x in batch:
            _scalar_dtype(x)
    return _wrap(np.array(batch, dtype=dtype))


def _stack(arrays):
    shapes = [a.shape for a in arrays]
    if len(set(shapes)) > 1:
        raise RuntimeError(
            f"default_collate: stack expects each sample to have the same shape, got "
            f"{', '.join(str(s) for s in shapes)}; pad them or pass a collate_fn"
        )
    dtype = _promote([a.dtype for a in arrays])
    return _wrap(np.stack([a.astype(dtype, copy=False) for a in arrays]))


def _array_of(sample):
    if isinstance(sample, Tensor):
        return sample._data
    arr = np.asarray(sample)
    if arr.dtype.kind not in "biufc":
        raise TypeError(_ERR.format(arr.dtype))
    return arr


def default_collate(batch):
    """Combine a list of samples into a batch, field by field, as PyTorch's ``default_collate``.

    The type of the first sample decides: Tensors and NumPy arrays (N of shape S) are stacked
    into one Tensor (N, *S) with type promotion; Python and NumPy numbers become a 1-D Tensor
    (ints int64, a batch starting with a float float64); strings stay a list; dicts, tuples,
    lists and namedtuples are collated per field (tuples and lists give a list, namedtuples the
    same namedtuple, dicts a dict). ``None`` and other objects raise TypeError.

    Example::

        x, y = default_collate([(np.ones(3, np.float32), 0), (np.zeros(3, np.float32), 1)])
        x.shape, y.dtype     # (2, 3), int64
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)):
        batch = list(batch)
    if not batch:
        raise ValueError("default_collate: got an empty batch")
    elem = batch[0]
    if isinstance(elem, (str, bytes)):  # before NumPy: np.str_ is a str
        return list(batch)
    if isinstance(elem, Tensor):
        return _stack([_array_of(b) for b in batch])
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biufc":
            raise TypeError(_ERR.format(elem.dtype))
        return _stack([_array_of(b) for b in batch])
    if isinstance(elem, np.generic):
        return _numbers(batch)
    if isinstance(elem, float):
        return _numbers(batch, np.float64)
    if isinstance(elem, (int, complex)):  # bool is an int: [True, 7] is int64, as in torch
        return _numbers(batch)
    if isinstance(elem, collections.abc.Mapping):
        for sample in batch:
            if not isinstance(sample, collections.abc.Mapping):
                raise TypeError(f"default_collate: batch mixes a dict with {type(sample).__name__}")
        out = {key: default_collate([sample[key] for sample in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch, strict=True)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError(
                "default_collate: each element in list of batch should be of equal size"
            )
        fields = [default_collate(list(field)) for field in zip(*batch, strict=True)]
        if isinstance(elem, tuple):
            return fields  # torch returns a list for tuple samples
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """Turn NumPy arrays and scalars in ``data`` into Tensors (recursively), leaving the rest;
    the DataLoader's ``collate_fn`` when automatic batching is off (``batch_size=None``).

    Example::

        default_convert({"x": np.zeros(3)})      # {"x": tensor([0., 0., 0.], dtype=float64)}
    """
    if isinstance(data, np.ndarray):
        return _wrap(data) if data.dtype.kind in "biufc" else data
    if isinstance(data, np.generic) and data.dtype.kind in "biufc":
        return _wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        out = {key: default_convert(value) for key, value in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
