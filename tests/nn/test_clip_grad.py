"""clip_grad_norm_ / clip_grad_value_ against torch.nn.utils."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (3,), (2, 2, 2)]


def pair(seed=0, scale=1.0, with_none=True):
    """The same gradients on chainrule and torch parameters (the last one has no grad)."""
    rng = np.random.default_rng(seed)
    grads = [(scale * rng.standard_normal(s)).astype(np.float32) for s in SHAPES]
    cr_params = [cr.tensor(np.zeros(s, np.float32), requires_grad=True) for s in SHAPES]
    th_params = [torch.zeros(s, requires_grad=True) for s in SHAPES]
    for i, g in enumerate(grads):
        if with_none and i == len(grads) - 1:
            continue
        cr_params[i].grad = cr.from_numpy(g.copy())
        th_params[i].grad = torch.tensor(g.copy())
    return cr_params, th_params


def assert_same_grads(cr_params, th_params):
    for p, q in zip(cr_params, th_params, strict=True):
        if q.grad is None:
            assert p.grad is None
            continue
        assert p.grad.numpy().dtype == np.float32
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    cr_params, th_params = pair()
    total = clip_grad_norm_(cr_params, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(th_params, max_norm, norm_type=float(norm_type))
    assert isinstance(total, cr.Tensor) and total.shape == ()
    assert total.dtype == np.float32
    assert total.item() == pytest.approx(expected.item(), rel=1e-6)
    assert_same_grads(cr_params, th_params)
    clipped = total.item() > max_norm
    assert clipped == (max_norm == 0.5)  # one case clips, the other must not


def test_clipped_norm_is_max_norm_and_grad_arrays_are_not_written_into():
    cr_params, _ = pair(scale=10.0, with_none=False)
    originals = [p.grad.numpy() for p in cr_params]
    copies = [a.copy() for a in originals]
    clip_grad_norm_(cr_params, 1.0)
    for a, c in zip(originals, copies, strict=True):
        np.testing.assert_array_equal(a, c)
    new_total = math.sqrt(
        sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in cr_params)
    )
    assert new_total == pytest.approx(1.0, rel=1e-5)


def test_single_tensor_and_no_grads():
    p = cr.tensor(np.zeros(3, np.float32), requires_grad=True)
    assert clip_grad_norm_(p, 1.0).item() == 0.0
    p.grad = cr.tensor(np.array([3.0, 4.0, 0.0], np.float32))
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0.0], rtol=1e-5)


def test_nonfinite_norm():
    cr_params, th_params = pair(with_none=False)
    cr_params[1].grad.numpy()[0] = np.nan
    th_params[1].grad[0] = float("nan")
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(cr_params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(cr_params[0].grad.numpy(), th_params[0].grad.numpy())  # untouched
    total = clip_grad_norm_(cr_params, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(th_params, 1.0)
    assert math.isnan(total.item()) and math.isnan(expected.item())
    assert_same_grads(cr_params, th_params)  # torch scales by NaN too: all NaN


def test_inf_gradient_with_inf_norm():
    cr_params, th_params = pair(with_none=False)
    cr_params[0].grad.numpy()[0, 0] = np.inf
    th_params[0].grad[0, 0] = float("inf")
    total = clip_grad_norm_(cr_params, 1.0, norm_type="inf")
    expected = torch.nn.utils.clip_grad_norm_(th_params, 1.0, norm_type="inf")
    assert total.item() == expected.item() == math.inf
    for p, q in zip(cr_params, th_params, strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


@pytest.mark.parametrize("clip_value", [0.3, 5.0])
def test_clip_grad_value_matches_torch(clip_value):
    cr_params, th_params = pair(seed=1)
    shared = cr_params[0].grad.numpy()
    before = shared.copy()
    clip_grad_value_(cr_params, clip_value)
    torch.nn.utils.clip_grad_value_(th_params, clip_value)
    assert_same_grads(cr_params, th_params)
    np.testing.assert_array_equal(shared, before)
    assert np.abs(cr_params[0].grad.numpy()).max() <= clip_value


def test_tiny_norm_uses_the_epsilon_like_torch():
    # total = 2e-6: the coefficient is 1e-6 / (2e-6 + 1e-6) = 1/3, not 1/2.
    p = cr.tensor(np.zeros(2, np.float32), requires_grad=True)
    q = torch.zeros(2, requires_grad=True)
    g = np.array([1.2e-6, 1.6e-6], np.float32)
    p.grad, q.grad = cr.tensor(g.copy()), torch.tensor(g.copy())
    clip_grad_norm_(p, 1e-6)
    torch.nn.utils.clip_grad_norm_(q, 1e-6)
    np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=0)
    np.testing.assert_allclose(p.grad.numpy(), g / 3, rtol=1e-5, atol=0)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_get_total_norm_and_clip_grads_with_norm_match_torch(norm_type):
    from chainrule.nn.utils import clip_grads_with_norm_, get_total_norm

    ours, theirs = pair(seed=3, scale=2.0)
    total = get_total_norm([p.grad for p in ours if p.grad is not None], norm_type)
    t_total = torch.nn.utils.get_total_norm(
        [p.grad for p in theirs if p.grad is not None], norm_type
    )
    np.testing.assert_allclose(total.numpy(), t_total.numpy(), rtol=1e-6)
    assert total.dtype == np.float32 and total.shape == ()
    assert clip_grads_with_norm_(ours, 1.0, total) is None
    torch.nn.utils.clip_grads_with_norm_(theirs, 1.0, t_total)
    assert_same_grads(ours, theirs)
    # a total norm below max_norm leaves the gradients alone
    before = [None if p.grad is None else p.grad.numpy().copy() for p in ours]
    clip_grads_with_norm_(ours, 10.0, cr.tensor(1.0))
    for b, p in zip(before, ours, strict=True):
        assert b is None or np.array_equal(b, p.grad.numpy())


def test_get_total_norm_edge_cases():
    from chainrule.nn.utils import get_total_norm

    assert get_total_norm([]).item() == 0.0
    assert get_total_norm(cr.tensor([3.0, 4.0])).item() == pytest.approx(5.0)
    with pytest.raises(RuntimeError, match="non-finite"):
        get_total_norm([cr.tensor([math.inf])], error_if_nonfinite=True)


def test_clip_grad_norm_deprecated_alias_warns_and_clips():
    ours, theirs = pair(seed=4, scale=3.0)
    with pytest.warns(FutureWarning, match="`torch.nn.utils.clip_grad_norm` is now deprecated"):
        total = cr.nn.utils.clip_grad_norm(ours, 0.5)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, 0.5)
    np.testing.assert_allclose(total.numpy(), t_total.numpy(), rtol=1e-6)
    assert_same_grads(ours, theirs)
