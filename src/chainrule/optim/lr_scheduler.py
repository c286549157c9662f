"""Learning-rate schedulers with PyTorch's semantics (``torch.optim.lr_scheduler``).

A scheduler owns nothing but a few counters: it reads and writes ``group['lr']`` of its optimizer.
Creating one records ``group['initial_lr']`` and sets the learning rate for epoch 0; each
``step()`` (called after ``optimizer.step()``) moves to the next epoch. Most schedulers are
*chainable*: they update the current ``lr`` multiplicatively, so two of them can act on one
optimizer, as in PyTorch.

Example::

    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = cr.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for epoch in range(100):
        train_one_epoch(model, opt)
        sched.step()
"""

import math
import types
import warnings
from bisect import bisect_right
from collections.abc import Mapping

import numpy as np

from .optimizer import Optimizer

__all__ = [
    "LRScheduler",
    "LambdaLR",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
    "OneCycleLR",
    "SequentialLR",
    "ReduceLROnPlateau",
]


def _lrs(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


class LRScheduler:
    """Base class: subclasses compute the next learning rates in ``get_lr()``.

    Args:
        optimizer (Optimizer): the optimizer whose ``group['lr']`` this scheduler sets.
        last_epoch (int): index of the last epoch seen; -1 (default) starts a new schedule.
            Other values resume one and need ``'initial_lr'`` in every group.
    """

    _is_initial = False  # True only during the step made by __init__

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{i}] when "
                    f"resuming a scheduler with last_epoch={last_epoch}: load the "
                    "optimizer's state_dict first, or use last_epoch=-1"
                )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self):
        """The learning rates for ``self.last_epoch`` (one per group). Use ``get_last_lr()``."""
        raise NotImplementedError

    def get_last_lr(self):
        """The learning rates set by the most recent ``step()``, one per parameter group."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance one epoch and write the new learning rates into the optimizer's groups.

        ``epoch`` (deprecated, as in PyTorch) jumps to that epoch using the closed form.
        """
        if self._step_count == 1 and not self.optimizer._opt_called:
            warnings.warn(
                "lr_scheduler.step() was called before optimizer.step(): the first "
                "learning rate of the schedule is skipped. Call optimizer.step() first.",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(
                "passing an epoch to step() is deprecated; call step() once per epoch",
                UserWarning,
                stacklevel=2,
            )
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            group["lr"] = lr
        self._last_lr = _lrs(self.optimizer)

    def state_dict(self):
        """Every attribute except the optimizer (plain values, so ``cr.save`` can store it)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        """Restore attributes saved by ``state_dict()``.

        All or nothing: the keys must be exactly those of this scheduler's ``state_dict()`` and
        every value of the kind found there (a number, a flag, a string from the allowed ones, a
        list with one value per parameter group, ...). Otherwise ``ValueError`` (``TypeError``
        when ``state_dict`` is not a dict) names the entry, and the scheduler is unchanged.

        Example::

            sched.load_state_dict(cr.load("ckpt.npz")["scheduler"])
        """
        self._check_trial(self._prepare_load(state_dict))
        self._prepare_load(state_dict)()

    def _check_trial(self, apply):
        """Apply a checked state, compute the learning rates it gives, then put this scheduler
        (its sub-schedulers) and the optimizer's groups back as they were.

        Values of the right kinds can still not work: ``step_size=0``, ``gamma=nan``, more
        milestones than schedulers. Such a state used to load, and the next ``step()`` raised
        or wrote NaN learning rates into the optimizer.
        """
        owners = [self, *getattr(self, "_schedulers", ())]
        saved = [dict(owner.__dict__) for owner in owners]
        groups = [dict(group) for group in self.optimizer.param_groups]
        try:
            apply()
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                lrs = self._trial_lrs()
            bad = [lr for lr in lrs if not (_is_real(lr) and math.isfinite(lr))]
            if bad:
                raise ValueError(f"it gives the learning rate {bad[0]!r}")
        except Exception as err:  # noqa: BLE001 - whatever fails, the state does not work
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state does not work "
                f"({type(err).__name__}: {err})"
            ) from None
        finally:
            for owner, attributes in zip(owners, saved, strict=True):
                owner.__dict__.clear()
                owner.__dict__.update(attributes)
            for group, entries in zip(self.optimizer.param_groups, groups, strict=True):
                group.clear()
                group.update(entries)

    def _trial_lrs(self):
        """The learning rates for the current state (``_check_trial``); may change things."""
        return self.get_lr()

    def _prepare_load(self, state_dict):
        """Check ``state_dict`` completely; return the function that then applies it."""
        state = self._checked_state(state_dict)
        return lambda: self.__dict__.update(state)

    def _choices(self):
        """The allowed values of the string attributes that have a fixed set of them."""
        return {}

    _infinite = ()  # the attributes that may hold an infinite number

    # attribute: (test, the range in words), as the constructor checks it; a value out of range
    # loads and only fails steps later (LinearLR's start_factor=-1.5 divides by zero)
    _ranges: dict = {}

    def _checked_state(self, state_dict, skip=()):
        """``state_dict`` checked against ``self.state_dict()`` (see :meth:`load_state_dict`),
        with NumPy scalars as Python numbers; the keys in ``skip`` are checked by the caller."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{where}: expected a dict, got {type(state_dict).__name__}")
        mine = self.state_dict()
        unexpected = sorted(map(repr, set(state_dict) - set(mine)))
        missing = sorted(map(repr, set(mine) - set(state_dict)))
        if unexpected or missing:
            raise ValueError(
                f"{where}: the state does not fit a {type(self).__name__} "
                f"(unexpected entries: {', '.join(unexpected) or 'none'}; "
                f"missing entries: {', '.join(missing) or 'none'})"
            )
        groups, choices, out = len(self.optimizer.param_groups), self._choices(), {}
        for key, like in mine.items():
            if key in skip:
                continue
            value = _checked_value(
                state_dict[key], like, f"{where}: entry {key!r}", key in self._infinite
            )
            if key in _PER_GROUP and len(value) != groups:
                raise ValueError(
                    f"{where}: entry {key!r} must hold one value per parameter group "
                    f"({groups}), got {len(value)}"
                )
            if key in choices and value not in choices[key]:
                raise ValueError(
                    f"{where}: entry {key!r} must be one of {list(choices[key])}, got {value!r}"
                )
            if key in self._ranges and not self._ranges[key][0](value):
                raise ValueError(
                    f"{where}: entry {key!r} must be {self._ranges[key][1]}, got {value!r}"
                )
            out[key] = value
        return out


# entries that hold one value per parameter group
_PER_GROUP = frozenset(
    ("base_lrs", "_last_lr", "min_lrs", "max_lrs", "base_momentums", "max_momentums")
)


def _is_real(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _checked_value(value, like, what, infinite=False):
    """``value`` if it is of the kind of ``like`` (the scheduler's own value), else ValueError.

    Numbers (int or float; not NaN; infinite only if ``infinite``; None only where the
    scheduler holds None) stand for each other, since a hyperparameter may be given as either; lists are checked item by item against the first
    item of ``like``, dicts key by key."""
    if isinstance(like, (bool, np.bool_)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{what} must be True or False, got {value!r}")
        return bool(value)
    if like is None or _is_real(like):
        if _is_real(value) and (value != value or (math.isinf(value) and not infinite)):
            raise ValueError(f"{what} must be a finite number, got {value!r}")
        if (value is None and like is None) or _is_real(value):
            return value.item() if isinstance(value, np.generic) else value
        if like is None and isinstance(value, (list, tuple)):  # e.g. per-group momentums
            return [_checked_value(v, None, f"{what}[{i}]") for i, v in enumerate(value)]
        raise ValueError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    if isinstance(like, str):
        if not isinstance(value, str):
            raise ValueError(f"{what} must be a string, got {type(value).__name__} {value!r}")
        return value
    if isinstance(like, (list, tuple)):
        if isinstance(value, np.ndarray) and value.ndim == 1:
            value = value.tolist()
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{what} must be a list, got {type(value).__name__} {value!r}")
        if not like:
            return type(like)(value)
        return type(like)(_checked_value(v, like[0], f"{what}[{i}]") for i, v in enumerate(value))
    if isinstance(like, dict):
        if not isinstance(value, Mapping):
            raise ValueError(f"{what} must be a dict, got {type(value).__name__} {value!r}")
        if set(value) != set(like):
            raise ValueError(
                f"{what} must have the keys {sorted(map(str, like))}, got {sorted(map(str, value))}"
            )
        return {k: _checked_value(value[k], v, f"{what}[{k!r}]") for k, v in like.items()}
    return value


def _lambdas_per_group(optimizer, lr_lambda):
    """One function per parameter group: ``lr_lambda`` itself for each, or its items (a list
    or tuple of one per group)."""
    n = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != n:
            raise ValueError(
                f"Expected {n} lr_lambdas (one per param group), but got {len(lr_lambda)}"
            )
        return list(lr_lambda)
    return [lr_lambda] * n


class LambdaLR(LRScheduler):
    """``lr = initial_lr * lr_lambda(epoch)``, with one function or one per group.

    Functions are not saved by ``state_dict()`` (only the attributes of callable objects).

    Example::

        sched = LambdaLR(opt, lr_lambda=lambda epoch: 0.95 ** epoch)
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _lambdas_per_group(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [
            base * fn(self.last_epoch)
            for fn, base in zip(self.lr_lambdas, self.base_lrs, strict=True)
        ]

    def state_dict(self):
        return _lambda_state_dict(self)

    def _prepare_load(self, state_dict):
        return _prepare_lambda_load(self, state_dict)


def _lambda_state_dict(sched):
    state = {k: v for k, v in sched.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
    # Plain functions cannot be saved; callable objects keep their attributes, like torch.
    state["lr_lambdas"] = [
        None if isinstance(fn, types.FunctionType) else dict(vars(fn)) for fn in sched.lr_lambdas
    ]
    return state


def _prepare_lambda_load(sched, state_dict):
    """``_prepare_load`` of the schedulers with ``lr_lambdas`` (LambdaLR, MultiplicativeLR)."""
    state = sched._checked_state(state_dict, skip=("lr_lambdas",))
    saved_lambdas = state_dict["lr_lambdas"]
    where = f"{type(sched).__name__}.load_state_dict: entry 'lr_lambdas'"
    if not isinstance(saved_lambdas, (list, tuple)) or len(saved_lambdas) != len(sched.lr_lambdas):
        raise ValueError(
            f"{where} must be a list of {len(sched.lr_lambdas)} (one per parameter "
            f"group), got {saved_lambdas!r}"
        )
    for i, saved in enumerate(saved_lambdas):
        if saved is not None and not (
            isinstance(saved, Mapping) and all(isinstance(k, str) for k in saved)
        ):
            raise ValueError(f"{where}[{i}] must be None or a dict of attributes, got {saved!r}")

    def apply():
        sched.__dict__.update(state)
        for fn, saved in zip(sched.lr_lambdas, saved_lambdas, strict=True):
            if saved is not None:
                fn.__dict__.update(saved)

    return apply


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    Example::

        sched = StepLR(opt, step_size=30, gamma=0.1)   # lr 0.1, then 0.01 at epoch 30, ...
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _lrs(self.optimizer)
        return [lr * self.gamma for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each epoch listed in ``milestones``.

    Example::

        sched = MultiStepLR(opt, milestones=[30, 80], gamma=0.1)
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = sorted(int(m) for m in milestones)  # repeats multiply repeatedly
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        hits = self.milestones.count(self.last_epoch)
        if hits == 0:
            return _lrs(self.optimizer)
        return [lr * self.gamma**hits for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        passed = bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch.

    Example::

        sched = ExponentialLR(opt, gamma=0.95)
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return _lrs(self.optimizer)
        return [lr * self.gamma for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine from ``initial_lr`` down to ``eta_min`` over ``T_max`` epochs (then back up).

    Closed form: ``eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``; like
    PyTorch, each step applies it as a ratio to the current ``lr`` so it chains with others.

    Example::

        sched = CosineAnnealingLR(opt, T_max=100, eta_min=1e-5)
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return _lrs(self.optimizer)
        if self._step_count == 1 and e > 0:  # resumed at a later epoch: use the closed form
            return self._get_closed_form_lr()
        if (e - 1 - T) % (2 * T) == 0:  # at the bottom of the cosine: ratio would be 0/0
            return [
                lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base, lr in zip(self.base_lrs, _lrs(self.optimizer), strict=True)
            ]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        cos = math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate by a factor going linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` epochs (a warm-up when ``start_factor < end_factor``).

    Example::

        sched = LinearLR(opt, start_factor=0.1, total_iters=5)   # 5 warm-up epochs
    """

    _ranges = {
        "start_factor": (lambda v: 0 < v <= 1, "in (0, 1]"),
        "end_factor": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    }

    def __init__(
        self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1
    ):
        if not 0 < start_factor <= 1.0:
            raise ValueError(f"start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1.0:
            raise ValueError(f"end_factor must be in [0, 1], got {end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in _lrs(self.optimizer)]
        if self._is_initial or self.last_epoch > self.total_iters:
            return _lrs(self.optimizer)
        # ratio of consecutive factors start + (end - start) * e / total_iters
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * change
        )
        return [lr * ratio for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * frac
        return [base * factor for base in self.base_lrs]


class OneCycleLR(LRScheduler):
    """The 1cycle policy: warm up from ``max_lr / div_factor`` to ``max_lr``, then anneal to
    ``initial_lr / final_div_factor``; momentum (or Adam's beta1) cycles the opposite way.

    Call ``step()`` after every batch; ``total_steps`` (or ``epochs * steps_per_epoch``) steps.

    Example::

        sched = OneCycleLR(opt, max_lr=0.1, total_steps=1000)
    """

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        last_epoch=-1,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        if not 0 <= pct_start <= 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        self._schedule_phases = _one_cycle_phases(self.total_steps, pct_start, three_phase)
        if last_epoch == -1:
            for group, top in zip(
                optimizer.param_groups, _per_group("max_lr", optimizer, max_lr), strict=True
            ):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._init_momentum(max_momentum, base_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _init_momentum(self, max_momentum, base_momentum, last_epoch):
        defaults = self.optimizer.defaults
        if "momentum" not in defaults and "betas" not in defaults:
            raise ValueError(
                "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
            )
        self.use_beta1 = "betas" in defaults
        tops = _per_group("max_momentum", self.optimizer, max_momentum)
        bottoms = _per_group("base_momentum", self.optimizer, base_momentum)
        if last_epoch == -1:
            for group, top, bottom in zip(self.optimizer.param_groups, tops, bottoms, strict=True):
                self._set_momentum(group, top)
                group["max_momentum"] = top
                group["base_momentum"] = bottom

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _choices(self):
        return {"_anneal_func_type": ("cos", "linear")}

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"Tried to step {step} times. The specified number of total steps "
                f"is {self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            phase, pct = self._phase_at(step)
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                self._set_momentum(
                    group,
                    self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct),
                )
        return lrs

    def _phase_at(self, step):
        """The phase containing ``step`` and how far into it (0..1) the step is."""
        start = 0.0
        for i, phase in enumerate(self._schedule_phases):
            end = phase["end_step"]
            if step <= end or i == len(self._schedule_phases) - 1:
                return phase, (step - start) / (end - start)
            start = end


def _total_steps(total_steps, epochs, steps_per_epoch):
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        return total_steps
    if epochs is None or steps_per_epoch is None:
        raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"Expected positive integer {name}, but got {value}")
    return epochs * steps_per_epoch


def _one_cycle_phases(total_steps, pct_start, three_phase):
    """Phase boundaries (last step of each) and which group keys they go between."""

    def phase(end_step, start_lr, end_lr, start_momentum, end_momentum):
        return dict(
            end_step=end_step,
            start_lr=start_lr,
            end_lr=end_lr,
            start_momentum=start_momentum,
            end_momentum=end_momentum,
        )

    warm_end = float(pct_start * total_steps) - 1
    if not three_phase:
        return [
            phase(warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            phase(total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
        ]
    return [
        phase(warm_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
        phase(
            float(2 * pct_start * total_steps) - 2,
            "max_lr",
            "initial_lr",
            "base_momentum",
            "max_momentum",
        ),
        phase(total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
    ]


def _per_group(name, optimizer, value):
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must have one value per param group ({n}), got {len(value)}")
        return list(value)
    return [value] * n


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at its
    epoch 0), and so on.

    Example::

        warmup = LinearLR(opt, start_factor=0.1, total_iters=5)
        decay = CosineAnnealingLR(opt, T_max=95)
        sched = SequentialLR(opt, schedulers=[warmup, decay], milestones=[5])
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_sequence(optimizer, schedulers, milestones)
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # The schedulers already stepped once when they were built: undo that, start over.
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        _undo_one_epoch(self)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)  # a fresh start of the next scheduler
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        return _list_state_dict(self)

    def _prepare_load(self, state_dict):
        return _prepare_list_load(self, state_dict)

    def _trial_lrs(self):
        if len(self._milestones) != len(self._schedulers) - 1:
            raise ValueError(
                f"{len(self._milestones)} milestones for {len(self._schedulers)} schedulers"
            )
        for scheduler in self._schedulers:
            scheduler._trial_lrs()
        return self._schedulers[bisect_right(self._milestones, self.last_epoch)]._trial_lrs()


def _list_state_dict(sched):
    """``state_dict`` of a scheduler made of ``_schedulers`` (SequentialLR, ChainedScheduler)."""
    state = {k: v for k, v in sched.__dict__.items() if k not in ("optimizer", "_schedulers")}
    state["_schedulers"] = [s.state_dict() for s in sched._schedulers]
    return state


def _prepare_list_load(sched, state_dict):
    state = sched._checked_state(state_dict, skip=("_schedulers",))
    saved = state_dict["_schedulers"]
    if not isinstance(saved, (list, tuple)) or len(saved) != len(sched._schedulers):
        raise ValueError(
            f"{type(sched).__name__}.load_state_dict: entry '_schedulers' must be a list of "
            f"{len(sched._schedulers)} scheduler states, got {type(saved).__name__}"
        )
    # every scheduler's state is checked before any of them (or this one) changes
    loads = [s._prepare_load(sub) for s, sub in zip(sched._schedulers, saved, strict=True)]

    def apply():
        sched.__dict__.update(state)
        for load in loads:
            load()

    return apply


def _check_sequence(optimizer, schedulers, milestones):
    if len(schedulers) < 1:
        raise ValueError("SequentialLR expects at least one scheduler, but got none")
    for i, scheduler in enumerate(schedulers):
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"SequentialLR does not support ReduceLROnPlateau (scheduler {i}): "
                "its step() needs a metric"
            )
        if getattr(scheduler, "optimizer", None) is not optimizer:
            raise ValueError(
                f"SequentialLR expects all schedulers to belong to the same "
                f"optimizer, but scheduler {i} ({type(scheduler).__name__}) does not"
            )
    if len(milestones) != len(schedulers) - 1:
        raise ValueError(
            f"SequentialLR expects one milestone fewer than schedulers, but got "
            f"{len(schedulers)} schedulers and {len(milestones)} milestones"
        )


def _undo_one_epoch(scheduler):
    if hasattr(scheduler, "_schedulers"):
        for sub in scheduler._schedulers:
            _undo_one_epoch(sub)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a metric stopped improving for
    ``patience`` epochs. Call ``step(metric)`` once per epoch.

    ``mode='min'`` means lower is better. "Improving" means beating the best value by more than
    ``threshold`` (relative with ``threshold_mode='rel'``, absolute with ``'abs'``). After a
    reduction, ``cooldown`` epochs pass before bad epochs count again. Never goes below
    ``min_lr``; changes smaller than ``eps`` are skipped.

    Example::

        sched = ReduceLROnPlateau(opt, mode='min', factor=0.5, patience=3)
        for epoch in range(50):
            sched.step(validation_loss())
    """

    def __init__(
        self,
        optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0,
        eps=1e-8,
    ):
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got {factor}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.factor = factor
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"expected {n} min_lrs (one per param group), got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * n
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _lrs(optimizer)
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        """Record this epoch's metric; reduce the learning rates if it plateaued."""
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _lrs(self.optimizer)

    _infinite = ("best", "mode_worse")  # the worst value until a metric comes in

    def _trial_lrs(self):
        self.step(0.0)
        self._reduce_lr()
        return _lrs(self.optimizer)

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"the optimizer has {len(groups)} param groups but min_lr "
                    f"has {len(self.min_lrs)} values; update `min_lrs`"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs, strict=True):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def _is_better(self, a, best):
        if self.threshold_mode == "rel":
            scale = 1.0 - self.threshold if self.mode == "min" else 1.0 + self.threshold
            return a < best * scale if self.mode == "min" else a > best * scale
        if self.mode == "min":
            return a < best - self.threshold
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def _choices(self):
        return {"mode": ("min", "max"), "threshold_mode": ("rel", "abs")}

    def _prepare_load(self, state_dict):
        state = self._checked_state(state_dict)

        def apply():
            self.__dict__.update(state)
            self._init_is_better(self.mode, self.threshold, self.threshold_mode)

        return apply


from .lr_scheduler_extra import (  # noqa: E402  (they subclass LRScheduler)
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    MultiplicativeLR,
    PolynomialLR,
)

__all__ += ["CosineAnnealingWarmRestarts", "CyclicLR"]
__all__ += ["ChainedScheduler", "ConstantLR", "MultiplicativeLR", "PolynomialLR"]


_LRScheduler = LRScheduler  # torch's name before 2.0, still used by custom schedulers
