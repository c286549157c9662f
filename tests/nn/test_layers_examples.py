"""Layers the official PyTorch examples use (dcgan, super_resolution, fast_neural_style, siamese,
RL): transposed convolutions, resizing, PReLU & co., distances, instance norm, padding layers,
parameter containers — each against its PyTorch twin (state dict, outputs, gradients)."""

import numpy as np
import pytest
from tests.helpers import compare_modules

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize(
    "args,kwargs,shape",
    [
        ((8, 4, 4), dict(stride=2, padding=1), (2, 8, 3, 3)),  # dcgan block
        ((8, 4, 4), dict(stride=1, padding=0, bias=False), (2, 8, 1, 1)),  # dcgan first layer
        ((4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (1, 4, 5, 4)),
        ((3, 2, (2, 3)), dict(dilation=2), (2, 3, 4, 4)),
    ],
)
def test_conv_transpose2d_matches_torch(args, kwargs, shape):
    torch.manual_seed(0)
    compare_modules(
        nn.ConvTranspose2d(*args, **kwargs), torch.nn.ConvTranspose2d(*args, **kwargs), [_x(*shape)]
    )


@pytest.mark.parametrize(
    "args,kwargs,shape",
    [
        ((4, 6, 3), {}, (2, 4, 3, 4, 2)),
        ((4, 6, 2), dict(stride=2, bias=False), (1, 4, 2, 3, 2)),
        (
            (4, 6, (3, 2, 2)),
            dict(stride=(2, 1, 3), padding=(1, 0, 1), output_padding=(1, 0, 2), groups=2),
            (2, 4, 3, 3, 2),
        ),
        ((2, 3, (2, 3, 1)), dict(dilation=(2, 1, 3), padding=1), (2, 2, 3, 4, 3)),
        ((2, 3, 2), {}, (2, 3, 3, 3)),  # unbatched
    ],
)
def test_conv_transpose3d_matches_torch(args, kwargs, shape):
    torch.manual_seed(0)
    ours, theirs = nn.ConvTranspose3d(*args, **kwargs), torch.nn.ConvTranspose3d(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    compare_modules(ours, theirs, [_x(*shape)])
    x = _x(*shape).astype(np.float64)
    compare_modules(ours.double(), theirs.double(), [x], copy=None)


def test_conv_transpose3d_gradchecks_to_second_order_and_output_size():
    from tests.helpers import check_grad

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 2, 3, 2)), rng.standard_normal((2, 2, 2, 2, 2))
    fn = lambda x, w: nn.functional.conv_transpose3d(x, w, stride=(2, 1, 1), padding=(1, 0, 1))
    check_grad(fn, x, w, gradgrad=True)
    up = nn.ConvTranspose3d(2, 3, 3, stride=2, padding=1)
    assert up(cr.randn(1, 2, 3, 4, 5), output_size=(6, 8, 10)).shape == (1, 3, 6, 8, 10)
    with pytest.raises(ValueError, match=r"conv_transpose3d: input has 3 channels but weight"):
        nn.functional.conv_transpose3d(cr.ones(1, 3, 2, 2, 2), cr.ones(2, 2, 2, 2, 2))


def test_conv_transpose1d_and_output_size_match_torch():
    torch.manual_seed(0)
    compare_modules(
        nn.ConvTranspose1d(3, 5, 3, stride=2),
        torch.nn.ConvTranspose1d(3, 5, 3, stride=2),
        [_x(2, 3, 7)],
    )
    ours, theirs = (
        nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
        torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
    )
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = _x(1, 2, 4, 4)
    out = ours(cr.tensor(x), output_size=[8, 8])
    ref = theirs(torch.tensor(x), output_size=[8, 8])
    assert out.shape == (1, 3, 8, 8)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="output_size"):
        ours(cr.tensor(x), output_size=[11, 11])


def test_conv_transpose_init_statistics_match_torch():
    """Default init draws from the same ranges as PyTorch (fan-in from dim 1 of the weight)."""
    ours, theirs = nn.ConvTranspose2d(64, 32, 4), torch.nn.ConvTranspose2d(64, 32, 4)
    for name in ("weight", "bias"):
        a, b = getattr(ours, name).numpy(), getattr(theirs, name).detach().numpy()
        assert abs(np.abs(a).max() - np.abs(b).max()) < 0.1 * np.abs(b).max()


def test_conv_transpose_errors():
    with pytest.raises(ValueError, match="channels"):
        nn.ConvTranspose2d(3, 4, 3)(cr.randn(1, 2, 5, 5))
    with pytest.raises(ValueError, match="output_padding"):
        cr.nn.functional.conv_transpose2d(
            cr.randn(1, 2, 3, 3), cr.randn(2, 2, 3, 3), output_padding=2
        )


@pytest.mark.parametrize(
    "kwargs,shape",
    [
        (dict(scale_factor=2), (1, 2, 3, 4)),
        (dict(scale_factor=2, mode="nearest"), (2, 2, 5)),
        (dict(size=(7, 5), mode="bilinear", align_corners=False), (1, 2, 3, 4)),
        (dict(scale_factor=3, mode="bilinear", align_corners=True), (1, 1, 3, 3)),
        (dict(size=(7, 5), mode="bicubic", align_corners=False), (1, 2, 3, 4)),
        (dict(scale_factor=1.5, mode="bicubic", align_corners=True), (2, 1, 4, 5)),
        (dict(size=(2, 3), mode="bicubic"), (1, 2, 5, 7)),
        (dict(scale_factor=1.5, mode="nearest-exact"), (1, 2, 3, 4)),
        (dict(size=7, mode="nearest-exact"), (2, 2, 5)),
        (dict(size=(2, 3), mode="area"), (1, 2, 5, 7)),
        (dict(scale_factor=0.5, mode="area"), (2, 2, 6)),
    ],
)
def test_upsample_matches_torch(kwargs, shape):
    compare_modules(nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs), [_x(*shape)])


def test_upsampling_aliases_and_pixel_shuffle_match_torch():
    compare_modules(
        nn.UpsamplingBilinear2d(scale_factor=2),
        torch.nn.UpsamplingBilinear2d(scale_factor=2),
        [_x(1, 2, 3, 3)],
    )
    compare_modules(
        nn.UpsamplingNearest2d(size=(5, 6)),
        torch.nn.UpsamplingNearest2d(size=(5, 6)),
        [_x(1, 2, 3, 3)],
    )
    compare_modules(nn.PixelShuffle(3), torch.nn.PixelShuffle(3), [_x(2, 18, 2, 3)])
    compare_modules(nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2), [_x(2, 3, 4, 6)])


def test_interpolate_errors():
    F = cr.nn.functional
    with pytest.raises(ValueError, match="exactly one"):
        F.interpolate(cr.randn(1, 1, 4, 4))
    with pytest.raises(NotImplementedError, match="trilinear"):
        F.interpolate(cr.randn(1, 1, 4, 4), scale_factor=2, mode="trilinear")
    with pytest.raises(ValueError, match="align_corners"):
        F.interpolate(cr.randn(1, 1, 4, 4), scale_factor=2, mode="area", align_corners=True)
    with pytest.raises(ValueError, match="4-d"):
        F.interpolate(cr.randn(1, 1, 4), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="pixel_shuffle"):
        F.pixel_shuffle(cr.randn(1, 5, 2, 2), 2)


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.PReLU(),
        lambda m: m.PReLU(3, init=0.1),
        lambda m: m.Mish(),
        lambda m: m.Hardswish(),
        lambda m: m.Hardsigmoid(),
        lambda m: m.Softmin(dim=1),
        lambda m: m.CELU(0.7),
        lambda m: m.GLU(0),
        lambda m: m.Softshrink(0.3),
        lambda m: m.Hardshrink(0.3),
        lambda m: m.Tanhshrink(),
        lambda m: m.Threshold(0.1, 2.0),
    ],
)
def test_activations_match_torch(make):
    compare_modules(make(nn), make(torch.nn), [_x(4, 3, 5) * 3])


def test_distances_match_torch():
    a, b = _x(6, 8, seed=1), _x(6, 8, seed=2)
    compare_modules(nn.CosineSimilarity(dim=1), torch.nn.CosineSimilarity(dim=1), [a, b])
    compare_modules(
        nn.CosineSimilarity(dim=0, eps=1e-6), torch.nn.CosineSimilarity(dim=0, eps=1e-6), [a, b]
    )
    compare_modules(nn.PairwiseDistance(), torch.nn.PairwiseDistance(), [a, b])
    compare_modules(
        nn.PairwiseDistance(p=1, keepdim=True), torch.nn.PairwiseDistance(p=1, keepdim=True), [a, b]
    )


@pytest.mark.parametrize(
    "cls,shape",
    [
        ("InstanceNorm2d", (3, 4, 5, 5)),
        ("InstanceNorm1d", (3, 4, 7)),
        ("InstanceNorm3d", (2, 4, 3, 4, 2)),
    ],
)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        dict(affine=True),
        dict(affine=True, track_running_stats=True),
        dict(affine=True, bias=False),
    ],
)
def test_instance_norm_matches_torch_in_train_and_eval(cls, shape, kwargs):
    ours, theirs = getattr(nn, cls)(4, **kwargs), getattr(torch.nn, cls)(4, **kwargs)
    assert repr(ours) == repr(theirs)
    if kwargs.get("affine"):
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(_x(4, seed=3)))
            if theirs.bias is not None:
                theirs.bias.copy_(torch.tensor(_x(4, seed=4)))
    x = _x(*shape) * 2 + 1
    compare_modules(ours, theirs, [x])
    for name, buf in theirs.named_buffers():
        np.testing.assert_allclose(
            dict(ours.named_buffers())[name].numpy(), buf.numpy(), rtol=1e-5, atol=1e-6
        )
    ours.eval()
    theirs.eval()
    compare_modules(ours, theirs, [x], copy=None)


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda m: m.ReflectionPad2d(2), (1, 2, 4, 5)),
        (lambda m: m.ReflectionPad2d((1, 0, 2, 1)), (1, 2, 4, 5)),
        (lambda m: m.ReflectionPad1d(2), (2, 3, 5)),
        (lambda m: m.ReplicationPad2d((1, 2, 0, 1)), (1, 2, 3, 3)),
        (lambda m: m.ReplicationPad1d(1), (2, 3, 5)),
        (lambda m: m.ZeroPad2d(1), (1, 2, 3, 3)),
        (lambda m: m.ConstantPad2d((1, 0, 0, 2), 3.5), (1, 2, 3, 3)),
        (lambda m: m.ConstantPad1d(2, -1.0), (2, 3, 4)),
        (lambda m: m.ZeroPad1d((0, 2)), (2, 3, 4)),
        (lambda m: m.ReflectionPad3d((1, 0, 2, 1, 1, 1)), (1, 2, 3, 4, 5)),
        (lambda m: m.ReflectionPad3d(1), (2, 3, 4, 5)),  # unbatched
        (lambda m: m.ReplicationPad3d((2, 0, 1, 1, 0, 3)), (1, 2, 3, 4, 5)),
        (lambda m: m.ZeroPad3d((1, 2, 0, 1, 2, 0)), (1, 2, 3, 4, 5)),
        (lambda m: m.ConstantPad3d(1, -2.5), (1, 2, 3, 3, 3)),
        (lambda m: m.CircularPad1d((2, 1)), (2, 3, 4)),
        (lambda m: m.CircularPad2d((1, 2, 2, 0)), (1, 2, 3, 4)),
        (lambda m: m.CircularPad3d(1), (1, 2, 3, 3, 3)),
    ],
)
def test_padding_layers_match_torch(make, shape):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    compare_modules(ours, theirs, [_x(*shape)])


def test_padding_layer_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"ReflectionPad3d: expected a 4-d or 5-d input.*\(2, 3\)"):
        nn.ReflectionPad3d(1)(cr.ones(2, 3))
    with pytest.raises(ValueError, match="6-tuple"):
        nn.ZeroPad3d((1, 2))


def test_parameter_list_and_dict_register_like_torch():
    class Ours(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(cr.randn(3, 3)) for _ in range(2)])
            self.ws.append(nn.Parameter(cr.randn(3)))
            self.scales = nn.ParameterDict(
                {"a": nn.Parameter(cr.ones(3)), "b": nn.Parameter(cr.zeros(3))}
            )

        def forward(self, x):
            return (x @ self.ws[0] @ self.ws[1] + self.ws[-1]) * self.scales["a"] + self.scales["b"]

    class Theirs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = torch.nn.ParameterList(
                [torch.nn.Parameter(torch.randn(3, 3)) for _ in range(2)]
            )
            self.ws.append(torch.nn.Parameter(torch.randn(3)))
            self.scales = torch.nn.ParameterDict(
                {"a": torch.nn.Parameter(torch.ones(3)), "b": torch.nn.Parameter(torch.zeros(3))}
            )

        def forward(self, x):
            return (x @ self.ws[0] @ self.ws[1] + self.ws[-1]) * self.scales["a"] + self.scales["b"]

    ours = Ours()
    compare_modules(ours, Theirs(), [_x(4, 3)])
    assert len(ours.ws) == 3 and list(ours.scales) == ["a", "b"] and "a" in ours.scales
    assert len(list(ours.parameters())) == 5
    ours.ws[0] = cr.zeros(3, 3)  # plain tensors become Parameters
    assert isinstance(ours.ws[0], nn.Parameter)
    with pytest.raises(IndexError):
        ours.ws[5]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ranking_losses_match_torch(reduction):
    a, b, c = _x(5, 6, seed=1), _x(5, 6, seed=2), _x(5, 6, seed=3)
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0], np.float32)
    compare_modules(
        nn.TripletMarginLoss(margin=2.0, reduction=reduction),
        torch.nn.TripletMarginLoss(margin=2.0, reduction=reduction),
        [a, b, c],
    )
    compare_modules(
        nn.TripletMarginLoss(margin=1.5, p=1, swap=True, reduction=reduction),
        torch.nn.TripletMarginLoss(margin=1.5, p=1, swap=True, reduction=reduction),
        [a, b, c],
    )
    for ours, theirs, inputs in [
        (
            nn.MarginRankingLoss(0.3, reduction),
            torch.nn.MarginRankingLoss(0.3, reduction=reduction),
            (a[:, 0], b[:, 0]),
        ),
        (
            nn.CosineEmbeddingLoss(0.1, reduction),
            torch.nn.CosineEmbeddingLoss(0.1, reduction=reduction),
            (a, b),
        ),
        (nn.SoftMarginLoss(reduction), torch.nn.SoftMarginLoss(reduction=reduction), (a[:, 0],)),
    ]:
        xs_c = [cr.tensor(v, requires_grad=True) for v in inputs]
        xs_t = [torch.tensor(v, requires_grad=True) for v in inputs]
        out_c, out_t = ours(*xs_c, cr.tensor(y)), theirs(*xs_t, torch.tensor(y))
        np.testing.assert_allclose(out_c.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
        out_c.sum().backward()
        out_t.sum().backward()
        for p, q in zip(xs_c, xs_t, strict=True):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="reduction"):
        nn.MarginRankingLoss(reduction="avg")(cr.tensor(a[:, 0]), cr.tensor(b[:, 0]), cr.tensor(y))


# ---- hinge and multi-class / multi-label margin losses ----

_LABELS = np.array([0, 3, 1, 1, 2])
_MULTI = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [-1, 1, 1, 1], [2, 2, -1, 0], [1, -1, 3, 3]])
_W4 = np.array([0.5, 1.0, 2.0, 1.5], np.float32)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "name,kwargs,target",
    [
        ("HingeEmbeddingLoss", {}, "sign"),
        ("HingeEmbeddingLoss", dict(margin=0.5), "sign"),
        ("HingeEmbeddingLoss", {}, "any"),  # neither 1 nor -1: both terms, as in torch
        ("MultiMarginLoss", {}, "labels"),
        ("MultiMarginLoss", dict(p=2, margin=0.7, weight=_W4), "labels"),
        ("MultiLabelMarginLoss", {}, "multi"),
        ("MultiLabelSoftMarginLoss", {}, "binary"),
        ("MultiLabelSoftMarginLoss", dict(weight=_W4), "binary"),
    ],
)
def test_margin_losses_match_torch(name, kwargs, target, dtype, reduction):
    x = _x(5, 4, seed=5).astype(dtype)
    y = {
        "sign": np.sign(_x(5, 4, seed=6)).astype(dtype),
        "any": np.round(_x(5, 4, seed=6)).astype(dtype),
        "labels": _LABELS,
        "multi": _MULTI,
        "binary": (_x(5, 4, seed=6) > 0).astype(dtype),
    }[target]
    theirs_kw = {k: torch.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    ours_kw = {k: cr.tensor(v) if k == "weight" else v for k, v in kwargs.items()}
    ours = getattr(nn, name)(reduction=reduction, **ours_kw)
    theirs = getattr(torch.nn, name)(reduction=reduction, **theirs_kw)
    if "weight" in kwargs and dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    assert repr(ours) == repr(theirs)
    compare_modules(ours, theirs, [x, y], copy=None, atol=1e-6, rtol=1e-5)
    if target in ("labels", "multi"):  # unbatched (C,) input
        compare_modules(ours, theirs, [x[1], np.asarray(y[1])], copy=None, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize(
    "fn,target",
    [
        (lambda x, y: nn.functional.hinge_embedding_loss(x, y, 0.4), np.sign(_x(3, 4, seed=6))),
        (lambda x, y: nn.functional.multi_margin_loss(x, y, p=2), _LABELS[:3]),
        (lambda x, y: nn.functional.multilabel_margin_loss(x, y), _MULTI[:3]),
        (lambda x, y: nn.functional.multilabel_soft_margin_loss(x, y), _x(3, 4, seed=6) > 0),
    ],
)
def test_margin_losses_gradcheck(fn, target):
    from tests.helpers import check_grad

    # x away from the hinges' kinks, where finite differences are exact
    x = np.round(_x(3, 4, seed=7).astype(np.float64) * 4) / 4 + 0.1
    check_grad(fn, x, target.astype(np.float64) if target.dtype == bool else target)


def test_margin_loss_errors_name_the_op_and_shapes():
    f = nn.functional
    with pytest.raises(ValueError, match=r"multi_margin_loss: only p == 1 and p == 2"):
        f.multi_margin_loss(cr.randn(3, 4), cr.tensor([0, 1, 2]), p=3)
    with pytest.raises(ValueError, match=r"multi_margin_loss: target .* \(2,\) for input \(3, 4\)"):
        f.multi_margin_loss(cr.randn(3, 4), cr.tensor([0, 1]))
    with pytest.raises(IndexError, match=r"multi_margin_loss: target out of range"):
        f.multi_margin_loss(cr.randn(3, 4), cr.tensor([0, 1, 5]))
    with pytest.raises(ValueError, match=r"multilabel_margin_loss: .*\(3, 4\).*\(3,\)"):
        f.multilabel_margin_loss(cr.randn(3, 4), cr.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"hinge_embedding_loss: input shape \(3, 4\) and target"):
        f.hinge_embedding_loss(cr.randn(3, 4), cr.ones(3, 5))
    with pytest.raises(ValueError, match="expected margin to be greater than 0"):
        nn.TripletMarginWithDistanceLoss(margin=0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("swap", [False, True])
def test_triplet_margin_with_distance_loss_matches_torch(reduction, swap):
    a, p, n = _x(5, 6, seed=1), _x(5, 6, seed=2), _x(5, 6, seed=3)
    ours = nn.TripletMarginWithDistanceLoss(swap=swap, reduction=reduction)
    theirs = torch.nn.TripletMarginWithDistanceLoss(swap=swap, reduction=reduction)
    assert repr(ours) == repr(theirs)
    compare_modules(ours, theirs, [a, p, n])
    cos = lambda lib: lambda u, v: 1 - lib.nn.functional.cosine_similarity(u, v)
    compare_modules(
        nn.TripletMarginWithDistanceLoss(distance_function=cos(cr), margin=0.5, swap=swap),
        torch.nn.TripletMarginWithDistanceLoss(distance_function=cos(torch), margin=0.5, swap=swap),
        [a.astype(np.float64), p.astype(np.float64), n.astype(np.float64)],
    )


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pdist_matches_torch(p, dtype):
    from tests.helpers import check_grad, compare_with_torch

    x = _x(5, 3, seed=8).astype(dtype)
    x[3] = x[1]  # a zero distance: zero gradient, as torch
    x[4, 0] = x[0, 0]  # a zero coordinate (p < 1: no gradient there, as torch)
    compare_with_torch(lambda t: nn.functional.pdist(t, p), lambda t: torch.pdist(t, p), [x])
    check_grad(lambda t: nn.functional.pdist(t, p), _x(4, 2, seed=9))
    assert nn.functional.pdist(cr.ones(1, 3)).shape == (0,)
    with pytest.raises(ValueError, match=r"pdist: expected a 2-d input \(N, M\), got shape"):
        nn.functional.pdist(cr.ones(2, 3, 4))
