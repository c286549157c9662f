"""Helpers for testing chainrule and code built on it: :func:`assert_close` (as
``torch.testing.assert_close``) and the declarative op table (:mod:`chainrule.testing.op_table`)."""

from typing import Any

import numpy as np

__all__ = ["assert_close"]

# torch's default tolerances per dtype (rtol, atol)
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}


def _array(x: Any) -> np.ndarray:
    from ..tensor import Tensor

    if isinstance(x, Tensor):
        return x.detach().numpy()
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(
    actual: Any,
    expected: Any,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_dtype: bool = True,
    msg: str | None = None,
    **_: Any,
) -> None:
    """Raise ``AssertionError`` unless ``|actual - expected| <= atol + rtol * |expected|``
    everywhere, with equal shapes (and dtypes unless ``check_dtype=False``); the tolerances
    default to torch's for the dtype. Sequences and dicts are compared item by item.

    Example:
        >>> cr.testing.assert_close(cr.tensor([1.0]), cr.tensor([1.0 + 1e-7]))
    """
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys(), msg or "keys differ"
        for key in expected:
            assert_close(
                actual[key],
                expected[key],
                rtol=rtol,
                atol=atol,
                equal_nan=equal_nan,
                check_dtype=check_dtype,
                msg=msg,
            )
        return
    if isinstance(expected, (list, tuple)) and not isinstance(expected, str):
        assert len(actual) == len(expected), (
            msg or f"lengths differ: {len(actual)} and {len(expected)}"
        )
        for a, e in zip(actual, expected, strict=True):
            assert_close(
                a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg
            )
        return
    a, e = _array(actual), _array(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values have different shapes: {a.shape} and {e.shape}")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values have different dtypes: {a.dtype} and {e.dtype}")
    if (rtol is None) != (atol is None):
        raise ValueError("assert_close: give both rtol and atol, or neither")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(e.dtype, (0.0, 0.0))
    close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = int((~close).sum())
        with np.errstate(invalid="ignore"):
            diff = np.abs(a.astype(np.float64) - e.astype(np.float64))[~close]
        greatest = diff[~np.isnan(diff)].max() if (~np.isnan(diff)).any() else float("nan")
        raise AssertionError(
            msg
            or f"Tensor-likes are not close: {bad} of {close.size} elements differ (greatest "
            f"absolute difference {greatest:.3g}; rtol {rtol}, atol {atol})"
        )
