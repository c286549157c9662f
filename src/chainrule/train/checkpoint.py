"""Full training checkpoints: ``save_checkpoint`` / ``load_checkpoint`` store everything needed
to resume a run *exactly*: model, optimizer, scheduler, epoch, history, the random state, and the
state of stateful callbacks (the gradient monitor's history).

Example::

    cr.train.save_checkpoint('run.ckpt', model, opt, sched, epoch=5, history=history)
    state = cr.train.load_checkpoint('run.ckpt', model, opt, sched)
"""

import copy
import numbers
import warnings

import numpy as np

from ..random import get_rng_state, set_rng_state
from ..serialization import load, save
from .callbacks import MonitorCallback
from .history import TrainingHistory, history_problem

__all__ = ["save_checkpoint", "load_checkpoint"]

CHECKPOINT_FORMAT = "chainrule.train"
CHECKPOINT_VERSION = 1


def _loader_generator(loader):
    generator = getattr(loader, "generator", None)
    return generator if isinstance(generator, np.random.Generator) else None


def save_checkpoint(
    path,
    model,
    optimizer,
    scheduler=None,
    epoch=0,
    history=None,
    extra=None,
    loader=None,
    callbacks=(),
    monitor=None,
):
    """Save everything needed to resume training exactly, with ``cr.save`` (atomic, checksummed).

    Stored: the model's and optimizer's state dicts, the scheduler's (if any), ``epoch`` (the
    number of complete epochs), ``history`` (a :class:`TrainingHistory` or dict), the global random
    state (``chainrule.random.get_rng_state()``), the private shuffling generator of ``loader``
    if it has one (``DataLoader(seed=...)``), ``extra`` (any value ``cr.save`` accepts), and
    the state of each callback with a ``state_key`` (see :class:`Callback`); ``monitor=m`` is
    short for ``callbacks=[MonitorCallback(m)]`` (the gradient monitor's ``state_dict()``).

    Example::

        cr.train.save_checkpoint('run.ckpt', model, opt, sched, epoch=5, history=history)
    """
    generator = _loader_generator(loader)
    states = {cb.state_key: cb.state_dict() for cb in _stateful(callbacks, monitor)}
    save(
        {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "epoch": int(epoch),
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "history": history.to_dict() if isinstance(history, TrainingHistory) else history,
            "rng_state": get_rng_state(),
            "loader_rng_state": generator.bit_generator.state if generator is not None else None,
            "extra": extra,
            "callbacks": states,
            "world_size": _world_size(),  # a resume must run on as many ranks
        },
        path,
    )


def load_checkpoint(
    path,
    model,
    optimizer=None,
    scheduler=None,
    loader=None,
    restore_rng=True,
    callbacks=(),
    monitor=None,
    check_world_size=True,
):
    """Load a :func:`save_checkpoint` file into ``model`` (and ``optimizer``, ``scheduler``,
    ``loader``'s shuffling generator) and restore the global random state.

    Build the objects exactly as for the original run, then load; continue with
    ``fit(..., start_epoch=state['epoch'], history=state['history'])``. ``optimizer=None``
    loads the weights only; ``restore_rng=False`` leaves the global random state alone.
    ``callbacks`` with a ``state_key`` get their saved state back; ``monitor=m`` is short for
    ``callbacks=[MonitorCallback(m)]`` (then pass ``monitor=m`` to ``fit`` too).

    All or nothing: the file's structure is checked first, then everything is loaded; if any
    part is refused (a wrong shape, a missing scheduler state...), every object loaded so far
    is put back as it was before the call, and the error is raised.

    A resume (an ``optimizer`` given) must run with the world size that saved the file (the
    number of ``chainrule.distributed`` ranks, 1 without a process group): the data split,
    the per-rank batches and the random states depend on it, so another size is refused
    with both sizes named; ``check_world_size=False`` allows it (the run is then not exact).
    Weights alone (``optimizer=None``) load at any world size.

    Returns:
        dict: ``{'epoch': int, 'history': TrainingHistory or None, 'extra': ...}``.

    Example::

        state = cr.train.load_checkpoint('run.ckpt', model, opt, sched)
    """
    ckpt = load(path)
    _check_checkpoint(path, ckpt, optimizer, scheduler)
    if check_world_size and optimizer is not None:
        _check_world_size(path, ckpt)
    history = ckpt["history"]
    history = TrainingHistory.from_dict(history) if isinstance(history, dict) else history
    generator = _loader_generator(loader)
    stateful = _stateful(callbacks, monitor)
    undo = _snapshot(model, optimizer, scheduler, generator, stateful)
    part = "model"  # the entry being loaded, named when it fails in an unforeseen way
    try:
        model.load_state_dict(ckpt["model"])
        part = "optimizer"
        if optimizer is not None:
            optimizer.load_state_dict(ckpt["optimizer"])
        part = "scheduler"
        _load_scheduler(path, scheduler, ckpt["scheduler"])
        part = "loader_rng_state"
        if generator is not None and ckpt["loader_rng_state"] is not None:
            generator.bit_generator.state = ckpt["loader_rng_state"]
        part = "rng_state"
        if restore_rng:
            set_rng_state(ckpt["rng_state"])
        part = "callbacks"
        _load_callbacks(path, stateful, ckpt.get("callbacks") or {})
    except BaseException as err:
        undo()
        if isinstance(err, Exception) and not isinstance(
            err, (ValueError, TypeError, RuntimeError)
        ):
            # e.g. a KeyError from a random state or monitor state with an entry missing
            raise ValueError(
                f"load_checkpoint: {path!r} has a malformed {part!r} entry "
                f"({type(err).__name__}: {err})"
            ) from err
        raise
    return {"epoch": ckpt["epoch"], "extra": ckpt["extra"], "history": history}


_CHECKPOINT_KEYS = (
    "epoch",
    "model",
    "optimizer",
    "scheduler",
    "history",
    "rng_state",
    "loader_rng_state",
    "extra",
)


def _check_checkpoint(path, ckpt, optimizer, scheduler):
    """Refuse a file that is not a complete training checkpoint, before anything is loaded."""
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        keys = sorted(map(str, ckpt)) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ValueError(
            f"load_checkpoint: {path!r} is not a training checkpoint written by "
            f"save_checkpoint (found {keys}); read it with cr.load"
        )
    if ckpt.get("version") != CHECKPOINT_VERSION:
        raise ValueError(
            f"load_checkpoint: {path!r} has training-checkpoint version "
            f"{ckpt.get('version')!r}; this chainrule reads {CHECKPOINT_VERSION}"
        )
    missing = [
        k for k in _CHECKPOINT_KEYS if k not in ckpt
    ]  # 'callbacks' may be absent (older files)
    if missing:
        raise ValueError(f"load_checkpoint: {path!r} lacks {missing}")
    epoch = ckpt["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"load_checkpoint: {path!r} has an invalid epoch {epoch!r}")
    if not isinstance(ckpt["model"], dict):
        raise ValueError(f"load_checkpoint: {path!r} holds no model state dict")
    if optimizer is not None and not isinstance(ckpt["optimizer"], dict):
        raise ValueError(f"load_checkpoint: {path!r} holds no optimizer state dict")
    if scheduler is not None and ckpt["scheduler"] is None:
        raise ValueError(
            f"load_checkpoint: a scheduler was given but {path!r} holds no scheduler state"
        )
    if ckpt["scheduler"] is not None and not isinstance(ckpt["scheduler"], dict):
        raise ValueError(f"load_checkpoint: {path!r} has a scheduler state that is not a dict")
    if scheduler is not None:
        # A scheduler's load_state_dict sets attributes by name: only its own names may come in
        # (a state of another scheduler kind, or a crafted 'optimizer' entry, is refused).
        unexpected = set(ckpt["scheduler"]) - set(scheduler.state_dict())
        if unexpected:
            raise ValueError(
                f"load_checkpoint: the scheduler state in {path!r} does not fit "
                f"{type(scheduler).__name__} (unexpected entries "
                f"{sorted(map(str, unexpected))})"
            )
    if not isinstance(ckpt.get("callbacks", {}), dict):
        raise ValueError(f"load_checkpoint: {path!r} has callback states that are not a dict")
    history = ckpt["history"]
    if history is not None:
        problem = history_problem(history)
        if problem:
            raise ValueError(f"load_checkpoint: {path!r} has a malformed history: {problem}")


def _world_size():
    """Ranks of the chainrule.distributed process group; 1 without one."""
    from .. import distributed as dist

    return dist.get_world_size() if dist.is_initialized() else 1


def _check_world_size(path, ckpt):
    """Refuse to resume at another world size than the checkpoint's (files before the world
    size was recorded are not checked)."""
    saved, now = ckpt.get("world_size"), _world_size()
    if saved is None or saved == now:
        return
    raise ValueError(
        f"load_checkpoint: {path!r} was saved by a run with world size {saved} "
        f"({saved} rank{'s' if saved != 1 else ''}) but this run has world size {now}: "
        f"resume it with {saved} rank{'s' if saved != 1 else ''} (mpiexec -n {saved}), "
        "since the data split, the per-rank batches and the random states depend on it "
        "(check_world_size=False loads it anyway, and the run is no longer exact)"
    )


def _snapshot(model, optimizer, scheduler, generator, callbacks):
    """A function that puts the objects back as they are now (copies of every array)."""
    weights = {k: v._data.copy() for k, v in model.state_dict().items()}
    opt_state = copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None
    sched_state = copy.deepcopy(scheduler.state_dict()) if scheduler is not None else None
    gen_state = generator.bit_generator.state if generator is not None else None
    rng_state = get_rng_state()
    cb_states = [copy.deepcopy(cb.state_dict()) for cb in callbacks]

    def undo():
        model.load_state_dict(weights)
        if optimizer is not None:
            optimizer.load_state_dict(opt_state)
        if scheduler is not None:
            scheduler.load_state_dict(sched_state)
        if generator is not None:
            generator.bit_generator.state = gen_state
        set_rng_state(rng_state)
        for cb, state in zip(callbacks, cb_states, strict=True):
            cb.load_state_dict(state)

    return undo


def _load_scheduler(path, scheduler, state):
    if scheduler is None:
        if state is not None:
            warnings.warn(
                f"load_checkpoint: {path!r} holds a scheduler state but no scheduler "
                "was given; it is not restored",
                stacklevel=3,
            )
        return
    scheduler.load_state_dict(state)


def _stateful(callbacks, monitor):
    """The callbacks whose state goes into a checkpoint (``monitor`` wrapped as one)."""
    callbacks = list(callbacks)
    if monitor is not None:
        callbacks.insert(0, MonitorCallback(monitor))
    stateful = [cb for cb in callbacks if isinstance(getattr(cb, "state_key", None), str)]
    keys = [cb.state_key for cb in stateful]
    if len(set(keys)) != len(keys):
        raise ValueError(f"checkpoint: two callbacks share a state_key: {keys}")
    return stateful


def _load_callbacks(path, callbacks, states):
    for cb in callbacks:
        if cb.state_key in states:
            problem = _misfit(states[cb.state_key], cb.state_dict()) or _unwritable(
                states[cb.state_key]
            )
            if problem:
                raise ValueError(
                    f"load_checkpoint: the {cb.state_key!r} state in {path!r} does not fit "
                    f"this {type(cb).__name__}: {problem}"
                )
            try:
                cb.load_state_dict(states[cb.state_key])
            except (ValueError, TypeError) as err:
                raise ValueError(
                    f"load_checkpoint: the {cb.state_key!r} state in {path!r} does not load: {err}"
                ) from err
        else:
            warnings.warn(
                f"load_checkpoint: {path!r} holds no {cb.state_key!r} state; "
                f"{type(cb).__name__} starts afresh",
                stacklevel=3,
            )


def _misfit(saved, own, where="state"):
    """Where ``saved`` (a callback's state from a file) does not have the form of ``own`` (the
    callback's present state), as a short text, or None.

    A state saved by the same callback has every dict entry the present one has, and each of
    the same kind (a dict, a list, an array of as many dimensions, a number, a string); its
    data may differ; where the present state holds None or an empty list anything goes, and
    where it holds a dict, list or array the saved one may hold None (not known yet then). A
    state of another form used to load and then fail in the middle of the resumed training.
    """
    if own is None or (saved is None and isinstance(own, (dict, list, tuple, np.ndarray))):
        return None
    if isinstance(own, dict):
        if not isinstance(saved, dict):
            return f"{where} is a {type(saved).__name__}, not a dict"
        for key, value in own.items():
            if key not in saved:
                return f"{where}[{key!r}] is missing"
            problem = _misfit(saved[key], value, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    if isinstance(own, (list, tuple)):
        if not isinstance(saved, (list, tuple)):
            return f"{where} is a {type(saved).__name__}, not a list"
        if isinstance(own, tuple) and len(own) == len(saved):  # a record: item by item
            pairs = zip(saved, own, strict=True)
        else:  # a series: every item like the present first one
            pairs = ((item, own[0]) for item in saved) if own else ()
        for i, (item, like) in enumerate(pairs):
            problem = _misfit(item, like, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(own, np.ndarray):
        if not isinstance(saved, np.ndarray) or saved.ndim != own.ndim:
            return f"{where} is not an array of {own.ndim} dimensions"
        return None
    if isinstance(own, (bool, np.bool_)):
        ok = isinstance(saved, (bool, np.bool_))
    elif isinstance(own, numbers.Integral):  # a counter: a whole number that NumPy can hold
        ok = isinstance(saved, numbers.Real) and not isinstance(saved, (bool, np.bool_))
        ok = ok and -(2**63) <= saved < 2**63 and float(saved).is_integer()
    elif isinstance(own, numbers.Real):
        ok = isinstance(saved, numbers.Real) and not isinstance(saved, (bool, np.bool_))
    elif isinstance(own, str):  # a lone surrogate ('\ud800', which JSON allows) cannot be written
        ok = isinstance(saved, str) and saved.encode("utf-8", "replace").decode() == saved
    else:
        return None
    return None if ok else f"{where} is {saved!r:.40}, not like {own!r:.40}"


def _unwritable(value):
    """A text in ``value`` (a string or a dict key, at any depth) that cannot be written as
    UTF-8 (a lone surrogate such as '\\ud800', which JSON lets in), as a short text, or None;
    the resumed run's report would fail on it at the very end."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, str) and node.encode("utf-8", "replace").decode() != node:
            return f"the text {node!r:.40} cannot be written (a lone surrogate)"
    return None
