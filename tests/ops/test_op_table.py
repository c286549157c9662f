"""Every differentiable op, declared once and checked three ways.

Each case is ``(name, fn, shapes, domain)`` where ``fn(m, *xs)`` is written against the API shared
by chainrule and PyTorch, so the same line runs with ``m = cr`` and ``m = torch``:
- first derivatives by finite differences in float64 (``gradcheck``) over a grid of shapes
  (scalars, size-1 dims, broadcasting, empty where meaningful);
- second derivatives (``gradgradcheck``) for the smooth ops;
- forward values and gradients against PyTorch in float32, when PyTorch is installed;
- float32 in, float32 out (no silent upcast), for values and gradients.
"""
import numpy as np
import pytest

import chainrule as cr

try:
    import torch
except ImportError:  # the PyTorch comparison skips; everything else still runs
    torch = None

U = [(), (1,), (5,), (2, 3), (2, 1, 4)]                     # unary shape grid
B = [((), ()), ((3,), ()), ((), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((1,), (2, 3)),
     ((4, 1, 3), (2, 1)), ((0, 3), (3,))]                   # broadcasting pairs, one empty
ND = [(5,), (2, 3), (2, 3, 4)]                              # at least one dim


def F(m):
    """Functional namespace: torch.nn.functional for torch, the top level for chainrule."""
    return m if m is cr else torch.nn.functional


def NF(m):
    """``nn.functional`` of either library (for functions chainrule keeps only there)."""
    return cr.nn.functional if m is cr else torch.nn.functional


def _pad(m, x):
    return F(m).pad(x, (1, 2)) if x.ndim == 1 else F(m).pad(x, (1, 0, 0, 2))


SMOOTH = "smooth"   # also checked with gradgradcheck
CASES = [
    # name, fn(m, *xs), shape grid (tuples of input shapes), domain, flags
    ("add", lambda m, a, b: a + b, B, "any", SMOOTH),
    ("sub", lambda m, a, b: a - b, B, "any", SMOOTH),
    ("rsub_scalar", lambda m, a: 2.5 - a, [(s,) for s in U], "any", SMOOTH),
    ("mul", lambda m, a, b: a * b, B, "any", SMOOTH),
    ("div", lambda m, a, b: a / b, B, "nonzero", SMOOTH),
    ("rdiv_scalar", lambda m, a: 3.0 / a, [(s,) for s in U], "nonzero", SMOOTH),
    ("pow", lambda m, a, b: a ** b, B[:7], "pos", SMOOTH),
    ("pow_scalar", lambda m, a: a ** 3, [(s,) for s in U], "any", SMOOTH),
    ("rpow_scalar", lambda m, a: 2.0 ** a, [(s,) for s in U], "any", SMOOTH),
    # a // b has zero gradient; torch refuses its backward, so torch's side is floor(a / b)
    ("floor_divide", lambda m, a, b: a * (a // b if m is cr else torch.floor(a / b)), B[:7], "pos",
     SMOOTH),
    ("remainder", lambda m, a, b: a % b, B[:7], "pos", SMOOTH),
    # torch has no derivative for number % tensor; its side is the same op on a full tensor
    ("rremainder_scalar", lambda m, a: 5.0 % a if m is cr else torch.full_like(a, 5.0) % a,
     [(s,) for s in U], "pos", SMOOTH),
    ("fmod", lambda m, a, b: m.fmod(-a, b), B[:7], "pos", SMOOTH),
    ("maximum", lambda m, a, b: m.maximum(a, b), B, "any", ""),
    ("minimum", lambda m, a, b: m.minimum(a, b), B, "any", ""),
    ("where", lambda m, a, b: m.where(a > 0, a, b), B[:7], "any", SMOOTH),
    ("matmul_mm", lambda m, a, b: a @ b, [((2, 3), (3, 4)), ((1, 1), (1, 1))], "any", SMOOTH),
    ("matmul_mv", lambda m, a, b: a @ b, [((2, 3), (3,)), ((3,), (3, 4)), ((3,), (3,))], "any", SMOOTH),
    ("matmul_batched", lambda m, a, b: a @ b,
     [((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((4,), (2, 4, 3)), ((2, 2, 3), (3,))], "any", SMOOTH),
    ("linear", lambda m, x, w, b: F(m).linear(x, w, b), [((4, 3), (2, 3), (2,)), ((2, 5, 3), (2, 3), (2,))],
     "any", SMOOTH),
    ("linear_nobias", lambda m, x, w: F(m).linear(x, w), [((4, 3), (2, 3)), ((3,), (2, 3))], "any", SMOOTH),
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
    ("rounding", lambda m, x: (m.floor(x * 0.4) + x.ceil() * 0.1 + m.trunc(-x * 0.4)
                               + m.round(x * 0.2)) * x, [(s,) for s in U], "pos", SMOOTH),
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
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [((3, 1),), ((),), ((4,),)], "any", SMOOTH),
    ("repeat", lambda m, x: x.repeat(2, 3), [((2, 3),), ((4,),), ((1, 1),)], "any", SMOOTH),
    ("flip", lambda m, x: m.flip(x, (0,)), [(s,) for s in ND], "any", SMOOTH),
    ("pad", _pad, [((5,),), ((2, 3),), ((2, 3, 4),)], "any", SMOOTH),
    ("getitem_basic", lambda m, x: x[1:, ..., ::2], [((3, 4),), ((3, 2, 5),)], "any", SMOOTH),
    ("getitem_int", lambda m, x: x[-1], [(s,) for s in ND], "any", SMOOTH),
    ("getitem_none", lambda m, x: x[None, :, 0], [((2, 3),)], "any", SMOOTH),
    ("getitem_repeated", lambda m, x: x[[0, 2, 0, 0]], [((3,),), ((3, 2),)], "any", SMOOTH),
    ("getitem_2d_fancy", lambda m, x: x[[0, 1, 1], [2, 0, 2]], [((2, 3),)], "any", SMOOTH),
    ("getitem_mask", lambda m, x: x[x > 0], [((3, 4),)], "nonzero", SMOOTH),
    ("cat", lambda m, a, b: m.cat([a, b, a], 1), [((2, 3), (2, 1)), ((2, 0), (2, 2))], "any", SMOOTH),
    ("stack", lambda m, a, b: m.stack([a, b], -1), [((2, 3), (2, 3)), ((), ())], "any", SMOOTH),
    ("split", lambda m, x: x.split(2, 1)[1] * 2 + x.split(2, 1)[0], [((3, 4),)], "any", SMOOTH),
    ("split_sizes", lambda m, x: x.split([1, 3], 0)[1], [((4, 2),)], "any", SMOOTH),
    ("chunk", lambda m, x: x.chunk(3, 0)[2], [((7,),), ((6, 2),)], "any", SMOOTH),
    ("unbind", lambda m, x: x.unbind(1)[1] * x.unbind(1)[0], [((2, 3),)], "any", SMOOTH),
    ("masked_fill", lambda m, x: x.masked_fill(x > 0.5, 0.0), [((3, 4),)], "nonzero", ""),
    ("clone", lambda m, x: x.clone() * 2, [(s,) for s in U], "any", SMOOTH),
    ("mm", lambda m, a, b: m.mm(a, b), [((2, 3), (3, 4)), ((1, 1), (1, 2))], "any", SMOOTH),
    ("bmm", lambda m, a, b: a.bmm(b), [((2, 2, 3), (2, 3, 4)), ((1, 1, 2), (1, 2, 1))], "any",
     SMOOTH),
    ("einsum_matmul", lambda m, a, b: m.einsum("ij,jk->ik", a, b), [((2, 3), (3, 4))], "any",
     SMOOTH),
    ("einsum_batched", lambda m, a, b: m.einsum("bij,bkj->bik", a, b), [((2, 2, 3), (2, 4, 3))],
     "any", SMOOTH),
    ("einsum_implicit_outer", lambda m, a, b: m.einsum("i,j", a, b), [((3,), (2,))], "any", SMOOTH),
    ("einsum_trace_diag", lambda m, a: m.einsum("ii->i", a) * m.einsum("ii", a), [((3, 3),)],
     "any", SMOOTH),
    ("einsum_sum_out", lambda m, a, b: m.einsum("ij,j->i", a, b) + m.einsum("ij->", a),
     [((2, 3), (3,))], "any", SMOOTH),
    ("einsum_ellipsis", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
     [((2, 2, 3), (3, 2)), ((2, 1, 2, 3), (3, 3, 2))], "any", SMOOTH),
    ("einsum_three", lambda m, a, b, c: m.einsum("ij,jk,kl->il", [a, b, c]),
     [((2, 3), (3, 4), (4, 2))], "any", SMOOTH),
    ("narrow", lambda m, x: x.narrow(1, 1, 2) * 2, [((3, 4),), ((2, 3, 4),)], "any", SMOOTH),
    ("t", lambda m, x: m.t(x) * 2, [((2, 3),), ((4,),)], "any", SMOOTH),
    ("roll", lambda m, x: m.roll(x, 1, 0) * x, [(s,) for s in ND], "any", SMOOTH),
    ("roll_dims", lambda m, x: x.roll((1, -2), (0, 1)) * x, [((3, 4),), ((2, 3, 4),)], "any",
     SMOOTH),
    ("roll_flat", lambda m, x: m.roll(x, 2) * x, [((2, 3),)], "any", SMOOTH),
    ("tril", lambda m, x: m.tril(x) * x, [((3, 3),), ((2, 3, 4),)], "any", SMOOTH),
    ("triu", lambda m, x: x.triu(1) * x, [((3, 3),), ((4, 2),)], "any", SMOOTH),
    ("meshgrid", lambda m, a, b: m.meshgrid(a, b, indexing="ij")[0] * m.meshgrid(a, b, indexing="xy")[1].T,
     [((3,), (2,))], "any", SMOOTH),
    ("cumsum", lambda m, x: m.cumsum(x, 0) * x, [(s,) for s in ND], "any", SMOOTH),
    ("cumsum_last", lambda m, x: x.cumsum(-1) * x, [((2, 3, 4),)], "any", SMOOTH),
    ("cumprod", lambda m, x: m.cumprod(x, 1), [((2, 3),), ((2, 4, 3),)], "nonzero", SMOOTH),
    ("sort", lambda m, x: m.sort(x, -1)[0] * m.arange(x.shape[-1]), [(s,) for s in ND], "any",
     SMOOTH),
    ("sort_desc", lambda m, x: x.sort(0, descending=True).values * m.arange(x.shape[0])[:, None],
     [((4, 3),)], "any", SMOOTH),
    ("topk", lambda m, x: m.topk(x, 2).values * m.tensor([1.0, 2.0]), [((5,),), ((3, 4),)], "any",
     SMOOTH),
    ("topk_smallest", lambda m, x: x.topk(2, dim=0, largest=False)[0] * 2, [((4, 3),)], "any",
     SMOOTH),
    ("gather", lambda m, x: m.gather(x, 1, m.tensor([[0, 2, 0], [1, 1, 2]])) * 2, [((2, 3),)],
     "any", SMOOTH),
    ("gather_smaller", lambda m, x: x.gather(0, m.tensor([[2, 0]])) * 2, [((3, 4),)], "any", SMOOTH),
    ("scatter_add", lambda m, x, s: x.scatter_add(0, m.tensor([[0, 1, 0], [0, 0, 2]]), s) * x,
     [((3, 3), (2, 3))], "any", SMOOTH),
    ("scatter", lambda m, x, s: m.scatter(x, 1, m.tensor([[2, 0], [1, 2]]), s) * 2,
     [((2, 3), (2, 2))], "any", SMOOTH),
    ("scatter_value", lambda m, x: x.scatter(1, m.tensor([[2], [0]]), 0.5) * x, [((2, 3),)], "any",
     SMOOTH),
    ("index_select", lambda m, x: m.index_select(x, 1, m.tensor([2, 0, 2])) * 2, [((2, 3),), ((2, 3, 2),)],
     "any", SMOOTH),
    ("masked_fill_tensor", lambda m, x, v: x.masked_fill(x > 0.5, v) * x, [((3, 4), ())], "nonzero",
     ""),
    ("to_float64", lambda m, x: x.double() * 2, [((2, 3),)], "any", SMOOTH),
    # layers of the official examples (dcgan, super_resolution, fast_neural_style, siamese)
    ("conv_transpose2d", lambda m, x, w, b: NF(m).conv_transpose2d(x, w, b, stride=2, padding=1,
                                                                    output_padding=1),
     [((2, 2, 3, 3), (2, 3, 3, 3), (3,))], "any", SMOOTH),
    ("conv_transpose2d_groups", lambda m, x, w: NF(m).conv_transpose2d(x, w, groups=2, dilation=2),
     [((1, 4, 2, 3), (4, 1, 2, 2))], "any", SMOOTH),
    ("conv_transpose1d", lambda m, x, w: NF(m).conv_transpose1d(x, w, stride=3, padding=1),
     [((2, 2, 4), (2, 3, 3))], "any", SMOOTH),
    ("interpolate_nearest", lambda m, x: NF(m).interpolate(x, scale_factor=2) * x.sum(),
     [((1, 2, 2, 3),), ((2, 1, 3),)], "any", SMOOTH),
    ("interpolate_nearest_size", lambda m, x: NF(m).interpolate(x, size=(3, 5)) * 2,
     [((1, 2, 4, 3),)], "any", SMOOTH),
    ("interpolate_bilinear", lambda m, x: NF(m).interpolate(x, size=(5, 4), mode="bilinear",
                                                            align_corners=False) * 2,
     [((1, 2, 3, 3),)], "any", SMOOTH),
    ("interpolate_bilinear_corners", lambda m, x: NF(m).interpolate(
        x, scale_factor=1.5, mode="bilinear", align_corners=True) * 2, [((2, 1, 3, 2),)], "any", SMOOTH),
    ("interpolate_linear", lambda m, x: NF(m).interpolate(x, scale_factor=2.5, mode="linear") * 2,
     [((2, 2, 3),)], "any", SMOOTH),
    ("pixel_shuffle", lambda m, x: NF(m).pixel_shuffle(x, 2) * 2, [((2, 8, 2, 3),)], "any", SMOOTH),
    ("pixel_unshuffle", lambda m, x: NF(m).pixel_unshuffle(x, 2) * 2, [((1, 2, 4, 2),)], "any", SMOOTH),
    ("mish", lambda m, x: NF(m).mish(x), [(s,) for s in U], "any", SMOOTH),
    ("hardswish", lambda m, x: NF(m).hardswish(x * 3), [(s,) for s in ND], "nonzero", ""),
    ("hardsigmoid", lambda m, x: NF(m).hardsigmoid(x * 3) * x, [(s,) for s in ND], "nonzero", ""),
    ("prelu", lambda m, x, w: NF(m).prelu(x, w), [((2, 3, 4), (3,)), ((2, 3), (1,))], "nonzero", ""),
    ("cosine_similarity", lambda m, a, b: NF(m).cosine_similarity(a, b), [((3, 4), (3, 4)), ((2, 3, 2), (1, 3, 2))],
     "nonzero", SMOOTH),
    ("pairwise_distance", lambda m, a, b: NF(m).pairwise_distance(a, b), [((3, 4), (3, 4)), ((4,), (4,))],
     "nonzero", SMOOTH),
    ("normalize", lambda m, x: NF(m).normalize(x, dim=-1), [((3, 4),), ((2, 3, 2),)], "nonzero", SMOOTH),
    ("instance_norm", lambda m, x, w, b: NF(m).instance_norm(x, weight=w, bias=b),
     [((2, 3, 4, 2), (3,), (3,)), ((2, 2, 5), (2,), (2,))], "any", SMOOTH),
    ("softmin", lambda m, x: NF(m).softmin(x, dim=-1), [((3, 4),), ((2, 3, 2),)], "any", SMOOTH),
    ("celu", lambda m, x: NF(m).celu(x, 0.7), [(s,) for s in ND], "nonzero", ""),
    ("glu", lambda m, x: NF(m).glu(x, -1), [((3, 4),), ((2, 3, 2),)], "any", SMOOTH),
    ("softshrink", lambda m, x: NF(m).softshrink(x, 0.1) * x, [(s,) for s in ND], "nonzero", ""),
    ("hardshrink", lambda m, x: NF(m).hardshrink(x, 0.1) * x, [(s,) for s in ND], "nonzero", ""),
    ("tanhshrink", lambda m, x: NF(m).tanhshrink(x), [(s,) for s in U], "any", SMOOTH),
    ("threshold", lambda m, x: NF(m).threshold(x, 0.1, 2.0) * x, [(s,) for s in ND], "nonzero", ""),
    ("margin_ranking_loss", lambda m, a, b: NF(m).margin_ranking_loss(a, b, m.tensor([1.0, -1.0, 1.0]), margin=5.0),
     [((3,), (3,))], "any", SMOOTH),
    ("cosine_embedding_loss", lambda m, a, b: NF(m).cosine_embedding_loss(
        a, b, m.tensor([1, -1, 1]), margin=-2.0), [((3, 4), (3, 4))], "nonzero", SMOOTH),
    ("triplet_margin_loss", lambda m, a, p, n: NF(m).triplet_margin_loss(a, p, n, margin=9.0),
     [((3, 4), (3, 4), (3, 4))], "nonzero", SMOOTH),
    ("soft_margin_loss", lambda m, x: NF(m).soft_margin_loss(x, m.tensor([1.0, -1.0, 1.0])),
     [((3,),)], "any", SMOOTH),
    ("reciprocal", lambda m, x: m.reciprocal(x), [(s,) for s in U], "nonzero", SMOOTH),
    ("lerp", lambda m, a, b: m.lerp(a, b, 0.3), B[:7], "any", SMOOTH),
    ("addmm", lambda m, c, a, b: m.addmm(c, a, b, beta=0.5, alpha=2.0), [((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4))],
     "any", SMOOTH),
    ("tile", lambda m, x: m.tile(x, (2, 1)) * 2, [((3,),), ((2, 3),)], "any", SMOOTH),
    ("repeat_interleave", lambda m, x: x.repeat_interleave(2, dim=0) * 2, [((3,),), ((2, 3),)], "any", SMOOTH),
    ("diagonal", lambda m, x: m.diagonal(x, 1) * 2, [((3, 4),), ((2, 3, 3),)], "any", SMOOTH),
    ("diag", lambda m, x: m.diag(x, -1) * 2, [((3,),), ((3, 4),)], "any", SMOOTH),
    ("trace", lambda m, x: m.trace(x) * x, [((3, 3),), ((2, 4),)], "any", SMOOTH),
    ("index_add", lambda m, x, s: x.index_add(1, m.tensor([2, 0, 2]), s, alpha=2.0) * x,
     [((3, 4), (3, 3)), ((2, 4, 1), (2, 3, 1))], "any", SMOOTH),
]


def _arrays(shapes, domain, dtype, seed):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        x = rng.standard_normal(s)
        if domain == "pos":
            x = rng.uniform(0.5, 2.0, s)
        elif domain == "nonzero":
            x = np.sign(x + (x == 0)) * rng.uniform(0.2, 2.0, s)
        out.append(np.asarray(x, dtype=dtype))
    return out


def _ids(cases):
    return [f"{name}-{'x'.join(map(str, shapes))}" for name, _, grid, _, _ in cases for shapes in grid]


GRID = [(name, fn, shapes, domain, flags) for name, fn, grid, domain, flags in CASES for shapes in grid]
IDS = [f"{name}-{shapes}".replace(" ", "") for name, _, shapes, _, _ in GRID]


def _first_output(out):
    return out[0] if isinstance(out, tuple) and not isinstance(out, cr.Tensor) else out


@pytest.mark.parametrize("name,fn,shapes,domain,flags", GRID, ids=IDS)
def test_gradcheck(name, fn, shapes, domain, flags):
    xs = [cr.tensor(a, requires_grad=True) for a in _arrays(shapes, domain, np.float64, 0)]
    assert cr.autograd.gradcheck(lambda *t: fn(cr, *t), xs)


SMOOTH_GRID = [g for g in GRID if g[4] == SMOOTH]


@pytest.mark.parametrize("name,fn,shapes,domain,flags", SMOOTH_GRID,
                         ids=[f"{g[0]}-{g[2]}".replace(" ", "") for g in SMOOTH_GRID])
def test_gradgradcheck(name, fn, shapes, domain, flags):
    xs = [cr.tensor(a, requires_grad=True) for a in _arrays(shapes, domain, np.float64, 1)]
    assert cr.autograd.gradgradcheck(lambda *t: fn(cr, *t), xs)


@pytest.mark.parametrize("name,fn,shapes,domain,flags", GRID, ids=IDS)
def test_matches_torch_and_keeps_float32(name, fn, shapes, domain, flags):
    if torch is None:
        pytest.skip("PyTorch is not installed")
    arrays = _arrays(shapes, domain, np.float32, 2)
    cx = [cr.tensor(a, requires_grad=True) for a in arrays]
    tx = [torch.tensor(a, requires_grad=True) for a in arrays]
    cout, tout = fn(cr, *cx), fn(torch, *tx)
    np.testing.assert_allclose(cout.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-5)
    v = np.random.default_rng(3).standard_normal(cout.shape).astype(cout.dtype)
    (cout * cr.tensor(v)).sum().backward()
    (tout * torch.tensor(v)).sum().backward()
    if name != "to_float64":
        assert cout.dtype == np.float32, f"{name} upcast its float32 result to {cout.dtype}"
    for c, t in zip(cx, tx):
        expected = np.zeros(c.shape, np.float32) if t.grad is None else t.grad.numpy()
        got = np.zeros(c.shape, np.float32) if c.grad is None else c.grad.numpy()
        assert got.dtype == np.float32 and got.shape == c.shape
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
