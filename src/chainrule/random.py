"""Random generators and sampling: ``Generator``, ``manual_seed``, ``multinomial``, ``normal``...

One default :class:`Generator` is behind every draw in chainrule that is not given its own
(init, dropout, shuffling, ``rand*``). A :class:`Generator` is a ``numpy.random.Generator``
(PCG64) with PyTorch's seeding methods, so it can be passed wherever chainrule or NumPy code
expects either. Draws follow the same distributions as PyTorch, not the same bits.
"""

import contextlib
import json

import numpy as np


class Generator(np.random.Generator):
    """A random number generator with PyTorch's interface (``manual_seed``, ``get_state``...).

    It is also a ``numpy.random.Generator``: ``g.random(3)``, ``g.permutation(5)`` work.
    ``device`` may only be ``"cpu"``.

    Example:
        >>> g = cr.Generator().manual_seed(0)
        >>> a = cr.rand(3, generator=g)
        >>> _ = g.manual_seed(0)
        >>> cr.equal(a, cr.rand(3, generator=g))
        True
    """

    def __init__(self, device="cpu"):
        from .devices import device as _device

        _device(device)._check_cpu("Generator")
        self._initial_seed = 67280421310721  # PyTorch's default seed for a new Generator
        super().__init__(np.random.PCG64(self._initial_seed))

    @property
    def device(self):
        from .devices import device as _device

        return _device("cpu")

    def manual_seed(self, seed):
        """Reseed in place (the object keeps its identity); returns ``self``."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            try:
                seed = int(seed)
            except (TypeError, ValueError):
                raise TypeError(f"manual_seed expected an integer seed, got {seed!r}") from None
        seed = int(seed)
        if seed < 0:
            seed &= (1 << 64) - 1  # PyTorch maps negative seeds onto uint64 the same way
        self._initial_seed = seed
        self.bit_generator.state = np.random.PCG64(seed).state
        return self

    def seed(self):
        """Reseed from fresh OS entropy; returns the new seed."""
        seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        """The seed last given to :meth:`manual_seed` (or :meth:`seed`)."""
        return self._initial_seed

    def get_state(self):
        """The full state as a uint8 Tensor (PyTorch returns a ByteTensor too)."""
        from .tensor import Tensor

        state = {"bit_generator": self.bit_generator.state, "initial_seed": self._initial_seed}
        return Tensor._wrap(np.frombuffer(json.dumps(state).encode(), dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Restore a state from :meth:`get_state`; returns ``self``."""
        raw = np.asarray(new_state, dtype=np.uint8).tobytes()
        try:
            state = json.loads(raw.decode())
            self.bit_generator.state = state["bit_generator"]
        except (ValueError, KeyError, TypeError) as err:
            raise RuntimeError(
                f"Generator.set_state: not a state from Generator.get_state ({err})"
            ) from None
        self._initial_seed = state.get("initial_seed", self._initial_seed)
        return self

    def __reduce__(self):
        return (_rebuild_generator, (self.bit_generator.state, self._initial_seed))

    def __repr__(self):
        return f"<chainrule.Generator object at {id(self):#x}>"


def _rebuild_generator(state, initial_seed):
    g = Generator()
    g.bit_generator.state = state
    g._initial_seed = initial_seed
    return g


_default = Generator().manual_seed(0)


def manual_seed(seed):
    """Reseed the default generator so every later random draw is reproducible; returns it.

    Example:
        >>> _ = cr.manual_seed(0)
        >>> a = cr.rand(2)
        >>> _ = cr.manual_seed(0)
        >>> cr.equal(a, cr.rand(2))
        True
    """
    return _default.manual_seed(seed)


def seed():
    """Reseed the default generator from OS entropy; returns the seed.

    Example:
        >>> s = cr.seed()
        >>> s == cr.initial_seed()
        True
    """
    return _default.seed()


def initial_seed():
    """The seed last given to ``manual_seed`` (negative seeds map onto uint64, as in PyTorch).

    Example:
        >>> _ = cr.manual_seed(7)
        >>> cr.initial_seed()
        7
        >>> _ = cr.manual_seed(-1)
        >>> cr.initial_seed()
        18446744073709551615
    """
    return _default.initial_seed()


def default_generator():
    """The default :class:`Generator` that chainrule draws from (always the same object)."""
    return _default


def get_rng_state():
    """A JSON-friendly snapshot of the default generator (for checkpoints).

    Example:
        >>> state = cr.get_rng_state()
        >>> a = cr.rand(2)
        >>> cr.set_rng_state(state)
        >>> cr.equal(a, cr.rand(2))
        True
    """
    return _default.bit_generator.state


def set_rng_state(state):
    """Restore a snapshot taken by :func:`get_rng_state` (or a ``Generator.get_state()`` tensor).

    Example:
        >>> state = cr.get_rng_state()
        >>> a = cr.randn(2)
        >>> cr.set_rng_state(state)
        >>> cr.equal(a, cr.randn(2))
        True
    """
    if isinstance(state, dict):
        _default.bit_generator.state = state
    else:
        _default.set_state(state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, device_type="cpu"):
    """Draws inside the ``with`` block leave the default generator as it was before it
    (``devices`` and ``device_type`` are accepted for torch's signature: there is only the CPU).

    Example::

        with cr.random.fork_rng():
            noise = cr.randn(3)        # does not change what later draws give
    """
    if not enabled:
        yield
        return
    state = _default.bit_generator.state
    try:
        yield
    finally:
        _default.bit_generator.state = state


def resolve(generator=None, where="random"):
    """The ``numpy.random.Generator`` to draw from: ``generator``, or the default one."""
    if generator is None:
        return _default
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"{where}: generator must be a chainrule.Generator (or numpy.random.Generator), "
            f"got {type(generator).__name__}"
        )
    return generator


# ---- sampling functions -------------------------------------------------------------------------


def _array(x):
    from .tensor import Tensor

    return x._data if isinstance(x, Tensor) else np.asarray(x)


def multinomial(input, num_samples, replacement=False, generator=None):
    """Indices drawn from the categorical distribution(s) given by the rows of ``input``.

    ``input`` (K,) or (N, K) holds non-negative weights (need not sum to 1). Returns int64 of
    shape (num_samples,) or (N, num_samples). Without replacement an index is drawn at most once,
    so ``num_samples`` may not exceed the number of non-zero weights.

    Example:
        >>> cr.multinomial(cr.tensor([0.0, 0.0, 1.0]), 3, replacement=True)
        tensor([2, 2, 2])
        >>> cr.multinomial(cr.tensor([[1.0, 0.0], [0.0, 1.0]]), 1)
        tensor([[0],
                [1]])
    """
    from .tensor import Tensor

    w = _array(input).astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {w.shape}")
    if isinstance(num_samples, bool) or int(num_samples) != num_samples or num_samples <= 0:
        raise RuntimeError(
            f"multinomial: cannot sample num_samples={num_samples!r} (need a positive integer)"
        )
    num_samples = int(num_samples)
    rows = w.reshape(-1, w.shape[-1])
    if w.shape[-1] == 0:
        raise RuntimeError("multinomial: number of categories cannot be zero")
    if not np.all(np.isfinite(rows)) or np.any(rows < 0):
        raise RuntimeError(
            "multinomial: probability tensor contains either inf, nan or element < 0"
        )
    sums = rows.sum(axis=1)
    if np.any(sums <= 0):
        raise RuntimeError(
            "multinomial: invalid multinomial distribution (sum of probabilities <= 0)"
        )
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample={num_samples} > prob_dist.size(-1)="
            f"{rows.shape[1]} samples without replacement"
        )
    if not replacement and np.any((rows > 0).sum(axis=1) < num_samples):
        raise RuntimeError(
            "multinomial: invalid multinomial distribution (with replacement=False, "
            "not enough non-negative category to sample)"
        )
    rng = resolve(generator, "multinomial")
    p = rows / sums[:, None]
    if replacement:
        # Inverse-CDF sampling: one uniform per draw, searched in each row's cumulative sums.
        cdf = np.cumsum(p, axis=1)
        cdf[:, -1] = 1.0
        u = rng.random((rows.shape[0], num_samples))
        out = np.stack([np.searchsorted(c, ui, side="right") for c, ui in zip(cdf, u, strict=True)])
        out = np.minimum(out, rows.shape[1] - 1)
    else:
        # Exponential-race (Gumbel-top-k): the k smallest E_i / p_i are a draw without replacement.
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential(p.shape) / p
        out = np.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    return Tensor._wrap(out.astype(np.int64).reshape(w.shape[:-1] + (num_samples,)))


def normal(
    mean=0.0,
    std=1.0,
    size=None,
    *,
    generator=None,
    dtype=None,
    requires_grad=False,
    device=None,
    out=None,
):
    """Normal draws: ``normal(mean_tensor, std_tensor)`` elementwise (broadcast), or
    ``normal(mean, std, size)`` with float mean and std.

    Example:
        >>> cr.normal(2.0, 0.5, size=(4, 4)).shape
        (4, 4)
        >>> cr.normal(cr.zeros(3), cr.zeros(3))
        tensor([0., 0., 0.])
    """
    from .devices import check_device
    from .tensor import Tensor, get_default_dtype

    check_device(device, "normal")
    if out is not None:
        raise TypeError("normal: out= is not supported")
    mean_a, std_a = _array(mean), _array(std)
    if np.any(std_a < 0):
        raise RuntimeError(f"normal: expected all std >= 0.0, got {std}")
    if size is not None:
        if mean_a.ndim or std_a.ndim:
            raise TypeError("normal: size= needs float mean and std")
        shape = tuple(size) if isinstance(size, (tuple, list)) else (int(size),)
    else:
        if not (isinstance(mean, Tensor) or isinstance(std, Tensor)):
            raise TypeError("normal: give a tensor mean or std, or a size")
        shape = np.broadcast_shapes(mean_a.shape, std_a.shape)
    if dtype is None:
        floats = [a.dtype for a in (mean_a, std_a) if a.dtype.kind == "f" and a.ndim]
        dtype = np.result_type(*floats) if floats else get_default_dtype()
    rng = resolve(generator, "normal")
    data = mean_a + std_a * rng.standard_normal(shape)
    t = Tensor._wrap(np.asarray(data, dtype=np.dtype(dtype)))
    return t.requires_grad_(True) if requires_grad else t


def bernoulli(input, p=None, *, generator=None):
    """0/1 draws with probabilities ``input`` (or the scalar ``p``), in ``input``'s dtype.

    Example:
        >>> x = cr.bernoulli(cr.tensor([0.0, 1.0, 0.0]))
        >>> x
        tensor([0., 1., 0.])
    """
    from .tensor import Tensor

    probs = _array(input)
    if p is not None:
        probs = np.full(probs.shape, float(p))
    if np.any((probs < 0) | (probs > 1)) or np.any(np.isnan(probs)):
        raise RuntimeError("bernoulli: expected all probabilities in [0, 1]")
    rng = resolve(generator, "bernoulli")
    dtype = _array(input).dtype
    return Tensor._wrap((rng.random(probs.shape) < probs).astype(dtype))


def poisson(input, generator=None):
    """Poisson draws with rates ``input`` (same shape and dtype).

    Example:
        >>> x = cr.poisson(cr.full((3,), 4.0))
        >>> x.shape, x.dtype
        ((3,), dtype('float32'))
        >>> cr.poisson(cr.zeros(2))
        tensor([0., 0.])
    """
    from .tensor import Tensor

    rates = _array(input)
    if np.any(rates < 0) or np.any(np.isnan(rates)):
        raise RuntimeError("poisson: expected all rates >= 0")
    return Tensor._wrap(resolve(generator, "poisson").poisson(rates).astype(rates.dtype))
