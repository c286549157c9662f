import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import init


def _w(*shape, dtype=cr.float32):
    return nn.Parameter(cr.zeros(*shape, dtype=dtype))


def test_calculate_gain_values():
    torch = pytest.importorskip("torch")
    for name, param in [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
    ]:
        assert init.calculate_gain(name, param) == pytest.approx(
            torch.nn.init.calculate_gain(name, param)
        )
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fans_for_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(_w(6, 4)) == (4, 6)
    assert init._calculate_fan_in_and_fan_out(_w(8, 3, 5, 5)) == (75, 200)
    assert init._calculate_fan_in_and_fan_out(_w(8, 3, 5)) == (15, 40)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(_w(5))


@pytest.mark.parametrize(
    "fn, kwargs, expected_std",
    [
        (init.kaiming_normal_, {}, math.sqrt(2 / 512)),
        (init.kaiming_normal_, {"nonlinearity": "relu", "mode": "fan_out"}, math.sqrt(2 / 512)),
        (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(512) / math.sqrt(3)),
        (init.xavier_uniform_, {}, math.sqrt(2 / 1024)),
        (init.xavier_normal_, {"gain": 2.0}, 2 * math.sqrt(2 / 1024)),
        (init.normal_, {"std": 0.02}, 0.02),
        (init.uniform_, {"a": -1.0, "b": 1.0}, 1 / math.sqrt(3)),
        (init.trunc_normal_, {"std": 1.0}, 0.8796),  # std of N(0, 1) truncated to [-2, 2]
    ],
)
def test_init_statistics_on_512x512(fn, kwargs, expected_std):
    cr.manual_seed(0)
    w = _w(512, 512)
    assert fn(w, **kwargs) is w
    assert w.dtype == cr.float32
    assert abs(w.numpy().std() - expected_std) < 0.03 * expected_std
    assert abs(w.numpy().mean()) < 0.05 * expected_std


def test_uniform_bounds_and_kaiming_modes():
    w = _w(64, 32)
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 64)
    assert np.abs(w.numpy()).max() <= bound
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_normal_(w, mode="fan_avg")
    assert np.abs(init.trunc_normal_(_w(100, 100), a=-0.5, b=0.5).numpy()).max() <= 0.5


def test_orthogonal():
    for shape in [(6, 4), (4, 6), (5, 2, 3)]:
        w = init.orthogonal_(_w(*shape), gain=2.0)
        flat = w.numpy().reshape(shape[0], -1).astype(np.float64)
        gram = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, 4 * np.eye(gram.shape[0]), atol=1e-5)
    with pytest.raises(ValueError):
        init.orthogonal_(_w(3))


def test_constant_zeros_ones_eye_keep_dtype_and_identity():
    w = _w(3, 3, dtype=cr.float64)
    data = w.numpy()
    init.constant_(w, 0.5)
    assert w.numpy() is data and np.all(w.numpy() == 0.5) and w.dtype == cr.float64
    assert np.all(init.zeros_(w).numpy() == 0) and np.all(init.ones_(w).numpy() == 1)
    np.testing.assert_array_equal(init.eye_(w).numpy(), np.eye(3))


def test_init_inside_grad_mode_on_parameter_and_version_bump():
    w = nn.Parameter(cr.zeros(4, 4))
    v = w._version
    init.normal_(w)  # a leaf that requires grad: allowed, not recorded
    assert w.grad_fn is None and w._version == v + 1


def test_reproducible_with_seed_and_generator():
    cr.manual_seed(3)
    a = init.normal_(_w(5, 5)).numpy().copy()
    cr.manual_seed(3)
    np.testing.assert_array_equal(a, init.normal_(_w(5, 5)).numpy())
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    np.testing.assert_array_equal(
        init.uniform_(_w(3), generator=g1).numpy(), init.uniform_(_w(3), generator=g2).numpy()
    )


# ---- dirac_, sparse_, the deprecated names, skip_init ----


@pytest.mark.parametrize(
    "shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 2), 2), ((3, 5, 1, 3, 3), 1), ((2, 2, 2, 4), 1)]
)
def test_dirac_matches_torch(shape, groups):
    torch = pytest.importorskip("torch")
    ours = init.dirac_(_w(*shape), groups)
    theirs = torch.nn.init.dirac_(torch.empty(shape), groups)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = cr.randn(2, shape[1], *[5] * (len(shape) - 2))  # a conv with it passes channels through
    if groups == 1 and shape[0] <= shape[1] and all(k % 2 for k in shape[2:]):
        conv = getattr(nn.functional, f"conv{len(shape) - 2}d")
        y = conv(x, ours, padding=tuple(k // 2 for k in shape[2:]))
        np.testing.assert_allclose(y.numpy()[:, : shape[0]], x.numpy()[:, : shape[0]])


def test_dirac_and_sparse_errors():
    with pytest.raises(ValueError, match=r"dirac_: only tensors with 3, 4, or 5 dim.*\(3, 3\)"):
        init.dirac_(_w(3, 3))
    with pytest.raises(ValueError, match=r"dirac_: dim 0 \(5\) must be divisible by groups"):
        init.dirac_(_w(5, 2, 3), groups=2)
    with pytest.raises(ValueError, match=r"sparse_: only tensors with 2 dim.*\(3,\)"):
        init.sparse_(_w(3), 0.5)


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_sparse_zeros_per_column_and_std(dtype):
    cr.manual_seed(0)
    w = init.sparse_(_w(200, 50, dtype=dtype), sparsity=0.25, std=0.5)
    values = w.numpy()
    assert values.dtype == dtype
    assert ((values == 0).sum(axis=0) == 50).all()  # ceil(0.25 * 200) per column, as torch
    assert abs(values[values != 0].std() - 0.5) < 0.02


@pytest.mark.parametrize(
    "old,args",
    [
        ("uniform", ()),
        ("normal", ()),
        ("constant", (0.3,)),
        ("eye", ()),
        ("xavier_uniform", ()),
        ("xavier_normal", ()),
        ("kaiming_uniform", ()),
        ("kaiming_normal", ()),
        ("orthogonal", ()),
        ("sparse", (0.5,)),
    ],
)
def test_deprecated_names_warn_like_torch_and_fill_the_same(old, args):
    cr.manual_seed(1)
    with pytest.warns(FutureWarning, match=rf"`nn.init.{old}` is now deprecated in favor of"):
        a = getattr(init, old)(_w(4, 6), *args)
    cr.manual_seed(1)
    b = getattr(init, old + "_")(_w(4, 6), *args)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert getattr(init, old).__name__ == old


def test_dirac_deprecated_name():
    with pytest.warns(FutureWarning, match="nn.init.dirac_"):
        w = init.dirac(_w(2, 2, 3))
    assert w.numpy()[1, 1, 1] == 1


def test_skip_init_builds_the_module_without_filling_it():
    cr.manual_seed(0)
    before = cr.randn(1).item()
    cr.manual_seed(0)
    layer = nn.utils.skip_init(nn.Linear, 4, 3, bias=False)
    assert cr.randn(1).item() == before  # no draw was made
    assert type(layer) is nn.Linear and layer.weight.shape == (3, 4) and layer.bias is None
    assert init.kaiming_uniform_(_w(2, 2)).numpy().any()  # fills work again afterwards

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()

    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        nn.utils.skip_init(NoDevice, 3)
