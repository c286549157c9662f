"""``ops.dispatch``: the array helpers vjps share give exactly NumPy's results."""

import numpy as np
import pytest

from chainrule.ops import dispatch as d


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5,), (40, 40), (64, 33), (2, 3, 300)])
@pytest.mark.parametrize("transposed", [False, True])
def test_where_with_a_zero_branch_is_np_where_bit_for_bit(dtype, shape, transposed):
    rng = np.random.default_rng(0)
    g = rng.standard_normal(shape).astype(dtype)
    g.flat[::7], g.flat[::11], g.flat[::13], g.flat[::17] = np.nan, -0.0, np.inf, -np.inf
    mask = rng.random(shape) < 0.5
    if transposed:
        g, mask = g.T, mask.T
    for got, want in [
        (d.where(mask, g, 0), np.where(mask, g, 0)),
        (d.where(mask, 0, g), np.where(mask, 0, g)),
    ]:
        assert got.dtype == want.dtype and got.shape == want.shape
        # the same bits: NaN passes where kept, blocked places are +0.0 as the select gives
        bits = np.dtype(f"u{got.itemsize}")
        assert np.array_equal(got.view(bits), want.view(bits))


def test_where_broadcast_mask_and_other_branches_fall_back_to_np_where():
    g = np.arange(2048, dtype=np.float32).reshape(2, 1024)
    mask = np.array([True, False])[:, None]
    np.testing.assert_array_equal(d.where(mask, g, 0), np.where(mask, g, 0))
    np.testing.assert_array_equal(d.where(g > 5, g, 1), np.where(g > 5, g, 1))
    ints = np.arange(2048)
    np.testing.assert_array_equal(d.where(ints > 5, ints, 0), np.where(ints > 5, ints, 0))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_zero_where_consumes_its_mask_and_gives_np_where_bit_for_bit(dtype):
    rng = np.random.default_rng(1)
    g = rng.standard_normal((64, 48)).astype(dtype)
    g.flat[::7], g.flat[::11] = np.nan, -0.0
    blocked = rng.random((64, 48)) < 0.5
    want = np.where(blocked, 0, g)
    got = d.zero_where_(blocked.copy(), g)
    bits = np.dtype(f"u{got.itemsize}")
    assert got.dtype == want.dtype and np.array_equal(got.view(bits), want.view(bits))
