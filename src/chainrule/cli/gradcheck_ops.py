"""The built-in ops ``chainrule gradcheck`` verifies, each on small float64 inputs.

A case builds its inputs from a NumPy generator and returns ``(fn, inputs)``: ``fn()`` computes
the op's output from ``inputs`` (Tensors requiring grad, perturbed in place by the check).
Inputs are drawn away from the ops' kinks (0 for relu/abs, the clamp bounds, ties for max), so
finite differences are meaningful everywhere.
"""
from dataclasses import dataclass

import numpy as np

from .. import nn
from .. import random as crrandom
from ..creation import tensor
from ..nn import functional as F
from ..ops import cat, einsum, meshgrid, stack, std_mean, var_mean, where

F64 = np.dtype(np.float64)
# Ops without a gradient to check: integer results, or an encoding of labels.
NOT_DIFFERENTIABLE = ("argmax", "argmin", "one_hot",
                      # comparisons, logical and bitwise ops: bool or integer results
                      "all", "any", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal",
                      "less", "less_equal", "not_equal", "bitwise_and", "bitwise_or", "bitwise_xor",
                      "bitwise_not", "rbitwise_and", "rbitwise_or", "rbitwise_xor", "isclose",
                      "allclose", "equal", "isnan", "isinf", "isfinite", "logical_and",
                      "logical_or", "logical_not",
                      # integer results: counts and sorting indices
                      "histc", "histogram", "argsort",
                      # dtype rules, not ops
                      "result_type", "promote_types",
                      # predicates, sizes, limits and indices
                      "Size", "finfo", "iinfo", "is_floating_point", "is_tensor", "numel", "nonzero",
                      "unique", "bincount",
                      # legacy constructors
                      "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
                      "ByteTensor", "BoolTensor")


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
        inputs = [leaf(rng, s, d) for s, d in zip(shapes, domains)]
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


def _with_target(name, f, shape, target, domain="any", covers=None):
    def make(rng):
        x = leaf(rng, shape, domain)
        t = target(rng)
        return (lambda: f(x, t)), [x]
    return Case(name, make, tuple(covers or (name,)))


def _dropout(x):
    crrandom.manual_seed(0)        # the same mask at every evaluation
    return F.dropout(x, 0.5, training=True)


def _channel_dropout(fn):
    def f(x):
        crrandom.manual_seed(0)    # the same channel mask at every evaluation
        return fn(x, 0.5, training=True)
    return f


def _embedding(rng):
    w = leaf(rng, (5, 3))
    idx = tensor(np.array([[0, 2, 4], [2, 2, 1]]))
    return (lambda: F.embedding(idx, w)), [w]


def _batch_norm(x, w, b):
    return F.batch_norm(x, None, None, w, b, training=True)


S, M = (2, 3), (3, 4)
CASES = [
    # pointwise
    op("add", lambda a, b: a + b, (2, 3), (3,)), op("sub", lambda a, b: a - b, (2, 1), (1, 3)),
    op("mul", lambda a, b: a * b, (2, 3), (2, 3)), op("div", lambda a, b: a / b, S, (3,)),
    op("pow", lambda a, b: a ** b, S, S, domain="pos"), op("pow_scalar", lambda a: a ** 3, S,
                                                         covers=("pow",)),
    op("rsub", lambda a: 2.5 - a, S), op("rdiv", lambda a: 3.0 / a, S),
    op("rpow", lambda a: 2.0 ** a, S), op("neg", lambda a: -a, S),
    op("exp", lambda a: a.exp(), S), op("erf", lambda a: a.erf(), S), op("log", lambda a: a.log(), S, domain="pos"),
    op("log1p", lambda a: a.log1p(), S, domain="pos"), op("expm1", lambda a: a.expm1(), S),
    op("sqrt", lambda a: a.sqrt(), S, domain="pos"), op("rsqrt", lambda a: a.rsqrt(), S, domain="pos"),
    op("abs", lambda a: a.abs(), S), op("sign", lambda a: a.sign() * a, S),
    op("sin", lambda a: a.sin(), S), op("cos", lambda a: a.cos(), S),
    op("tanh", lambda a: a.tanh(), S), op("sigmoid", lambda a: a.sigmoid(), S),
    op("relu", lambda a: a.relu(), S), op("square", lambda a: a.square(), S),
    op("clamp", lambda a: a.clamp(-0.5, 0.5), (3, 4), covers=("clamp", "clip")),
    op("floor_divide", lambda a: a * (a // 0.3), S, covers=("floor_divide", "div")),
    op("rfloor_divide", lambda a: a * (2.0 // a), S, domain="pos"),
    op("remainder", lambda a, b: a % b, S, S, domain=("any", "pos")),
    op("rremainder", lambda a: 5.0 % a, S, domain="pos"),
    op("fmod", lambda a, b: a.fmod(b), S, S, domain=("any", "pos")),
    op("floor", lambda a: a * (a * 3).floor(), S), op("ceil", lambda a: a * (a * 3).ceil(), S),
    op("trunc", lambda a: a * (a * 3).trunc(), S), op("round", lambda a: a * (a * 3).round(), S),
    op("log10", lambda a: a.log10(), S, domain="pos"), op("log2", lambda a: a.log2(), S, domain="pos"),
    op("sinh", lambda a: a.sinh(), S), op("cosh", lambda a: a.cosh(), S),
    op("tan", lambda a: a.tan(), S), op("atan", lambda a: a.atan(), S, covers=("atan", "arctan")),
    op("asin", lambda a: a.asin(), S, domain="prob", covers=("asin", "arcsin")),
    op("acos", lambda a: a.acos(), S, domain="prob", covers=("acos", "arccos")),
    op("maximum", lambda a, b: a.maximum(b), S, S), op("minimum", lambda a, b: a.minimum(b), S, S),
    op("where", lambda a, b: where(a > 0, a, b), S, S),
    op("clone", lambda a: a.clone() * 2, S),
    op("to_dtype", lambda a: a.to(F64) * 2, S),
    # linear algebra
    op("matmul", lambda a, b: a @ b, (2, 3), (3, 4)),
    op("matmul_batched", lambda a, b: a @ b, (2, 2, 3), (3, 2), covers=("matmul",)),
    op("dot", lambda a, b: a.dot(b), (4,), (4,)), op("outer", lambda a, b: a.outer(b), (3,), (2,)),
    op("linear", lambda x, w, b: F.linear(x, w, b), (4, 3), (2, 3), (2,)),
    op("mm", lambda a, b: a.mm(b), (2, 3), (3, 4)), op("bmm", lambda a, b: a.bmm(b), (2, 2, 3), (2, 3, 2)),
    op("einsum", lambda a, b: einsum("bij,bkj->bik", a, b), (2, 2, 3), (2, 4, 3)),
    op("einsum_trace", lambda a: einsum("ii", a), (3, 3), covers=("einsum",)),
    op("einsum_ellipsis", lambda a, b: einsum("...ij,jk", a, b), (2, 2, 3), (3, 2),
       covers=("einsum",)),
    # reductions
    op("sum", lambda a: a.sum(1), M), op("mean", lambda a: a.mean(0), M),
    op("var", lambda a: a.var(1), M), op("std", lambda a: a.std(0), M),
    op("amax", lambda a: a.amax(1), M), op("amin", lambda a: a.amin(0), M),
    op("max", lambda a: a.max(1)[0], M), op("min", lambda a: a.min(), M),
    op("prod", lambda a: a.prod(1), M), op("logsumexp", lambda a: a.logsumexp(1), M),
    op("norm", lambda a: a.norm(dim=1), M),
    op("softmax", lambda a: a.softmax(-1), M), op("log_softmax", lambda a: a.log_softmax(1), M),
    # shapes
    op("reshape", lambda a: a.reshape(4, 3) * 2, M), op("view", lambda a: a.view(2, 6) * 2, M),
    op("flatten", lambda a: a.flatten() * 2, (2, 2, 3)),
    op("squeeze", lambda a: a.squeeze(1) * 2, (3, 1, 2)),
    op("unsqueeze", lambda a: a.unsqueeze(0) * 2, M),
    op("permute", lambda a: a.permute(2, 0, 1) * 2, (2, 3, 4)),
    op("transpose", lambda a: a.transpose(0, 1) * 2, M, covers=("transpose", "swapaxes")),
    op("expand", lambda a: a.expand(3, 4) * 2, (3, 1), covers=("expand", "expand_as")),
    op("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)) * 2, (3, 1)),
    op("repeat", lambda a: a.repeat(2, 3) * 2, S), op("flip", lambda a: a.flip((0,)) * 2, M),
    op("pad", lambda a: F.pad(a, (1, 2)) * 2, M),
    op("getitem", lambda a: a[1:, ::2] * 2, M, covers=("getitem",)),
    op("getitem_fancy", lambda a: a[[0, 2, 0]] * 2, M,
       covers=("getitem", "index_add_into_zeros")),
    op("cat", lambda a, b: cat([a, b], 1) * 2, S, (2, 2), covers=("cat", "concatenate")),
    op("stack", lambda a, b: stack([a, b], 0) * 2, S, S),
    op("split", lambda a: a.split(2, 1)[1] * 2, M), op("chunk", lambda a: a.chunk(2, 1)[0] * 2, M),
    op("unbind", lambda a: a.unbind(0)[1] * 2, M),
    op("narrow", lambda a: a.narrow(1, 1, 2) * 2, M), op("t", lambda a: a.t() * 2, M),
    op("roll", lambda a: a.roll(1, 1) * a, M), op("tril", lambda a: a.tril() * 2, M),
    op("triu", lambda a: a.triu(1) * 2, M),
    op("meshgrid", lambda a, b: meshgrid(a, b)[0] * meshgrid(a, b)[1], (3,), (2,)),
    op("cumsum", lambda a: a.cumsum(1) * a, M), op("cumprod", lambda a: a.cumprod(1), M),
    op("sort", lambda a: a.sort(1).values * tensor(np.arange(4.0)), M),
    op("topk", lambda a: a.topk(2, 0).values * 2, M),
    op("gather", lambda a: a.gather(1, tensor(np.array([[0, 3], [2, 2], [1, 0]]))) * 2, M),
    op("scatter_add", lambda a, s: a.scatter_add(0, tensor(np.array([[0, 1, 0, 2]])), s) * 2,
       M, (1, 4)),
    op("scatter", lambda a, s: a.scatter(1, tensor(np.array([[3], [0], [1]])), s) * 2, M, (3, 1)),
    op("index_select", lambda a: a.index_select(1, tensor(np.array([2, 0, 2]))) * 2, M),
    op("masked_fill", lambda a: a.masked_fill(a > 0, 0.5) * a, M),
    # activations (nn.functional)
    op("leaky_relu", lambda a: F.leaky_relu(a, 0.1), S), op("elu", lambda a: F.elu(a), S),
    op("selu", lambda a: F.selu(a), S), op("gelu", lambda a: F.gelu(a), S),
    op("silu", lambda a: F.silu(a), S), op("softplus", lambda a: F.softplus(a), S),
    op("softsign", lambda a: F.softsign(a), S), op("hardtanh", lambda a: F.hardtanh(a), (3, 4)),
    op("relu6", lambda a: F.relu6(a * 8), (3, 4)), op("logsigmoid", lambda a: F.logsigmoid(a), S),
    # convolution, pooling, normalisation, dropout, embedding
    op("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1), (2, 2, 4, 4), (3, 2, 3, 3), (3,)),
    op("conv2d_stride", lambda x, w: F.conv2d(x, w, stride=2), (1, 2, 5, 5), (2, 2, 3, 3),
       covers=("conv2d",)),
    op("conv1d", lambda x, w, b: F.conv1d(x, w, b, padding=1), (2, 2, 6), (3, 2, 3), (3,)),
    op("max_pool2d", lambda x: F.max_pool2d(x, 2), (1, 2, 4, 4)),
    op("max_pool1d", lambda x: F.max_pool1d(x, 2), (2, 2, 6)),
    op("avg_pool2d", lambda x: F.avg_pool2d(x, 2), (1, 2, 4, 4)),
    op("avg_pool1d", lambda x: F.avg_pool1d(x, 2), (2, 2, 6)),
    op("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 2)), (1, 2, 5, 5)),
    op("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 3), (2, 2, 7)),
    op("batch_norm", _batch_norm, (4, 3), (3,), (3,)),
    op("layer_norm", lambda x, w, b: F.layer_norm(x, (3,), w, b), (4, 3), (3,), (3,)),
    op("dropout", _dropout, (3, 4)),
    op("dropout1d", _channel_dropout(F.dropout1d), (2, 3, 4)),
    op("dropout2d", _channel_dropout(F.dropout2d), (2, 3, 2, 2)),
    op("scaled_dot_product_attention",
       lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
       (2, 3, 4), (2, 3, 4), (2, 3, 5)),
    Case("embedding", _embedding, ("embedding",)),
    # losses
    _with_target("cross_entropy", F.cross_entropy, (4, 3),
                 lambda rng: tensor(np.array([0, 2, 1, 2]))),
    _with_target("nll_loss", lambda x, t: F.nll_loss(x.log_softmax(1), t), (4, 3),
                 lambda rng: tensor(np.array([1, 0, 2, 2]))),
    _with_target("mse_loss", F.mse_loss, S, lambda rng: tensor(draw(rng, S) + 3, dtype=F64)),
    _with_target("l1_loss", F.l1_loss, S, lambda rng: tensor(draw(rng, S) + 3, dtype=F64)),
    _with_target("smooth_l1_loss", F.smooth_l1_loss, S,
                 lambda rng: tensor(np.full(S, 0.05), dtype=F64)),
    _with_target("huber_loss", F.huber_loss, S, lambda rng: tensor(np.full(S, 2.5), dtype=F64)),
    _with_target("binary_cross_entropy", F.binary_cross_entropy, S,
                 lambda rng: tensor(draw(rng, S, "prob"), dtype=F64), domain="prob"),
    _with_target("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits, S,
                 lambda rng: tensor(draw(rng, S, "prob"), dtype=F64)),
    _with_target("kl_div", lambda x, t: F.kl_div(x.log_softmax(1), t, reduction="batchmean"), M,
                 lambda rng: tensor(np.full(M, 0.25), dtype=F64)),
    # recurrent layers (input and every weight)
    module("RNN", lambda: nn.RNN(3, 4, batch_first=True), (2, 5, 3)),
    module("LSTM", lambda: nn.LSTM(3, 4, batch_first=True), (2, 5, 3)),
    module("GRU", lambda: nn.GRU(3, 4, batch_first=True), (2, 5, 3)),
    module("RNN_2layers_bidirectional", lambda: nn.RNN(3, 2, num_layers=2, bidirectional=True),
           (4, 2, 3), covers=("RNN",)),
    module("RNNCell", lambda: nn.RNNCell(3, 4), (2, 3)),
    module("LSTMCell", lambda: nn.LSTMCell(3, 4), (2, 3)),
    module("GRUCell", lambda: nn.GRUCell(3, 4), (2, 3)),
    # small tensor functions (ops/compat.py)
    op("reciprocal", lambda a: a.reciprocal(), S, domain="pos"),
    op("clamp_min_max", lambda a: a.clamp_min(-0.5) * a.clamp_max(0.5), S,
       covers=("clamp_min", "clamp_max")),
    op("lerp", lambda a, b: a.lerp(b, 0.3), S, S),
    op("addmm", lambda c, a, b: c.addmm(a, b, beta=0.5, alpha=2.0), (2, 4), (2, 3), (3, 4)),
    op("tile", lambda a: a.tile((2, 1)) * 2, S),
    op("type_as", lambda a, b: a.type_as(b) * b.sum(), S, S),
    op("repeat_interleave", lambda a: a.repeat_interleave(tensor(np.array([1, 0, 2])), dim=0) * 2, M),
    op("diagonal", lambda a: a.diagonal(1) * 2, M), op("diag", lambda a: a.diag(-1) * 2, (3,)),
    op("trace", lambda a: a.trace() * a, (3, 3)),
    op("std_var_mean", lambda a: cat([std_mean(a, 0)[0], std_mean(a, 0)[1], var_mean(a, 1)[0] * 2]), M,
       covers=("std_mean", "var_mean")),
    op("index_add", lambda a, s: a.index_add(1, tensor(np.array([2, 0, 2])), s, alpha=2.0) * a, M, (3, 3)),
    # layers of the official examples
    op("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                              output_padding=1),
       (2, 2, 3, 3), (2, 3, 3, 3), (3,)),
    op("conv_transpose1d", lambda x, w: F.conv_transpose1d(x, w, stride=2), (2, 2, 4), (2, 3, 3)),
    op("interpolate_nearest", lambda x: F.interpolate(x, scale_factor=2) * x.sum(), (1, 2, 2, 3),
       covers=("interpolate",)),
    op("interpolate_bilinear", lambda x: F.interpolate(x, size=(5, 4), mode="bilinear") * 2,
       (1, 2, 3, 3), covers=("interpolate",)),
    op("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2) * 2, (1, 8, 2, 3)),
    op("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2) * 2, (1, 2, 4, 2)),
    op("mish", lambda a: F.mish(a), S), op("hardswish", lambda a: F.hardswish(a * 3), S),
    op("hardsigmoid", lambda a: F.hardsigmoid(a * 3) * a, S),
    op("prelu", lambda x, w: F.prelu(x, w), (2, 3, 4), (3,)),
    op("softmin", lambda a: F.softmin(a, dim=1), M),
    op("celu", lambda a: F.celu(a, 0.7), S), op("glu", lambda a: F.glu(a, 1), M),
    op("softshrink", lambda a: F.softshrink(a, 0.25), S),
    op("hardshrink", lambda a: F.hardshrink(a, 0.25) * a, S),
    op("tanhshrink", lambda a: F.tanhshrink(a), S),
    op("threshold", lambda a: F.threshold(a, 0.25, 2.0) * a, S),
    op("cosine_similarity", lambda a, b: F.cosine_similarity(a, b), M, M),
    op("pairwise_distance", lambda a, b: F.pairwise_distance(a, b), M, M),
    op("normalize", lambda a: F.normalize(a, dim=1), M),
    op("instance_norm", lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (2, 3, 4, 2), (3,), (3,)),
    op("margin_ranking_loss", lambda a, b: F.margin_ranking_loss(a, b, tensor(np.array([1.0, -1.0, 1.0]),
                                                                             dtype=F64), margin=0.1),
       (3,), (3,)),
    op("cosine_embedding_loss", lambda a, b: F.cosine_embedding_loss(a, b, tensor(np.array([1, -1, 1])),
                                                                     margin=-0.5), M, M),
    op("triplet_margin_loss", lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=3.0, swap=True),
       M, M, M),
    op("soft_margin_loss", lambda a: F.soft_margin_loss(a, tensor(np.array([1.0, -1.0, 1.0]), dtype=F64)),
       (3,)),
]

