"""LR schedulers against torch.optim.lr_scheduler: same learning-rate sequences over 50 steps."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import optim
from chainrule.optim import lr_scheduler as crs

torch = pytest.importorskip("torch")
ts = torch.optim.lr_scheduler

STEPS = 50
METRICS = [1.0 / (1 + k) if k < 12 else 0.08 + 0.001 * math.sin(k) for k in range(STEPS + 30)]


def optimizers(kind="SGD"):
    """A chainrule and a torch optimizer, each with two groups (lr 0.1 and 0.02)."""

    def make(lib, tensor):
        params = [tensor(np.zeros(2, np.float32)), tensor(np.zeros(3, np.float32))]
        groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.02}]
        if kind == "SGD":
            return lib.SGD(groups, lr=0.1, momentum=0.9)
        return lib.Adam(groups, lr=0.1)

    return make(optim, cr.tensor), make(torch.optim, torch.tensor)


def lr_lambda(epoch):
    return 0.9**epoch + 0.01 * epoch


class Warmup:
    """A callable object: its attributes are saved by LambdaLR.state_dict, like torch's."""

    def __init__(self, n):
        self.n = n

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.n)


def lr_factor(epoch):
    return 1.02 if epoch % 3 == 0 else 0.9


class Decay:
    """A callable object for MultiplicativeLR (its ``gamma`` is saved by ``state_dict``)."""

    def __init__(self, gamma):
        self.gamma = gamma

    def __call__(self, epoch):
        return self.gamma


SCHEDULERS = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=8),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=[lr_lambda, Warmup(6)]),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.1], total_steps=STEPS + 1),
    "OneCycleLR-3phase-linear": lambda m, o: m.OneCycleLR(
        o,
        max_lr=0.4,
        epochs=6,
        steps_per_epoch=9,
        pct_start=0.25,
        anneal_strategy="linear",
        three_phase=True,
    ),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o,
        schedulers=[
            m.LinearLR(o, start_factor=0.1, total_iters=5),
            m.CosineAnnealingLR(o, T_max=20),
        ],
        milestones=[5],
    ),
    "SequentialLR-3": lambda m, o: m.SequentialLR(
        o,
        schedulers=[
            m.ExponentialLR(o, gamma=0.9),
            m.StepLR(o, step_size=3, gamma=0.5),
            m.LambdaLR(o, lr_lambda=lr_lambda),
        ],
        milestones=[10, 25],
    ),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=30, power=0.9),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=4),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=[lr_factor, Decay(0.97)]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9)]
    ),
    "ChainedScheduler-3": lambda m, o: m.ChainedScheduler(
        [
            m.PolynomialLR(o, total_iters=12, power=2.0),
            m.MultiplicativeLR(o, lr_lambda=lr_factor),
            m.StepLR(o, step_size=4, gamma=0.5),
        ],
        optimizer=o,
    ),
    "SequentialLR-constant-polynomial": lambda m, o: m.SequentialLR(
        o,
        schedulers=[
            m.ConstantLR(o, factor=0.5, total_iters=3),
            m.PolynomialLR(o, total_iters=8, power=1.5),
        ],
        milestones=[6],
    ),
    "ReduceLROnPlateau": lambda m, o: m.ReduceLROnPlateau(
        o, factor=0.5, patience=2, cooldown=1, min_lr=[0.001, 0.0]
    ),
    "ReduceLROnPlateau-max-abs": lambda m, o: m.ReduceLROnPlateau(
        o, mode="max", factor=0.7, patience=1, threshold=0.01, threshold_mode="abs"
    ),
}


def step(sched, opt, k):
    opt.step()  # no gradients: updates nothing, but keeps the documented call order
    if isinstance(sched, (crs.ReduceLROnPlateau, ts.ReduceLROnPlateau)):
        sign = -1 if sched.mode == "max" else 1
        sched.step(sign * METRICS[k])
    else:
        sched.step()


def trace(sched, opt, start, steps):
    """Learning rates (and momentum / beta1) of every group after each step."""
    out = []
    for k in range(start, start + steps):
        step(sched, opt, k)
        out.append(
            [g["lr"] for g in opt.param_groups]
            + list(sched.get_last_lr())
            + [g.get("momentum", g.get("betas", (0,))[0]) for g in opt.param_groups]
        )
    return np.array(out, dtype=np.float64)


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_matches_torch(name, kind):
    cr_opt, th_opt = optimizers(kind)
    cr_sched = SCHEDULERS[name](crs, cr_opt)
    th_sched = SCHEDULERS[name](ts, th_opt)
    assert cr_sched.get_last_lr() == pytest.approx(th_sched.get_last_lr(), rel=1e-12)
    steps = 53 if name == "OneCycleLR-3phase-linear" else STEPS
    mine, theirs = trace(cr_sched, cr_opt, 0, steps), trace(th_sched, th_opt, 0, steps)
    np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=0)
    moves = 1 if name == "ConstantLR" else 2  # ConstantLR has two rates: factor * lr, then lr
    assert len(np.unique(mine[:, 0])) > moves  # the schedule really moved


def test_two_chained_schedulers_match_torch():
    cr_opt, th_opt = optimizers()
    cr_a, cr_b = crs.StepLR(cr_opt, 4, gamma=0.5), crs.ExponentialLR(cr_opt, gamma=0.95)
    th_a, th_b = ts.StepLR(th_opt, 4, gamma=0.5), ts.ExponentialLR(th_opt, gamma=0.95)
    for _ in range(20):
        cr_opt.step(), th_opt.step()
        cr_a.step(), cr_b.step(), th_a.step(), th_b.step()
        assert [g["lr"] for g in cr_opt.param_groups] == pytest.approx(
            [g["lr"] for g in th_opt.param_groups], rel=1e-12
        )


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_round_trip(name, tmp_path):
    cr_opt, _ = optimizers()
    sched = SCHEDULERS[name](crs, cr_opt)
    trace(sched, cr_opt, 0, 20)
    # Through a checkpoint file, as a training loop would do it.
    cr.serialization.save(
        {"opt": cr_opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "ckpt.npz"
    )
    ckpt = cr.serialization.load(tmp_path / "ckpt.npz")
    expected = trace(sched, cr_opt, 20, 30)

    fresh_opt, _ = optimizers()
    fresh = SCHEDULERS[name](crs, fresh_opt)
    fresh_opt.load_state_dict(ckpt["opt"])
    fresh.load_state_dict(ckpt["sched"])
    np.testing.assert_array_equal(trace(fresh, fresh_opt, 20, 30), expected)


def test_lambda_functions_are_not_saved_but_callable_objects_are():
    cr_opt, _ = optimizers()
    warm = Warmup(6)
    sched = crs.LambdaLR(cr_opt, lr_lambda=[lr_lambda, warm])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"n": 6}]
    warm.n = 100
    sched.load_state_dict(state)
    assert warm.n == 6


def test_scheduler_before_optimizer_step_warns():
    cr_opt, _ = optimizers()
    sched = crs.StepLR(cr_opt, step_size=2)
    with pytest.warns(UserWarning, match="before optimizer.step"):
        sched.step()
    cr_opt2, _ = optimizers()
    sched2 = crs.StepLR(cr_opt2, step_size=2)
    cr_opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_initial_lr_and_resume_errors():
    cr_opt, _ = optimizers()
    crs.ExponentialLR(cr_opt, gamma=0.5)
    assert [g["initial_lr"] for g in cr_opt.param_groups] == [0.1, 0.02]
    fresh, _ = optimizers()
    with pytest.raises(KeyError, match="initial_lr"):
        crs.StepLR(fresh, step_size=3, last_epoch=4)
    with pytest.raises(TypeError, match="not an Optimizer"):
        crs.StepLR(object(), step_size=3)


@pytest.mark.parametrize("name", ["PolynomialLR", "ConstantLR", "StepLR"])
def test_step_with_epoch_uses_the_closed_form_like_torch(name):
    cr_opt, th_opt = optimizers()
    cr_sched, th_sched = SCHEDULERS[name](crs, cr_opt), SCHEDULERS[name](ts, th_opt)
    mine, theirs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # step(epoch) is deprecated, in torch too
        for epoch in [3, 1, 7, 4, 40, 2]:
            for opt, sched, out in ((cr_opt, cr_sched, mine), (th_opt, th_sched, theirs)):
                opt.step()
                sched.step(epoch)
                out.append(sched.get_last_lr())
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_chained_scheduler_state_holds_each_scheduler_and_no_epoch():
    cr_opt, th_opt = optimizers()
    mine = SCHEDULERS["ChainedScheduler"](crs, cr_opt)
    theirs = SCHEDULERS["ChainedScheduler"](ts, th_opt)
    assert sorted(mine.state_dict()) == sorted(theirs.state_dict()) == ["_last_lr", "_schedulers"]
    for opt, sched in ((cr_opt, mine), (th_opt, theirs)):
        opt.step()
        sched.step()
    assert [s["last_epoch"] for s in mine.state_dict()["_schedulers"]] == [
        s["last_epoch"] for s in theirs.state_dict()["_schedulers"]
    ]


def test_multiplicative_lr_saves_callable_objects_only():
    cr_opt, _ = optimizers()
    decay = Decay(0.5)
    sched = crs.MultiplicativeLR(cr_opt, lr_lambda=[lr_factor, decay])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"gamma": 0.5}]
    decay.gamma = 0.1
    sched.load_state_dict(state)
    assert decay.gamma == 0.5


def test_closed_form_resume_matches_torch():
    # last_epoch > 0 at construction: CosineAnnealingLR jumps with its closed form, like torch.
    cr_opt, th_opt = optimizers()
    for opt in (cr_opt, th_opt):
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
    cr_sched = crs.CosineAnnealingLR(cr_opt, T_max=12, last_epoch=4)
    th_sched = ts.CosineAnnealingLR(th_opt, T_max=12, last_epoch=4)
    np.testing.assert_allclose(
        trace(cr_sched, cr_opt, 0, 20), trace(th_sched, th_opt, 0, 20), rtol=1e-9
    )


def test_bad_arguments():
    cr_opt, _ = optimizers()
    with pytest.raises(ValueError, match="start_factor"):
        crs.LinearLR(cr_opt, start_factor=0)
    with pytest.raises(ValueError, match="total_steps"):
        crs.OneCycleLR(cr_opt, max_lr=0.1)
    with pytest.raises(ValueError, match="one milestone fewer"):
        crs.SequentialLR(cr_opt, [crs.StepLR(cr_opt, 2)], milestones=[3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        crs.SequentialLR(cr_opt, [crs.StepLR(cr_opt, 2), crs.ReduceLROnPlateau(cr_opt)], [3])
    with pytest.raises(ValueError, match="mode"):
        crs.ReduceLROnPlateau(cr_opt, mode="lowest")
    with pytest.raises(ValueError, match="Tried to step"):
        sched = crs.OneCycleLR(cr_opt, max_lr=0.1, total_steps=3)
        for _ in range(4):
            cr_opt.step()
            sched.step()
    with pytest.raises(ValueError, match="between 0 and 1"):
        crs.ConstantLR(cr_opt, factor=1.5)
    with pytest.raises(TypeError, match="should be a function"):
        crs.MultiplicativeLR(cr_opt, lr_lambda=0.9)
    with pytest.raises(ValueError, match="at least one"):
        crs.ChainedScheduler([])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        crs.ChainedScheduler([crs.StepLR(cr_opt, 2), crs.ReduceLROnPlateau(cr_opt)])
    other, _ = optimizers()
    with pytest.raises(ValueError, match="same optimizer"):
        crs.ChainedScheduler([crs.StepLR(cr_opt, 2), crs.StepLR(other, 2)])
    adagrad = optim.Adagrad([cr.tensor(np.zeros(2, np.float32))])
    with pytest.raises(ValueError, match="momentum or beta1"):
        crs.OneCycleLR(adagrad, max_lr=0.1, total_steps=10)
