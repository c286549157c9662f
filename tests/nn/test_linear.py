import math

import numpy as np
import pytest
from helpers import check_grad, compare_modules

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out, *_ = compare_modules(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), [x])
    assert out[0].dtype == cr.float32


def test_linear_weights_copied_from_chainrule_to_torch():
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    compare_modules(nn.Linear(4, 2), torch.nn.Linear(4, 2), [x], copy="cr_to_torch")


def test_linear_gradcheck_float64():
    lin = nn.Linear(3, 2).double()
    w, b = lin.weight.numpy().copy(), lin.bias.numpy().copy()
    x = np.random.default_rng(2).standard_normal((4, 3))
    check_grad(lambda x, w, b: cr.linear(x, w, b), x, w, b)


def test_linear_default_init_bounds_and_repr():
    cr.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = lin.weight.numpy()
    assert w.shape == (300, 400) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # U(-b, b) has std b / sqrt(3)
    assert np.abs(lin.bias.numpy()).max() <= bound
    assert (
        repr(lin)
        == repr(torch.nn.Linear(400, 300))
        == "Linear(in_features=400, out_features=300, bias=True)"
    )
    assert repr(nn.Linear(2, 1, bias=False)) == "Linear(in_features=2, out_features=1, bias=False)"


def test_linear_init_reproducible_with_manual_seed():
    cr.manual_seed(7)
    a = nn.Linear(5, 5).weight.numpy().copy()
    cr.manual_seed(7)
    np.testing.assert_array_equal(a, nn.Linear(5, 5).weight.numpy())


def test_linear_bad_input_names_shapes():
    with pytest.raises(ValueError, match=r"Linear\(in_features=4.*\(2, 5\)"):
        nn.Linear(4, 3)(cr.randn(2, 5))


def test_linear_dtype_argument_and_state_dict():
    lin = nn.Linear(3, 2, dtype=cr.float64)
    assert lin.weight.dtype == cr.float64
    assert {k: v.shape for k, v in nn.Linear(3, 2).state_dict().items()} == {
        "weight": (2, 3),
        "bias": (2,),
    }


# ---- Bilinear ----


@pytest.mark.parametrize("lead", [(5,), (2, 3), ()])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bilinear_matches_torch(lead, bias, dtype):
    rng = np.random.default_rng(0)
    x1, x2 = (rng.standard_normal(lead + (n,)).astype(dtype) for n in (4, 3))
    ours, theirs = nn.Bilinear(4, 3, 2, bias=bias), torch.nn.Bilinear(4, 3, 2, bias=bias)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    assert repr(ours) == repr(theirs)
    out, *_ = compare_modules(ours, theirs, [x1, x2])
    assert out[0].dtype == dtype and out[0].shape == lead + (2,)


def test_bilinear_gradcheck_init_and_errors():
    rng = np.random.default_rng(1)
    x1, x2, w, b = (rng.standard_normal(s) for s in ((3, 4), (3, 2), (5, 4, 2), (5,)))
    check_grad(nn.functional.bilinear, x1, x2, w, b, gradgrad=True)
    cr.manual_seed(0)
    layer = nn.Bilinear(16, 3, 8)
    bound = 1 / math.sqrt(16)  # U(+-1/sqrt(in1_features)), weight and bias, as in torch
    assert bound * 0.95 < np.abs(layer.weight.numpy()).max() <= bound  # 384 draws
    assert np.abs(layer.bias.numpy()).max() <= bound
    assert layer.weight.shape == (8, 16, 3) and layer.weight.dtype == np.float32
    with pytest.raises(ValueError, match=r"bilinear: input1 \(2, 4\) and input2 \(3, 3\)"):
        nn.functional.bilinear(cr.ones(2, 4), cr.ones(3, 3), cr.ones(5, 4, 3))
    with pytest.raises(ValueError, match=r"bilinear: bias must have shape \(5,\)"):
        nn.functional.bilinear(cr.ones(2, 4), cr.ones(2, 3), cr.ones(5, 4, 3), cr.ones(4))
