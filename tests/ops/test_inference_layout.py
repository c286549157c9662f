"""Under no_grad, linear computes (W @ x.T).T (faster in OpenBLAS): same values, usable output."""

import numpy as np

import chainrule as cr


def test_inference_linear_matches_the_recorded_product():
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((5, 7)).astype(np.float32))
    w = cr.tensor(rng.standard_normal((80, 7)).astype(np.float32), requires_grad=True)
    b = cr.tensor(rng.standard_normal(80).astype(np.float32), requires_grad=True)
    trained = cr.linear(x, w, b)
    with cr.no_grad():
        inferred = cr.linear(x, w, b)
        chained = cr.linear(inferred.relu(), cr.ones(64, 80), None).reshape(-1)
    assert not inferred.requires_grad and inferred.dtype == np.float32
    np.testing.assert_allclose(inferred.numpy(), trained.numpy(), rtol=1e-5, atol=1e-5)
    expected = (np.maximum(trained.numpy(), 0) @ np.ones((80, 64), np.float32)).reshape(-1)
    np.testing.assert_allclose(chained.numpy(), expected, rtol=1e-5)
