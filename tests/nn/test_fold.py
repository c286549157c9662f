"""``F.unfold`` / ``F.fold`` and ``nn.Unfold`` / ``nn.Fold`` against PyTorch; gradchecks."""

import numpy as np
import pytest
from helpers import check_grad, compare_with_torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

GEOMETRIES = [
    dict(kernel_size=2),
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(2, 3), stride=(2, 1), dilation=(1, 2)),
    dict(kernel_size=(3, 2), padding=(1, 0), stride=2, dilation=2),
]


@pytest.mark.parametrize("geo", GEOMETRIES)
@pytest.mark.parametrize("shape", [(2, 3, 7, 8), (3, 6, 5)], ids=["batched", "unbatched"])
def test_unfold_matches_torch(geo, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out, *_ = compare_with_torch(lambda x: F.unfold(x, **geo), lambda x: TF.unfold(x, **geo), [x])
    assert out[0].dtype == cr.float32


@pytest.mark.parametrize("geo", GEOMETRIES)
@pytest.mark.parametrize("batched", [True, False])
def test_fold_matches_torch(geo, batched):
    hw = (7, 8)
    blocks = TF.unfold(torch.zeros(1, 1, *hw), **geo).shape
    shape = ((2,) if batched else ()) + (3 * blocks[1], blocks[2])
    cols = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    compare_with_torch(lambda c: F.fold(c, hw, **geo), lambda c: TF.fold(c, hw, **geo), [cols])


def test_modules_match_torch():
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 6)).astype(np.float32)
    for ours, theirs in (
        (nn.Unfold(3, padding=1, stride=2), torch.nn.Unfold(3, padding=1, stride=2)),
        (nn.Unfold((2, 3), dilation=2), torch.nn.Unfold((2, 3), dilation=2)),
    ):
        assert repr(ours) == repr(theirs)
        compare_with_torch(ours, theirs, [x])
    cols = np.random.default_rng(3).standard_normal((2, 12, 9)).astype(np.float32)
    ours, theirs = nn.Fold((4, 4), 2, stride=1), torch.nn.Fold((4, 4), 2, stride=1)
    assert repr(ours) == repr(theirs)
    compare_with_torch(ours, theirs, [cols])


def test_fold_of_unfold_counts_the_overlaps():
    # fold(unfold(x)) multiplies each pixel by the number of blocks covering it
    x = cr.randn(1, 2, 5, 5, dtype=cr.float64)
    ones = F.fold(F.unfold(cr.ones(1, 2, 5, 5, dtype=cr.float64), 3), (5, 5), 3)
    np.testing.assert_allclose(F.fold(F.unfold(x, 3), (5, 5), 3).numpy(), (x * ones).numpy())


def test_gradcheck_random_shapes_and_second_derivatives():
    rng = np.random.default_rng(4)
    n, c, h, w = rng.integers(1, 3), rng.integers(1, 3), rng.integers(4, 7), rng.integers(4, 7)
    geo = dict(kernel_size=(2, 3), padding=1, stride=(1, 2), dilation=(2, 1))
    check_grad(lambda x: F.unfold(x, **geo), rng.standard_normal((n, c, h, w)), gradgrad=True)
    blocks = F.unfold(cr.zeros(1, 1, h, w), **geo).shape[-1]
    check_grad(
        lambda cols: F.fold(cols, (h, w), **geo),
        rng.standard_normal((n, c * 6, blocks)),
        gradgrad=True,
    )


def test_errors():
    with pytest.raises(RuntimeError, match="3-D"):
        F.unfold(cr.ones(4, 4), 2)
    with pytest.raises(RuntimeError, match="no block fits"):
        F.unfold(cr.ones(1, 1, 2, 2), 3)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(cr.ones(1, 5, 4), (3, 3), 2)
    with pytest.raises(RuntimeError, match=r"expected input.size\(2\) to be 4"):
        F.fold(cr.ones(1, 4, 5), (3, 3), 2)
