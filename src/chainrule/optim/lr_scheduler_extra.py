"""``CosineAnnealingWarmRestarts`` (SGDR), ``CyclicLR``, ``PolynomialLR``, ``ConstantLR``,
``MultiplicativeLR`` and ``ChainedScheduler``, with PyTorch's formulas; exported from
``chainrule.optim.lr_scheduler``."""

import math

from .lr_scheduler import (
    LRScheduler,
    ReduceLROnPlateau,
    _lambda_state_dict,
    _lambdas_per_group,
    _list_state_dict,
    _lrs,
    _prepare_lambda_load,
    _prepare_list_load,
)


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every ``T_i`` epochs, ``T_0`` first, each period ``T_mult``
    times longer (Loshchilov & Hutter, 2017)::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2

    ``step(epoch)`` accepts fractional epochs (``scheduler.step(epoch + i / iters)``), as in
    PyTorch.

    Example::

        sched = CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=1e-5)
    """

    _ranges = {
        name: (lambda v: isinstance(v, int) and v >= 1, "an integer >= 1")
        for name in ("T_0", "T_i", "T_mult")
    }

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(
                f"CosineAnnealingWarmRestarts: expected a positive integer T_0, got {T_0!r}"
            )
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(
                f"CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, got {T_mult!r}"
            )
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cos = math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base - self.eta_min) * (1 + cos) / 2 for base in self.base_lrs]

    def step(self, epoch=None):
        """One epoch on (``epoch=None``) or straight to ``epoch`` (may be fractional)."""
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(
                    f"CosineAnnealingWarmRestarts: expected a non-negative epoch, got {epoch}"
                )
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = _lrs(self.optimizer)


class CyclicLR(LRScheduler):
    """The learning rate cycles between ``base_lr`` and ``max_lr`` (Smith, 2017), stepped per
    batch; with ``cycle_momentum`` the momentum (or Adam's beta1) cycles the opposite way between
    ``max_momentum`` and ``base_momentum``.

    ``mode``: 'triangular' (constant amplitude), 'triangular2' (halved each cycle) or
    'exp_range' (scaled by ``gamma ** iteration``); or a custom ``scale_fn`` with ``scale_mode``.

    Example::

        sched = CyclicLR(opt, base_lr=1e-3, max_lr=1e-1, step_size_up=200)
    """

    _ranges = {
        "total_size": (lambda v: v > 0, "positive"),
        "step_ratio": (lambda v: 0 < v <= 1, "in (0, 1]"),
    }

    def __init__(
        self,
        optimizer,
        base_lr,
        max_lr,
        step_size_up=2000,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode="cycle",
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch=-1,
    ):
        groups = optimizer.param_groups
        base_lrs = _per_group(base_lr, groups, "base_lr")
        if last_epoch == -1:
            for lr, group in zip(base_lrs, groups, strict=True):
                group["lr"] = lr
        self.max_lrs = _per_group(max_lr, groups, "max_lr")
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size, self.step_ratio = up + down, up / (up + down)
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(
                f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range' "
                f"(or give scale_fn), got {mode!r}"
            )
        self.mode, self.gamma, self._scale_fn_custom = mode, gamma, scale_fn
        self.scale_mode = (
            scale_mode
            if scale_fn is not None
            else ("iterations" if mode == "exp_range" else "cycle")
        )
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            defaults = optimizer.defaults
            if "momentum" not in defaults and "betas" not in defaults:
                raise ValueError(
                    "CyclicLR: optimizer must support momentum or beta1 with cycle_momentum enabled"
                )
            self.use_beta1 = "betas" in defaults
            self.base_momentums = _per_group(base_momentum, groups, "base_momentum")
            self.max_momentums = _per_group(max_momentum, groups, "max_momentum")
            if last_epoch == -1:
                for m, group in zip(self.max_momentums, groups, strict=True):
                    self._set_momentum(group, m)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _set_momentum(self, group, m):
        if self.use_beta1:
            group["betas"] = (m, *group["betas"][1:])
        else:
            group["momentum"] = m

    def scale_fn(self, x):
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def _choices(self):
        if self._scale_fn_custom is not None:  # a custom scale_fn makes ``mode`` unused
            return {}
        return {"mode": ("triangular", "triangular2", "exp_range")}

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base + (top - base) * scale_factor * scale
            for base, top in zip(self.base_lrs, self.max_lrs, strict=True)
        ]
        if self.cycle_momentum:
            for group, low, high in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums, strict=True
            ):
                self._set_momentum(group, high - (high - low) * scale_factor * scale)
        return lrs

    def state_dict(self):
        """As the base class, without a custom ``scale_fn`` (a function is not saved)."""
        state = super().state_dict()
        state.pop("_scale_fn_custom", None)
        return state


def _per_group(value, groups, name):
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(
                f"CyclicLR: expected {len(groups)} values for {name}, got {len(value)}"
            )
        return list(value)
    return [value] * len(groups)


class PolynomialLR(LRScheduler):
    """Decay the learning rate polynomially to 0 over ``total_iters`` epochs::

        lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power

    Chainable: each step multiplies the current ``lr`` by the ratio of consecutive factors.

    Example::

        sched = PolynomialLR(opt, total_iters=50, power=0.9)   # lr 0 from epoch 50 on
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return _lrs(self.optimizer)
        e, n = self.last_epoch, self.total_iters
        ratio = ((1.0 - e / n) / (1.0 - (e - 1) / n)) ** self.power
        return [lr * ratio for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (1.0 - frac) ** self.power for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """Multiply the learning rate by ``factor`` for the first ``total_iters`` epochs, then
    restore it (a constant warm-up). Chainable.

    Example::

        sched = ConstantLR(opt, factor=0.5, total_iters=4)   # lr/2 for epochs 0-3, then lr
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1.0:
            raise ValueError(
                f"ConstantLR: expected a multiplicative factor between 0 and 1, got {factor}"
            )
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in _lrs(self.optimizer)]
        if self.last_epoch != self.total_iters:
            return _lrs(self.optimizer)
        return [lr * (1.0 / self.factor) for lr in _lrs(self.optimizer)]

    def _get_closed_form_lr(self):
        factor = self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor)
        return [base * factor for base in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    """Multiply the current learning rate by ``lr_lambda(epoch)`` every epoch after the first
    (one function, or one per group).

    As for ``LambdaLR``, functions are not saved by ``state_dict()`` (only the attributes of
    callable objects).

    Example::

        sched = MultiplicativeLR(opt, lr_lambda=lambda epoch: 0.95)
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _lambdas_per_group(optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return _lrs(self.optimizer)
        return [
            lr * fn(self.last_epoch)
            for fn, lr in zip(self.lr_lambdas, _lrs(self.optimizer), strict=True)
        ]

    def state_dict(self):
        return _lambda_state_dict(self)

    def _prepare_load(self, state_dict):
        return _prepare_lambda_load(self, state_dict)


class ChainedScheduler(LRScheduler):
    """Step several chainable schedulers of one optimizer together: ``step()`` calls each one's
    ``step()`` in order, so their factors multiply.

    Args:
        schedulers (sequence): the schedulers, all of the same optimizer (no ReduceLROnPlateau).
        optimizer (Optimizer, optional): that optimizer; by default the first scheduler's.

    Example::

        warm = ConstantLR(opt, factor=0.1, total_iters=2)
        decay = ExponentialLR(opt, gamma=0.9)
        sched = ChainedScheduler([warm, decay])
    """

    def __init__(self, schedulers, optimizer=None):
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler to be chained, got none")
        optimizer = optimizer or schedulers[0].optimizer
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name}: the scheduler at index {i} has no `optimizer`")
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ValueError(
                    f"{name} does not support ReduceLROnPlateau (scheduler {i}): its step() "
                    "needs a metric"
                )
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"{name} expects all schedulers to belong to the same optimizer, but "
                    f"scheduler {i} ({type(scheduler).__name__}) does not"
                )
        # like torch: no base_lrs or last_epoch of its own, and no step at construction
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = _lrs(optimizer)

    def step(self):
        """Step every scheduler once, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _lrs(self.optimizer)

    def state_dict(self):
        """This scheduler's attributes, and under ``'_schedulers'`` each scheduler's state."""
        return _list_state_dict(self)

    def _prepare_load(self, state_dict):
        return _prepare_list_load(self, state_dict)

    def _trial_lrs(self):
        for scheduler in self._schedulers:
            scheduler._trial_lrs()
        return _lrs(self.optimizer)
