"""CosineAnnealingWarmRestarts and CyclicLR against torch.optim.lr_scheduler."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim

torch = pytest.importorskip("torch")


def _pair(kind="SGD"):
    def make(lib, tensor):
        params = [tensor(np.zeros(2, np.float32)), tensor(np.zeros(3, np.float32))]
        groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.02}]
        if kind == "SGD":
            return lib.SGD(groups, lr=0.1, momentum=0.9)
        return lib.Adam(groups, lr=0.1)

    return make(optim, cr.tensor), make(torch.optim, torch.tensor)


CASES = {
    "warm_restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.001),
    "warm_restarts_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "cyclic": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "cyclic_tri2": lambda m, o: m.CyclicLR(
        o, base_lr=[0.01, 0.001], max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2"
    ),
    "cyclic_exp": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.95
    ),
    "cyclic_custom": lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 1 / (x + 1), scale_mode="iterations"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
def test_matches_torch_for_40_steps(name, kind):
    ours_opt, theirs_opt = _pair(kind)
    ours = CASES[name](optim.lr_scheduler, ours_opt)
    theirs = CASES[name](torch.optim.lr_scheduler, theirs_opt)
    for _ in range(40):
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)
        for a, b in zip(ours_opt.param_groups, theirs_opt.param_groups, strict=True):
            key = "momentum" if kind == "SGD" else "betas"
            np.testing.assert_allclose(np.ravel(a[key]), np.ravel(b[key]), rtol=1e-12)


def test_warm_restarts_fractional_epochs_match_torch():
    ours_opt, theirs_opt = _pair()
    ours = optim.lr_scheduler.CosineAnnealingWarmRestarts(ours_opt, T_0=4, T_mult=2)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs_opt, T_0=4, T_mult=2)
    for epoch in range(12):
        for i in range(3):
            ours_opt.step()
            theirs_opt.step()
            ours.step(epoch + i / 3)
            theirs.step(epoch + i / 3)
            np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr(), rtol=1e-12)


def test_errors():
    opt = optim.Adagrad([cr.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)
    with pytest.raises(ValueError, match="T_0"):
        optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
