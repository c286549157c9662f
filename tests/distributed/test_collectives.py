"""chainrule.distributed: the process group and collectives, on real MPI ranks."""

import pytest
from mpi_helpers import ok_ranks, require_mpi, run_mpi

import chainrule.distributed as dist


def test_errors_without_a_process_group():
    assert not dist.is_initialized()
    with pytest.raises(RuntimeError, match="not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="backend 'nccl'"):
        dist.init_process_group("nccl")
    with pytest.raises(RuntimeError, match="init_process_group"):
        import chainrule as cr

        cr.nn.parallel.DistributedDataParallel(cr.nn.Linear(2, 2))


def test_is_available_matches_mpi4py():
    try:
        import mpi4py  # noqa: F401

        have = True
    except ImportError:
        have = False
    assert dist.is_available() is have


@pytest.mark.slow
def test_collectives_on_two_ranks():
    require_mpi()
    done = run_mpi("collectives.py", n=2)
    assert ok_ranks(done.stdout) == [0, 1]


@pytest.mark.slow
def test_collectives_on_three_ranks():
    require_mpi()
    done = run_mpi("collectives.py", n=3)
    assert ok_ranks(done.stdout) == [0, 1, 2]


def test_parameters_checksum_sees_any_change_without_mpi():
    import copy

    import numpy as np

    import chainrule as cr

    model = cr.nn.Sequential(cr.nn.Linear(4, 3), cr.nn.BatchNorm1d(3))
    base = dist.parameters_checksum(model)
    assert base.shape == (7,) and base.dtype == np.float64  # 4 params, 3 buffers
    twin = copy.deepcopy(model)
    np.testing.assert_array_equal(dist.parameters_checksum(twin), base)
    w = twin[0].weight.numpy()
    w[0, 0], w[0, 1] = w[0, 1], w[0, 0]  # same values, swapped
    assert dist.parameters_checksum(twin)[0] != base[0]
    twin[1].running_mean.numpy()[0] += 1e-6
    changed = dist.parameters_checksum(twin) != base
    assert changed.tolist() == [True, False, False, False, True, False, False]


@pytest.mark.slow
def test_blas_threads_limited_per_rank_when_the_user_sets_none():
    require_mpi()
    pytest.importorskip("threadpoolctl")
    done = run_mpi("collectives.py", n=2, threads=None, extra_env={"CHECK_BLAS_THREADS": "1"})
    assert ok_ranks(done.stdout) == [0, 1]
