"""``Tensor``: an n-dimensional array that remembers how it was computed.

A tensor wraps a ``numpy.ndarray`` (``._data``). When it ``requires_grad``, every operation on it
records a node (``.grad_fn``) so that ``backward()`` can apply the chain rule. The operations
themselves live in :mod:`chainrule.ops`; this module only holds the container and binds the
operators and methods to those ops.
"""

from .backend import xp as np

_DEFAULT_DTYPE = [np.dtype(np.float32)]


def get_default_dtype():
    return _DEFAULT_DTYPE[0]


def set_default_dtype(dtype):
    """Dtype given to Python floats and lists (float32 unless changed), as in PyTorch."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are allowed, got {dtype}")
    _DEFAULT_DTYPE[0] = dtype


def to_array(data, dtype=None):
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


def _numeric_dtype(dtype, data):
    dtype = np.dtype(dtype)
    if dtype.kind not in "biufc":
        raise TypeError(
            f"tensor: dtype {dtype} is not a numeric dtype (building from {_describe(data)})"
        )
    return dtype


def _describe(data):
    if isinstance(data, np.ndarray):
        return f"an array of dtype {data.dtype}"
    if isinstance(data, (list, tuple)) and data:
        return f"a {type(data).__name__} holding {type(data[0]).__name__}"
    return repr(data) if data is None else type(data).__name__


class Tensor:
    """A differentiable n-dimensional array.

    Example::

        x = cr.tensor([[1.0, 2.0]], requires_grad=True)   # shape (1, 2), float32
        y = (x * x).sum()
        y.backward()
        x.grad                                             # tensor([[2., 4.]])
    """

    __slots__ = (
        "_data",
        "grad",
        "requires_grad",
        "_node",
        "_vc",
        "_hooks",
        "_retain",
        "__weakref__",
    )
    __array_ufunc__ = None  # make NumPy defer to our reflected operators (ndarray * Tensor)
    __hash__ = object.__hash__  # tensors are hashable by identity, like torch's

    def __init__(self, data, dtype=None, requires_grad=False):
        self._data = to_array(data, dtype)
        self.grad = None
        self._node = None
        self._vc = [0]  # version counter, shared with views of the same memory
        self._hooks = None
        self._retain = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data):
        """Fast constructor for op results: ``data`` is already the array to hold."""
        t = object.__new__(Tensor)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.requires_grad = False
        t._node = None
        t._vc = [0]
        t._hooks = None
        t._retain = False
        return t

    # ---- attributes ----
    @property
    def data(self):
        """This tensor's values as a Tensor that shares its memory and has no history (as torch).

        Edits through it (``p.data.add_(...)``, ``p.data += ...``) change this tensor without
        being recorded; the shared version counter still lets backward catch a saved value that
        was overwritten. Assigning ``t.data = other`` replaces the values (shape may change).
        """
        return self.detach()

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._vc = [self._vc[0] + 1]  # new memory: saved reads of the old values are stale

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    grad_fn = property(lambda self: self._node)
    is_leaf = property(lambda self: self._node is None)
    is_cuda = property(lambda self: False)
    is_cpu = property(lambda self: True)
    T = property(lambda self: self.permute(tuple(range(self.ndim - 1, -1, -1))))
    mT = property(lambda self: self.transpose(-2, -1))

    @property
    def _version(self):
        return self._vc[0]

    def _bump_version(self):
        self._vc[0] += 1

    def size(self, dim=None):
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # ---- device and dtype conversion ----
    @property
    def device(self):
        """Always ``cr.device('cpu')``: chainrule computes on the CPU only."""
        from .devices import CPU

        return CPU

    def to(self, *args, **kwargs):
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

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        """Raises RuntimeError: chainrule has no CUDA support."""
        from .devices import check_device

        check_device("cuda", "Tensor.cuda")

    def get_device(self):
        return -1  # torch's answer for a CPU tensor

    # ---- conversion ----
    def numpy(self):
        return self._data

    def item(self):
        if self._data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted, shape is {self.shape}"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ---- autograd ----
    def requires_grad_(self, requires_grad=True):
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

    def detach(self):
        """Same memory (and version counter), no history, no gradient."""
        t = Tensor._wrap(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        self._node = None
        self.requires_grad = False
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retain = self._node is not None
        self._hook_dict()
        return self

    def register_hook(self, hook):
        """``hook(grad) -> Tensor or None`` runs when this tensor's gradient is computed.

        Returns a handle with ``.remove()``.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        return _HookHandle(self._hook_dict(), hook)

    def register_post_accumulate_grad_hook(self, hook):
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

    def _hook_dict(self):
        """This tensor's hooks, shared with the node that made it (which outlives the tensor)."""
        if self._hooks is None:
            self._hooks = {}
        if self._node is not None:
            self._node.hooks = self._hooks
        return self._hooks

    def backward(self, gradient=None, retain_graph=False, create_graph=False, inputs=None):
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
    def __setitem__(self, index, value):
        _inplace().setitem(self, index, value)

    def add_(self, other, alpha=1):
        return _inplace().apply(
            self, "add_", lambda t: t + (other if alpha == 1 else other * alpha), (other,)
        )

    def sub_(self, other, alpha=1):
        return _inplace().apply(
            self, "sub_", lambda t: t - (other if alpha == 1 else other * alpha), (other,)
        )

    def mul_(self, other):
        return _inplace().apply(self, "mul_", lambda t: t * other, (other,))

    def div_(self, other):
        return _inplace().apply(self, "div_", lambda t: t / other, (other,))

    def pow_(self, exponent):
        return _inplace().apply(self, "pow_", lambda t: t**exponent, (exponent,))

    def clamp_(self, min=None, max=None):
        return _inplace().apply(self, "clamp_", lambda t: t.clamp(min, max), (min, max))

    clip_ = clamp_

    def relu_(self):
        return _inplace().apply(self, "relu_", lambda t: t.relu())

    def sigmoid_(self):
        return _inplace().apply(self, "sigmoid_", lambda t: t.sigmoid())

    def tanh_(self):
        return _inplace().apply(self, "tanh_", lambda t: t.tanh())

    def exp_(self):
        return _inplace().apply(self, "exp_", lambda t: t.exp())

    def neg_(self):
        return _inplace().apply(self, "neg_", lambda t: -t)

    def masked_fill_(self, mask, value):
        return _inplace().apply(
            self, "masked_fill_", lambda t: t.masked_fill(mask, value), (value,), casting="unsafe"
        )

    def fill_(self, value):
        return _inplace().fill(self, "fill_", value)

    def zero_(self):
        return _inplace().fill(self, "zero_", 0)

    def copy_(self, src):
        return _inplace().fill(self, "copy_", src)

    # Random fills draw from ``generator`` or chainrule's default one (see chainrule.random).
    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        from .random import resolve

        return _inplace().fill(self, "uniform_", resolve(generator).uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        from .random import resolve

        return _inplace().fill(self, "normal_", resolve(generator).normal(mean, std, self.shape))

    def bernoulli_(self, p=0.5, *, generator=None):
        from .random import resolve

        return _inplace().fill(
            self, "bernoulli_", resolve(generator).random(self.shape) < np.asarray(p)
        )

    def exponential_(self, lambd=1.0, *, generator=None):
        from .random import resolve

        return _inplace().fill(
            self, "exponential_", resolve(generator).exponential(1.0 / lambd, self.shape)
        )

    def random_(self, from_=0, to=None, *, generator=None):
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

    def bernoulli(self, p=None, *, generator=None):
        from .random import bernoulli

        return bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        from .random import multinomial

        return multinomial(self, num_samples, replacement, generator=generator)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    # ---- display ----
    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(", precision=4)
        extra = ""
        if self.dtype not in (_DEFAULT_DTYPE[0], np.dtype(np.int64), np.dtype(np.bool_)):
            extra += f", dtype={self.dtype}"
        if self._node is not None:
            extra += f", grad_fn={self._node!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"


class _HookHandle:
    _next_id = 0

    def __init__(self, hooks, hook):
        _HookHandle._next_id += 1
        self.id = _HookHandle._next_id
        self._hooks = hooks
        hooks[self.id] = hook

    def remove(self):
        self._hooks.pop(self.id, None)


def _inplace():
    from .ops import inplace  # the ops import this module: bound on first use

    return inplace


def _grad_array(gradient, t):
    g = to_array(gradient, t.dtype)
    if g.shape != t.shape:
        raise RuntimeError(
            f"backward: gradient has shape {g.shape} but the tensor has shape {t.shape}"
        )
    return g


# Imported last: the autograd package imports Tensor from this module.
from .autograd import engine  # noqa: E402

engine._tensor_class = Tensor
