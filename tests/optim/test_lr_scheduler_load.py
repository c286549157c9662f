"""Scheduler ``load_state_dict`` checks its input all or nothing, with a clear error."""

import copy

import numpy as np
import pytest

import chainrule as cr
import chainrule.optim.lr_scheduler as crs


def _opt(groups=2):
    params = [cr.zeros(3, requires_grad=True) for _ in range(groups)]
    return cr.optim.SGD([{"params": [p]} for p in params], lr=0.1, momentum=0.9)


KINDS = {
    "StepLR": lambda o: crs.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda o: crs.MultiStepLR(o, milestones=[2, 5], gamma=0.3),
    "CosineAnnealingLR": lambda o: crs.CosineAnnealingLR(o, T_max=10),
    "OneCycleLR": lambda o: crs.OneCycleLR(o, max_lr=0.5, total_steps=20),
    "LambdaLR": lambda o: crs.LambdaLR(o, lr_lambda=lambda e: 0.9**e),
    "ReduceLROnPlateau": lambda o: crs.ReduceLROnPlateau(o, patience=1),
    "CyclicLR": lambda o: crs.CyclicLR(o, base_lr=0.01, max_lr=0.1),
    "CosineAnnealingWarmRestarts": lambda o: crs.CosineAnnealingWarmRestarts(o, T_0=4),
    "PolynomialLR": lambda o: crs.PolynomialLR(o, total_iters=8),
    "ConstantLR": lambda o: crs.ConstantLR(o, factor=0.5, total_iters=2),
    "MultiplicativeLR": lambda o: crs.MultiplicativeLR(o, lr_lambda=lambda e: 0.9),
    "SequentialLR": lambda o: crs.SequentialLR(
        o, [crs.LinearLR(o, start_factor=0.5, total_iters=2), crs.ExponentialLR(o, 0.9)], [2]
    ),
}


def _advance(sched, opt, n=3):
    for _ in range(n):
        opt.step()
        if isinstance(sched, crs.ReduceLROnPlateau):
            sched.step(1.0)
        else:
            sched.step()


def _snapshot(sched, opt):
    return copy.deepcopy(sched.state_dict()), [g["lr"] for g in opt.param_groups]


@pytest.mark.parametrize("kind", list(KINDS))
def test_own_state_round_trips_and_numpy_scalars_are_accepted(kind):
    opt = _opt()
    sched = KINDS[kind](opt)
    _advance(sched, opt)
    state = sched.state_dict()
    fresh_opt = _opt()
    fresh = KINDS[kind](fresh_opt)
    numpy_state = dict(state, last_epoch=np.int64(state["last_epoch"]))
    fresh.load_state_dict(numpy_state)
    assert fresh.last_epoch == state["last_epoch"] and type(fresh.last_epoch) is int
    assert fresh.state_dict().keys() == state.keys()


@pytest.mark.parametrize("kind", list(KINDS))
def test_unexpected_and_missing_entries_are_refused_and_nothing_changes(kind):
    opt = _opt()
    sched = KINDS[kind](opt)
    _advance(sched, opt)
    good = sched.state_dict()
    other_opt = _opt()
    other = KINDS[kind](other_opt)
    before = _snapshot(other, other_opt)
    with pytest.raises(ValueError, match=r"unexpected entries: 'optimizer'"):
        other.load_state_dict(dict(good, optimizer="not mine"))
    missing = dict(good)
    del missing["last_epoch"]
    with pytest.raises(ValueError, match=r"missing entries: 'last_epoch'"):
        other.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"entry 'last_epoch' must be a number, got str"):
        other.load_state_dict(dict(good, last_epoch="3"))
    assert _snapshot(other, other_opt) == before


def test_not_a_dict_is_a_type_error():
    sched = crs.StepLR(_opt(), step_size=2)
    with pytest.raises(TypeError, match="StepLR.load_state_dict: expected a dict, got list"):
        sched.load_state_dict([("last_epoch", 3)])


def test_kinds_of_values_are_checked():
    opt = _opt()
    sched = crs.StepLR(opt, step_size=2)
    good = sched.state_dict()
    before = _snapshot(sched, opt)
    bad = {
        "base_lrs": ([0.1], r"'base_lrs' must hold one value per parameter group \(2\), got 1"),
        "_last_lr": ("0.1", r"'_last_lr' must be a list, got str"),
        "_is_initial": (1, r"'_is_initial' must be True or False, got 1"),
        "step_size": (True, r"'step_size' must be a number, got bool"),
    }
    for key, (value, message) in bad.items():
        with pytest.raises(ValueError, match=message):
            sched.load_state_dict(dict(good, **{key: value}))
    with pytest.raises(ValueError, match=r"'base_lrs'\[1\] must be a number, got str"):
        sched.load_state_dict(dict(good, base_lrs=[0.1, "x"]))
    assert _snapshot(sched, opt) == before
    sched.load_state_dict(dict(good, base_lrs=np.array([0.2, 0.3]), step_size=np.int32(5)))
    assert sched.base_lrs == [0.2, 0.3] and sched.step_size == 5


def test_plateau_mode_is_checked_before_anything_changes():
    opt = _opt()
    sched = crs.ReduceLROnPlateau(opt, mode="min", patience=1)
    good = sched.state_dict()
    before = _snapshot(sched, opt)
    with pytest.raises(ValueError, match=r"entry 'mode' must be one of \['min', 'max'\]"):
        sched.load_state_dict(dict(good, mode="minimum", patience=7))
    with pytest.raises(ValueError, match=r"entry 'threshold_mode' must be one of"):
        sched.load_state_dict(dict(good, threshold_mode="relative"))
    assert _snapshot(sched, opt) == before and sched.patience == 1
    sched.load_state_dict(dict(good, mode="max"))
    assert sched.mode == "max" and sched.mode_worse == -np.inf


def test_one_cycle_and_cyclic_choices():
    opt = _opt()
    one = crs.OneCycleLR(opt, max_lr=0.5, total_steps=20)
    with pytest.raises(ValueError, match=r"'_anneal_func_type' must be one of \['cos', 'linear'\]"):
        one.load_state_dict(dict(one.state_dict(), _anneal_func_type="cosine"))
    phases = copy.deepcopy(one.state_dict()["_schedule_phases"])
    phases[0]["end_step"] = "late"
    with pytest.raises(ValueError, match=r"'_schedule_phases'\[0\]\['end_step'\] must be a number"):
        one.load_state_dict(dict(one.state_dict(), _schedule_phases=phases))
    cyc = crs.CyclicLR(_opt(), base_lr=0.01, max_lr=0.1)
    with pytest.raises(ValueError, match=r"'mode' must be one of"):
        cyc.load_state_dict(dict(cyc.state_dict(), mode="sawtooth"))


class Warm:
    def __init__(self, n):
        self.n = n

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.n)


def test_lambda_states_are_checked_before_any_is_applied():
    opt = _opt()
    warm = Warm(4)
    sched = crs.LambdaLR(opt, lr_lambda=[lambda e: 1.0, warm])
    good = sched.state_dict()
    with pytest.raises(ValueError, match=r"'lr_lambdas' must be a list of 2"):
        sched.load_state_dict(dict(good, lr_lambdas=[None]))
    with pytest.raises(ValueError, match=r"'lr_lambdas'\[1\] must be None or a dict"):
        sched.load_state_dict(dict(good, lr_lambdas=[None, 5], last_epoch=9))
    assert sched.last_epoch == 0 and warm.n == 4
    sched.load_state_dict(dict(good, lr_lambdas=[None, {"n": 8}]))
    assert warm.n == 8


def test_sequential_checks_every_scheduler_before_changing_any():
    opt = _opt()
    first = crs.LinearLR(opt, start_factor=0.5, total_iters=2)
    second = crs.ExponentialLR(opt, 0.9)
    seq = crs.SequentialLR(opt, [first, second], [2])
    _advance(seq, opt, 4)
    state = copy.deepcopy(seq.state_dict())
    opt2 = _opt()
    a, b = crs.LinearLR(opt2, start_factor=0.5, total_iters=2), crs.ExponentialLR(opt2, 0.9)
    seq2 = crs.SequentialLR(opt2, [a, b], [2])
    before = (_snapshot(seq2, opt2), a.state_dict(), b.state_dict())
    broken = copy.deepcopy(state)
    broken["_schedulers"][1]["gamma"] = "0.9"  # the second one is bad: the first must not load
    with pytest.raises(ValueError, match=r"ExponentialLR.load_state_dict: entry 'gamma'"):
        seq2.load_state_dict(broken)
    with pytest.raises(ValueError, match=r"'_schedulers' must be a list of 2"):
        seq2.load_state_dict(dict(state, _schedulers=state["_schedulers"][:1]))
    assert (_snapshot(seq2, opt2), a.state_dict(), b.state_dict()) == before
    seq2.load_state_dict(state)
    assert seq2.last_epoch == seq.last_epoch and b.last_epoch == second.last_epoch


def test_chained_checks_every_scheduler_before_changing_any():
    def chained(opt):
        return crs.ChainedScheduler(
            [crs.ConstantLR(opt, factor=0.5, total_iters=2), crs.ExponentialLR(opt, 0.9)]
        )

    opt = _opt()
    sched = chained(opt)
    _advance(sched, opt, 4)
    state = copy.deepcopy(sched.state_dict())
    opt2 = _opt()
    other = chained(opt2)
    before = [copy.deepcopy(s.state_dict()) for s in other._schedulers]
    broken = copy.deepcopy(state)
    broken["_schedulers"][1]["gamma"] = "0.9"
    with pytest.raises(ValueError, match=r"ExponentialLR.load_state_dict: entry 'gamma'"):
        other.load_state_dict(broken)
    assert [s.state_dict() for s in other._schedulers] == before
    with pytest.raises(ValueError, match=r"ChainedScheduler.load_state_dict: entry '_schedulers'"):
        other.load_state_dict(dict(state, _schedulers=state["_schedulers"][:1]))
    other.load_state_dict(state)
    assert [s.last_epoch for s in other._schedulers] == [4, 4]


# Values of the right kind that do not work: each used to load, and the next step() raised or
# wrote a NaN learning rate into the optimizer.
UNWORKABLE = [
    ("StepLR", "step_size", 0, "ZeroDivisionError"),
    ("StepLR", "gamma", float("nan"), "must be a finite number, got nan"),
    ("CosineAnnealingLR", "eta_min", float("inf"), "must be a finite number, got inf"),
    ("StepLR", "last_epoch", None, "must be a number, got NoneType"),
    ("CosineAnnealingLR", "T_max", 0, "ZeroDivisionError"),
    # out of the constructor's range: loaded, then a later step divided by zero
    ("CosineAnnealingWarmRestarts", "T_i", 0, r"'T_i' must be an integer >= 1, got 0"),
    ("CosineAnnealingWarmRestarts", "T_mult", 0, r"'T_mult' must be an integer >= 1, got 0"),
    ("CyclicLR", "total_size", 0, "'total_size' must be positive, got 0"),
    ("CyclicLR", "step_ratio", 0, r"'step_ratio' must be in \(0, 1\], got 0"),
    ("OneCycleLR", "use_beta1", True, "KeyError: 'betas'"),
    ("ReduceLROnPlateau", "factor", None, "must be a number, got NoneType"),
    ("SequentialLR", "_milestones", [1, 2], "2 milestones for 2 schedulers"),
]


@pytest.mark.parametrize(("kind", "entry", "value", "message"), UNWORKABLE)
def test_a_state_that_cannot_step_is_refused_and_nothing_changes(kind, entry, value, message):
    opt = _opt()
    sched = KINDS[kind](opt)
    _advance(sched, opt)
    bad = dict(sched.state_dict(), **{entry: value})
    other_opt = _opt()
    other = KINDS[kind](other_opt)
    _advance(other, other_opt, 1)
    before = _snapshot(other, other_opt)
    with pytest.raises(ValueError, match=f"{kind}.load_state_dict.*{message}"):
        other.load_state_dict(bad)
    assert _snapshot(other, other_opt) == before
    other.load_state_dict(sched.state_dict())  # the intact state still loads, and steps
    _advance(other, other_opt, 1)


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_fresh_state_loads_into_an_advanced_scheduler(kind):
    """What load_checkpoint's undo does; ReduceLROnPlateau's best=inf was refused once."""
    fresh = KINDS[kind](_opt()).state_dict()
    opt = _opt()
    sched = KINDS[kind](opt)
    _advance(sched, opt)
    sched.load_state_dict(fresh)
    assert sched.state_dict().keys() == fresh.keys() and sched.last_epoch == fresh["last_epoch"]
