"""The built-in ops ``chainrule gradcheck`` verifies, each on small float64 inputs: every entry
of the shared op table (``chainrule.testing.op_table``, also checked by the tests) and the
recurrent layers.

A case builds its inputs from a NumPy generator and returns ``(fn, inputs)``: ``fn()`` computes
the op's output from ``inputs`` (Tensors requiring grad, perturbed in place by the check).
Inputs are drawn away from the ops' kinks (0 for relu/abs, the clamp bounds, ties for max), so
finite differences are meaningful everywhere.
"""

from dataclasses import dataclass

import numpy as np

import chainrule

from .. import nn
from .. import random as crrandom
from ..creation import tensor
from ..testing import op_table

F64 = np.dtype(np.float64)
# Ops without a gradient to check: integer results, or an encoding of labels.
NOT_DIFFERENTIABLE = (
    "argmax",
    "argmin",
    "one_hot",
    # comparisons, logical and bitwise ops: bool or integer results
    "all",
    "any",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "not_equal",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "bitwise_not",
    "rbitwise_and",
    "rbitwise_or",
    "rbitwise_xor",
    "bitwise_left_shift",
    "bitwise_right_shift",
    "rbitwise_left_shift",
    "rbitwise_right_shift",
    "isclose",
    "allclose",
    "equal",
    "isnan",
    "isinf",
    "isfinite",
    "logical_and",
    "logical_or",
    "logical_not",
    # integer results: counts and sorting indices
    "histc",
    "histogram",
    "argsort",
    "searchsorted",
    # a step function: PyTorch defines no gradient either
    "heaviside",
    # dtype rules, not ops
    "result_type",
    "promote_types",
    # predicates, sizes, limits and indices
    "Size",
    "finfo",
    "iinfo",
    "is_floating_point",
    "is_tensor",
    "numel",
    "nonzero",
    "unique",
    "bincount",
    # predicates, settings and index builders of ops/composite.py
    "signbit",
    "isposinf",
    "isneginf",
    "isreal",
    "logical_xor",
    "count_nonzero",
    "can_cast",
    "is_complex",
    "is_nonzero",
    "is_same_size",
    "is_signed",
    "tril_indices",
    "triu_indices",
    "asarray",
    "detach",
    "set_printoptions",
    "set_num_threads",
    "get_num_threads",
    "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled",
    "argwhere",
    "gcd",
    "lcm",
    "frexp",
    "nextafter",
    "broadcast_shapes",
    "isin",
    "bucketize",
    "unravel_index",
    "set_float32_matmul_precision",
    "get_float32_matmul_precision",
    "set_num_interop_threads",
    "get_num_interop_threads",
    "set_flush_denormal",
    "set_warn_always",
    "is_warn_always_enabled",
    "set_default_tensor_type",
    "typename",
    "unique_consecutive",
    "apply_",
    "map_",
    # an in-place write of constants (its gradient: zero on the diagonal, tested)
    "fill_diagonal_",
    # legacy constructors
    "FloatTensor",
    "DoubleTensor",
    "HalfTensor",
    "LongTensor",
    "IntTensor",
    "ByteTensor",
    "BoolTensor",
)


@dataclass
class Case:
    """One op to check: ``make(rng) -> (fn, inputs)``; ``covers``: the op names it exercises."""

    name: str
    make: object
    covers: tuple


def away_from_kinks(rng, shape):
    """Values +-{0.15, 0.35, 0.55, 0.75, 0.95} plus up to 0.02 of noise: never within 0.03 of
    0, +-0.5 or +-1, and no two equal (max, min and sorting have no ties)."""
    n = int(np.prod(shape, dtype=np.int64))
    grid = rng.choice([0.15, 0.35, 0.55, 0.75, 0.95], size=n) * rng.choice([-1, 1], size=n)
    noise = rng.permutation(n) / max(n, 1) * 0.02
    return (grid + noise).reshape(shape)


def draw(rng, shape, domain="any"):
    if domain == "pos":
        return rng.uniform(0.5, 2.0, size=shape)
    if domain == "prob":
        return rng.uniform(0.1, 0.9, size=shape)
    return away_from_kinks(rng, shape)


def leaf(rng, shape, domain="any"):
    return tensor(draw(rng, shape, domain), dtype=F64, requires_grad=True)


def op(name, f, *shapes, domain="any", covers=None):
    """A case ``f(*inputs)`` with one input per shape (``domain`` a string or one per input)."""
    domains = domain if isinstance(domain, tuple) else (domain,) * len(shapes)

    def make(rng):
        inputs = [leaf(rng, s, d) for s, d in zip(shapes, domains, strict=True)]
        return (lambda: f(*inputs)), inputs

    return Case(name, make, tuple(covers or (name,)))


def module(name, build, input_shape, covers=None):
    """A case over a layer: its input and every parameter are checked."""

    def make(rng):
        crrandom.manual_seed(int(rng.integers(1 << 30)))
        layer = build().to(F64)
        x = leaf(rng, input_shape)
        inputs = [x] + list(layer.parameters())
        return (lambda: _first(layer(x))), inputs

    return Case(name, make, tuple(covers or (name,)))


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def from_table(entry):
    """A case from an entry of the shared op table (``chainrule.testing.op_table``), on the
    largest input shapes of its grid."""
    name, fn, grid, domain, _ = entry
    shapes = max(grid, key=lambda g: sum(int(np.prod(s, dtype=np.int64)) for s in g))
    return op(
        name,
        lambda *xs: fn(chainrule, *xs),
        *shapes,
        domain=_DOMAINS.get(domain, domain),
        covers=op_table.covers(name),
    )


_DOMAINS = {"nonzero": "any"}  # draw() keeps every value away from 0 anyway


# The ops: one table with the tests (add an op there); then the layers, checked with every
# parameter as an input.
CASES = [from_table(entry) for entry in op_table.CASES] + [
    # recurrent layers (input and every weight)
    module("RNN", lambda: nn.RNN(3, 4, batch_first=True), (2, 5, 3)),
    module("LSTM", lambda: nn.LSTM(3, 4, batch_first=True), (2, 5, 3)),
    module("GRU", lambda: nn.GRU(3, 4, batch_first=True), (2, 5, 3)),
    module(
        "RNN_2layers_bidirectional",
        lambda: nn.RNN(3, 2, num_layers=2, bidirectional=True),
        (4, 2, 3),
        covers=("RNN",),
    ),
    module("RNNCell", lambda: nn.RNNCell(3, 4), (2, 3)),
    module("LSTMCell", lambda: nn.LSTMCell(3, 4), (2, 3)),
    module("GRUCell", lambda: nn.GRUCell(3, 4), (2, 3)),
]
