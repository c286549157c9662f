"""affine_grid and grid_sample against PyTorch: grids bit for bit, samples and gradients for
every mode, padding mode and align_corners."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_grid_matches_torch_bit_for_bit(align_corners, dtype):
    rng = np.random.default_rng(0)
    theta = (np.eye(2, 3)[None] + 0.2 * rng.standard_normal((3, 2, 3))).astype(dtype)
    theta[0] = np.eye(2, 3)  # the identity: points exactly at pixel centres
    for h, w in [(2, 5), (7, 8), (28, 28), (33, 17)]:
        ours = F.affine_grid(cr.tensor(theta), (3, 2, h, w), align_corners=align_corners)
        theirs = TF.affine_grid(torch.tensor(theta), (3, 2, h, w), align_corners=align_corners)
        np.testing.assert_array_equal(ours.numpy()[0], theirs.numpy()[0])
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_and_gradients_match_torch(mode, padding_mode, align_corners):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    theta = (np.eye(2, 3)[None] + 0.3 * rng.standard_normal((2, 2, 3))).astype(np.float32)
    weights = rng.standard_normal((2, 3, 4, 7)).astype(np.float32)

    def run(lib, fn_grid, fn_sample):
        xs = lib.tensor(x, requires_grad=True)
        th = lib.tensor(theta, requires_grad=True)
        grid = fn_grid(th, (2, 3, 4, 7), align_corners=align_corners) * 1.6  # some outside
        out = fn_sample(xs, grid, mode=mode, padding_mode=padding_mode, align_corners=align_corners)
        (out * lib.tensor(weights)).sum().backward()
        th_grad = th.grad.numpy() if th.grad is not None else np.zeros_like(theta)
        return out.detach().numpy(), xs.grad.numpy(), th_grad

    ours = run(cr, F.affine_grid, F.grid_sample)
    theirs = run(torch, TF.affine_grid, TF.grid_sample)
    for a, b, what in zip(ours, theirs, ["output", "input grad", "theta grad"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg=what)


def test_grid_sample_at_pixel_centres_takes_torchs_one_sided_gradient():
    # The STN tutorial starts from the identity: every point sits on a pixel centre, where
    # the bilinear gradient depends on which side the floor falls.
    x = np.random.default_rng(2).standard_normal((1, 1, 6, 6)).astype(np.float32)
    theta = np.eye(2, 3, dtype=np.float32)[None]
    grads = []
    for lib, fns in ((cr, F), (torch, TF)):
        th = lib.tensor(theta, requires_grad=True)
        grid = fns.affine_grid(th, (1, 1, 6, 6), align_corners=False)
        fns.grid_sample(lib.tensor(x), grid, align_corners=False).pow(2).sum().backward()
        grads.append(th.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)


def test_grid_sample_errors_and_default_warning():
    with pytest.warns(UserWarning, match="align_corners=False"):
        F.affine_grid(cr.tensor(np.eye(2, 3, dtype=np.float32)[None]), (1, 1, 2, 2))
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.grid_sample(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 1, 2), mode="bicubic")
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(cr.zeros(1, 1, 2, 2), cr.zeros(1, 1, 1, 2), padding_mode="wrap")
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(cr.zeros(1, 3, 3), (1, 1, 2, 2), align_corners=False)
