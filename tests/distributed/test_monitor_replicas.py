"""GradientMonitor across ranks: ``rank_divergence`` when replicas drift apart, silence when
DistributedDataParallel keeps them one model."""

import re

import pytest
from mpi_helpers import ok_ranks, require_mpi, run_mpi

pytestmark = pytest.mark.slow


def kinds_by_rank(stdout):
    return {
        int(r): set(k for k in ks.split(",") if k)
        for r, ks in re.findall(r"<KINDS rank (\d+)> ?([\w,]*)", stdout)
    }


def test_replicas_seeded_by_rank_are_reported_on_every_rank():
    require_mpi()
    done = run_mpi("monitor_replicas.py", "plain", n=2)
    assert ok_ranks(done.stdout) == [0, 1]
    kinds = kinds_by_rank(done.stdout)
    assert sorted(kinds) == [0, 1]
    assert all("rank_divergence" in k for k in kinds.values()), kinds


def test_replicas_under_ddp_are_not_reported():
    require_mpi()
    done = run_mpi("monitor_replicas.py", "ddp", n=2)
    assert ok_ranks(done.stdout) == [0, 1]
    kinds = kinds_by_rank(done.stdout)
    assert sorted(kinds) == [0, 1]
    assert not any("rank_divergence" in k for k in kinds.values()), kinds
