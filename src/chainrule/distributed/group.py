"""The default process group: MPI's world communicator, and the abort-on-failure hook."""

import contextlib
import os
import signal
import sys
import time
import traceback

_STATE = {
    "comm": None,
    "MPI": None,
    "excepthook": None,
    "sigterm": None,
    "blas_limit": None,
    "available": None,
}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def is_available():
    """True when ``mpi4py`` (and so an MPI library) can be imported: ``pip install chainrule[mpi]``."""
    if _STATE.get("available") is None:  # a failed import is retried on every call: ask once
        try:
            import mpi4py  # noqa: F401
        except ImportError:
            _STATE["available"] = False
        else:
            _STATE["available"] = True
    return _STATE["available"]


def _mpi():
    if _STATE["MPI"] is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError(
                "chainrule.distributed needs mpi4py and an MPI library: "
                'pip install "chainrule[mpi]"'
            ) from e
        _STATE["MPI"] = MPI
    return _STATE["MPI"]


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1):
    """Join the group of all processes started by ``mpiexec`` (or ``srun``).

    Only ``backend="mpi"`` exists: MPI itself knows the ranks, so ``init_method`` is ignored and
    ``world_size`` / ``rank``, when given, are checked against what MPI says. A process started
    without ``mpiexec`` is a group of one. Unless a thread variable (``OPENBLAS_NUM_THREADS``,
    ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``) is set, BLAS is limited to cores / ranks on this
    machine threads per rank (with ``threadpoolctl``), so that ranks do not fight over cores.
    From here on an uncaught exception (or Ctrl-C) on any
    rank prints its traceback and ends *every* rank with ``MPI_Abort`` instead of leaving the
    others waiting forever in a collective.

    Example::

        dist.init_process_group(backend="mpi")
        dist.get_rank(), dist.get_world_size()     # (0, 4) on rank 0 under mpiexec -n 4
    """
    if backend != "mpi":
        raise ValueError(
            f"init_process_group: backend {backend!r} is not supported; chainrule "
            "runs on MPI: backend='mpi'"
        )
    if is_initialized():
        raise RuntimeError("init_process_group: the default process group is already initialized")
    MPI = _mpi()
    comm = MPI.COMM_WORLD.Dup()  # our own context: user MPI calls cannot mix with ours
    if world_size not in (-1, None) and world_size != comm.Get_size():
        raise ValueError(
            f"init_process_group: world_size={world_size} but MPI started "
            f"{comm.Get_size()} processes"
        )
    if rank not in (-1, None) and rank != comm.Get_rank():
        raise ValueError(f"init_process_group: rank={rank} but MPI says {comm.Get_rank()}")
    _STATE["comm"] = comm
    _install_abort_hook()
    _limit_blas_threads(comm, MPI)


def _limit_blas_threads(comm, MPI):
    """N ranks on a machine of C cores: C // N BLAS threads each, unless the user chose."""
    if any(os.environ.get(v) for v in THREAD_VARS):
        return None
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks on this machine
    ranks_here = local.Get_size()
    local.Free()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = max(1, (cores or 1) // ranks_here)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    _STATE["blas_limit"] = threadpool_limits(limits=threads)
    return threads


def is_initialized():
    """True between :func:`init_process_group` and :func:`destroy_process_group`."""
    return _STATE["comm"] is not None


def _comm():
    comm = _STATE["comm"]
    if comm is None:
        raise RuntimeError(
            "Default process group has not been initialized, please make sure to "
            "call init_process_group."
        )
    return comm


def get_rank(group=None):
    """This process's rank, 0 .. world_size - 1."""
    return _comm().Get_rank()


def get_world_size(group=None):
    """Number of processes in the group."""
    return _comm().Get_size()


def destroy_process_group(group=None):
    """Leave the group (the abort hook is removed too). MPI itself stays up until exit."""
    comm = _comm()
    comm.Free()
    _STATE["comm"] = None
    _remove_abort_hook()
    if _STATE["blas_limit"] is not None:
        _STATE["blas_limit"].restore_original_limits()
        _STATE["blas_limit"] = None


@contextlib.contextmanager
def alone():
    """Inside, this rank works on its own: ``is_initialized()`` is False, so ``fit``, the
    monitor, ``SyncBatchNorm`` and ``DistributedSampler`` act as in a single process and start
    no collective. For task parallelism (each rank trains different setups, as the
    experiments' ``--nproc`` does): collectives of data-parallel training would pair unrelated
    runs and hang when they take different numbers of steps. The group comes back on exit,
    before an exception reaches the abort hook, so a failure still ends every rank.

    Example::

        with chainrule.distributed.group.alone():
            history = trainer.fit(loader, epochs)   # this rank's own setup
        dist.all_gather_object(results, history.metrics)
    """
    comm = _comm()
    _STATE["comm"] = None
    try:
        yield
    finally:
        _STATE["comm"] = comm


# ---- one failing rank ends them all ----


def _install_abort_hook():
    if _STATE["excepthook"] is None:
        _STATE["excepthook"] = sys.excepthook
        sys.excepthook = _abort_on_exception
    if _STATE["sigterm"] is None and _is_main_thread():
        # Slurm and mpiexec send SIGTERM on cancel: end as an exception so the hook aborts.
        _STATE["sigterm"] = signal.signal(signal.SIGTERM, _raise_terminated)


def _remove_abort_hook():
    if _STATE["excepthook"] is not None:
        sys.excepthook = _STATE["excepthook"]
        _STATE["excepthook"] = None
    if _STATE["sigterm"] is not None and _is_main_thread():
        signal.signal(signal.SIGTERM, _STATE["sigterm"])
        _STATE["sigterm"] = None


def _is_main_thread():
    import threading

    return threading.current_thread() is threading.main_thread()


class Terminated(BaseException):
    """SIGTERM (scancel, mpiexec's cleanup) arrived: unwinds like Ctrl-C, then aborts all ranks."""


def _raise_terminated(signum, frame):
    raise Terminated(f"signal {signum} (SIGTERM)")


def _abort_on_exception(exc_type, exc, tb):
    comm = _STATE["comm"]
    if comm is None or comm.Get_size() == 1:
        return (_STATE["excepthook"] or sys.__excepthook__)(exc_type, exc, tb)
    rank, size = comm.Get_rank(), comm.Get_size()
    if issubclass(exc_type, KeyboardInterrupt):
        what = "was interrupted (Ctrl-C)"
    elif issubclass(exc_type, Terminated):
        what = "was terminated (SIGTERM)"
    else:
        what = f"failed with {exc_type.__name__}: {exc}"
    lines = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(f"[rank {rank}] {lines}")
    sys.stderr.write(
        f"chainrule.distributed: rank {rank} of {size} {what}; aborting all ranks "
        "(MPI_Abort) so that none waits forever.\n"
    )
    sys.stderr.flush()
    sys.stdout.flush()
    # mpiexec forwards each rank's output from a pipe; MPI_Abort tears the job down at once, and
    # a message still in that pipe was sometimes lost (the job ended with an empty stderr and
    # no reason given). A moment lets the launcher pass it on; only failing jobs wait.
    time.sleep(0.25)
    _mpi().COMM_WORLD.Abort(1)
    os._exit(1)  # not reached: Abort does not return
