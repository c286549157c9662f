import numpy as np
import pytest
from helpers import check_grad, compare_with_torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = None  # this test's generator, seeded afresh by the fixture below


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws from its own generator, seeded the same: its inputs do not depend on
    which tests ran before it."""
    global RNG
    RNG = np.random.default_rng(0)


REDUCTIONS = ["mean", "sum", "none"]


def _f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---- regression losses ----


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "ours, theirs, kwargs",
    [
        (nn.MSELoss, torch.nn.MSELoss, {}),
        (nn.L1Loss, torch.nn.L1Loss, {}),
        (nn.HuberLoss, torch.nn.HuberLoss, {"delta": 0.7}),
        (nn.SmoothL1Loss, torch.nn.SmoothL1Loss, {"beta": 0.5}),
        (nn.SmoothL1Loss, torch.nn.SmoothL1Loss, {"beta": 0.0}),
    ],
)
def test_regression_losses_match_torch(ours, theirs, kwargs, reduction):
    x, y = _f32(6, 3), _f32(6, 3)
    out, *_ = compare_with_torch(
        ours(reduction=reduction, **kwargs), theirs(reduction=reduction, **kwargs), [x, y]
    )
    assert out[0].dtype == cr.float32


@pytest.mark.parametrize(
    "fn",
    [
        F.mse_loss,
        F.l1_loss,
        lambda x, y: F.huber_loss(x, y, delta=0.5),
        lambda x, y: F.smooth_l1_loss(x, y, beta=0.8, reduction="sum"),
    ],
)
def test_regression_losses_gradcheck(fn):
    x = RNG.standard_normal((3, 4))
    check_grad(fn, x, x + RNG.uniform(0.1, 2, x.shape) * RNG.choice([-1, 1], x.shape))


@pytest.mark.parametrize(
    "loss",
    [
        nn.MSELoss(),
        nn.L1Loss(),
        nn.HuberLoss(),
        nn.SmoothL1Loss(),
        nn.BCELoss(),
        nn.BCEWithLogitsLoss(),
        nn.KLDivLoss(),
    ],
)
def test_shape_mismatch_is_an_error_naming_loss_and_shapes(loss):
    name = type(loss).__name__
    with pytest.raises(ValueError, match=rf"{name}: input shape \(4, 1\) and target shape \(4,\)"):
        loss(cr.rand(4, 1) * 0.5, cr.rand(4) * 0.5)


def test_functional_shape_mismatch_and_bad_reduction():
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(4, 1\).*\(4,\)"):
        F.mse_loss(cr.zeros(4, 1), cr.zeros(4))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(cr.zeros(4), cr.zeros(4), reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="batchmean")


def test_float64_target_does_not_upcast_float32_input():
    out = F.mse_loss(cr.zeros(3, requires_grad=True), np.ones(3))
    assert out.dtype == cr.float32


def test_legacy_size_average_reduce_flags():
    x, y = cr.tensor([1.0, 2.0]), cr.tensor([0.0, 0.0])
    assert nn.MSELoss(reduce=False)(x, y).shape == (2,)
    assert nn.MSELoss(size_average=False).reduction == "sum"


# ---- cross-entropy ----

CE_CASES = [
    dict(),
    dict(weight=True),
    dict(ignore_index=1),
    dict(weight=True, ignore_index=2),
    dict(label_smoothing=0.2),
    dict(label_smoothing=0.1, weight=True),
    dict(label_smoothing=0.3, weight=True, ignore_index=0),
]


def _ce_kwargs(case, reduction, n_classes, lib):
    kw = dict(case, reduction=reduction)
    if kw.pop("weight", False):
        w = np.linspace(0.5, 2.0, n_classes).astype(np.float32)
        kw["weight"] = cr.tensor(w) if lib == "cr" else torch.tensor(w)
    return kw


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CE_CASES, ids=lambda c: "-".join(c) or "plain")
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 2)])
def test_cross_entropy_class_indices_match_torch(case, reduction, shape):
    x = _f32(*shape)
    t = RNG.integers(0, shape[1], (shape[0],) + shape[2:])
    ours = nn.CrossEntropyLoss(**_ce_kwargs(case, reduction, shape[1], "cr"))
    theirs = torch.nn.CrossEntropyLoss(**_ce_kwargs(case, reduction, shape[1], "torch"))
    out, *_ = compare_with_torch(ours, theirs, [x, t])
    assert out[0].dtype == cr.float32


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "case",
    [dict(), dict(weight=True), dict(label_smoothing=0.25), dict(weight=True, label_smoothing=0.1)],
    ids=lambda c: "-".join(c) or "plain",
)
@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4)])
def test_cross_entropy_probabilities_match_torch(case, reduction, shape):
    x = _f32(*shape)
    p = np.exp(_f32(*shape))
    p /= p.sum(1, keepdims=True)
    ours = lambda x, p: F.cross_entropy(x, p, **_ce_kwargs(case, reduction, shape[1], "cr"))  # noqa: E731
    theirs = lambda x, p: TF.cross_entropy(x, p, **_ce_kwargs(case, reduction, shape[1], "torch"))  # noqa: E731
    compare_with_torch(ours, theirs, [x, p])  # gradients w.r.t. the target too


def test_cross_entropy_unbatched_and_all_ignored():
    x, t = _f32(5), np.array(3)
    compare_with_torch(F.cross_entropy, TF.cross_entropy, [x, t])
    ours = F.cross_entropy(cr.tensor(_f32(2, 3)), cr.tensor([-100, -100]))
    assert np.isnan(ours.item())  # 0 / 0, as in torch


def test_cross_entropy_gradcheck_and_second_derivatives():
    x = RNG.standard_normal((4, 3))
    t = np.array([0, 2, 1, 2])
    check_grad(
        lambda x: F.cross_entropy(
            x,
            cr.tensor(t),
            label_smoothing=0.1,
            weight=cr.tensor([1.0, 2.0, 0.5], dtype=cr.float64),
        ),
        x,
        gradgrad=True,
    )
    p = np.abs(RNG.standard_normal((4, 3))) + 0.1
    check_grad(
        lambda x, p: F.cross_entropy(x, p, reduction="none"),
        x,
        p / p.sum(1, keepdims=True),
        gradgrad=True,
    )


def test_cross_entropy_errors():
    x = cr.randn(4, 3)
    with pytest.raises(IndexError, match="target class 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, cr.tensor([0, 1, 2, 3]))
    with pytest.raises(
        ValueError, match=r"target shape \(3,\) does not match input shape \(4, 3\)"
    ):
        F.cross_entropy(x, cr.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="probability target shape"):
        F.cross_entropy(x, cr.rand(4, 2))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(x, cr.tensor([0, 1, 2, 0]), weight=cr.ones(4))


def test_cross_entropy_is_stable_for_huge_logits():
    x = cr.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, cr.tensor([1, 1]))
    loss.backward()
    assert np.isfinite(loss.item()) and abs(loss.item() - 1000.0) < 1e-3
    assert np.all(np.isfinite(x.grad.numpy()))


# ---- NLL ----


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "case",
    [dict(), dict(weight=True), dict(ignore_index=1), dict(weight=True, ignore_index=0)],
    ids=lambda c: "-".join(c) or "plain",
)
def test_nll_loss_matches_torch(case, reduction):
    x = np.log(np.abs(_f32(5, 4, 2)) + 0.1)
    t = RNG.integers(0, 4, (5, 2))
    ours = nn.NLLLoss(**_ce_kwargs(case, reduction, 4, "cr"))
    theirs = torch.nn.NLLLoss(**_ce_kwargs(case, reduction, 4, "torch"))
    compare_with_torch(ours, theirs, [x, t])
    check_grad(lambda x: F.nll_loss(x, cr.tensor(t), reduction=reduction), x.astype(np.float64))


def test_log_softmax_plus_nll_equals_cross_entropy():
    x, t = cr.randn(6, 5), cr.tensor([0, 1, 2, 3, 4, 0])
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(x, 1), t).item(), F.cross_entropy(x, t).item(), rtol=1e-6
    )


# ---- binary cross-entropy ----


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_matches_torch(reduction):
    p = RNG.uniform(0.02, 0.98, (4, 3)).astype(np.float32)
    y = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    w = RNG.uniform(0.5, 2, (3,)).astype(np.float32)
    compare_with_torch(
        lambda p, y: F.binary_cross_entropy(p, y, cr.tensor(w), reduction=reduction),
        lambda p, y: TF.binary_cross_entropy(p, y, torch.tensor(w), reduction=reduction),
        [p, y],
    )
    check_grad(lambda p, y: F.binary_cross_entropy(p, y, reduction=reduction), p, y)


def test_bce_clamps_log_like_torch_and_checks_range():
    p, y = np.array([0.0, 1.0, 0.5], np.float32), np.array([1.0, 0.0, 1.0], np.float32)
    out, *_ = compare_with_torch(
        nn.BCELoss(reduction="none"), torch.nn.BCELoss(reduction="none"), [p, y], grad=False
    )
    np.testing.assert_allclose(out[0].numpy()[:2], [100, 100])
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", [False, True])
def test_bce_with_logits_matches_torch(reduction, weights):
    x, y = _f32(5, 3) * 3, RNG.uniform(0, 1, (5, 3)).astype(np.float32)
    kw_c, kw_t = {"reduction": reduction}, {"reduction": reduction}
    if weights:
        w, pw = (
            RNG.uniform(0.5, 2, (5, 1)).astype(np.float32),
            np.array([1.0, 3.0, 0.5], np.float32),
        )
        kw_c.update(weight=cr.tensor(w), pos_weight=cr.tensor(pw))
        kw_t.update(weight=torch.tensor(w), pos_weight=torch.tensor(pw))
    compare_with_torch(nn.BCEWithLogitsLoss(**kw_c), torch.nn.BCEWithLogitsLoss(**kw_t), [x, y])
    check_grad(
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, y, reduction=reduction, pos_weight=cr.tensor([1.0, 3.0, 0.5], dtype=cr.float64)
        ),
        x,
        y,
        gradgrad=True,
    )


def test_bce_with_logits_finite_at_1000():
    x = np.array([1000.0, -1000.0, 1000.0, -1000.0], np.float32)
    y = np.array([1.0, 1.0, 0.0, 0.0], np.float32)
    out, _, xc, _ = compare_with_torch(
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"),
        lambda x, y: TF.binary_cross_entropy_with_logits(x, y, reduction="none"),
        [x, y],
    )
    np.testing.assert_allclose(out[0].numpy(), [0, 1000, 1000, 0])
    assert np.all(np.isfinite(xc[0].grad.numpy()))


def test_loss_buffers_in_state_dict_like_torch():
    w = np.ones(3, np.float32)
    assert (
        list(nn.CrossEntropyLoss(weight=cr.tensor(w)).state_dict())
        == list(torch.nn.CrossEntropyLoss(weight=torch.tensor(w)).state_dict())
        == ["weight"]
    )
    assert list(nn.BCEWithLogitsLoss(pos_weight=cr.tensor(w)).state_dict()) == list(
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)).state_dict()
    )
    assert list(nn.CrossEntropyLoss().state_dict()) == []


# ---- KL divergence ----


@pytest.mark.filterwarnings("ignore:reduction")
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    x = np.log(RNG.dirichlet(np.ones(4), 5)).astype(np.float32)
    t = RNG.dirichlet(np.ones(4), 5).astype(np.float32)
    if log_target:
        t = np.log(t).astype(np.float32)
    compare_with_torch(
        nn.KLDivLoss(reduction=reduction, log_target=log_target),
        torch.nn.KLDivLoss(reduction=reduction, log_target=log_target),
        [x, t],
    )


def test_kl_div_zero_target_is_zero_not_nan():
    x = np.log(np.full((1, 2), 0.5, np.float32))
    t = np.array([[0.0, 1.0]], np.float32)
    out = F.kl_div(cr.tensor(x, requires_grad=True), cr.tensor(t), reduction="none")
    np.testing.assert_allclose(out.numpy(), [[0.0, np.log(2)]], rtol=1e-6)
    np.testing.assert_allclose(
        out.numpy(),
        TF.kl_div(torch.tensor(x), torch.tensor(t), reduction="none").numpy(),
        rtol=1e-6,
    )


def test_every_loss_keeps_float32():
    x, y = cr.rand(4, 3, requires_grad=True), cr.rand(4, 3)
    losses = [
        F.mse_loss(x, y),
        F.l1_loss(x, y),
        F.huber_loss(x, y),
        F.smooth_l1_loss(x, y),
        F.binary_cross_entropy(x, y),
        F.binary_cross_entropy_with_logits(x, y),
        F.kl_div(x, y, reduction="batchmean"),
        F.cross_entropy(x, cr.tensor([0, 1, 2, 0])),
        F.nll_loss(x, cr.tensor([0, 1, 2, 0])),
        F.cross_entropy(x, y),
    ]
    for loss in losses:
        assert loss.dtype == cr.float32
        x.grad = None
        loss.backward()
        assert x.grad.dtype == cr.float32


def test_plain_cross_entropy_fast_path_matches_the_general_path_and_has_second_derivatives():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4))
    t = cr.tensor(rng.integers(0, 4, 6))
    a = cr.tensor(x, requires_grad=True)
    b = cr.tensor(x, requires_grad=True)
    fast = cr.nn.functional.cross_entropy(a, t)  # the fast path
    general = cr.nn.functional.cross_entropy(b, t, weight=cr.ones(4, dtype=cr.float64))
    fast.backward()
    general.backward()
    np.testing.assert_allclose(fast.item(), general.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert cr.autograd.gradgradcheck(lambda z: cr.nn.functional.cross_entropy(z, t), (a,))


# ---- 'mean' over nothing: empty batches, every target ignored, all target weights 0 ----


def _loss_and_grad(lib, fn, x, t, kwargs):
    """Loss value and input gradient of ``fn`` in chainrule (lib=cr) or PyTorch (lib=torch)."""
    xt = lib.tensor(x, requires_grad=True)
    kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    loss = fn(xt, lib.tensor(t), **kw)
    loss.sum().backward()
    return np.asarray(loss.detach().numpy()), np.asarray(xt.grad.numpy())


_CASES_RNG = np.random.default_rng(0)  # module constants: drawn once, at import
EMPTY_CASES = [
    ("empty batch", np.zeros((0, 3)), np.zeros(0, np.int64), {}),
    ("all ignored", _CASES_RNG.standard_normal((2, 3)), np.array([-100, -100]), {}),
    (
        "all ignored (N, C, d)",
        _CASES_RNG.standard_normal((2, 3, 4)),
        np.full((2, 4), 5),
        {"ignore_index": 5},
    ),
    (
        "zero weights",
        _CASES_RNG.standard_normal((2, 3)),
        np.array([0, 0]),
        {"weight": np.array([0.0, 1.0, 1.0])},
    ),
    (
        "zero weight + ignored",
        _CASES_RNG.standard_normal((2, 3)),
        np.array([0, -100]),
        {"weight": np.array([0.0, 1.0, 1.0])},
    ),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("case", EMPTY_CASES, ids=lambda c: c[0])
def test_mean_over_nothing_matches_torch(case, name, reduction):
    """Was a ZeroDivisionError in backward; PyTorch gives NaN (mean) and zero gradients for
    ignored rows, NaN for rows whose weight is 0."""
    _, x, t, kwargs = case
    kwargs = dict(kwargs, reduction=reduction)
    ours = _loss_and_grad(cr, getattr(F, name), x, t, kwargs)
    theirs = _loss_and_grad(torch, getattr(TF, name), x, t, kwargs)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize(
    "kwargs",
    [dict(label_smoothing=0.2), dict(label_smoothing=0.2, weight=np.array([0.0, 1.0, 1.0]))],
)
def test_cross_entropy_smoothing_over_nothing_matches_torch(kwargs):
    x, t = (
        RNG.standard_normal((2, 3)),
        np.array([-100, -100]) if "weight" not in kwargs else np.array([0, 0]),
    )
    for a, b in zip(
        _loss_and_grad(cr, F.cross_entropy, x, t, kwargs),
        _loss_and_grad(torch, TF.cross_entropy, x, t, kwargs),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True)


def test_cross_entropy_probability_targets_on_empty_batch():
    ours = _loss_and_grad(cr, F.cross_entropy, np.zeros((0, 3)), np.zeros((0, 3)), {})
    theirs = _loss_and_grad(torch, TF.cross_entropy, np.zeros((0, 3)), np.zeros((0, 3)), {})
    assert np.isnan(ours[0]) and np.isnan(theirs[0]) and ours[1].shape == theirs[1].shape == (0, 3)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_all_ignored_second_derivative_is_zero(fn):
    x = cr.randn(2, 3, requires_grad=True)
    (g,) = cr.autograd.grad(fn(x, cr.tensor([-100, -100])), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), 0)


@pytest.mark.parametrize(
    "p, y, what",
    [
        ([float("nan")], [0.5], "input"),
        ([1.5], [0.5], "input"),
        ([-0.1], [0.5], "input"),
        ([0.5], [1.5], "target"),
        ([0.5], [-0.1], "target"),
        ([0.5], [float("nan")], "target"),
    ],
)
def test_bce_refuses_values_outside_unit_interval_like_torch(p, y, what):
    with pytest.raises(RuntimeError, match=f"elements of {what} should be between 0 and 1"):
        TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
    with pytest.raises(
        ValueError, match=f"binary_cross_entropy: all elements of {what} should be between 0 and 1"
    ):
        F.binary_cross_entropy(cr.tensor(p), cr.tensor(y))
    with pytest.raises(ValueError, match=what):
        nn.BCELoss()(cr.tensor(p), cr.tensor(y))


@pytest.mark.parametrize("classes", [3, 10, 32, 33, 100])  # both layouts of the fast path
@pytest.mark.parametrize("target_dtype", [np.int64, np.int32, np.uint8])
def test_plain_cross_entropy_fast_path_matches_torch(classes, target_dtype):
    rng = np.random.default_rng(classes)
    x = (3 * rng.standard_normal((70, classes))).astype(np.float32)
    t = rng.integers(0, classes, 70).astype(target_dtype)
    ours = cr.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    loss = cr.nn.functional.cross_entropy(ours, cr.tensor(t))
    expected = torch.nn.functional.cross_entropy(theirs, torch.tensor(t.astype(np.int64)))
    (loss * 3).backward()
    (expected * 3).backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("bad", [-1, 10])
def test_plain_cross_entropy_refuses_a_class_index_out_of_range(bad):
    t = np.zeros(8, dtype=np.int64)
    t[3] = bad
    with pytest.raises((IndexError, ValueError), match="out of|range|bound"):
        cr.nn.functional.cross_entropy(cr.zeros(8, 10, requires_grad=True), cr.tensor(t))


# ---- likelihood losses ----


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize(
    "var_shape", [(4, 3), (4,), (4, 1), "float"], ids=["hetero", "short", "one", "float"]
)
def test_gaussian_nll_loss_matches_torch(reduction, full, var_shape):
    x, y = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    if var_shape == "float":
        var = 0.7
    else:
        var = RNG.uniform(0.1, 2.0, var_shape)
        var.flat[0] = 1e-9  # below eps: clamped in value, not in gradient (as torch)
    compare_with_torch(
        lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=full, reduction=reduction),
        lambda x, y, v: TF.gaussian_nll_loss(x, y, v, full=full, reduction=reduction),
        [x, y, var],
        atol=1e-8,
        rtol=1e-6,
    )
    ours, theirs = (
        nn.GaussianNLLLoss(full=full, reduction=reduction),
        torch.nn.GaussianNLLLoss(full=full, reduction=reduction),
    )
    compare_with_torch(ours, theirs, [x.astype(np.float32), y.astype(np.float32), 0.5])


def test_gaussian_nll_loss_gradcheck_and_errors():
    shape = tuple(RNG.integers(2, 5, size=2))
    x, y, v = RNG.standard_normal(shape), RNG.standard_normal(shape), RNG.uniform(0.5, 2, shape)
    check_grad(lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=True), x, y, v, gradgrad=True)
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(cr.zeros(2), cr.zeros(2), cr.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(cr.zeros(4, 3), cr.zeros(4, 3), cr.ones(2, 2))
    with pytest.raises(ValueError, match="not valid"):
        F.gaussian_nll_loss(cr.zeros(2), cr.zeros(2), 1.0, reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_loss_matches_torch(reduction, log_input, full):
    x = RNG.standard_normal((5, 3)) if log_input else RNG.uniform(0.1, 3.0, (5, 3))
    target = RNG.poisson(2.0, (5, 3)).astype(np.float64)  # 0 and 1 too: Stirling masked there
    assert (target == 0).any()
    if full:  # torch's target gradient is NaN where target == 0 (0 * log 0): only x's is compared
        compare_with_torch(
            lambda x: F.poisson_nll_loss(
                x, cr.tensor(target), log_input, full, reduction=reduction
            ),
            lambda x: TF.poisson_nll_loss(
                x, torch.tensor(target), log_input, full, reduction=reduction
            ),
            [x],
            atol=1e-8,
            rtol=1e-6,
        )
    else:
        compare_with_torch(
            lambda x, t: F.poisson_nll_loss(x, t, log_input, full, reduction=reduction),
            lambda x, t: TF.poisson_nll_loss(x, t, log_input, full, reduction=reduction),
            [x, target],
            atol=1e-8,
            rtol=1e-6,
        )
    ours = nn.PoissonNLLLoss(log_input, full, reduction=reduction)
    theirs = torch.nn.PoissonNLLLoss(log_input, full, reduction=reduction)
    compare_with_torch(ours, theirs, [x.astype(np.float32), target.astype(np.float32)], grad=False)


def test_poisson_nll_loss_gradcheck_and_legacy_flags():
    shape = tuple(RNG.integers(2, 5, size=2))
    x, t = RNG.uniform(0.5, 2, shape), RNG.poisson(3.0, shape).astype(np.float64)
    t = cr.tensor(t)  # counts: not differentiated (Stirling's term switches on at t > 1)
    check_grad(lambda x: F.poisson_nll_loss(x, t, full=True), x, gradgrad=True)
    check_grad(lambda x: F.poisson_nll_loss(x, t, log_input=False), x, gradgrad=True)
    t2 = RNG.uniform(1.5, 3.0, shape)  # the target's gradient, away from the switch
    check_grad(lambda x, t: F.poisson_nll_loss(x, t, full=True), x, t2, gradgrad=True)
    loss = nn.PoissonNLLLoss(reduce=False)
    assert loss.reduction == "none"
    assert loss(cr.zeros(3), cr.ones(3)).shape == (3,)
    with pytest.raises(ValueError, match="not a valid value"):
        F.poisson_nll_loss(cr.zeros(2), cr.zeros(2), reduction="avg")


def test_nll_loss_2d_is_the_deprecated_nll_loss_with_torchs_warning():
    x = np.log(np.abs(_f32(2, 3, 4, 2)) + 0.1)
    t = RNG.integers(0, 3, (2, 4, 2))
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
        ours = nn.NLLLoss2d(ignore_index=1)
    with pytest.warns(FutureWarning):
        theirs = torch.nn.NLLLoss2d(ignore_index=1)
    assert isinstance(ours, nn.NLLLoss)
    compare_with_torch(ours, theirs, [x, t])
