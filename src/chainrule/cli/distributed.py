"""``--nproc N``: re-run the command under ``mpiexec -n N``; inside, each rank trains a replica.

The launching process only starts ``mpiexec`` (with one BLAS thread per rank) and returns its
exit code. In each rank: the process group is joined, the training loader reads the rank's
share (:class:`~chainrule.data.DistributedSampler`, ``--batch-size`` per rank, as PyTorch),
the model is wrapped in :class:`~chainrule.nn.parallel.DistributedDataParallel`, and only rank
0 prints, writes the run folder, checkpoints, metrics and the report.
"""

import os
import subprocess
import sys
from types import SimpleNamespace

import click

from .. import data as crdata
from .. import distributed as dist

_RANK_VARS = ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "SLURM_PROCID")
MARKER = "CHAINRULE_NPROC"  # set by --nproc's relaunch: we are one of its ranks


def under_mpi():
    """True in a process started by mpiexec / srun for ``--nproc`` (or with several ranks)."""
    return MARKER in os.environ or any(v in os.environ for v in _RANK_VARS[:4])


def relaunch(nproc, argv=None):
    """Run this command again as ``mpiexec -n nproc python -m chainrule ...``; its exit code."""
    from ..distributed.launch import mpiexec_command, rank_env

    if not dist.is_available():
        raise click.ClickException('--nproc needs mpi4py and an MPI: pip install "chainrule[mpi]"')
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--nproc" not in argv and not any(a.startswith("--nproc=") for a in argv):
        # e.g. called in-process (CliRunner): sys.argv is not this command's line
        raise click.ClickException(
            "--nproc relaunches the command line it was given: run "
            "chainrule from a shell, or mpiexec -n N chainrule ..."
        )
    try:
        cmd = mpiexec_command(nproc, ["-m", "chainrule", *argv])
    except RuntimeError as e:
        raise click.ClickException(str(e)) from None
    env = rank_env(threads=1)
    env[MARKER] = str(nproc)
    click.echo(f"launching {nproc} ranks: {' '.join(cmd[:3])} ...", err=True)
    try:
        return subprocess.run(cmd, env=env).returncode
    except KeyboardInterrupt:
        return 130


def join(nproc):
    """Join the process group (started by mpiexec); rank 0 keeps stdout, the others go quiet."""
    if not dist.is_initialized():
        dist.init_process_group("mpi")
    world = dist.get_world_size()
    if nproc not in (None, world) and MARKER in os.environ:
        raise click.ClickException(f"--nproc {nproc} but mpiexec started {world} ranks")
    if dist.get_rank() != 0:
        sys.stdout = open(os.devnull, "w")  # one report, not N
    return dist.get_rank(), world


def check_resume_world(run_dir, state, world):
    """``--resume`` refuses another number of ranks than the run's checkpoint was written by:
    the data split, the per-rank batches and the random states depend on it."""
    saved = state.get("world_size")
    if saved is None or saved == world:  # (checkpoints before the size was recorded: unknown)
        return

    def ranks(n):
        return f"{n} MPI ranks (--nproc {n})" if n > 1 else "1 process (no --nproc)"

    raise click.ClickException(
        f"--resume {run_dir}: the run was trained on {ranks(saved)}, this resume would run on "
        f"{ranks(world)}; resume it with {f'--nproc {saved}' if saved > 1 else 'no --nproc'}: "
        "the data split, the per-rank batches and the random states depend on the number of "
        "ranks, so a resume is exact only with the same number"
    )


def shard(bundle, seed):
    """Replace the bundle's training loader by this rank's share of it (per-rank batch size)."""
    loader = bundle.train
    sampler = crdata.DistributedSampler(loader.dataset, shuffle=True, seed=seed)
    bundle.train = crdata.DataLoader(
        loader.dataset, batch_size=loader.batch_size, sampler=sampler, drop_last=loader.drop_last
    )
    return bundle


def wrap(session):
    """Train through DistributedDataParallel; ``session.model`` stays the plain model (what the
    monitor watches, the checkpoint stores and the report evaluates)."""
    from ..nn.parallel import DistributedDataParallel

    session.train_model = DistributedDataParallel(session.model)
    return session


def share_folder(folder):
    """Rank 0's run folder name, on every rank."""
    box = [folder]
    dist.broadcast_object_list(box, src=0)
    return box[0]


# ---- experiments: setups spread over the ranks, results gathered on rank 0 ----


# the module attributes the findings' layer labels show ("Linear 2 · 128→128")
_SIZES = (
    "in_features",
    "out_features",
    "in_channels",
    "out_channels",
    "input_size",
    "hidden_size",
    "num_embeddings",
    "embedding_dim",
    "num_features",
    "normalized_shape",
)


class ModuleSizes:
    """A model's module names and sizes without its weights: ``named_modules()`` as the
    diagnostics' layer labels read it."""

    def __init__(self, model):
        self._modules = [
            (name, SimpleNamespace(**{a: getattr(m, a) for a in _SIZES if hasattr(m, a)}))
            for name, m in model.named_modules()
        ]

    def named_modules(self):
        return iter(self._modules)


class MonitorView:
    """What an experiment's figures and findings read from a finished monitor, without the
    weights (picklable): ``history``, ``context()`` and the model's module sizes."""

    def __init__(self, monitor):
        self.history = monitor.history
        self._context = monitor.context()
        self.model = ModuleSizes(monitor.model)

    def context(self):
        return self._context


class SessionView:
    """A finished :class:`~chainrule.cli.run.Session` reduced to its monitor's view and its
    history, to send to rank 0."""

    def __init__(self, session):
        self.monitor = MonitorView(session.monitor)
        self.history = session.history
        self.metric = session.metric


def mine(index, world, rank):
    """Setup ``index`` runs on rank ``index % world``."""
    return index % world == rank


def alone(world):
    """Context in which this rank trains its own setups (no data-parallel collective)."""
    from contextlib import nullcontext

    from ..distributed.group import alone as detached

    return nullcontext() if world == 1 else detached()


def from_rank0(compute, world):
    """``compute()`` run on rank 0 alone, its (picklable) result sent to every rank: for what
    every rank needs and one computation suffices (``compute()`` itself with one rank)."""
    if world == 1:
        return compute()
    if dist.get_rank() == 0:
        with alone(world):
            box = [compute()]
    else:
        box = [None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_results(pairs, world):
    """Every rank's ``[(index, value)]`` -> all of them sorted by index, on rank 0 (None
    elsewhere). Outcomes are sent as views (see :class:`SessionView`)."""
    if world == 1:
        return [value for _, value in sorted(pairs, key=lambda p: p[0])]
    from dataclasses import replace

    portable = [(i, (replace(o, session=SessionView(o.session)), row)) for i, (o, row) in pairs]
    everyone = [None] * world
    dist.all_gather_object(everyone, portable)
    if dist.get_rank() != 0:
        return None
    merged = [p for part in everyone for p in part]
    return [value for _, value in sorted(merged, key=lambda p: p[0])]
