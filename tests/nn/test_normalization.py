import numpy as np
import pytest
from helpers import (
    assert_state_dicts_match,
    check_grad,
    compare_modules,
    compare_with_torch,
    copy_torch_to_cr,
)

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
RNG = None  # this test's generator, seeded afresh by the fixture below


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws from its own generator, seeded the same: its inputs do not depend on
    which tests ran before it."""
    global RNG
    RNG = np.random.default_rng(0)


def _randomize(torch_module):
    """Non-trivial affine parameters, so that their gradients and effect are tested."""
    with torch.no_grad():
        for p in torch_module.parameters():
            p.copy_(torch.tensor(RNG.standard_normal(tuple(p.shape)).astype(np.float32)))
    return torch_module


# ---- LayerNorm ----


@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4))])
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}])
def test_layer_norm_matches_torch(shape, normalized, kwargs):
    x = (RNG.standard_normal(shape) * 3 + 1).astype(np.float32)
    ours, theirs = (
        nn.LayerNorm(normalized, **kwargs),
        _randomize(torch.nn.LayerNorm(normalized, **kwargs)),
    )
    out, *_ = compare_modules(ours, theirs, [x], atol=1e-5, rtol=1e-4)
    assert out[0].dtype == cr.float32
    assert repr(ours) == repr(theirs)


def test_layer_norm_gradcheck_and_second_derivatives():
    x, w, b = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal(4)
    check_grad(lambda x, w, b: F.layer_norm(x, (4,), w, b), x, w, b, gradgrad=True)
    check_grad(lambda x: F.layer_norm(x, (2, 4)), RNG.standard_normal((2, 2, 4)))


def test_layer_norm_shape_errors():
    with pytest.raises(ValueError, match=r"does not end with normalized_shape \(5,\)"):
        nn.LayerNorm(5)(cr.randn(2, 4))
    with pytest.raises(ValueError, match="weight shape"):
        F.layer_norm(cr.randn(2, 4), (4,), cr.ones(3))


# ---- BatchNorm ----

BN_CASES = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 3)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (4, 3, 5)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 3, 5, 2)),
    (nn.BatchNorm3d, torch.nn.BatchNorm3d, (3, 3, 2, 4, 2)),
]


@pytest.mark.parametrize("ours_cls, theirs_cls, shape", BN_CASES)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"momentum": None},
        {"momentum": 0.3, "affine": False},
        {"track_running_stats": False},
        {"bias": False},
    ],
)
def test_batch_norm_train_then_eval_matches_torch(ours_cls, theirs_cls, shape, kwargs):
    ours, theirs = ours_cls(3, **kwargs), _randomize(theirs_cls(3, **kwargs))
    assert_state_dicts_match(ours, theirs)
    copy_torch_to_cr(theirs, ours)
    for step in range(4):  # running stats follow torch's step after step
        x = (RNG.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        compare_modules(ours, theirs, [x], copy=None, atol=1e-4, rtol=1e-4)
        for name, buf in theirs.named_buffers():
            np.testing.assert_allclose(
                ours.get_buffer(name).numpy(), buf.numpy(), rtol=1e-5, atol=1e-6, err_msg=name
            )
        ours.zero_grad()
        theirs.zero_grad()
    ours.eval()
    theirs.eval()
    x = RNG.standard_normal(shape).astype(np.float32)
    out, *_ = compare_modules(ours, theirs, [x], copy=None, atol=1e-4, rtol=1e-4)
    assert out[0].dtype == cr.float32
    assert repr(ours) == repr(theirs)


def test_batch_norm_eval_does_not_update_and_train_does():
    bn = nn.BatchNorm1d(2)
    bn.eval()
    bn(cr.randn(5, 2))
    assert bn.num_batches_tracked.item() == 0 and np.all(bn.running_mean.numpy() == 0)
    bn.train()
    x = cr.randn(5, 2) + 3
    bn(x)
    assert bn.num_batches_tracked.item() == 1
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(0), rtol=1e-5)
    np.testing.assert_allclose(
        bn.running_var.numpy(), 0.9 + 0.1 * x.numpy().var(0, ddof=1), rtol=1e-5
    )  # unbiased


def test_batch_norm_state_dict_names():
    assert list(nn.BatchNorm2d(4).state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert list(nn.BatchNorm1d(4, track_running_stats=False, affine=False).state_dict()) == []
    assert nn.BatchNorm2d(4).num_batches_tracked.dtype == cr.int64


def test_batch_norm_gradcheck_train_and_eval_and_second_derivatives():
    x, w, b = RNG.standard_normal((4, 3, 2)), RNG.standard_normal(3), RNG.standard_normal(3)
    check_grad(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), x, w, b, gradgrad=True
    )
    rm, rv = cr.tensor(RNG.standard_normal(3)), cr.tensor(RNG.uniform(0.5, 2, 3))
    check_grad(
        lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), x, w, b, gradgrad=True
    )


def test_batch_norm_errors():
    with pytest.raises(
        ValueError, match=r"BatchNorm2d: expected 4D \(N, C, H, W\) input, got shape \(2, 3\)"
    ):
        nn.BatchNorm2d(3)(cr.randn(2, 3))
    with pytest.raises(ValueError, match="has 4 channels"):
        nn.BatchNorm1d(3)(cr.randn(2, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(cr.randn(1, 3))
    nn.BatchNorm1d(3).eval()(cr.randn(1, 3))  # fine in eval mode


def test_batch_norm_double():
    bn = nn.BatchNorm1d(3).double()
    out = bn(cr.randn(4, 3, dtype=cr.float64))
    assert out.dtype == cr.float64 and bn.running_mean.dtype == cr.float64


# ---- RMSNorm / rms_norm ----


@pytest.mark.parametrize(
    "shape, normalized, kwargs",
    [
        ((4, 6), 6, {}),
        ((2, 3, 5), (5,), {"eps": 1e-3}),
        ((2, 3, 4), (3, 4), {}),
        ((3, 8), [8], {"elementwise_affine": False}),
    ],
)
def test_rms_norm_matches_torch(shape, normalized, kwargs):
    x = (RNG.standard_normal(shape) * 3 + 1).astype(np.float32)
    ours, theirs = (
        nn.RMSNorm(normalized, **kwargs),
        _randomize(torch.nn.RMSNorm(normalized, **kwargs)),
    )
    out, *_ = compare_modules(ours, theirs, [x], atol=1e-5, rtol=1e-4)
    assert out[0].dtype == cr.float32
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rms_norm_default_eps_is_finfo_eps_like_torch(dtype):
    # a tiny input shows the eps: with finfo eps the output stays far below 1
    x = np.full((2, 4), 1e-5, dtype)
    ours = F.rms_norm(cr.tensor(x), (4,)).numpy()
    theirs = torch.nn.functional.rms_norm(torch.tensor(x), (4,)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    assert ours.dtype == dtype


def test_rms_norm_functional_matches_torch_and_gradchecks():
    shape = tuple(RNG.integers(2, 5, size=3))
    x, w = RNG.standard_normal(shape), RNG.standard_normal(shape[-2:])
    compare_with_torch(
        lambda x, w: F.rms_norm(x, shape[-2:], w, 1e-6),
        lambda x, w: torch.nn.functional.rms_norm(x, shape[-2:], w, 1e-6),
        [x, w],
        atol=1e-10,
        rtol=1e-8,
    )
    check_grad(lambda x, w: F.rms_norm(x, shape[-1:], w), x, w[0], gradgrad=True)


def test_rms_norm_shape_errors():
    with pytest.raises(RuntimeError, match="does not end with normalized_shape"):
        F.rms_norm(cr.randn(2, 4), (5,))
    with pytest.raises(RuntimeError, match="weight shape"):
        F.rms_norm(cr.randn(2, 4), (4,), cr.ones(3))


# ---- group_norm ----


@pytest.mark.parametrize("shape, groups", [((3, 6, 5), 3), ((2, 4, 3, 3), 2), ((2, 4), 4)])
def test_group_norm_functional_matches_torch_and_gradchecks(shape, groups):
    x = RNG.standard_normal(shape) * 2 + 1
    w, b = RNG.standard_normal(shape[1]), RNG.standard_normal(shape[1])
    compare_with_torch(
        lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-4),
        lambda x, w, b: torch.nn.functional.group_norm(x, groups, w, b, eps=1e-4),
        [x, w, b],
        atol=1e-10,
        rtol=1e-8,
    )
    compare_with_torch(
        lambda x: F.group_norm(x, groups),
        lambda x: torch.nn.functional.group_norm(x, groups),
        [x.astype(np.float32)],
        atol=1e-4,  # one value per group (2, 4): torch's gradient is float32 rounding noise
    )
    check_grad(lambda x, w, b: F.group_norm(x, groups, w, b), x, w, b, gradgrad=True)


def test_group_norm_functional_errors():
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(cr.randn(2, 6, 3), 4)
    with pytest.raises(RuntimeError, match="weight shape"):
        F.group_norm(cr.randn(2, 6, 3), 3, cr.ones(4))


# ---- LocalResponseNorm ----


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape,size,kwargs",
    [
        ((2, 5, 4), 3, {}),
        ((2, 6, 3, 4), 2, dict(alpha=1e-2, beta=0.5, k=2.0)),
        ((1, 4, 2, 2, 3), 5, dict(alpha=0.3)),
        ((2, 3, 4), 1, {}),
        ((2, 3, 4), 7, dict(alpha=1.0)),  # window wider than the channels
    ],
)
def test_local_response_norm_matches_torch(shape, size, kwargs, dtype):
    x = RNG.standard_normal(shape).astype(dtype)
    ours, theirs = nn.LocalResponseNorm(size, **kwargs), torch.nn.LocalResponseNorm(size, **kwargs)
    assert repr(ours) == repr(theirs)
    out, *_ = compare_modules(ours, theirs, [x], atol=1e-6)
    assert out[0].dtype == dtype
    check_grad(lambda t: F.local_response_norm(t, size, 0.5, 0.75, 1.0), x[:1])


def test_local_response_norm_errors_and_empty():
    with pytest.raises(ValueError, match=r"local_response_norm: expected 3D .*\(2, 5\)"):
        F.local_response_norm(cr.ones(2, 5), 2)
    assert F.local_response_norm(cr.ones(0, 3, 2), 2).shape == (0, 3, 2)
