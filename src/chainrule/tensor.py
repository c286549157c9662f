"""``Tensor``: an n-dimensional array that remembers how it was computed.

A tensor wraps a ``numpy.ndarray`` (``._data``). When it ``requires_grad``, every operation on it
records a node (``.grad_fn``) so that ``backward()`` can apply the chain rule. The operations
themselves live in :mod:`chainrule.ops`; this module only holds the container and binds the
operators and methods to those ops.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._typing import Dims, DTypeLike, TensorLike
from .backend import xp as np

if TYPE_CHECKING:
    from . import ops as _ops

_DEFAULT_DTYPE: list[np.dtype] = [np.dtype(np.float32)]


def get_default_dtype() -> np.dtype:
    """The dtype Python floats and lists get (float32 unless changed).

    Example:
        >>> cr.get_default_dtype()
        dtype('float32')
    """
    return _DEFAULT_DTYPE[0]


def set_default_dtype(dtype: DTypeLike) -> None:
    """Dtype given to Python floats and lists (float32 unless changed), as in PyTorch.

    Example:
        >>> cr.set_default_dtype(cr.float64)
        >>> cr.tensor([1.5]).dtype
        dtype('float64')
        >>> cr.set_default_dtype(cr.float32)
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _DEFAULT_DTYPE[0] = dtype


def to_array(data: TensorLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """NumPy array for ``data``: arrays keep their dtype, Python numbers and lists get the default.

    Only numbers (bool, int, float, complex) are accepted: strings, None and other objects raise
    a TypeError rather than becoming an array NumPy cannot compute with.
    """
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, np.ndarray):
        arr = data if dtype is None else data.astype(_numeric_dtype(dtype, data), copy=False)
    elif dtype is not None:
        arr = np.array(data, dtype=_numeric_dtype(dtype, data))
    else:
        arr = np.array(data)
        if arr.dtype == np.float64 and not isinstance(data, np.floating):
            arr = arr.astype(_DEFAULT_DTYPE[0])
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"tensor: cannot build a tensor from {_describe(data)} (dtype {arr.dtype}); "
            "only numbers and nested lists of numbers are accepted"
        )
    return arr


_NO_DATA: Any = object()  # Tensor() without arguments

# How tensors print (``cr.set_printoptions`` changes it; torch's defaults)
PRINT_OPTIONS: dict[str, Any] = {
    "precision": 4,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 80,
    "sci_mode": None,
}


def _legacy_data(args: tuple[Any, ...], dtype: DTypeLike | None) -> np.ndarray:
    """The array of ``Tensor(*args)`` for what is not an array or a tensor: torch.Tensor's
    legacy forms. ``Tensor(2, 3)`` is an uninitialised tensor of that shape (also from a Size,
    ``Tensor(x.size())``) and ``Tensor()`` an empty one, both of the default float dtype;
    ``Tensor(list)`` and ``Tensor(array)`` hold that dtype too, whatever the values' type
    (``Tensor([1, 2])`` and ``Tensor(np.arange(3))`` hold floats; an array that already has
    the default dtype is shared, not copied). The library's own calls use ``Tensor._wrap``."""
    if len(args) == 1 and isinstance(args[0], tuple) and type(args[0]) is not tuple:
        args = args[0]  # a Size: sizes, as torch.Tensor(torch.Size(...))
    if len(args) == 1 and type(args[0]) is not int:
        data = to_array(args[0], dtype)
        if dtype is None and (isinstance(args[0], np.ndarray) or data.dtype.kind in "biu"):
            return data.astype(_DEFAULT_DTYPE[0], copy=False)
        return data
    if all(type(a) is int for a in args):
        return np.empty(args if args else (0,), dtype or _DEFAULT_DTYPE[0])
    raise TypeError(
        "Tensor: expected data (a list, array or tensor) or sizes (ints), got "
        f"{', '.join(_describe(a) for a in args)}"
    )


def _numeric_dtype(dtype: DTypeLike, data: Any) -> Any:
    dtype = np.dtype(dtype)
    if dtype.kind not in "biufc":
        raise TypeError(
            f"tensor: dtype {dtype} is not a numeric dtype (building from {_describe(data)})"
        )
    return dtype


def _describe(data: Any) -> Any:
    if isinstance(data, np.ndarray):
        return f"an array of dtype {data.dtype}"
    if isinstance(data, (list, tuple)) and data:
        return f"a {type(data).__name__} holding {type(data[0]).__name__}"
    return repr(data) if data is None else type(data).__name__


class Tensor:
    """A differentiable n-dimensional array.

    Example:
        >>> x = cr.tensor([[1.0, 2.0]], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([[2., 4.]])
    """

    __slots__ = (
        "_data",
        "grad",
        "requires_grad",
        "_node",
        "_version_counter",
        "_hooks",
        "_retain",
        "__weakref__",
    )
    _data: np.ndarray
    grad: Tensor | None
    requires_grad: bool
    _node: Any  # the Node that made it, None for a leaf (Any: the engine knows which)
    _version_counter: list[int]  # version counter, shared with views
    _hooks: dict[int, Callable[..., Any]] | None
    _retain: bool
    __array_ufunc__ = None  # make NumPy defer to our reflected operators (ndarray * Tensor)
    __hash__ = object.__hash__  # tensors are hashable by identity, like torch's

    def __init__(
        self,
        data: Any = _NO_DATA,
        *sizes: int,
        dtype: DTypeLike | None = None,
        requires_grad: bool = False,
    ) -> None:
        if isinstance(data, Tensor) and not sizes:
            self._data = to_array(data, dtype)  # torch.Tensor(t) shares t's memory and dtype
        else:
            self._data = _legacy_data((data, *sizes) if data is not _NO_DATA else (), dtype)
        self.grad = None
        self._node = None
        self._version_counter = [0]  # version counter, shared with views of the same memory
        self._hooks = None
        self._retain = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data: Any) -> Any:
        """Fast constructor for op results: ``data`` is already the array to hold."""
        t = object.__new__(Tensor)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = False
        t._node = None
        t._version_counter = [0]
        t._hooks = None
        t._retain = False
        return t

    # ---- attributes ----
    @property
    def data(self) -> Tensor:
        """This tensor's values as a Tensor that shares its memory and has no history (as torch).

        Edits through it (``p.data.add_(...)``, ``p.data += ...``) change this tensor without
        being recorded; the shared version counter still lets backward catch a saved value that
        was overwritten. Assigning ``t.data = other`` replaces the values (shape may change).
        """
        return self.detach()

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._version_counter = [
            self._version_counter[0] + 1
        ]  # new memory: saved reads of the old values are stale

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    grad_fn = property(lambda self: self._node)
    is_leaf = property(lambda self: self._node is None)
    is_cuda = property(lambda self: False)
    is_cpu = property(lambda self: True)
    T = property(lambda self: self.permute(tuple(range(self.ndim - 1, -1, -1))))
    mT = property(lambda self: self.transpose(-2, -1))
    # Real tensors only: the conjugate transposes are the transposes, conj is the tensor itself.
    H = property(lambda self: self.t())
    mH = property(lambda self: self.transpose(-2, -1))
    real = property(lambda self: self)
    nbytes = property(lambda self: self._data.nbytes)
    itemsize = property(lambda self: self._data.itemsize)
    retains_grad = property(lambda self: bool(self._retain))

    @property
    def imag(self) -> Any:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes (as torch)")

    def adjoint(self) -> Tensor:
        """The conjugate transpose of the last two dims (the transpose, for real tensors).

        Example:
            >>> cr.ones(2, 3).adjoint().shape
            (3, 2)
        """
        return self.transpose(-2, -1)

    def conj(self) -> Tensor:
        """The complex conjugate: ``self`` for a real tensor (as torch).

        Example:
            >>> x = cr.ones(2)
            >>> x.conj() is x
            True
        """
        return self

    resolve_conj = resolve_neg = conj

    def is_conj(self) -> bool:
        """False: no lazy conjugation here (as torch for real tensors).

        Example:
            >>> cr.ones(2).is_conj()
            False
        """
        return False

    is_neg = is_conj

    def is_inference(self) -> bool:
        """False: ``inference_mode`` is ``no_grad`` here, with no separate tensor kind.

        Example:
            >>> cr.ones(2).is_inference()
            False
        """
        return False

    def data_ptr(self) -> int:
        """The address of the first element (tensors sharing memory share addresses).

        Example:
            >>> x = cr.ones(4)
            >>> x[1:].data_ptr() - x.data_ptr()
            4
        """
        return int(self._data.__array_interface__["data"][0])

    def storage_offset(self) -> int:
        """Elements between the start of the memory this tensor views and its first element.

        Example:
            >>> cr.ones(4)[1:].storage_offset()
            1
        """
        base = self._data
        while isinstance(base.base, np.ndarray):
            base = base.base
        start = base.__array_interface__["data"][0]
        return (self.data_ptr() - start) // self._data.itemsize

    def pin_memory(self) -> Tensor:
        """``self``: there is no device memory to pin for (as a CPU-only torch build).

        Example:
            >>> x = cr.ones(2)
            >>> x.pin_memory() is x
            True
        """
        return self

    def is_pinned(self) -> bool:
        """False (see :meth:`pin_memory`).

        Example:
            >>> cr.ones(2).is_pinned()
            False
        """
        return False

    def share_memory_(self) -> Tensor:
        """``self``: the memory is already shared with every thread of this process.

        Example:
            >>> x = cr.ones(2)
            >>> x.share_memory_() is x
            True
        """
        return self

    def is_shared(self) -> bool:
        """False: no memory is shared with other processes.

        Example:
            >>> cr.ones(2).is_shared()
            False
        """
        return False

    def new(self, *args: Any) -> Tensor:
        """The legacy constructor with this tensor's dtype: ``x.new(2, 3)`` is uninitialised,
        ``x.new([1, 2])`` holds the values, ``x.new()`` is empty.

        Example:
            >>> cr.zeros(1, dtype=cr.float64).new([1, 2]).dtype
            dtype('float64')
        """
        return Tensor(*args, dtype=self.dtype) if args else Tensor(dtype=self.dtype)

    @property
    def _version(self) -> Any:
        return self._version_counter[0]

    def _bump_version(self) -> None:
        self._version_counter[0] += 1

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of dim ``dim`` (as ``torch.Tensor.size``).

        Example:
            >>> cr.zeros(2, 3).size()
            (2, 3)
            >>> cr.zeros(2, 3).size(-1)
            3
        """
        return self._data.shape if dim is None else self._data.shape[dim]

    def stride(self, dim: int | None = None) -> Any:
        """Steps in elements between neighbours along each dim, or along ``dim`` (as torch).

        Example:
            >>> x = cr.zeros(2, 3)
            >>> x.stride(), x.t().stride(), x.stride(-1)
            ((3, 1), (1, 3), 1)
        """
        steps = tuple(s // self._data.itemsize for s in self._data.strides)
        return steps if dim is None else steps[dim]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the elements lie in memory in row-major order without gaps (as torch).

        Example:
            >>> cr.zeros(2, 3).is_contiguous(), cr.zeros(2, 3).t().is_contiguous()
            (True, False)
        """
        return bool(self._data.flags.c_contiguous)

    def element_size(self) -> int:
        """Bytes per element (as ``torch.Tensor.element_size``).

        Example:
            >>> cr.zeros(2, dtype=cr.float64).element_size()
            8
        """
        return self._data.itemsize

    def dim(self) -> int:
        """The number of dims (``ndim``).

        Example:
            >>> cr.zeros(2, 3).dim()
            2
        """
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements (``nelement`` is the same).

        Example:
            >>> cr.zeros(2, 3).numel()
            6
        """
        return self._data.size

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ---- device and dtype conversion ----
    @property
    def device(self) -> Any:
        """Always ``cr.device('cpu')``: chainrule computes on the CPU only."""
        from .devices import CPU

        return CPU

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``, as torch.

        Returns ``self`` when nothing changes (unless ``copy=True``); a dtype change is recorded
        (differentiable). Any device but the CPU raises RuntimeError.

        Example::

            x = cr.zeros(3).to("cpu", cr.float64)      # float64
        """
        from .devices import parse_to
        from .ops.pointwise import to_dtype

        dtype, copy = parse_to(args, kwargs, "Tensor.to")
        if dtype is not None and np.dtype(dtype) != self.dtype:
            return to_dtype(self, dtype)
        return self.clone() if copy else self

    def cpu(self) -> Tensor:
        """``self``: chainrule's tensors are always on the CPU.

        Example:
            >>> x = cr.zeros(2)
            >>> x.cpu() is x
            True
        """
        return self

    def cuda(self, device: Any = None, non_blocking: bool = False) -> None:
        """Raises RuntimeError: chainrule has no CUDA support."""
        from .devices import check_device

        check_device("cuda", "Tensor.cuda")

    def get_device(self) -> int:
        """-1, PyTorch's answer for a CPU tensor.

        Example:
            >>> cr.zeros(2).get_device()
            -1
        """
        return -1  # torch's answer for a CPU tensor

    # ---- conversion ----
    def numpy(self) -> np.ndarray:
        """The underlying ndarray, sharing memory (no copy); writes show in the tensor.

        Example:
            >>> x = cr.zeros(2)
            >>> x.numpy()[0] = 3.0
            >>> x
            tensor([3., 0.])
        """
        return self._data

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number.

        Example:
            >>> cr.tensor([[2.5]]).item()
            2.5
        """
        if self._data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted, shape is {self.shape}"
            )
        return self._data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists of Python numbers.

        Example:
            >>> cr.tensor([[1, 2], [3, 4]]).tolist()
            [[1, 2], [3, 4]]
        """
        return self._data.tolist()

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> Any:
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    # ---- autograd ----
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient tracking of a leaf on or off (floating dtypes only); returns ``self``.

        Example:
            >>> x = cr.zeros(2).requires_grad_()
            >>> x.requires_grad
            True
        """
        if requires_grad and self.dtype.kind == "c":
            raise RuntimeError(
                f"complex tensors ({self.dtype}) cannot require gradients in "
                "chainrule: complex autograd (conjugated vjps) is not implemented"
            )
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(
                f"only floating point tensors can require gradients, got {self.dtype}"
            )
        if self._node is not None and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """Same memory (and version counter), no history, no gradient."""
        t = Tensor._wrap(self._data)
        t._version_counter = self._version_counter
        return t

    def detach_(self) -> Tensor:
        """Cut ``self`` from its graph in place (no history, no gradient); returns ``self``.

        Example:
            >>> y = cr.ones(2, requires_grad=True) * 2
            >>> y.detach_().requires_grad
            False
        """
        self._node = None
        self.requires_grad = False
        return self

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retain = self._node is not None
        self._hook_dict()
        return self

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is computed.

        Returns a handle with ``.remove()``.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        return _HookHandle(self._hook_dict(), hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> _HookHandle:
        """``hook(tensor) -> None`` runs once this leaf's ``.grad`` holds this backward's result.

        It runs during backward, as soon as no remaining node can add to the gradient (as
        torch's): DistributedDataParallel starts its all-reduces from it. Returns a handle
        with ``.remove()``.
        """
        if not self.requires_grad or self._node is not None:
            raise RuntimeError(
                "post accumulate grad hooks can only be registered on leaf tensors "
                "that require grad"
            )
        return _HookHandle(engine.post_hooks_of(self), hook)

    def _hook_dict(self) -> Any:
        """This tensor's hooks, shared with the node that made it (which outlives the tensor)."""
        if self._hooks is None:
            self._hooks = {}
        if self._node is not None:
            self._node.hooks = self._hooks
        return self._hooks

    def backward(
        self,
        gradient: TensorLike | None = None,
        retain_graph: bool = False,
        create_graph: bool = False,
        inputs: Tensor | Sequence[Tensor] | None = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (the chain rule, backwards)."""
        if not self.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this "
                    f"tensor has shape {self.shape}: pass backward(gradient=...)"
                )
            gradient = np.ones(self._data.shape, self._data.dtype)
        elif isinstance(gradient, Tensor) and create_graph:
            pass
        else:
            gradient = _grad_array(gradient, self)
        if create_graph and not isinstance(gradient, Tensor):
            gradient = Tensor._wrap(gradient)
        if inputs is None:
            engine.backward((self,), (gradient,), retain_graph or create_graph, create_graph)
            return
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        grads = engine.backward(
            (self,),
            (gradient,),
            retain_graph or create_graph,
            create_graph,
            inputs=inputs,
            allow_unused=True,
        )
        for t, g in zip(inputs, grads, strict=True):  # accumulate into the named tensors only
            if g is not None:
                t.grad = g if t.grad is None else t.grad + g

    # ---- in-place operations: plain writes outside a graph, recorded inside (ops/inplace.py) ----
    def __setitem__(self, index: Any, value: Any) -> None:
        _inplace().setitem(self, index, value)

    def add_(self, other: Tensor | float, alpha: float = 1) -> Tensor:
        """In place ``self += alpha * other`` (broadcast to ``self``'s shape); recorded in a graph.

        Example:
            >>> x = cr.ones(2)
            >>> x.add_(cr.tensor([1.0, 2.0]), alpha=10)
            tensor([11., 21.])
        """
        return _inplace().apply(
            self, "add_", lambda t: t + (other if alpha == 1 else other * alpha), (other,)
        )

    def sub_(self, other: Tensor | float, alpha: float = 1) -> Tensor:
        """In place ``self -= alpha * other`` (broadcast to ``self``'s shape).

        Example:
            >>> cr.ones(2).sub_(3)
            tensor([-2., -2.])
        """
        return _inplace().apply(
            self, "sub_", lambda t: t - (other if alpha == 1 else other * alpha), (other,)
        )

    def mul_(self, other: Tensor | float) -> Tensor:
        """In place ``self *= other`` (broadcast to ``self``'s shape).

        Example:
            >>> cr.ones(2).mul_(cr.tensor([2.0, 3.0]))
            tensor([2., 3.])
        """
        return _inplace().apply(self, "mul_", lambda t: t * other, (other,))

    def div_(self, other: Tensor | float) -> Tensor:
        """In place ``self /= other`` (broadcast to ``self``'s shape).

        Example:
            >>> cr.ones(2).div_(4)
            tensor([0.25, 0.25])
        """
        return _inplace().apply(self, "div_", lambda t: t / other, (other,))

    def pow_(self, exponent: Tensor | float) -> Tensor:
        """In place ``self **= exponent``.

        Example:
            >>> cr.tensor([2.0, 3.0]).pow_(2)
            tensor([4., 9.])
        """
        return _inplace().apply(self, "pow_", lambda t: t**exponent, (exponent,))

    def clamp_(self, min: TensorLike | None = None, max: TensorLike | None = None) -> Tensor:
        """In place ``clamp(self, min, max)``; ``clip_`` is the same.

        Example:
            >>> cr.tensor([-1.0, 0.5, 2.0]).clamp_(0.0, 1.0)
            tensor([0. , 0.5, 1. ])
        """
        return _inplace().apply(self, "clamp_", lambda t: t.clamp(min, max), (min, max))

    clip_ = clamp_

    # In-place shape changes: the same memory, a new shape (see ops/inplace.py's reshape_).
    def unsqueeze_(self, dim: int) -> Tensor:
        """In place ``unsqueeze(self, dim)``: a new dim of size 1 at ``dim``.

        Shapes: (a, b) with dim=1 -> (a, 1, b).

        Example:
            >>> x = cr.zeros(2, 3)
            >>> x.unsqueeze_(1).shape
            (2, 1, 3)
        """
        return _inplace().reshape_(self, "unsqueeze_", lambda t: t.unsqueeze(dim))

    def squeeze_(self, dim: Dims = None) -> Tensor:
        """In place ``squeeze(self, dim)``: dims of size 1 removed (all, or those in ``dim``).

        Shapes: (1, 3, 1) -> (3,); with dim=0 -> (3, 1).

        Example:
            >>> x = cr.zeros(1, 3, 1)
            >>> x.squeeze_(0).shape
            (3, 1)
        """
        return _inplace().reshape_(self, "squeeze_", lambda t: t.squeeze(dim))

    def transpose_(self, dim0: int, dim1: int) -> Tensor:
        """In place ``transpose(self, dim0, dim1)``; ``swapaxes_`` and ``swapdims_`` are the same.

        Shapes: (a, b, c) with (0, 2) -> (c, b, a).

        Example:
            >>> x = cr.zeros(2, 3)
            >>> x.transpose_(0, 1).shape
            (3, 2)
        """
        return _inplace().reshape_(self, "transpose_", lambda t: t.transpose(dim0, dim1))

    swapaxes_ = swapdims_ = transpose_

    def t_(self) -> Tensor:
        """In place ``t(self)``: a matrix transposed (vectors and 0-d tensors stay as they are).

        Shapes: (a, b) -> (b, a).

        Example:
            >>> x = cr.tensor([[1, 2, 3]])
            >>> x.t_().shape
            (3, 1)
        """
        return _inplace().reshape_(self, "t_", lambda t: t.t())

    def relu_(self) -> Tensor:
        """In place ``relu(self)``.

        Example:
            >>> cr.tensor([-1.0, 2.0]).relu_()
            tensor([0., 2.])
        """
        return _inplace().apply(self, "relu_", lambda t: t.relu())

    def sigmoid_(self) -> Tensor:
        """In place ``sigmoid(self)``.

        Example:
            >>> cr.tensor([0.0]).sigmoid_()
            tensor([0.5])
        """
        return _inplace().apply(self, "sigmoid_", lambda t: t.sigmoid())

    def tanh_(self) -> Tensor:
        """In place ``tanh(self)``.

        Example:
            >>> cr.tensor([0.0]).tanh_()
            tensor([0.])
        """
        return _inplace().apply(self, "tanh_", lambda t: t.tanh())

    def exp_(self) -> Tensor:
        """In place ``exp(self)``.

        Example:
            >>> cr.tensor([0.0]).exp_()
            tensor([1.])
        """
        return _inplace().apply(self, "exp_", lambda t: t.exp())

    def neg_(self) -> Tensor:
        """In place ``-self``.

        Example:
            >>> cr.tensor([1.0, -2.0]).neg_()
            tensor([-1.,  2.])
        """
        return _inplace().apply(self, "neg_", lambda t: -t)

    def masked_fill_(self, mask: TensorLike, value: float) -> Tensor:
        """In place: ``value`` where ``mask`` (bool, broadcast to ``self``'s shape) is True.

        Example:
            >>> x = cr.tensor([1.0, 2.0, 3.0])
            >>> x.masked_fill_(x > 1.5, 0.0)
            tensor([1., 0., 0.])
        """
        return _inplace().apply(
            self, "masked_fill_", lambda t: t.masked_fill(mask, value), (value,), casting="unsafe"
        )

    def fill_(self, value: TensorLike) -> Tensor:
        """In place: ``value`` everywhere (cast to ``self``'s dtype).

        Example:
            >>> cr.zeros(3).fill_(7)
            tensor([7., 7., 7.])
        """
        if np.ndim(value._data if isinstance(value, Tensor) else value) != 0:
            raise RuntimeError(  # as torch: copy_ broadcasts a tensor of values, fill_ does not
                f"fill_: the value must be a number or a 0-dim tensor, got shape {np.shape(value)}"
            )
        return _inplace().fill(self, "fill_", value)

    def zero_(self) -> Tensor:
        """In place: zeros everywhere.

        Example:
            >>> cr.ones(2).zero_()
            tensor([0., 0.])
        """
        return _inplace().fill(self, "zero_", 0)

    def copy_(self, src: TensorLike) -> Tensor:
        """In place: the values of ``src`` (broadcast to ``self``'s shape, cast to its dtype).

        Example:
            >>> cr.zeros(2, 2).copy_(cr.tensor([1.0, 2.0]))
            tensor([[1., 2.],
                    [1., 2.]])
        """
        return _inplace().fill(self, "copy_", src)

    # Random fills draw from ``generator`` or chainrule's default one (see chainrule.random).
    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """In place: uniform draws on [a, b) from ``generator`` or the default one.

        Example:
            >>> x = cr.zeros(100).uniform_(2.0, 3.0)
            >>> bool(((x >= 2) & (x < 3)).all())
            True
        """
        from .random import resolve

        return _inplace().fill(self, "uniform_", resolve(generator).uniform(a, b, self.shape))

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """In place: normal draws with ``mean`` and ``std`` from ``generator`` or the default one.

        Example:
            >>> cr.zeros(3).normal_(5.0, 0.0)
            tensor([5., 5., 5.])
        """
        from .random import resolve

        return _inplace().fill(self, "normal_", resolve(generator).normal(mean, std, self.shape))

    def bernoulli_(self, p: TensorLike = 0.5, *, generator: Any = None) -> Tensor:
        """In place: 1 with probability ``p``, else 0 (in ``self``'s dtype).

        Example:
            >>> cr.zeros(3).bernoulli_(1.0)
            tensor([1., 1., 1.])
        """
        from .random import resolve

        return _inplace().fill(
            self, "bernoulli_", resolve(generator).random(self.shape) < np.asarray(p)
        )

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """In place: exponential draws with rate ``lambd``.

        Example:
            >>> x = cr.zeros(100).exponential_(2.0)
            >>> bool((x >= 0).all())
            True
        """
        from .random import resolve

        return _inplace().fill(
            self, "exponential_", resolve(generator).exponential(1.0 / lambd, self.shape)
        )

    def random_(self, from_: int = 0, to: int | None = None, *, generator: Any = None) -> Tensor:
        """Integers uniform in [from_, to - 1] (``random_(to)`` means [0, to - 1])."""
        from .random import resolve

        if to is None:
            from_, to = (
                0,
                from_
                if from_
                else (
                    2 ** (np.finfo(self.dtype).nmant + 1) + 1
                    if self.dtype.kind == "f"
                    else np.iinfo(self.dtype).max
                ),
            )
        return _inplace().fill(self, "random_", resolve(generator).integers(from_, to, self.shape))

    def bernoulli(self, p: TensorLike | None = None, *, generator: Any = None) -> Tensor:
        """0/1 draws with probabilities ``self`` (or the scalar ``p``): ``cr.bernoulli``.

        Example:
            >>> cr.tensor([0.0, 1.0]).bernoulli()
            tensor([0., 1.])
        """
        from .random import bernoulli

        return bernoulli(self, p, generator=generator)

    def multinomial(
        self, num_samples: int, replacement: bool = False, *, generator: Any = None
    ) -> Tensor:
        """Indices drawn from the categorical distributions in ``self``'s rows (``cr.multinomial``).

        Example:
            >>> cr.tensor([0.0, 1.0]).multinomial(2, replacement=True)
            tensor([1, 1])
        """
        from .random import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # ---- display ----
    def __repr__(self) -> str:
        options = PRINT_OPTIONS
        sci = options["sci_mode"]
        body = np.array2string(
            self._data,
            separator=", ",
            prefix="tensor(",
            precision=options["precision"],
            threshold=options["threshold"],
            edgeitems=options["edgeitems"],
            max_line_width=options["linewidth"],
            suppress_small=sci is False,
            floatmode=None if sci is None else "maxprec",
            formatter=None if not sci else {"float_kind": f"{{:.{options['precision']}e}}".format},
        )
        extra = ""
        if self.dtype not in (_DEFAULT_DTYPE[0], np.dtype(np.int64), np.dtype(np.bool_)):
            extra += f", dtype={self.dtype}"
        if self._node is not None:
            extra += f", grad_fn={self._node!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    if TYPE_CHECKING:
        # The operators and methods bound by chainrule/ops/__init__.py at import, as mypy sees
        # them, with the types of the ops they are.
        __add__ = __radd__ = _ops.add
        __sub__ = _ops.sub
        __rsub__ = _ops.rsub
        __mul__ = __rmul__ = _ops.mul
        __truediv__ = _ops.div
        __rtruediv__ = _ops.rdiv
        __pow__ = _ops.pow
        __rpow__ = _ops.rpow
        __matmul__ = _ops.matmul
        __neg__ = _ops.neg
        __abs__ = _ops.abs
        __getitem__ = _ops.getitem
        __floordiv__ = _ops.floor_divide
        __rfloordiv__ = _ops.rfloor_divide
        __mod__ = _ops.remainder
        __rmod__ = _ops.rremainder

        def __rmatmul__(self, other: TensorLike) -> Tensor: ...
        def __lt__(self, other: TensorLike) -> Tensor: ...
        def __le__(self, other: TensorLike) -> Tensor: ...
        def __gt__(self, other: TensorLike) -> Tensor: ...
        def __ge__(self, other: TensorLike) -> Tensor: ...
        def __eq__(self, other: object) -> Tensor: ...  # type: ignore[override]  # elementwise
        def __ne__(self, other: object) -> Tensor: ...  # type: ignore[override]
        def __invert__(self) -> Tensor: ...
        def __and__(self, other: TensorLike) -> Tensor: ...
        def __or__(self, other: TensorLike) -> Tensor: ...
        def __xor__(self, other: TensorLike) -> Tensor: ...
        def __rand__(self, other: TensorLike) -> Tensor: ...
        def __ror__(self, other: TensorLike) -> Tensor: ...
        def __rxor__(self, other: TensorLike) -> Tensor: ...

        # Methods bound by ops/__init__.py, typed as the ops they are.
        floor = _ops.floor
        ceil = _ops.ceil
        trunc = _ops.trunc
        round = _ops.round
        log10 = _ops.log10
        log2 = _ops.log2
        sinh = _ops.sinh
        cosh = _ops.cosh
        tan = _ops.tan
        asin = _ops.asin
        acos = _ops.acos
        atan = _ops.atan
        floor_divide = _ops.floor_divide
        remainder = _ops.remainder
        fmod = _ops.fmod
        isclose = _ops.isclose
        allclose = _ops.allclose
        equal = _ops.equal
        isnan = _ops.isnan
        isinf = _ops.isinf
        isfinite = _ops.isfinite
        logical_not = _ops.logical_not
        logical_and = _ops.logical_and
        logical_or = _ops.logical_or
        cumsum = _ops.cumsum
        cumprod = _ops.cumprod
        histc = _ops.histc
        histogram = _ops.histogram
        gather = _ops.gather
        scatter = _ops.scatter
        scatter_add = _ops.scatter_add
        index_select = _ops.index_select
        masked_fill = _ops.masked_fill
        mm = _ops.mm
        bmm = _ops.bmm
        narrow = _ops.narrow
        t = _ops.t
        roll = _ops.roll
        tril = _ops.tril
        triu = _ops.triu
        sort = _ops.sort
        argsort = _ops.argsort
        topk = _ops.topk
        erf = _ops.erf
        exp = _ops.exp
        log = _ops.log
        log1p = _ops.log1p
        expm1 = _ops.expm1
        sqrt = _ops.sqrt
        rsqrt = _ops.rsqrt
        sign = _ops.sign
        sin = _ops.sin
        cos = _ops.cos
        tanh = _ops.tanh
        sigmoid = _ops.sigmoid
        relu = _ops.relu
        clamp = _ops.clamp
        maximum = _ops.maximum
        minimum = _ops.minimum
        mean = _ops.mean
        var = _ops.var
        std = _ops.std
        amax = _ops.amax
        amin = _ops.amin
        prod = _ops.prod
        logsumexp = _ops.logsumexp
        norm = _ops.norm
        argmax = _ops.argmax
        argmin = _ops.argmin
        reshape = _ops.reshape
        flatten = _ops.flatten
        squeeze = _ops.squeeze
        unsqueeze = _ops.unsqueeze
        permute = _ops.permute
        transpose = _ops.transpose
        expand = _ops.expand
        expand_as = _ops.expand_as
        broadcast_to = _ops.broadcast_to
        repeat = _ops.repeat
        flip = _ops.flip
        split = _ops.split
        chunk = _ops.chunk
        unbind = _ops.unbind
        matmul = _ops.matmul
        softmax = _ops.softmax
        log_softmax = _ops.log_softmax
        clone = _ops.clone
        square = _ops.square
        add = _ops.add
        sub = _ops.sub
        mul = _ops.mul
        div = _ops.div
        neg = _ops.neg
        dot = _ops.dot
        outer = _ops.outer
        type_as = _ops.type_as
        is_floating_point = _ops.is_floating_point
        reciprocal = _ops.reciprocal
        clamp_min = _ops.clamp_min
        clamp_max = _ops.clamp_max
        lerp = _ops.lerp
        nonzero = _ops.nonzero
        tile = _ops.tile
        repeat_interleave = _ops.repeat_interleave
        diagonal = _ops.diagonal
        diag = _ops.diag
        trace = _ops.trace
        unique = _ops.unique
        bincount = _ops.bincount
        index_add = _ops.index_add
        masked_select = _ops.masked_select
        median = _ops.median
        nan_to_num = _ops.nan_to_num
        diff = _ops.diff
        cummax = _ops.cummax
        cummin = _ops.cummin
        heaviside = _ops.heaviside
        dist = _ops.dist
        view = _ops.reshape
        swapaxes = _ops.transpose
        clip = _ops.clamp
        negative = _ops.neg
        astype = _ops.to_dtype
        nelement = numel
        det = _ops.det
        inverse = _ops.inverse
        slogdet = _ops.slogdet
        logdet = _ops.logdet

        def eq(self, other: TensorLike) -> Tensor: ...
        def ne(self, other: TensorLike) -> Tensor: ...
        def lt(self, other: TensorLike) -> Tensor: ...
        def le(self, other: TensorLike) -> Tensor: ...
        def gt(self, other: TensorLike) -> Tensor: ...
        def ge(self, other: TensorLike) -> Tensor: ...
        def bitwise_and(self, other: TensorLike) -> Tensor: ...
        def bitwise_or(self, other: TensorLike) -> Tensor: ...
        def bitwise_xor(self, other: TensorLike) -> Tensor: ...
        def bitwise_not(self) -> Tensor: ...
        def all(self, dim: Dims = None, keepdim: bool = False) -> Tensor: ...
        def any(self, dim: Dims = None, keepdim: bool = False) -> Tensor: ...
        def sum(
            self,
            dim: Dims = None,
            keepdim: bool = False,
            dtype: DTypeLike | None = None,
            **kwargs: Any,
        ) -> Tensor: ...
        def max(self, dim: Dims | Tensor = None, keepdim: bool = False, **kwargs: Any) -> Any: ...
        def min(self, dim: Dims | Tensor = None, keepdim: bool = False, **kwargs: Any) -> Any: ...
        def abs(self) -> Tensor: ...
        def pow(self, exponent: TensorLike) -> Tensor: ...
        def scatter_(
            self,
            dim: int,
            index: TensorLike,
            src: TensorLike | None = None,
            value: Any = None,
            reduce: str | None = None,
        ) -> Tensor: ...
        def scatter_add_(self, dim: int, index: TensorLike, src: TensorLike) -> Tensor: ...
        def new_tensor(
            self,
            data: TensorLike,
            dtype: DTypeLike | None = None,
            device: Any = None,
            requires_grad: bool = False,
        ) -> Tensor: ...
        def new_zeros(
            self,
            *size: Any,
            dtype: DTypeLike | None = None,
            device: Any = None,
            requires_grad: bool = False,
        ) -> Tensor: ...
        def new_ones(
            self,
            *size: Any,
            dtype: DTypeLike | None = None,
            device: Any = None,
            requires_grad: bool = False,
        ) -> Tensor: ...
        def new_empty(
            self,
            *size: Any,
            dtype: DTypeLike | None = None,
            device: Any = None,
            requires_grad: bool = False,
        ) -> Tensor: ...
        def new_full(
            self,
            size: Any,
            fill_value: Any,
            dtype: DTypeLike | None = None,
            device: Any = None,
            requires_grad: bool = False,
        ) -> Tensor: ...
        def contiguous(self, memory_format: Any = None) -> Tensor: ...

        # assigned by ops/__init__.py's _bind_compat_methods
        where: Callable[..., Any]
        index_add_: Callable[..., Tensor]
        addmm: Callable[..., Tensor]
        baddbmm: Callable[..., Tensor]
        baddbmm_: Callable[..., Tensor]
        nan_to_num_: Callable[..., Tensor]

        def view_as(self, other: Tensor) -> Tensor: ...
        def reshape_as(self, other: Tensor) -> Tensor: ...
        # Last: these names shadow builtins in the rest of the class body.
        def type(self, dtype: Any = None, non_blocking: bool = False, **kwargs: Any) -> Any: ...
        def half(self) -> Tensor: ...
        def double(self) -> Tensor: ...
        def long(self) -> Tensor: ...
        def float(self) -> Tensor: ...
        def int(self) -> Tensor: ...
        def bool(self) -> Tensor: ...


class _HookHandle:
    _next_id = 0

    def __init__(self, hooks: Any, hook: Callable[..., Any]) -> None:
        _HookHandle._next_id += 1
        self.id = _HookHandle._next_id
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)


def _inplace() -> Any:
    from .ops import inplace  # the ops import this module: bound on first use

    return inplace


def _grad_array(gradient: Any, t: Tensor) -> Any:
    g = to_array(gradient, t.dtype)
    if g.shape != t.shape:
        raise RuntimeError(
            f"backward: gradient has shape {g.shape} but the tensor has shape {t.shape}"
        )
    return g


# Imported last: the autograd package imports Tensor from this module.
from .autograd import engine  # noqa: E402

engine._tensor_class = Tensor
