"""GroupNorm, Dropout1d/2d/3d, lazy layers and parameters_to_vector, against PyTorch."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "shape,groups", [((3, 6, 5), 3), ((2, 4, 3, 3), 2), ((2, 4), 4), ((2, 6, 2, 2, 2), 1)]
)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(shape, groups, affine):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3 + 1
    theirs = torch.nn.GroupNorm(groups, shape[1], affine=affine).double()
    ours = nn.GroupNorm(groups, shape[1], affine=affine).to(cr.float64)
    if affine:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(rng.standard_normal(shape[1])))
            theirs.bias.copy_(torch.tensor(rng.standard_normal(shape[1])))
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    cx, tx = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ours(cx), theirs(tx)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), atol=1e-10)
    g = rng.standard_normal(shape)
    (out * cr.tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    if affine:
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy(), atol=1e-10)


def test_group_norm_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="expected input"):
        nn.GroupNorm(2, 4)(cr.randn(2, 3, 5))


@pytest.mark.parametrize(
    "layer,shape",
    [
        (nn.Dropout1d, (40, 30, 7)),
        (nn.Dropout1d, (30, 7)),
        (nn.Dropout2d, (40, 30, 3, 3)),
        (nn.Dropout3d, (40, 30, 2, 3, 2)),
        (nn.Dropout3d, (60, 2, 3, 2)),
    ],
)
def test_channel_dropout_zeros_whole_channels(layer, shape):
    cr.manual_seed(0)
    drop = layer(p=0.3)
    x = cr.ones(*shape, requires_grad=True)
    y = drop(x)
    batched = {nn.Dropout1d: 3, nn.Dropout2d: 4, nn.Dropout3d: 5}[layer]
    lead = 2 if len(shape) == batched else 1
    per_channel = y.numpy().reshape(shape[:lead] + (-1,))
    assert np.all((per_channel == 0).all(-1) | np.isclose(per_channel, 1 / 0.7).all(-1))
    assert abs((per_channel[..., 0] == 0).mean() - 0.3) < 0.06
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.numpy())  # d y / d x is the mask itself
    drop.eval()
    assert drop(x) is x or np.array_equal(drop(x).numpy(), x.numpy())


def test_dropout2d_on_3d_input_is_channelwise_1d_like_torch():
    cr.manual_seed(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = nn.Dropout2d(0.5)(cr.ones(20, 10, 4)).numpy()
    assert any("3D input" in str(w.message) for w in caught)
    assert np.all(y.min(-1) == y.max(-1))  # one draw per (sample, channel)
    with pytest.raises(RuntimeError, match="Expected 2D or 3D"):
        nn.Dropout1d()(cr.ones(2, 3, 4, 5))


def test_lazy_linear_infers_size_and_becomes_linear():
    cr.manual_seed(0)
    layer = nn.LazyLinear(4)
    assert layer.has_uninitialized_params()
    opt = cr.optim.SGD(layer.parameters(), lr=0.1)  # built before the first call, as people do
    x = cr.randn(3, 7)
    y = layer(x)
    assert type(layer) is nn.Linear and layer.in_features == 7 and y.shape == (3, 4)
    assert layer.weight.shape == (4, 7) and np.abs(layer.weight.numpy()).max() <= 1 / np.sqrt(7)
    assert layer.weight.numpy().std() > 0
    before = layer.weight.numpy().copy()
    y.sum().backward()
    opt.step()
    assert not np.array_equal(before, layer.weight.numpy())  # the optimizer holds the real weight
    theirs = torch.nn.Linear(7, 4).double()
    layer.to(cr.float64).load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    xs = np.random.default_rng(0).standard_normal((2, 7))
    np.testing.assert_allclose(
        layer(cr.tensor(xs)).numpy(), theirs(torch.tensor(xs)).detach().numpy()
    )


@pytest.mark.parametrize(
    "lazy,plain,shape",
    [(nn.LazyConv1d, nn.Conv1d, (2, 5, 12)), (nn.LazyConv2d, nn.Conv2d, (2, 6, 8, 8))],
)
def test_lazy_conv_infers_channels(lazy, plain, shape):
    conv = lazy(4, kernel_size=3, padding=1, groups=2 if shape[1] % 2 == 0 else 1)
    y = conv(cr.randn(*shape))
    assert type(conv) is plain and conv.in_channels == shape[1]
    assert conv.weight.shape == (4, shape[1] // conv.groups) + conv.kernel_size
    assert y.shape[:2] == (2, 4)
    tconv = (torch.nn.Conv1d if plain is nn.Conv1d else torch.nn.Conv2d)(
        shape[1], 4, 3, padding=1, groups=conv.groups
    )
    assert conv.state_dict()["weight"].shape == tuple(tconv.state_dict()["weight"].shape)


def test_parameters_to_vector_roundtrip_and_gradient():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    vec = nn.utils.parameters_to_vector(model.parameters())
    tvec = torch.nn.utils.parameters_to_vector(tmodel.parameters())
    np.testing.assert_array_equal(vec.numpy(), tvec.detach().numpy())
    (vec**2).sum().backward()
    for p in model.parameters():
        np.testing.assert_allclose(p.grad.numpy(), 2 * p.numpy())
    new = cr.arange(vec.shape[0], dtype=cr.float32)
    weight = model[0].weight
    nn.utils.vector_to_parameters(new, model.parameters())
    assert model[0].weight is weight
    np.testing.assert_array_equal(
        nn.utils.parameters_to_vector(model.parameters()).numpy(), new.numpy()
    )
    torch.nn.utils.vector_to_parameters(
        torch.arange(tvec.shape[0], dtype=torch.float32), tmodel.parameters()
    )
    np.testing.assert_array_equal(model[2].bias.numpy(), tmodel[2].bias.detach().numpy())
    with pytest.raises(RuntimeError, match="hold"):
        nn.utils.vector_to_parameters(cr.zeros(3), model.parameters())


def test_dropout3d_functional_and_torch_names():
    x = cr.ones(2, 3, 2, 2, 2)
    assert cr.nn.functional.dropout3d(x, 0.5, training=False) is x
    assert repr(nn.Dropout3d(0.2)) == repr(torch.nn.Dropout3d(0.2))
    y = cr.nn.functional.dropout3d(x, 1.0)
    assert not y.numpy().any()


@pytest.mark.parametrize("shape", [(40, 4), (40, 4, 3), (40, 2, 2, 2, 2, 1)])
def test_dropout3d_other_dims_warn_and_drop_along_dim0_like_torch(shape):
    cr.manual_seed(2)
    with pytest.warns(UserWarning, match=f"Received a {len(shape)}-D input to dropout3d"):
        y = cr.nn.functional.dropout3d(cr.ones(*shape), 0.5).numpy().reshape(shape[0], -1)
    assert np.all(y.min(-1) == y.max(-1))  # one draw per entry of dim 0
    assert 0 < (y[:, 0] == 0).sum() < shape[0]


@pytest.mark.parametrize(
    "name,args,kwargs,shape",
    [
        ("LazyConv3d", (4, 3), dict(padding=1), (2, 3, 4, 5, 4)),
        ("LazyConvTranspose1d", (2, 3), dict(stride=2), (2, 5, 6)),
        ("LazyConvTranspose2d", (4, 3), dict(stride=2, padding=1, groups=2), (2, 6, 4, 4)),
        ("LazyConvTranspose3d", (2, 2), dict(stride=2, bias=False), (1, 3, 2, 3, 2)),
    ],
)
def test_lazy_conv_3d_and_transposed_infer_channels_like_torch(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert ours.has_uninitialized_params()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours(cr.tensor(x))
    theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ == name[4:]
    assert repr(ours) == repr(theirs)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    assert ours.weight.numpy().std() > 0  # initialised after materialising
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(
        ours(cr.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), atol=1e-5
    )


def test_lazy_conv_transpose_passes_output_size_on_the_first_call():
    up = nn.LazyConvTranspose2d(4, 3, stride=2)
    assert up(cr.randn(1, 5, 3, 3), output_size=(8, 8)).shape == (1, 4, 8, 8)


@pytest.mark.parametrize(
    "name,kwargs,shape",
    [
        ("LazyBatchNorm1d", {}, (6, 4)),
        ("LazyBatchNorm1d", dict(affine=False), (3, 4, 5)),
        ("LazyBatchNorm2d", dict(momentum=None), (3, 4, 2, 3)),
        ("LazyBatchNorm3d", dict(track_running_stats=False), (2, 4, 2, 3, 2)),
        ("LazyInstanceNorm1d", {}, (2, 4, 5)),
        ("LazyInstanceNorm2d", dict(affine=False, track_running_stats=False), (2, 4, 3, 3)),
        ("LazyInstanceNorm3d", dict(bias=False), (2, 4, 2, 3, 2)),
    ],
)
@pytest.mark.filterwarnings("ignore:input's size at dim=1 does not match")  # torch's 0 features
def test_lazy_norms_infer_features_like_torch(name, kwargs, shape):
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32) * 2 + 1
    for _ in range(2):  # the first call materialises, the second runs the plain layer
        y, ty = ours(cr.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-5)
    assert type(ours).__name__ == type(theirs).__name__ == name[4:]
    if ours.weight is not None or ours.running_mean is not None:  # else torch keeps 0 features
        assert repr(ours) == repr(theirs)
    assert ours.num_features == shape[1]
    for (k, v), (tk, tv) in zip(
        ours.state_dict().items(), theirs.state_dict().items(), strict=True
    ):
        assert k == tk
        np.testing.assert_allclose(v.numpy(), tv.numpy(), rtol=1e-5, atol=1e-6)


def test_lazy_instance_norm_reads_the_channels_of_an_unbatched_input():
    norm = nn.LazyInstanceNorm2d()
    assert norm(cr.randn(3, 4, 4)).shape == (3, 4, 4)
    assert norm.num_features == 3 and norm.weight.shape == (3,)
