"""``chainrule.testing.assert_close`` against ``torch.testing.assert_close``: the same verdicts
with the default tolerances per dtype, explicit tolerances, NaN, shapes, dtypes and nests."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "a, b, kwargs",
    [
        ([1.0], [1.0 + 1e-7], {}),
        ([1.0], [1.0 + 1e-4], {}),
        ([1.0], [1.01], {"rtol": 0.1, "atol": 0.0}),
        ([float("nan")], [float("nan")], {}),
        ([float("nan")], [float("nan")], {"equal_nan": True}),
        ([1.0, 2.0], [1.0], {}),
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_verdicts_as_torch(a, b, kwargs, dtype):
    verdicts = []
    for lib in (cr, torch):
        x = lib.tensor(np.array(a, dtype=dtype))
        y = lib.tensor(np.array(b, dtype=dtype))
        try:
            lib.testing.assert_close(x, y, **kwargs)
            verdicts.append(True)
        except AssertionError:
            verdicts.append(False)
    assert verdicts[0] == verdicts[1]


def test_dtypes_and_nests():
    with pytest.raises(AssertionError, match="dtypes"):
        cr.testing.assert_close(cr.ones(1), cr.ones(1, dtype=cr.float64))
    cr.testing.assert_close(cr.ones(1), cr.ones(1, dtype=cr.float64), check_dtype=False)
    cr.testing.assert_close({"a": [cr.ones(2)]}, {"a": [cr.ones(2)]})
    with pytest.raises(AssertionError):
        cr.testing.assert_close([cr.ones(2)], [cr.zeros(2)])
