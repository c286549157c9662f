import math

import numpy as np
import pytest
from helpers import check_grad, compare_modules, compare_with_torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.ops.special import erf, erf_array

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# (our function, torch function, module pair, repr) for each activation
CASES = {
    "relu": (F.relu, TF.relu, nn.ReLU(), torch.nn.ReLU()),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: TF.leaky_relu(x, 0.2),
        nn.LeakyReLU(0.2),
        torch.nn.LeakyReLU(0.2),
    ),
    "elu": (lambda x: F.elu(x, 0.7), lambda x: TF.elu(x, 0.7), nn.ELU(0.7), torch.nn.ELU(0.7)),
    "selu": (F.selu, TF.selu, nn.SELU(), torch.nn.SELU()),
    "gelu": (F.gelu, TF.gelu, nn.GELU(), torch.nn.GELU()),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
        nn.GELU("tanh"),
        torch.nn.GELU("tanh"),
    ),
    "silu": (F.silu, TF.silu, nn.SiLU(), torch.nn.SiLU()),
    "sigmoid": (F.sigmoid, torch.sigmoid, nn.Sigmoid(), torch.nn.Sigmoid()),
    "tanh": (F.tanh, torch.tanh, nn.Tanh(), torch.nn.Tanh()),
    "softplus": (
        lambda x: F.softplus(x, 2.0, 3.0),
        lambda x: TF.softplus(x, 2.0, 3.0),
        nn.Softplus(2.0, 3.0),
        torch.nn.Softplus(2.0, 3.0),
    ),
    "softsign": (F.softsign, TF.softsign, nn.Softsign(), torch.nn.Softsign()),
    "hardtanh": (
        lambda x: F.hardtanh(x, -0.5, 1.5),
        lambda x: TF.hardtanh(x, -0.5, 1.5),
        nn.Hardtanh(-0.5, 1.5),
        torch.nn.Hardtanh(-0.5, 1.5),
    ),
    "relu6": (F.relu6, TF.relu6, nn.ReLU6(), torch.nn.ReLU6()),
    "softmax": (
        lambda x: F.softmax(x, 1),
        lambda x: TF.softmax(x, 1),
        nn.Softmax(1),
        torch.nn.Softmax(1),
    ),
    "log_softmax": (
        lambda x: F.log_softmax(x, -1),
        lambda x: TF.log_softmax(x, -1),
        nn.LogSoftmax(-1),
        torch.nn.LogSoftmax(-1),
    ),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid, nn.LogSigmoid(), torch.nn.LogSigmoid()),
}


def _x(seed=0, shape=(4, 5, 3)):
    # Wide range, and values kept away from the kinks where finite differences break down.
    x = np.random.default_rng(seed).uniform(-4, 4, shape)
    x[np.abs(x) < 0.05] = 0.3
    return x


@pytest.mark.parametrize("name", sorted(CASES))
def test_function_and_module_match_torch_float32(name):
    ours, theirs, module, tmodule = CASES[name]
    x = _x().astype(np.float32)
    out, *_ = compare_with_torch(ours, theirs, [x])
    assert out[0].dtype == cr.float32
    compare_with_torch(module, tmodule, [x])
    assert repr(module) == repr(tmodule)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_float64(name):
    ours = CASES[name][0]
    x = _x(1, (3, 4))
    x[np.abs(np.abs(x) - 1.5) < 0.05] = 0.7  # off the hardtanh corners
    check_grad(ours, x)


@pytest.mark.parametrize(
    "name", ["elu", "gelu", "gelu_tanh", "silu", "softplus", "logsigmoid", "selu", "leaky_relu"]
)
def test_second_derivatives(name):
    check_grad(CASES[name][0], _x(2, (2, 3)), gradgrad=True)


def test_extreme_inputs_stay_finite():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=np.float32)
    for name in ("gelu", "silu", "sigmoid", "softplus", "elu", "selu", "logsigmoid", "softsign"):
        ours, theirs = CASES[name][:2]
        compare_with_torch(ours, theirs, [x], atol=1e-4)


def test_erf_accuracy_against_math_erf():
    x = np.concatenate(
        [
            np.linspace(-7, 7, 20001),
            np.logspace(-30, 0.9, 500),
            -np.logspace(-10, 0.9, 200),
            [0.0, 1.0, 3.0, 6.0, -6.0],
        ]
    )
    ref = np.array([math.erf(v) for v in x])
    got = erf_array(x)
    assert got.dtype == np.float64
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 1e-7  # in fact about 2e-15
    x32 = x.astype(np.float32)
    got32 = erf_array(x32)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(
        got32, np.array([math.erf(v) for v in x32.astype(np.float64)]), rtol=1e-6, atol=1e-30
    )


def test_erf_special_values():
    got = erf_array(np.array([np.nan, np.inf, -np.inf, -0.0, 40.0], np.float32))
    assert np.isnan(got[0]) and list(got[1:4]) == [1.0, -1.0, 0.0] and got[4] == 1.0
    assert np.isnan(F.gelu(cr.tensor([np.nan])).item())


def test_erf_primitive_gradient():
    check_grad(erf, np.linspace(-3, 3, 13))
    compare_with_torch(erf, torch.erf, [_x().astype(np.float32)])


def test_gelu_bad_approximate():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(cr.zeros(2), approximate="fast")
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


def test_softmax_implicit_dim_warns_like_torch():
    x = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(cr.tensor(x))
    np.testing.assert_allclose(out.numpy(), TF.softmax(torch.tensor(x), 1).numpy(), rtol=1e-6)


def test_hardtanh_invalid_range():
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(2.0, 1.0)


# ---- inplace=True: the result is written into the input, as PyTorch does ----

INPLACE = {
    "relu": ("relu", {}),
    "leaky_relu": ("leaky_relu", {"negative_slope": 0.2}),
    "elu": ("elu", {"alpha": 0.7}),
    "selu": ("selu", {}),
    "silu": ("silu", {}),
    "hardtanh": ("hardtanh", {"min_val": -0.5, "max_val": 0.8}),
    "relu6": ("relu6", {}),
    "mish": ("mish", {}),
    "hardsigmoid": ("hardsigmoid", {}),
    "hardswish": ("hardswish", {}),
    "celu": ("celu", {"alpha": 0.5}),
    "threshold": ("threshold", {"threshold": 0.1, "value": 20.0}),
}


@pytest.mark.parametrize("name", INPLACE)
def test_functional_inplace_writes_into_the_input_and_backpropagates_as_torch(name):
    fn, kwargs = INPLACE[name]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5)) * 3
    ours_leaf, theirs_leaf = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours_h, theirs_h = ours_leaf * 2, theirs_leaf * 2  # intermediates: in place is allowed
    ours = getattr(F, fn)(ours_h, inplace=True, **kwargs)
    theirs = getattr(TF, fn)(theirs_h, inplace=True, **kwargs)
    assert ours is ours_h  # the input itself, now holding the result
    np.testing.assert_allclose(ours_h.detach().numpy(), theirs_h.detach().numpy(), rtol=1e-6)
    weights = rng.standard_normal((4, 5))
    (ours * cr.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(
        ours_leaf.grad.numpy(), theirs_leaf.grad.numpy(), rtol=1e-6, atol=1e-12
    )
    with pytest.raises(RuntimeError, match="in-place"):  # a leaf that requires grad refuses
        getattr(F, fn)(cr.tensor(x, requires_grad=True), inplace=True, **kwargs)
    with cr.no_grad():  # outside a graph it just writes
        plain = cr.tensor(2 * x)
        assert getattr(F, fn)(plain, inplace=True, **kwargs) is plain
    np.testing.assert_allclose(plain.numpy(), theirs_h.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: nn.ReLU(inplace=True), lambda: torch.nn.ReLU(inplace=True)),
        (lambda: nn.LeakyReLU(0.1, True), lambda: torch.nn.LeakyReLU(0.1, True)),
        (lambda: nn.ReLU6(inplace=True), lambda: torch.nn.ReLU6(inplace=True)),
        (lambda: nn.Hardswish(inplace=True), lambda: torch.nn.Hardswish(inplace=True)),
        (lambda: nn.CELU(0.5, inplace=True), lambda: torch.nn.CELU(0.5, inplace=True)),
        (lambda: nn.Threshold(0.1, 2.0, True), lambda: torch.nn.Threshold(0.1, 2.0, True)),
    ],
)
def test_activation_modules_with_inplace_modify_their_input(ours, theirs):
    x = np.linspace(-4, 4, 12).reshape(3, 4)
    a, b = cr.tensor(x), torch.tensor(x)
    assert ours()(a) is a
    theirs()(b)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_dropout_inplace_modifies_its_input_in_training_only():
    x = cr.ones(200)
    y = nn.Dropout(0.5, inplace=True)(x)
    assert y is x and set(np.unique(x.numpy())) == {0.0, 2.0}
    z = cr.ones(4, 3, 5, 2)
    assert F.dropout2d(z, 0.5, inplace=True) is z and set(np.unique(z.numpy())) <= {0.0, 2.0}
    kept = cr.ones(5)
    evaluated = nn.Dropout(0.5, inplace=True).eval()(kept)
    assert evaluated is kept and kept.numpy().tolist() == [1.0] * 5


@pytest.mark.parametrize(
    "before",
    ["max_pool", "elu", "selu", "gelu", "silu", "leaky_relu", "softplus", "hardtanh", "embedding"],
)
def test_an_op_whose_backward_reads_only_its_input_allows_inplace_after_it_as_torch(before):
    # (PyTorch saves what each backward reads; an op that saved its output too refused this)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 4))
    grads = []
    for lib in (cr, torch):
        leaf = lib.tensor(x, requires_grad=True)
        h = leaf * 1.0
        fn = lib.nn.functional
        if before == "max_pool":
            y = fn.max_pool2d(h, 2)
        elif before == "embedding":
            y = fn.embedding(lib.tensor([[0, 2], [1, 1]]), h[0, 0])
        else:
            y = getattr(fn, before)(h)
        fn.relu(y, inplace=True)
        (y * lib.tensor(np.arange(y.numel(), dtype=np.float64).reshape(y.shape))).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(
    "name,args",
    [
        ("relu_", ()),
        ("leaky_relu_", (0.2,)),
        ("elu_", (0.7,)),
        ("selu_", ()),
        ("celu_", (0.5,)),
        ("hardtanh_", (-0.5, 0.8)),
        ("threshold_", (0.1, 20.0)),
    ],
)
def test_trailing_underscore_functionals_are_in_place_like_torch(name, args):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4)) * 3
    for dtype in (np.float32, np.float64):
        ours_leaf = cr.tensor(x.astype(dtype), requires_grad=True)
        theirs_leaf = torch.tensor(x.astype(dtype), requires_grad=True)
        ours_h, theirs_h = ours_leaf * 2, theirs_leaf * 2
        assert getattr(F, name)(ours_h, *args) is ours_h
        getattr(TF, name)(theirs_h, *args)
        assert ours_h.dtype == dtype
        np.testing.assert_allclose(ours_h.detach().numpy(), theirs_h.detach().numpy(), rtol=1e-6)
        w = rng.standard_normal((3, 4)).astype(dtype)
        (ours_h * cr.tensor(w)).sum().backward()
        (theirs_h * torch.tensor(w)).sum().backward()
        # float32: torch's in-place backward reads the output, ours may read the input
        atol = 1e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(
            ours_leaf.grad.numpy(), theirs_leaf.grad.numpy(), rtol=1e-6, atol=atol
        )
    with pytest.raises(RuntimeError, match="in-place"):
        getattr(F, name)(cr.tensor(x, requires_grad=True), *args)


# ---- RReLU, Softmax2d, gumbel_softmax ----


def test_rrelu_eval_matches_torch_and_training_draws_slopes_in_range():
    x = np.random.default_rng(5).standard_normal((20, 30))
    for dtype in (np.float32, np.float64):
        compare_with_torch(
            lambda t: F.rrelu(t, 0.1, 0.3), lambda t: TF.rrelu(t, 0.1, 0.3), [x.astype(dtype)]
        )
    ours, theirs = nn.RReLU(0.1, 0.3, inplace=True), torch.nn.RReLU(0.1, 0.3, inplace=True)
    assert repr(ours) == repr(theirs) and repr(nn.RReLU()) == repr(torch.nn.RReLU())
    cr.manual_seed(0)
    t = cr.tensor(x, requires_grad=True)
    y = nn.RReLU(0.1, 0.3)(t)
    slope = y.numpy() / x
    neg = x <= 0
    assert (slope[~neg] == 1).all() and (slope[neg] >= 0.1).all() and (slope[neg] <= 0.3).all()
    assert len(np.unique(slope[neg].round(8))) > 100  # one draw per element
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), slope)
    h = cr.tensor(x, requires_grad=True) * 1
    assert F.rrelu_(h, training=True) is h


def test_softmax2d_matches_torch():
    x = np.random.default_rng(6).standard_normal((2, 4, 3, 3)).astype(np.float32)
    compare_modules(nn.Softmax2d(), torch.nn.Softmax2d(), [x])
    compare_modules(nn.Softmax2d(), torch.nn.Softmax2d(), [x[0]])
    with pytest.raises(ValueError, match=r"Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(cr.ones(2, 3))


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_samples_the_categorical_and_passes_the_soft_gradient(hard):
    cr.manual_seed(0)
    logits = np.log(np.array([0.2, 0.5, 0.3]))
    x = cr.tensor(np.tile(logits, (4000, 1)), requires_grad=True)
    y = F.gumbel_softmax(x, tau=0.5, hard=hard)
    assert y.shape == (4000, 3) and y.dtype == np.float64
    np.testing.assert_allclose(y.numpy().sum(-1), 1.0)
    freq = np.bincount(y.numpy().argmax(-1), minlength=3) / 4000
    np.testing.assert_allclose(freq, [0.2, 0.5, 0.3], atol=0.03)  # argmax ~ Categorical(p)
    if hard:
        assert set(np.unique(y.numpy())) == {0.0, 1.0}
    w = np.random.default_rng(0).standard_normal((4000, 3))
    (y * cr.tensor(w)).sum().backward()
    # the gradient is the soft sample's: softmax'(z / tau) / tau, rebuilt from the soft sample
    cr.manual_seed(0)
    soft = F.gumbel_softmax(cr.tensor(np.tile(logits, (4000, 1))), tau=0.5).numpy()
    expected = soft * (w - (w * soft).sum(-1, keepdims=True)) / 0.5
    np.testing.assert_allclose(x.grad.numpy(), expected, atol=1e-10)
    z = F.gumbel_softmax(cr.zeros(5, 2, 3), dim=1, hard=True)
    np.testing.assert_array_equal(z.numpy().sum(1), 1.0)
