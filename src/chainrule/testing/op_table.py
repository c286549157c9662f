"""Every differentiable op, declared once: the table the tests check three ways
(``tests/ops/test_op_table.py``: finite differences, second derivatives, PyTorch) and that
``chainrule gradcheck`` checks on an installed copy.

Each case is ``(name, fn, shapes, domain, flags)``:

* ``fn(m, *xs)`` is written against the API shared by chainrule and PyTorch, so the same line
  runs with ``m = chainrule`` and ``m = torch``;
* ``shapes``: a grid, one tuple of input shapes per check (scalars, size-1 dims, broadcasting,
  empty where meaningful); ``chainrule gradcheck`` uses the largest;
* ``domain``: where inputs are drawn: ``"any"``, ``"pos"`` (0.5 .. 2), ``"nonzero"``, ``"prob"``
  (0.1 .. 0.9);
* ``flags``: space-separated words: ``"smooth"`` (also checked with gradgradcheck),
  ``"cr-only"`` (not compared with PyTorch).

To add an op, add one line to :data:`CASES` (and to :data:`COVERS` if its name is not the
function's name). Example::

    ("square", lambda m, x: m.square(x), [((2, 3),)], "any", SMOOTH),
"""

import chainrule as cr

U = [(), (1,), (5,), (2, 3), (2, 1, 4)]  # unary shape grid
B = [
    ((), ()),
    ((3,), ()),
    ((), (2, 3)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((1,), (2, 3)),
    ((4, 1, 3), (2, 1)),
    ((0, 3), (3,)),
]  # broadcasting pairs, one empty
ND = [(5,), (2, 3), (2, 3, 4)]  # at least one dim


def F(m):
    """Functional namespace: ``torch.nn.functional`` for torch, ``chainrule.nn.functional``
    for chainrule."""
    return m.nn.functional


def _pad(m, x):
    return F(m).pad(x, (1, 2)) if x.ndim == 1 else F(m).pad(x, (1, 0, 0, 2))


SMOOTH = "smooth"  # flag: also checked with gradgradcheck
CR_ONLY = "cr-only"  # flag: not compared with PyTorch (random masks drawn differently)
CASES = [
    # name, fn(m, *xs), shape grid (tuples of input shapes), domain, flags
    ("add", lambda m, a, b: a + b, B, "any", SMOOTH),
    ("sub", lambda m, a, b: a - b, B, "any", SMOOTH),
    ("rsub_scalar", lambda m, a: 2.5 - a, [(s,) for s in U], "any", SMOOTH),
    ("mul", lambda m, a, b: a * b, B, "any", SMOOTH),
    ("div", lambda m, a, b: a / b, B, "nonzero", SMOOTH),
    ("rdiv_scalar", lambda m, a: 3.0 / a, [(s,) for s in U], "nonzero", SMOOTH),
    ("pow", lambda m, a, b: a**b, B[:7], "pos", SMOOTH),
    ("pow_scalar", lambda m, a: a**3, [(s,) for s in U], "any", SMOOTH),
    ("rpow_scalar", lambda m, a: 2.0**a, [(s,) for s in U], "any", SMOOTH),
    # a // b has zero gradient; torch refuses its backward, so torch's side is floor(a / b)
    (
        "floor_divide",
        lambda m, a, b: a * (a // b if m is cr else m.floor(a / b)),
        B[:7],
        "pos",
        SMOOTH,
    ),
    ("remainder", lambda m, a, b: a % b, B[:7], "pos", SMOOTH),
    # torch has no derivative for number % tensor; its side is the same op on a full tensor
    (
        "rremainder_scalar",
        lambda m, a: 5.0 % a if m is cr else m.full_like(a, 5.0) % a,
        [(s,) for s in U],
        "pos",
        SMOOTH,
    ),
    ("fmod", lambda m, a, b: m.fmod(-a, b), B[:7], "pos", SMOOTH),
    ("maximum", lambda m, a, b: m.maximum(a, b), B, "any", ""),
    ("minimum", lambda m, a, b: m.minimum(a, b), B, "any", ""),
    ("where", lambda m, a, b: m.where(a > 0, a, b), B[:7], "any", SMOOTH),
    ("matmul_mm", lambda m, a, b: a @ b, [((2, 3), (3, 4)), ((1, 1), (1, 1))], "any", SMOOTH),
    (
        "matmul_mv",
        lambda m, a, b: a @ b,
        [((2, 3), (3,)), ((3,), (3, 4)), ((3,), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "matmul_batched",
        lambda m, a, b: a @ b,
        [((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((4,), (2, 4, 3)), ((2, 2, 3), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "linear",
        lambda m, x, w, b: F(m).linear(x, w, b),
        [((4, 3), (2, 3), (2,)), ((2, 5, 3), (2, 3), (2,))],
        "any",
        SMOOTH,
    ),
    (
        "linear_nobias",
        lambda m, x, w: F(m).linear(x, w),
        [((4, 3), (2, 3)), ((3,), (2, 3))],
        "any",
        SMOOTH,
    ),
    ("neg", lambda m, x: -x, [(s,) for s in U], "any", SMOOTH),
    ("exp", lambda m, x: m.exp(x), [(s,) for s in U], "any", SMOOTH),
    ("log", lambda m, x: m.log(x), [(s,) for s in U], "pos", SMOOTH),
    ("log1p", lambda m, x: m.log1p(x), [(s,) for s in U], "pos", SMOOTH),
    ("expm1", lambda m, x: m.expm1(x), [(s,) for s in U], "any", SMOOTH),
    ("sqrt", lambda m, x: m.sqrt(x), [(s,) for s in U], "pos", SMOOTH),
    ("rsqrt", lambda m, x: m.rsqrt(x), [(s,) for s in U], "pos", SMOOTH),
    ("abs", lambda m, x: m.abs(x), [(s,) for s in U], "nonzero", SMOOTH),
    ("sign", lambda m, x: m.sign(x) * x, [(s,) for s in U], "nonzero", ""),
    ("sin", lambda m, x: m.sin(x), [(s,) for s in U], "any", SMOOTH),
    ("cos", lambda m, x: m.cos(x), [(s,) for s in U], "any", SMOOTH),
    ("tanh", lambda m, x: m.tanh(x), [(s,) for s in U], "any", SMOOTH),
    (
        "rounding",
        lambda m, x: (m.floor(x * 0.4) + x.ceil() * 0.1 + m.trunc(-x * 0.4) + m.round(x * 0.2)) * x,
        [(s,) for s in U],
        "pos",
        SMOOTH,
    ),
    ("log10", lambda m, x: m.log10(x), [(s,) for s in U], "pos", SMOOTH),
    ("log2", lambda m, x: x.log2(), [(s,) for s in U], "pos", SMOOTH),
    ("sinh", lambda m, x: m.sinh(x), [(s,) for s in U], "any", SMOOTH),
    ("cosh", lambda m, x: x.cosh(), [(s,) for s in U], "any", SMOOTH),
    ("tan", lambda m, x: m.tan(m.tanh(x)), [(s,) for s in U], "any", SMOOTH),
    ("asin", lambda m, x: m.asin(m.tanh(x) * 0.9), [(s,) for s in U], "any", SMOOTH),
    ("acos", lambda m, x: m.acos(m.tanh(x) * 0.9), [(s,) for s in U], "any", SMOOTH),
    ("atan", lambda m, x: x.atan(), [(s,) for s in U], "any", SMOOTH),
    ("sigmoid", lambda m, x: m.sigmoid(x), [(s,) for s in U], "any", SMOOTH),
    ("erf", lambda m, x: m.erf(x), [(s,) for s in U], "any", SMOOTH),
    ("relu", lambda m, x: m.relu(x), [(s,) for s in U], "nonzero", ""),
    ("clamp", lambda m, x: m.clamp(x, -0.5, 0.7), [(s,) for s in U], "nonzero", ""),
    ("clamp_min", lambda m, x: x.clamp(min=0.1), [(s,) for s in U], "nonzero", ""),
    ("softmax", lambda m, x: m.softmax(x, -1), [(s,) for s in ND], "any", SMOOTH),
    ("softmax_dim0", lambda m, x: m.softmax(x, 0), [(s,) for s in ND], "any", SMOOTH),
    ("log_softmax", lambda m, x: m.log_softmax(x, 1), [((2, 3),), ((2, 3, 4),)], "any", SMOOTH),
    ("sum_all", lambda m, x: x.sum(), [(s,) for s in U + [(0, 3)]], "any", SMOOTH),
    ("sum_dim", lambda m, x: x.sum(-1), [(s,) for s in ND], "any", SMOOTH),
    ("sum_dims_keep", lambda m, x: x.sum((0, 2), keepdim=True), [((2, 3, 4),)], "any", SMOOTH),
    ("mean_all", lambda m, x: x.mean(), [(s,) for s in U], "any", SMOOTH),
    ("mean_dim", lambda m, x: x.mean(0, keepdim=True), [(s,) for s in ND], "any", SMOOTH),
    ("var", lambda m, x: x.var(), [((5,),), ((2, 3),)], "any", SMOOTH),
    ("var_dim", lambda m, x: x.var(1, keepdim=True), [((2, 3),), ((2, 3, 4),)], "any", SMOOTH),
    ("var_biased", lambda m, x: x.var(0, unbiased=False), [((4, 3),)], "any", SMOOTH),
    ("std", lambda m, x: x.std(-1), [((2, 3),), ((3, 4, 2),)], "any", SMOOTH),
    ("amax", lambda m, x: m.amax(x, -1), [(s,) for s in ND], "any", ""),
    ("amin_all", lambda m, x: m.amin(x), [(s,) for s in ND], "any", ""),
    ("max_all", lambda m, x: x.max(), [(s,) for s in ND], "any", ""),
    ("max_dim", lambda m, x: x.max(0)[0], [(s,) for s in ND], "any", ""),
    ("min_dim_keep", lambda m, x: x.min(1, keepdim=True)[0], [((2, 3),), ((2, 3, 4),)], "any", ""),
    ("prod", lambda m, x: x.prod(), [((5,),), ((2, 3),)], "any", SMOOTH),
    ("prod_dim", lambda m, x: x.prod(1), [((2, 3),), ((2, 4, 3),)], "any", SMOOTH),
    ("logsumexp", lambda m, x: m.logsumexp(x, -1), [(s,) for s in ND], "any", SMOOTH),
    ("norm", lambda m, x: x.norm(), [(s,) for s in ND], "any", SMOOTH),
    ("norm_dim", lambda m, x: x.norm(dim=-1, keepdim=True), [(s,) for s in ND], "any", SMOOTH),
    ("norm_p1", lambda m, x: x.norm(p=1), [(s,) for s in ND], "nonzero", ""),
    ("norm_p3", lambda m, x: x.norm(p=3, dim=0), [((4, 3),)], "nonzero", SMOOTH),
    ("reshape", lambda m, x: x.reshape(-1), [(s,) for s in U], "any", SMOOTH),
    ("view", lambda m, x: x.view(3, 2), [((2, 3),), ((6,),)], "any", SMOOTH),
    ("flatten", lambda m, x: m.flatten(x, 1), [((2, 3, 4),), ((2, 1, 1),)], "any", SMOOTH),
    ("squeeze", lambda m, x: x.squeeze(), [((1,),), ((2, 1, 4),), ((1, 1),)], "any", SMOOTH),
    ("squeeze_dim", lambda m, x: x.squeeze(1), [((2, 1, 4),), ((2, 3),)], "any", SMOOTH),
    ("unsqueeze", lambda m, x: x.unsqueeze(-1), [(s,) for s in U], "any", SMOOTH),
    ("transpose", lambda m, x: x.transpose(0, -1), [(s,) for s in ND], "any", SMOOTH),
    ("permute", lambda m, x: x.permute(2, 0, 1), [((2, 3, 4),)], "any", SMOOTH),
    ("T", lambda m, x: x.T, [((2, 3),), ((1, 4),)], "any", SMOOTH),
    ("expand", lambda m, x: x.expand(3, -1, 4), [((2, 1),), ((1, 1),)], "any", SMOOTH),
    (
        "broadcast_to",
        lambda m, x: m.broadcast_to(x, (2, 3, 4)),
        [((3, 1),), ((),), ((4,),)],
        "any",
        SMOOTH,
    ),
    ("repeat", lambda m, x: x.repeat(2, 3), [((2, 3),), ((4,),), ((1, 1),)], "any", SMOOTH),
    ("flip", lambda m, x: m.flip(x, (0,)), [(s,) for s in ND], "any", SMOOTH),
    ("pad", _pad, [((5,),), ((2, 3),), ((2, 3, 4),)], "any", SMOOTH),
    ("getitem_basic", lambda m, x: x[1:, ..., ::2], [((3, 4),), ((3, 2, 5),)], "any", SMOOTH),
    ("getitem_int", lambda m, x: x[-1], [(s,) for s in ND], "any", SMOOTH),
    ("getitem_none", lambda m, x: x[None, :, 0], [((2, 3),)], "any", SMOOTH),
    ("getitem_repeated", lambda m, x: x[[0, 2, 0, 0]], [((3,),), ((3, 2),)], "any", SMOOTH),
    ("getitem_2d_fancy", lambda m, x: x[[0, 1, 1], [2, 0, 2]], [((2, 3),)], "any", SMOOTH),
    ("getitem_mask", lambda m, x: x[x > 0], [((3, 4),)], "nonzero", SMOOTH),
    (
        "cat",
        lambda m, a, b: m.cat([a, b, a], 1),
        [((2, 3), (2, 1)), ((2, 0), (2, 2))],
        "any",
        SMOOTH,
    ),
    ("stack", lambda m, a, b: m.stack([a, b], -1), [((2, 3), (2, 3)), ((), ())], "any", SMOOTH),
    ("split", lambda m, x: x.split(2, 1)[1] * 2 + x.split(2, 1)[0], [((3, 4),)], "any", SMOOTH),
    ("split_sizes", lambda m, x: x.split([1, 3], 0)[1], [((4, 2),)], "any", SMOOTH),
    ("chunk", lambda m, x: x.chunk(3, 0)[2], [((7,),), ((6, 2),)], "any", SMOOTH),
    ("unbind", lambda m, x: x.unbind(1)[1] * x.unbind(1)[0], [((2, 3),)], "any", SMOOTH),
    ("masked_fill", lambda m, x: x.masked_fill(x > 0.5, 0.0), [((3, 4),)], "nonzero", ""),
    ("clone", lambda m, x: x.clone() * 2, [(s,) for s in U], "any", SMOOTH),
    ("mm", lambda m, a, b: m.mm(a, b), [((2, 3), (3, 4)), ((1, 1), (1, 2))], "any", SMOOTH),
    (
        "bmm",
        lambda m, a, b: a.bmm(b),
        [((2, 2, 3), (2, 3, 4)), ((1, 1, 2), (1, 2, 1))],
        "any",
        SMOOTH,
    ),
    (
        "einsum_matmul",
        lambda m, a, b: m.einsum("ij,jk->ik", a, b),
        [((2, 3), (3, 4))],
        "any",
        SMOOTH,
    ),
    (
        "einsum_batched",
        lambda m, a, b: m.einsum("bij,bkj->bik", a, b),
        [((2, 2, 3), (2, 4, 3))],
        "any",
        SMOOTH,
    ),
    ("einsum_implicit_outer", lambda m, a, b: m.einsum("i,j", a, b), [((3,), (2,))], "any", SMOOTH),
    (
        "einsum_trace_diag",
        lambda m, a: m.einsum("ii->i", a) * m.einsum("ii", a),
        [((3, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "einsum_sum_out",
        lambda m, a, b: m.einsum("ij,j->i", a, b) + m.einsum("ij->", a),
        [((2, 3), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "einsum_ellipsis",
        lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
        [((2, 2, 3), (3, 2)), ((2, 1, 2, 3), (3, 3, 2))],
        "any",
        SMOOTH,
    ),
    (
        "einsum_three",
        lambda m, a, b, c: m.einsum("ij,jk,kl->il", [a, b, c]),
        [((2, 3), (3, 4), (4, 2))],
        "any",
        SMOOTH,
    ),
    ("narrow", lambda m, x: x.narrow(1, 1, 2) * 2, [((3, 4),), ((2, 3, 4),)], "any", SMOOTH),
    ("t", lambda m, x: m.t(x) * 2, [((2, 3),), ((4,),)], "any", SMOOTH),
    ("roll", lambda m, x: m.roll(x, 1, 0) * x, [(s,) for s in ND], "any", SMOOTH),
    (
        "roll_dims",
        lambda m, x: x.roll((1, -2), (0, 1)) * x,
        [((3, 4),), ((2, 3, 4),)],
        "any",
        SMOOTH,
    ),
    ("roll_flat", lambda m, x: m.roll(x, 2) * x, [((2, 3),)], "any", SMOOTH),
    ("tril", lambda m, x: m.tril(x) * x, [((3, 3),), ((2, 3, 4),)], "any", SMOOTH),
    ("triu", lambda m, x: x.triu(1) * x, [((3, 3),), ((4, 2),)], "any", SMOOTH),
    (
        "meshgrid",
        lambda m, a, b: m.meshgrid(a, b, indexing="ij")[0] * m.meshgrid(a, b, indexing="xy")[1].T,
        [((3,), (2,))],
        "any",
        SMOOTH,
    ),
    ("cumsum", lambda m, x: m.cumsum(x, 0) * x, [(s,) for s in ND], "any", SMOOTH),
    ("cumsum_last", lambda m, x: x.cumsum(-1) * x, [((2, 3, 4),)], "any", SMOOTH),
    ("cumprod", lambda m, x: m.cumprod(x, 1), [((2, 3),), ((2, 4, 3),)], "nonzero", SMOOTH),
    (
        "sort",
        lambda m, x: m.sort(x, -1)[0] * m.arange(x.shape[-1]),
        [(s,) for s in ND],
        "any",
        SMOOTH,
    ),
    (
        "sort_desc",
        lambda m, x: x.sort(0, descending=True).values * m.arange(x.shape[0])[:, None],
        [((4, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "topk",
        lambda m, x: m.topk(x, 2).values * m.tensor([1.0, 2.0]),
        [((5,),), ((3, 4),)],
        "any",
        SMOOTH,
    ),
    (
        "topk_smallest",
        lambda m, x: x.topk(2, dim=0, largest=False)[0] * 2,
        [((4, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "gather",
        lambda m, x: m.gather(x, 1, m.tensor([[0, 2, 0], [1, 1, 2]])) * 2,
        [((2, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "gather_smaller",
        lambda m, x: x.gather(0, m.tensor([[2, 0]])) * 2,
        [((3, 4),)],
        "any",
        SMOOTH,
    ),
    (
        "scatter_add",
        lambda m, x, s: x.scatter_add(0, m.tensor([[0, 1, 0], [0, 0, 2]]), s) * x,
        [((3, 3), (2, 3))],
        "any",
        SMOOTH,
    ),
    (
        "scatter",
        lambda m, x, s: m.scatter(x, 1, m.tensor([[2, 0], [1, 2]]), s) * 2,
        [((2, 3), (2, 2))],
        "any",
        SMOOTH,
    ),
    (
        "scatter_value",
        lambda m, x: x.scatter(1, m.tensor([[2], [0]]), 0.5) * x,
        [((2, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "index_select",
        lambda m, x: m.index_select(x, 1, m.tensor([2, 0, 2])) * 2,
        [((2, 3),), ((2, 3, 2),)],
        "any",
        SMOOTH,
    ),
    (
        "masked_fill_tensor",
        lambda m, x, v: x.masked_fill(x > 0.5, v) * x,
        [((3, 4), ())],
        "nonzero",
        "",
    ),
    ("to_float64", lambda m, x: x.double() * 2, [((2, 3),)], "any", SMOOTH),
    # ---- nn.functional: activations, layers, losses ----
    ("square", lambda m, x: m.square(x), [(s,) for s in U], "any", SMOOTH),
    ("dot", lambda m, a, b: m.dot(a, b), [((4,), (4,))], "any", SMOOTH),
    ("outer", lambda m, a, b: m.outer(a, b), [((3,), (2,))], "any", SMOOTH),
    (
        "rfloor_divide",
        lambda m, a: a * (2.0 // a if m is cr else m.floor(2.0 / a)),
        [((2, 3),)],
        "pos",
        SMOOTH,
    ),
    ("leaky_relu", lambda m, x: F(m).leaky_relu(x, 0.1), [((2, 3),)], "nonzero", ""),
    ("elu", lambda m, x: F(m).elu(x), [((2, 3),)], "nonzero", ""),
    ("selu", lambda m, x: F(m).selu(x), [((2, 3),)], "nonzero", ""),
    ("gelu", lambda m, x: F(m).gelu(x), [((2, 3),)], "any", SMOOTH),
    ("silu", lambda m, x: F(m).silu(x), [((2, 3),)], "any", SMOOTH),
    ("softplus", lambda m, x: F(m).softplus(x), [((2, 3),)], "any", SMOOTH),
    ("softsign", lambda m, x: F(m).softsign(x), [((2, 3),)], "nonzero", SMOOTH),
    ("hardtanh", lambda m, x: F(m).hardtanh(x), [((3, 4),)], "nonzero", ""),
    ("relu6", lambda m, x: F(m).relu6(x * 8), [((3, 4),)], "nonzero", ""),
    ("logsigmoid", lambda m, x: F(m).logsigmoid(x), [((2, 3),)], "any", SMOOTH),
    (
        "conv2d",
        lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1),
        [((2, 2, 4, 4), (3, 2, 3, 3), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "conv2d_stride",
        lambda m, x, w: F(m).conv2d(x, w, stride=2),
        [((1, 2, 5, 5), (2, 2, 3, 3))],
        "any",
        SMOOTH,
    ),
    (
        "conv1d",
        lambda m, x, w, b: F(m).conv1d(x, w, b, padding=1),
        [((2, 2, 6), (3, 2, 3), (3,))],
        "any",
        SMOOTH,
    ),
    ("max_pool2d", lambda m, x: F(m).max_pool2d(x, 2), [((1, 2, 4, 4),)], "any", ""),
    ("max_pool1d", lambda m, x: F(m).max_pool1d(x, 2), [((2, 2, 6),)], "any", ""),
    ("avg_pool2d", lambda m, x: F(m).avg_pool2d(x, 2), [((1, 2, 4, 4),)], "any", SMOOTH),
    ("avg_pool1d", lambda m, x: F(m).avg_pool1d(x, 2), [((2, 2, 6),)], "any", SMOOTH),
    (
        "adaptive_avg_pool2d",
        lambda m, x: F(m).adaptive_avg_pool2d(x, (2, 2)),
        [((1, 2, 5, 5),)],
        "any",
        SMOOTH,
    ),
    (
        "adaptive_avg_pool1d",
        lambda m, x: F(m).adaptive_avg_pool1d(x, 3),
        [((2, 2, 7),)],
        "any",
        SMOOTH,
    ),
    (
        "batch_norm",
        lambda m, x, w, b: F(m).batch_norm(x, None, None, w, b, training=True),
        [((4, 3), (3,), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "layer_norm",
        lambda m, x, w, b: F(m).layer_norm(x, (3,), w, b),
        [((4, 3), (3,), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "dropout",
        lambda m, x: _seeded(m, F(m).dropout, x),
        [((3, 4),)],
        "any",
        f"{SMOOTH} {CR_ONLY}",
    ),
    (
        "dropout1d",
        lambda m, x: _seeded(m, F(m).dropout1d, x),
        [((2, 3, 4),)],
        "any",
        f"{SMOOTH} {CR_ONLY}",
    ),
    (
        "dropout2d",
        lambda m, x: _seeded(m, F(m).dropout2d, x),
        [((2, 3, 2, 2),)],
        "any",
        f"{SMOOTH} {CR_ONLY}",
    ),
    (
        "scaled_dot_product_attention",
        lambda m, q, k, v: F(m).scaled_dot_product_attention(q, k, v, is_causal=True),
        [((2, 3, 4), (2, 3, 4), (2, 3, 5))],
        "any",
        SMOOTH,
    ),
    (
        "embedding",
        lambda m, w: F(m).embedding(m.tensor([[0, 2, 4], [2, 2, 1]]), w),
        [((5, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "cross_entropy",
        lambda m, x: F(m).cross_entropy(x, m.tensor([0, 2, 1, 2])),
        [((4, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "nll_loss",
        lambda m, x: F(m).nll_loss(F(m).log_softmax(x, 1), m.tensor([1, 0, 2, 2])),
        [((4, 3),)],
        "any",
        SMOOTH,
    ),
    ("mse_loss", lambda m, a, b: F(m).mse_loss(a, b), [((2, 3), (2, 3))], "any", SMOOTH),
    ("l1_loss", lambda m, a, b: F(m).l1_loss(a, b), [((2, 3), (2, 3))], "any", ""),
    (
        "smooth_l1_loss",
        lambda m, a, b: F(m).smooth_l1_loss(a, b, beta=0.5),
        [((2, 3), (2, 3))],
        "any",
        "",
    ),
    ("huber_loss", lambda m, a, b: F(m).huber_loss(a, b, delta=0.5), [((2, 3), (2, 3))], "any", ""),
    (
        "binary_cross_entropy",
        lambda m, x: F(m).binary_cross_entropy(x, m.full_like(x, 0.3)),
        [((2, 3),)],
        "prob",
        SMOOTH,
    ),
    (
        "binary_cross_entropy_with_logits",
        lambda m, x: F(m).binary_cross_entropy_with_logits(x, m.full_like(x, 0.3)),
        [((2, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "kl_div",
        lambda m, x: F(m).kl_div(
            F(m).log_softmax(x, 1), m.full_like(x, 0.25), reduction="batchmean"
        ),
        [((3, 4),)],
        "any",
        SMOOTH,
    ),
    # layers of the official examples (dcgan, super_resolution, fast_neural_style, siamese)
    (
        "conv_transpose2d",
        lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
        [((2, 2, 3, 3), (2, 3, 3, 3), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "conv_transpose2d_groups",
        lambda m, x, w: F(m).conv_transpose2d(x, w, groups=2, dilation=2),
        [((1, 4, 2, 3), (4, 1, 2, 2))],
        "any",
        SMOOTH,
    ),
    (
        "conv_transpose1d",
        lambda m, x, w: F(m).conv_transpose1d(x, w, stride=3, padding=1),
        [((2, 2, 4), (2, 3, 3))],
        "any",
        SMOOTH,
    ),
    (
        "interpolate_nearest",
        lambda m, x: F(m).interpolate(x, scale_factor=2) * x.sum(),
        [((1, 2, 2, 3),), ((2, 1, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "interpolate_nearest_size",
        lambda m, x: F(m).interpolate(x, size=(3, 5)) * 2,
        [((1, 2, 4, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "interpolate_bilinear",
        lambda m, x: F(m).interpolate(x, size=(5, 4), mode="bilinear", align_corners=False) * 2,
        [((1, 2, 3, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "interpolate_bilinear_corners",
        lambda m, x: F(m).interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True) * 2,
        [((2, 1, 3, 2),)],
        "any",
        SMOOTH,
    ),
    (
        "interpolate_linear",
        lambda m, x: F(m).interpolate(x, scale_factor=2.5, mode="linear") * 2,
        [((2, 2, 3),)],
        "any",
        SMOOTH,
    ),
    ("pixel_shuffle", lambda m, x: F(m).pixel_shuffle(x, 2) * 2, [((2, 8, 2, 3),)], "any", SMOOTH),
    (
        "pixel_unshuffle",
        lambda m, x: F(m).pixel_unshuffle(x, 2) * 2,
        [((1, 2, 4, 2),)],
        "any",
        SMOOTH,
    ),
    ("mish", lambda m, x: F(m).mish(x), [(s,) for s in U], "any", SMOOTH),
    ("hardswish", lambda m, x: F(m).hardswish(x * 3), [(s,) for s in ND], "nonzero", ""),
    ("hardsigmoid", lambda m, x: F(m).hardsigmoid(x * 3) * x, [(s,) for s in ND], "nonzero", ""),
    ("prelu", lambda m, x, w: F(m).prelu(x, w), [((2, 3, 4), (3,)), ((2, 3), (1,))], "nonzero", ""),
    (
        "cosine_similarity",
        lambda m, a, b: F(m).cosine_similarity(a, b),
        [((3, 4), (3, 4)), ((2, 3, 2), (1, 3, 2))],
        "nonzero",
        SMOOTH,
    ),
    (
        "pairwise_distance",
        lambda m, a, b: F(m).pairwise_distance(a, b),
        [((3, 4), (3, 4)), ((4,), (4,))],
        "nonzero",
        SMOOTH,
    ),
    (
        "normalize",
        lambda m, x: F(m).normalize(x, dim=-1),
        [((3, 4),), ((2, 3, 2),)],
        "nonzero",
        SMOOTH,
    ),
    (
        "instance_norm",
        lambda m, x, w, b: F(m).instance_norm(x, weight=w, bias=b),
        [((2, 3, 4, 2), (3,), (3,)), ((2, 2, 5), (2,), (2,))],
        "any",
        SMOOTH,
    ),
    ("softmin", lambda m, x: F(m).softmin(x, dim=-1), [((3, 4),), ((2, 3, 2),)], "any", SMOOTH),
    ("celu", lambda m, x: F(m).celu(x, 0.7), [(s,) for s in ND], "nonzero", ""),
    ("glu", lambda m, x: F(m).glu(x, -1), [((3, 4),), ((2, 3, 2),)], "any", SMOOTH),
    ("softshrink", lambda m, x: F(m).softshrink(x, 0.1) * x, [(s,) for s in ND], "nonzero", ""),
    ("hardshrink", lambda m, x: F(m).hardshrink(x, 0.1) * x, [(s,) for s in ND], "nonzero", ""),
    ("tanhshrink", lambda m, x: F(m).tanhshrink(x), [(s,) for s in U], "any", SMOOTH),
    ("threshold", lambda m, x: F(m).threshold(x, 0.1, 2.0) * x, [(s,) for s in ND], "nonzero", ""),
    (
        "margin_ranking_loss",
        lambda m, a, b: F(m).margin_ranking_loss(a, b, m.tensor([1.0, -1.0, 1.0]), margin=5.0),
        [((3,), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "cosine_embedding_loss",
        lambda m, a, b: F(m).cosine_embedding_loss(a, b, m.tensor([1, -1, 1]), margin=-2.0),
        [((3, 4), (3, 4))],
        "nonzero",
        SMOOTH,
    ),
    (
        "triplet_margin_loss",
        lambda m, a, p, n: F(m).triplet_margin_loss(a, p, n, margin=9.0),
        [((3, 4), (3, 4), (3, 4))],
        "nonzero",
        SMOOTH,
    ),
    (
        "soft_margin_loss",
        lambda m, x: F(m).soft_margin_loss(x, m.tensor([1.0, -1.0, 1.0])),
        [((3,),)],
        "any",
        SMOOTH,
    ),
    ("reciprocal", lambda m, x: m.reciprocal(x), [(s,) for s in U], "nonzero", SMOOTH),
    ("lerp", lambda m, a, b: m.lerp(a, b, 0.3), B[:7], "any", SMOOTH),
    (
        "addmm",
        lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0),
        [((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4))],
        "any",
        SMOOTH,
    ),
    ("tile", lambda m, x: m.tile(x, (2, 1)) * 2, [((3,),), ((2, 3),)], "any", SMOOTH),
    (
        "repeat_interleave",
        lambda m, x: x.repeat_interleave(2, dim=0) * 2,
        [((3,),), ((2, 3),)],
        "any",
        SMOOTH,
    ),
    ("diagonal", lambda m, x: m.diagonal(x, 1) * 2, [((3, 4),), ((2, 3, 3),)], "any", SMOOTH),
    ("diag", lambda m, x: m.diag(x, -1) * 2, [((3,),), ((3, 4),)], "any", SMOOTH),
    ("trace", lambda m, x: m.trace(x) * x, [((3, 3),), ((2, 4),)], "any", SMOOTH),
    (
        "index_add",
        lambda m, x, s: x.index_add(1, m.tensor([2, 0, 2]), s, alpha=2.0) * x,
        [((3, 4), (3, 3)), ((2, 4, 1), (2, 3, 1))],
        "any",
        SMOOTH,
    ),
    (
        "type_as",
        lambda m, a, b: a.type_as(b) * b.sum(),
        [((3,), (3,)), ((2, 3), (2, 3))],
        "any",
        SMOOTH,
    ),
    (
        "clamp_min_max",
        lambda m, x: x.clamp_min(-0.5) * x.clamp_max(0.5),
        [(s,) for s in ND],
        "nonzero",
        "",
    ),
    (
        "std_var_mean",
        lambda m, x: m.cat([m.std_mean(x, 0)[0], m.std_mean(x, 0)[1], m.var_mean(x, 0)[0] * 2]),
        [((3, 4),)],
        "any",
        SMOOTH,
    ),
    # linear algebra: matrices kept well conditioned by adding 4 I (x @ x.mT + I for logdet)
    ("det", lambda m, x: m.det(x), [((3, 3),), ((2, 3, 3),)], "any", SMOOTH),
    (
        "inverse",
        lambda m, x: m.inverse(_well_posed(m, x)),
        [((3, 3),), ((2, 3, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "slogdet",
        lambda m, x: m.slogdet(_well_posed(m, x)).logabsdet,
        [((3, 3),), ((2, 3, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "logdet",
        lambda m, x: m.logdet(x @ x.mT + m.eye(x.shape[-1], dtype=x.dtype)),
        [((3, 3),), ((2, 3, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "linalg_solve",
        lambda m, a, b: m.linalg.solve(_well_posed(m, a), b),
        [((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((3, 3), (2, 3, 1))],
        "any",
        SMOOTH,
    ),
    (
        "linalg_vector_norm",
        lambda m, x: m.linalg.vector_norm(x, 3, dim=-1),
        [(s,) for s in ND],
        "any",
        SMOOTH,
    ),
    (
        "linalg_matrix_norm",
        lambda m, x: m.linalg.matrix_norm(x) + m.linalg.matrix_norm(x, 1),
        [((3, 4),), ((2, 3, 2),)],
        "any",
        "",
    ),
    # nn.functional layers of the second parity round
    ("rms_norm", lambda m, x, w: F(m).rms_norm(x, (4,), w), [((3, 4), (4,))], "any", SMOOTH),
    (
        "group_norm",
        lambda m, x, w, b: F(m).group_norm(x, 2, w, b),
        [((2, 4, 3), (4,), (4,))],
        "any",
        SMOOTH,
    ),
    (
        "adaptive_max_pool2d",
        lambda m, x: F(m).adaptive_max_pool2d(x, (2, 3)),
        [((1, 2, 5, 4),)],
        "any",
        "",
    ),
    (
        "adaptive_max_pool1d",
        lambda m, x: F(m).adaptive_max_pool1d(x, 3),
        [((2, 2, 7),)],
        "any",
        "",
    ),
    (
        "dropout3d",
        lambda m, x: _seeded(m, F(m).dropout3d, x),
        [((2, 3, 2, 2, 1),)],
        "any",
        f"{SMOOTH} {CR_ONLY}",
    ),
    (
        "gaussian_nll_loss",
        lambda m, a, b, v: F(m).gaussian_nll_loss(a, b, v * v + 0.5, full=True),
        [((3, 2), (3, 2), (3, 2)), ((3, 2), (3, 2), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "poisson_nll_loss",
        lambda m, x: F(m).poisson_nll_loss(x, m.tensor([0.0, 2.0, 5.0]), full=True),
        [((3,),), ((2, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "poisson_nll_loss_rate",
        lambda m, x: F(m).poisson_nll_loss(x, m.tensor([1.0, 3.0]), log_input=False),
        [((2,),)],
        "pos",
        SMOOTH,
    ),
    (
        "unfold",
        lambda m, x: F(m).unfold(x, 2, padding=1, stride=(1, 2)),
        [((1, 2, 4, 5),), ((2, 3, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "fold",
        lambda m, x: F(m).fold(x, (4, 5), 2, padding=1, stride=(1, 2)),
        [((1, 8, 15),), ((4, 15),)],
        "any",
        SMOOTH,
    ),
    # nn parity: 3-d layers, bilinear, margin losses, in-place and random functionals, pooling
    (
        "conv3d",
        lambda m, x, w, b: F(m).conv3d(x, w, b, padding=(1, 0, 1), stride=(1, 2, 1)),
        [((1, 2, 3, 4, 3), (3, 2, 2, 2, 2), (3,))],
        "any",
        SMOOTH,
    ),
    (
        "conv_transpose3d",
        lambda m, x, w, b: F(m).conv_transpose3d(x, w, b, stride=(2, 1, 2), padding=(0, 1, 0)),
        [((1, 2, 2, 3, 2), (2, 3, 2, 2, 2), (3,))],
        "any",
        SMOOTH,
    ),
    ("max_pool3d", lambda m, x: F(m).max_pool3d(x, 2, 1), [((1, 2, 3, 4, 3),)], "any", ""),
    (
        "max_pool_with_indices",
        lambda m, x: (
            F(m).max_pool1d_with_indices(x.flatten(2), 2)[0].sum(-1, keepdim=True)
            + F(m).max_pool2d_with_indices(x.flatten(3), 2)[0].sum((2, 3)).unsqueeze(-1)
            + F(m).max_pool3d_with_indices(x, 2)[0].sum((2, 3, 4)).unsqueeze(-1)
        ),
        [((1, 2, 4, 4, 2),)],
        "any",
        "",
    ),
    ("avg_pool3d", lambda m, x: F(m).avg_pool3d(x, 2, 1, 1), [((1, 2, 3, 4, 3),)], "any", SMOOTH),
    (
        "adaptive_max_pool_with_indices",
        lambda m, x: (
            F(m).adaptive_max_pool1d_with_indices(x[:, :, 0, 0], 2)[0].sum(-1, keepdim=True)
            + F(m).adaptive_max_pool2d_with_indices(x[:, :, 0], 2)[0].sum((2, 3)).unsqueeze(-1)
            + F(m).adaptive_max_pool3d_with_indices(x, 2)[0].sum((2, 3, 4)).unsqueeze(-1)
        ),
        [((1, 2, 3, 5, 4),)],
        "any",
        "",
    ),
    (
        "fractional_max_pool",
        lambda m, x: (
            F(m)
            .fractional_max_pool2d(x[:, :, 0], 2, 3, _random_samples=_samples(m, x, 2))
            .sum((2, 3))
            + F(m)
            .fractional_max_pool2d_with_indices(
                x[:, :, 1], 2, (3, 2), _random_samples=_samples(m, x, 2)
            )[0]
            .sum((2, 3))
            + F(m)
            .fractional_max_pool3d(x, 2, (2, 3, 2), _random_samples=_samples(m, x, 3))
            .sum((2, 3, 4))
            + F(m)
            .fractional_max_pool3d_with_indices(x, 2, 2, _random_samples=_samples(m, x, 3))[0]
            .sum((2, 3, 4))
        ),
        [((1, 2, 4, 5, 4),)],
        "any",
        "",
    ),
    (
        "pdist",
        lambda m, x: F(m).pdist(x) + F(m).pdist(x, 1.5),
        [((4, 3),), ((2, 1),)],
        "any",
        SMOOTH,
    ),
    (
        "adaptive_avg_pool3d",
        lambda m, x: F(m).adaptive_avg_pool3d(x, (2, 3, 2)),
        [((1, 2, 3, 5, 4),)],
        "any",
        SMOOTH,
    ),
    (
        "adaptive_max_pool3d",
        lambda m, x: F(m).adaptive_max_pool3d(x, (2, 3, 2)),
        [((1, 2, 3, 5, 4),)],
        "any",
        "",
    ),
    (
        "max_unpool",
        lambda m, x: (
            F(m).max_unpool1d(x[:, :, 0, 0], _pool_indices(m, 1), 2).sum(-1, keepdim=True)
            + F(m).max_unpool2d(x[:, :, 0], _pool_indices(m, 2), 2).sum((2, 3)).unsqueeze(-1)
            + F(m).max_unpool3d(x, _pool_indices(m, 3), 2).sum((2, 3, 4)).unsqueeze(-1)
        ),
        [((1, 2, 2, 2, 2),)],
        "any",
        SMOOTH,
    ),
    (
        "lp_pool",
        lambda m, x: (
            F(m).lp_pool1d(x[:, :, 0, 0], 3, 2).sum(-1, keepdim=True)
            + F(m).lp_pool2d(x[:, :, 0], 2, (2, 3), 1).sum((2, 3)).unsqueeze(-1)
            + F(m).lp_pool3d(x, 1.5, 2).sum((2, 3, 4)).unsqueeze(-1)
        ),
        [((1, 2, 4, 4, 4),)],
        "pos",
        SMOOTH,
    ),
    (
        "bilinear",
        lambda m, a, b, w, c: F(m).bilinear(a, b, w, c),
        [((3, 4), (3, 2), (5, 4, 2), (5,)), ((2, 1, 3), (2, 1, 2), (4, 3, 2), (4,))],
        "any",
        SMOOTH,
    ),
    (
        "local_response_norm",
        lambda m, x: F(m).local_response_norm(x, 3, alpha=0.5, k=1.5),
        [((2, 5, 3),), ((1, 4, 2, 3),)],
        "any",
        SMOOTH,
    ),
    ("channel_shuffle", lambda m, x: F(m).channel_shuffle(x, 3), [((2, 6, 2),)], "any", SMOOTH),
    (
        "hinge_embedding_loss",
        lambda m, x: F(m).hinge_embedding_loss(x, m.tensor([[1.0, -1.0, -1.0], [1.0, 1.0, -1.0]])),
        [((2, 3),)],
        "any",
        "",
    ),
    (
        "multi_margin_loss",
        lambda m, x: (
            F(m).multi_margin_loss(x, m.tensor([0, 3, 1]), p=2, margin=3.0)
            + F(m).multi_margin_loss(
                x, m.tensor([2, 1, 1]), weight=m.tensor([0.5, 2.0, 1.0, 1.5], dtype=x.dtype)
            )
        ),
        [((3, 4),)],
        "any",
        "",
    ),
    (
        "multilabel_margin_loss",
        lambda m, x: F(m).multilabel_margin_loss(x * 0.1, m.tensor([[3, 0, -1, 1], [0, 1, 2, 3]])),
        [((2, 4),)],
        "any",
        "",
    ),
    (
        "multilabel_soft_margin_loss",
        lambda m, x: F(m).multilabel_soft_margin_loss(
            x, m.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
        ),
        [((2, 3),)],
        "any",
        SMOOTH,
    ),
    (
        "triplet_margin_with_distance_loss",
        lambda m, a, p, n: F(m).triplet_margin_with_distance_loss(a, p, n, margin=9.0, swap=True),
        [((3, 4), (3, 4), (3, 4))],
        "any",
        "",
    ),
    (
        "inplace_activations",
        lambda m, x: (
            F(m).relu_(x * 1)
            + F(m).leaky_relu_(x * 1, 0.2)
            + F(m).elu_(x * 1)
            + F(m).selu_(x * 1)
            + F(m).celu_(x * 1, 0.5)
            + F(m).hardtanh_(x * 2, -1.0, 1.0)
            + F(m).threshold_(x * 1, 0.1, 2.0) * x
            + F(m).rrelu_(x * 1, 0.1, 0.3)
        ),
        [((2, 3),)],
        "nonzero",
        "",
    ),
    (
        "rrelu",
        lambda m, x: _seeded_call(m, F(m).rrelu, x, 0.1, 0.3, True),
        [((3, 4),)],
        "nonzero",
        CR_ONLY,
    ),
    (
        "alpha_dropout",
        lambda m, x: (
            _seeded_call(m, F(m).alpha_dropout, x, 0.3, True)
            + _seeded_call(m, F(m).feature_alpha_dropout, x.unsqueeze(-1), 0.3, True).squeeze(-1)
        ),
        [((3, 4),)],
        "any",
        f"{SMOOTH} {CR_ONLY}",
    ),
    (
        "gumbel_softmax",
        # (the hard sample's straight-through gradient is not its derivative: tested elsewhere)
        lambda m, x: _seeded_call(m, F(m).gumbel_softmax, x, 0.7),
        [((3, 4),)],
        "any",
        f"{SMOOTH} {CR_ONLY}",
    ),
    # tensor functions of the second parity round
    (
        "baddbmm",
        lambda m, c, a, b: m.baddbmm(c, a, b, beta=0.5, alpha=2.0),
        [((2, 3, 4), (2, 3, 5), (2, 5, 4)), ((4,), (2, 3, 5), (2, 5, 4))],
        "any",
        SMOOTH,
    ),
    ("cummax", lambda m, x: m.cummax(x, 0).values * 2, [(s,) for s in ND], "any", ""),
    ("cummin", lambda m, x: x.cummin(-1)[0] * 2, [(s,) for s in ND], "any", ""),
    (
        "diff",
        lambda m, x, p: m.diff(x, 2, 0, p, x[:1]),
        [((4, 3), (1, 3)), ((3,), (2,))],
        "any",
        SMOOTH,
    ),
    ("dist", lambda m, a, b: m.dist(a, b), B[:7], "any", SMOOTH),
    ("dist_p3", lambda m, a, b: a.dist(b, 3), B[:7], "nonzero", ""),
    (
        "masked_select",
        lambda m, x: m.masked_select(x, m.tensor([[True, False, True]])) * 2,
        [((2, 3),), ((3,),)],
        "any",
        SMOOTH,
    ),
    ("median", lambda m, x: m.median(x) * x, [((5,),), ((2, 3),)], "any", SMOOTH),
    ("median_dim", lambda m, x: x.median(1).values * 2, [((2, 4),), ((3, 5, 2),)], "any", ""),
    ("nan_to_num", lambda m, x: m.nan_to_num(x) * x, [(s,) for s in U], "any", SMOOTH),
]


def _well_posed(m, x):
    return x + 4 * m.eye(x.shape[-1], dtype=x.dtype)  # diagonally dominant: invertible


def _seeded(m, dropout, x):
    m.manual_seed(0)  # the same mask at every evaluation
    return dropout(x, 0.5, training=True)


def _seeded_call(m, fn, *args):
    m.manual_seed(0)  # the same draws at every evaluation
    return fn(*args)


def _samples(m, x, nd):
    """Fixed draws for fractional max pooling of a (1, 2, ...) input."""
    return m.tensor([[[0.3, 0.7, 0.55][:nd], [0.9, 0.1, 0.45][:nd]]], dtype=x.dtype)


def _pool_indices(m, nd):
    """Indices of 2-wide max pooling over a fixed (1, 2, *(4,) * nd) input, for unpooling."""
    shape = (1, 2) + (4,) * nd
    n = 2 * 4**nd
    values = m.tensor([float((i * 37) % n) for i in range(n)]).reshape(shape)
    return getattr(F(m), f"max_pool{nd}d")(values, 2, return_indices=True)[1]


# The functions each case exercises, where its name is not one (for the coverage check of
# `chainrule gradcheck`); every other case covers the function of its own name.
COVERS = {
    "rsub_scalar": ("rsub",),
    "rdiv_scalar": ("rdiv",),
    "pow_scalar": ("pow",),
    "rpow_scalar": ("rpow",),
    "rremainder_scalar": ("rremainder",),
    "matmul_mm": ("matmul",),
    "matmul_mv": ("matmul",),
    "matmul_batched": ("matmul",),
    "linear_nobias": ("linear",),
    "rounding": ("floor", "ceil", "trunc", "round"),
    "atan": ("atan", "arctan"),
    "asin": ("asin", "arcsin"),
    "acos": ("acos", "arccos"),
    "clamp": ("clamp", "clip"),
    "clamp_min": ("clamp",),
    "softmax_dim0": ("softmax",),
    "sum_all": ("sum",),
    "sum_dim": ("sum",),
    "sum_dims_keep": ("sum",),
    "mean_all": ("mean",),
    "mean_dim": ("mean",),
    "var_dim": ("var",),
    "var_biased": ("var",),
    "amin_all": ("amin",),
    "max_all": ("max",),
    "max_dim": ("max",),
    "min_dim_keep": ("min",),
    "prod_dim": ("prod",),
    "norm_dim": ("norm",),
    "norm_p1": ("norm",),
    "norm_p3": ("norm",),
    "squeeze_dim": ("squeeze",),
    "transpose": ("transpose", "swapaxes"),
    "expand": ("expand", "expand_as"),
    "getitem_basic": ("getitem",),
    "getitem_int": ("getitem",),
    "getitem_none": ("getitem",),
    "getitem_repeated": ("getitem", "index_add_into_zeros"),
    "getitem_2d_fancy": ("getitem",),
    "getitem_mask": ("getitem",),
    "cat": ("cat", "concatenate"),
    "split_sizes": ("split",),
    "masked_fill_tensor": ("masked_fill",),
    "einsum_matmul": ("einsum",),
    "einsum_batched": ("einsum",),
    "einsum_implicit_outer": ("einsum",),
    "einsum_trace_diag": ("einsum",),
    "einsum_sum_out": ("einsum",),
    "einsum_ellipsis": ("einsum",),
    "einsum_three": ("einsum",),
    "roll_dims": ("roll",),
    "roll_flat": ("roll",),
    "cumsum_last": ("cumsum",),
    "sort_desc": ("sort",),
    "topk_smallest": ("topk",),
    "gather_smaller": ("gather",),
    "scatter_value": ("scatter",),
    "to_float64": ("to_dtype",),
    "conv2d_stride": ("conv2d",),
    "max_pool_with_indices": (
        "max_pool1d_with_indices",
        "max_pool2d_with_indices",
        "max_pool3d_with_indices",
    ),
    "max_unpool": ("max_unpool1d", "max_unpool2d", "max_unpool3d"),
    "lp_pool": ("lp_pool1d", "lp_pool2d", "lp_pool3d"),
    "fractional_max_pool": (
        "fractional_max_pool2d",
        "fractional_max_pool3d",
        "fractional_max_pool2d_with_indices",
        "fractional_max_pool3d_with_indices",
    ),
    "adaptive_max_pool_with_indices": (
        "adaptive_max_pool1d_with_indices",
        "adaptive_max_pool2d_with_indices",
        "adaptive_max_pool3d_with_indices",
    ),
    "inplace_activations": (
        "relu_",
        "leaky_relu_",
        "elu_",
        "selu_",
        "celu_",
        "hardtanh_",
        "threshold_",
        "rrelu_",
    ),
    "alpha_dropout": ("alpha_dropout", "feature_alpha_dropout"),
    "floor_divide": ("floor_divide", "div"),
    "conv_transpose2d_groups": ("conv_transpose2d",),
    "interpolate_nearest": ("interpolate",),
    "interpolate_nearest_size": ("interpolate",),
    "interpolate_bilinear": ("interpolate",),
    "interpolate_bilinear_corners": ("interpolate",),
    "interpolate_linear": ("interpolate",),
    "clamp_min_max": ("clamp_min", "clamp_max"),
    "std_var_mean": ("std_mean", "var_mean"),
    "poisson_nll_loss_rate": ("poisson_nll_loss",),
    "dist_p3": ("dist",),
    "median_dim": ("median",),
}


def covers(name):
    """The function names case ``name`` exercises."""
    return COVERS.get(name, (name,))
