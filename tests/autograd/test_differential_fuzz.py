"""Differential fuzzer: random programs over chainrule's public ops, compared with PyTorch.

Each program is generated from a seed: float32/float64 leaves (some holding NaN, Inf, zeros and
ties), then unary and broadcasting binary ops, reductions over random dims, views (reshape,
transpose, slices, integer-array indexing), in-place edits inside the graph (``+=``, ``relu_``,
``h[idx] = v``) and under ``no_grad`` (which must make backward refuse, or not, exactly when
PyTorch does), and a backward with a random upstream weight; a quarter of the programs also
differentiate the gradient again (``create_graph=True``). The same program runs on both
libraries: every value, gradient and dtype must agree, NaN and Inf in the same places, and an
error must happen in one library exactly when it happens in the other.

Kept out on purpose (differences owned elsewhere or documented):
* integer and bool tensors, and float32 mixed with float64 (type promotion is being reworked
  separately: a float64 0-d tensor times a float32 tensor is float32 in PyTorch);
* ``a ** b`` with a tensor exponent (at a = 0 some second derivatives differ: chainrule gives
  0 where PyTorch gives NaN, e.g. d2/da2 of a ** b at b = 0, where a ** 0 is the constant 1);
* ``amax``/``amin`` at NaN (chainrule follows ``max()``'s rule, PyTorch gives NaN to the group);
* ``2.0 / t`` followed by an in-place edit of ``t`` (PyTorch's scalar division saves its result,
  chainrule's saves ``t``: the programs use ``tensor(2.0) / t``);
* the sign of ``relu(-0.0)`` (+0 in chainrule, which uses NumPy's fast ``maximum``; -0 in
  PyTorch): the programs add 0.0 after relu, which makes both +0;
* ``prod`` in programs that differentiate twice: where the input holds zeros and the upstream
  gradient Inf, the second derivative's NaN places follow PyTorch's cumprod-based formula, which
  chainrule does not copy (second derivatives of prod at zeros are checked against PyTorch in
  test_gradient_edge_cases.py);
* an in-place edit of a view after ``view.relu_()``: PyTorch refuses to backward (relu saved the
  view's memory), chainrule's relu kept its own copy of the result and gives the right gradient;
* in-place edits through ``flip`` results (a view in chainrule, a copy in PyTorch) and through
  reshape/transpose views (PyTorch records them, chainrule refuses with a clear error).
"""

import warnings

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

GRID = np.array([-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0])
SHAPES = [(3, 4), (2, 3, 4), (5,), (4, 3)]

UNARY = {
    "exp": lambda lib, a: lib.exp(a),
    "log": lambda lib, a: lib.log(a),
    "sqrt": lambda lib, a: lib.sqrt(a),
    "tanh": lambda lib, a: lib.tanh(a),
    "sigmoid": lambda lib, a: lib.sigmoid(a),
    "relu": lambda lib, a: lib.relu(a) + 0.0,
    "abs": lambda lib, a: lib.abs(a),
    "sin": lambda lib, a: lib.sin(a),
    "cos": lambda lib, a: lib.cos(a),
    "neg": lambda lib, a: -a,
    "square": lambda lib, a: lib.square(a),
    "log1p": lambda lib, a: lib.log1p(a),
    "expm1": lambda lib, a: lib.expm1(a),
    "rsqrt": lambda lib, a: lib.rsqrt(a),
    "clamp": lambda lib, a: lib.clamp(a, -1.0, 1.0),
    "clamp_min": lambda lib, a: lib.clamp(a, min=0.0),
    "scale": lambda lib, a: a * 2.5,
    "rsub": lambda lib, a: 1.5 - a,
    "rdiv": lambda lib, a: lib.tensor(2.0) / a,
    "pow2": lambda lib, a: a**2,
    "pow_half": lambda lib, a: lib.abs(a) ** 0.5,
}
BINARY = {
    "add": lambda lib, a, b: a + b,
    "sub": lambda lib, a, b: a - b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "minimum": lambda lib, a, b: lib.minimum(a, b),
    "where": lambda lib, a, b: lib.where(a > b, a, b),
    "where_const": lambda lib, a, b: lib.where(b > 0, a, lib.zeros_like(a)),
}


def _reduction(kind, dim, keepdim):
    def f(lib, a):
        if kind == "sum":
            return a.sum(dim, keepdim=keepdim)
        if kind == "mean":
            return a.mean(dim, keepdim=keepdim)
        if kind == "max":
            return a.max(dim, keepdim=keepdim)[0]
        if kind == "min":
            return a.min(dim, keepdim=keepdim)[0]
        if kind == "prod":
            return a.prod(dim, keepdim=keepdim)
        if kind == "std":
            return a.std(dim, keepdim=keepdim)
        if kind == "var":
            return a.var(dim, keepdim=keepdim)
        if kind == "logsumexp":
            return a.logsumexp(dim, keepdim=keepdim)
        return a.norm(2, dim, keepdim=keepdim)

    return f


WHOLE = {
    "sum_all": lambda lib, a: a.sum(),
    "max_all": lambda lib, a: a.max(),
    "min_all": lambda lib, a: a.min(),
    "mean_all": lambda lib, a: a.mean(),
    "prod_all": lambda lib, a: a.prod(),
    "std_all": lambda lib, a: a.std(),
}


def _broadcast(s1, s2):
    try:
        return tuple(np.broadcast_shapes(s1, s2))
    except ValueError:
        return None


class Entry:
    """A tensor of the program: its shape, dtype, whether it is a leaf requiring grad, its memory
    family (views share their base's) and what kind of view it is."""

    def __init__(self, shape, dtype, family, kind="own", leaf=False, grad=True):
        self.shape, self.dtype, self.family, self.kind = tuple(shape), dtype, family, kind
        self.leaf, self.grad = leaf, grad


class Program:
    """Steps over a list of tensors ``env``; each step is (description, fn(lib, env))."""

    def __init__(self, seed, steps=5):
        self.rng = rng = np.random.default_rng(seed)
        self.seed = seed
        self.leaves, self.consts, self.steps, self.entries = [], [], [], []
        self.flipped = set()  # memory families read through flip()
        self.create_graph = rng.random() < 0.25
        base = SHAPES[rng.integers(len(SHAPES))]
        dtype = "float64" if rng.random() < 0.5 else "float32"
        for i in range(int(rng.integers(1, 4))):
            shape = self._related_shape(base)
            self.leaves.append((self._values(shape), dtype))
            self.entries.append(Entry(shape, dtype, family=("leaf", i), leaf=True))
        for _ in range(steps):
            self._add_step()
        self.weights = {}

    # ---- inputs ----
    def _related_shape(self, base):
        rng = self.rng
        cut = int(rng.integers(0, len(base))) if base and rng.random() < 0.3 else 0
        shape = list(base[cut:])
        return tuple(1 if rng.random() < 0.2 else n for n in shape)

    def _values(self, shape, special=None):
        rng = self.rng
        values = rng.choice(GRID, size=shape)
        if rng.random() < 0.3:
            values = values + rng.normal(0, 0.1, size=shape)  # not only exact grid values
        if (rng.random() < 0.3 if special is None else special) and values.size:
            mask = rng.random(shape) < 0.2
            values = np.where(mask, rng.choice(SPECIALS, size=shape), values)
        return np.asarray(values, dtype=np.float64)

    def _const(self, shape, dtype):
        self.consts.append((self._values(shape, special=False), dtype))
        return len(self.consts) - 1

    # ---- steps ----
    def _pick(self, cond=lambda e: True):
        choices = [i for i, e in enumerate(self.entries) if cond(e)]
        return None if not choices else choices[int(self.rng.integers(len(choices)))]

    def _new(self, desc, fn, shape, dtype, family=None, kind="own", grad=True):
        family = ("t", len(self.entries)) if family is None else family
        self.entries.append(Entry(shape, dtype, family, kind, grad=grad))
        self.steps.append((desc, fn))

    def _add_step(self):
        rng = self.rng
        r = rng.random()
        i = self._pick()
        e = self.entries[i]
        if r < 0.25:
            name = list(UNARY)[int(rng.integers(len(UNARY)))]
            f = UNARY[name]
            self._new(
                f"{name}(t{i})",
                lambda lib, env, f=f, i=i: env.append(f(lib, env[i])),
                e.shape,
                e.dtype,
                grad=e.grad,
            )
        elif r < 0.5:
            name = list(BINARY)[int(rng.integers(len(BINARY)))]
            f = BINARY[name]
            j = self._pick(lambda o: _broadcast(o.shape, e.shape) is not None)
            other = self.entries[j]
            if rng.random() < 0.3:  # a constant operand, maybe broadcast
                shape = self._related_shape(e.shape)
                c = self._const(shape, e.dtype)
                self._new(
                    f"{name}(t{i}, c{c})",
                    lambda lib, env, f=f, i=i, c=c: env.append(f(lib, env[i], env.const(c))),
                    _broadcast(e.shape, shape),
                    e.dtype,
                    grad=e.grad,
                )
                return
            dtype = "float64" if "float64" in (e.dtype, other.dtype) else "float32"
            self._new(
                f"{name}(t{i}, t{j})",
                lambda lib, env, f=f, i=i, j=j: env.append(f(lib, env[i], env[j])),
                _broadcast(e.shape, other.shape),
                dtype,
                grad=e.grad or other.grad,
            )
        elif r < 0.65 and e.shape:
            kinds = ["sum", "mean", "max", "min", "std", "var", "logsumexp", "norm"]
            kinds += [] if self.create_graph else ["prod"]
            kind = kinds[int(rng.integers(len(kinds)))]
            dim = int(rng.integers(-len(e.shape), len(e.shape)))
            keepdim = bool(rng.random() < 0.5)
            shape = list(e.shape)
            if keepdim:
                shape[dim] = 1
            else:
                del shape[dim]
            f = _reduction(kind, dim, keepdim)
            self._new(
                f"{kind}(t{i}, dim={dim}, keepdim={keepdim})",
                lambda lib, env, f=f, i=i: env.append(f(lib, env[i])),
                shape,
                e.dtype,
                grad=e.grad,
            )
        elif r < 0.7:
            names = [n for n in WHOLE if not (self.create_graph and n == "prod_all")]
            name = names[int(rng.integers(len(names)))]
            f = WHOLE[name]
            self._new(
                f"{name}(t{i})",
                lambda lib, env, f=f, i=i: env.append(f(lib, env[i])),
                (),
                e.dtype,
                grad=e.grad,
            )
        elif r < 0.85 and e.shape:
            self._view_step(i, e)
        elif r < 0.95:
            self._inplace_step()
        else:
            self._no_grad_edit_step()

    def _view_step(self, i, e):
        rng = self.rng
        choice = int(rng.integers(5))
        if choice == 0:
            self._new(
                f"t{i}.reshape(-1)",
                lambda lib, env, i=i: env.append(env[i].reshape(-1)),
                (int(np.prod(e.shape)),),
                e.dtype,
                e.family,
                "other_view",
                e.grad,
            )
        elif choice == 1 and len(e.shape) >= 2:
            shape = (e.shape[-1],) + e.shape[1:-1] + (e.shape[0],)
            self._new(
                f"t{i}.transpose(0, -1)",
                lambda lib, env, i=i: env.append(env[i].transpose(0, -1)),
                shape,
                e.dtype,
                e.family,
                "other_view",
                e.grad,
            )
        elif choice == 2 and e.shape[0] >= 2:
            self._new(
                f"t{i}[1:]",
                lambda lib, env, i=i: env.append(env[i][1:]),
                (e.shape[0] - 1,) + e.shape[1:],
                e.dtype,
                e.family,
                "index_view",
                e.grad,
            )
        elif choice == 3:
            idx = [int(k) for k in rng.integers(0, e.shape[0], size=3)]  # repeats accumulate
            self._new(
                f"t{i}[{idx}]",
                lambda lib, env, i=i, idx=idx: env.append(env[i][lib.tensor(idx)]),
                (3,) + e.shape[1:],
                e.dtype,
                grad=e.grad,
            )
        else:
            family = ("flip", len(self.entries))
            self.flipped.update((e.family, family))
            self._new(
                f"t{i}.flip(0)",
                lambda lib, env, i=i: env.append(env[i].flip(0)),
                e.shape,
                e.dtype,
                family,
                "flip",
                e.grad,
            )

    def _editable(self, e):
        return (
            not e.leaf
            and e.family[0] != "leaf"
            and e.kind in ("own", "index_view")
            and e.family not in self.flipped
            and e.shape
        )

    def _inplace_step(self):
        """An in-place op recorded in the graph, on a tensor that PyTorch and chainrule both allow."""
        rng = self.rng
        i = self._pick(self._editable)
        if i is None:
            return
        e = self.entries[i]
        choice = int(rng.integers(4))
        if choice == 0:
            # an operand that overlaps the target's memory is refused by PyTorch: not generated
            j = self._pick(
                lambda o: (
                    _broadcast(o.shape, e.shape) == e.shape and (o is e or o.family != e.family)
                )
            )
            if j is not None:
                self.steps.append(
                    (f"t{i} += t{j}", lambda lib, env, i=i, j=j: env[i].__iadd__(env[j]))
                )
                e.grad = e.grad or self.entries[j].grad
                return
        if choice == 1 and e.kind == "own":
            self.steps.append((f"t{i}.relu_()", lambda lib, env, i=i: env[i].relu_().add_(0.0)))
        elif choice == 2:
            self.steps.append((f"t{i}.mul_(-1.5)", lambda lib, env, i=i: env[i].mul_(-1.5)))
        else:
            j = self._pick(lambda o: o.shape == ())
            k = int(rng.integers(e.shape[0]))
            if j is None:
                self.steps.append(
                    (f"t{i}[{k}] = 0.25", lambda lib, env, i=i, k=k: env[i].__setitem__(k, 0.25))
                )
            else:
                self.steps.append(
                    (
                        f"t{i}[{k}] = t{j}",
                        lambda lib, env, i=i, j=j, k=k: env[i].__setitem__(k, env[j]),
                    )
                )
                e.grad = e.grad or self.entries[j].grad

    def _no_grad_edit_step(self):
        """An edit under no_grad: backward must refuse exactly when PyTorch does."""
        i = self._pick(lambda e: e.family not in self.flipped and e.kind != "flip")
        if i is None:
            return
        desc = f"no_grad: t{i}.mul_(2)"

        def step(lib, env, i=i):
            with lib.no_grad():
                env[i].mul_(2.0)

        self.steps.append((desc, step))

    # ---- running ----
    def run(self, lib):
        """Values and gradients of the program under ``lib`` (or where it raised)."""
        env = _Env(lib, self)
        result = {"values": [], "grads": None, "second": None, "error": None}
        phase = "forward"
        try:
            for _, step in self.steps:
                step(lib, env)
            targets = [t for t in env if t.requires_grad][-2:]
            phase = "backward"
            if targets:
                loss = sum((t * env.weight(len(env) + k, t)).sum() for k, t in enumerate(targets))
                grads = lib.autograd.grad(
                    loss, env.leaves, allow_unused=True, create_graph=self.create_graph
                )
                result["grads"] = [_array(g) for g in grads]
                if self.create_graph:
                    phase = "second"
                    # weights keyed by leaf: the same in both libraries whichever grads are recorded
                    used = [
                        (k, g) for k, g in enumerate(grads) if g is not None and g.requires_grad
                    ]
                    if used:
                        total = sum((g * env.weight(100 + k, g)).sum() for k, g in used)
                        second = lib.autograd.grad(total, env.leaves, allow_unused=True)
                        result["second"] = [_array(g) for g in second]
                    # A first gradient recorded without any dependence on the leaves (PyTorch
                    # records relu's backward through its result, chainrule does not): zeros.
                    result["second"] = [
                        np.zeros(tuple(t.shape), _array(t).dtype) if g is None else g
                        for t, g in zip(
                            env.leaves, result["second"] or [None] * len(env.leaves), strict=True
                        )
                    ]
        except RuntimeError as error:
            result["error"] = (phase, str(error).splitlines()[0][:200])
        result["values"] = [_array(t) for t in env]
        return result

    def describe(self):
        leaves = ", ".join(f"{dtype}{values.shape}" for values, dtype in self.leaves)
        return f"seed {self.seed}: leaves {leaves}; " + "; ".join(d for d, _ in self.steps)


class _Env(list):
    """The program's tensors under one library, plus its leaves, constants and weights."""

    def __init__(self, lib, program):
        super().__init__()
        self.lib, self.program = lib, program
        self.leaves = [
            lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
            for values, dtype in program.leaves
        ]
        self.extend(self.leaves)

    def const(self, c):
        values, dtype = self.program.consts[c]
        return self.lib.tensor(values, dtype=getattr(self.lib, dtype))

    def weight(self, key, like):
        """The same upstream weight in both libraries: grid values, now and then a NaN."""
        weights = self.program.weights
        shape = tuple(like.shape)
        if (key, shape) not in weights:
            rng = np.random.default_rng([self.program.seed, key])
            w = rng.choice(GRID, size=shape)
            if rng.random() < 0.1 and w.size:
                w.flat[int(rng.integers(w.size))] = np.nan
            weights[key, shape] = w
        return self.lib.tensor(weights[key, shape], dtype=like.dtype)


def _array(t):
    if t is None:
        return None
    try:
        data = t.detach().numpy()
    except RuntimeError:  # PyTorch's ZeroTensor (a known-zero second gradient)
        data = np.zeros(tuple(t.shape), dtype=str(t.dtype).replace("torch.", ""))
    return np.array(data, copy=True)


def _close(a, b, what, rtol, atol):
    if a is None or b is None:
        assert a is None and b is None, f"{what}: one library has no gradient"
        return
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} vs torch {b.dtype}"
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{what}: NaN places differ")
    finite = np.isfinite(b)
    np.testing.assert_array_equal(
        np.where(finite, 0, a), np.where(finite, 0, b), err_msg=f"{what}: Inf places differ"
    )
    scale = max(1.0, float(np.max(np.abs(b[finite]), initial=0.0)))
    np.testing.assert_allclose(
        a[finite], b[finite], rtol=rtol, atol=atol * scale, err_msg=f"{what}: values differ"
    )


def check(seed):
    program = Program(seed)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = program.run(cr), program.run(torch)
    context = program.describe()
    # float32 anywhere in the program (even promoted to float64 later) limits the precision
    mixed = any(dtype == "float32" for _, dtype in program.leaves)
    tol = (2e-4, 1e-4) if mixed else (1e-9, 1e-9)
    if theirs["error"] is not None or ours["error"] is not None:
        assert (ours["error"] is None) == (theirs["error"] is None), (
            f"{context}\nchainrule error: {ours['error']}\ntorch error: {theirs['error']}"
        )
        assert ours["error"][0] == theirs["error"][0], (
            f"{context}\nraised in {ours['error']} vs torch {theirs['error']}"
        )
        return
    for k, (a, b) in enumerate(zip(ours["values"], theirs["values"], strict=True)):
        _close(a, b, f"{context}\nvalue of t{k}", *tol)
    for key in ("grads", "second"):
        assert (ours[key] is None) == (theirs[key] is None), f"{context}\n{key} present in one only"
        rtol, atol = tol if key == "grads" else (tol[0] * 10, tol[1] * 10)  # more rounding
        for k, (a, b) in enumerate(zip(ours[key] or (), theirs[key] or (), strict=True)):
            _close(a, b, f"{context}\n{key} of leaf {k}", rtol, atol)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors: PyTorch's thread pool only adds overhead (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_fuzz_fast_tier():
    for seed in range(200):
        check(seed)


@pytest.mark.slow
@pytest.mark.parametrize("block", range(5))
def test_fuzz_slow_tier(block):
    for seed in range(1000 + 200 * block, 1200 + 200 * block):
        check(seed)
