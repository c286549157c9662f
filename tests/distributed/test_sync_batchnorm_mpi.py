"""SyncBatchNorm on real MPI ranks (2 and 3, uneven shares): equal to BatchNorm on the whole
batch (chainrule's and torch's), and DDP + SyncBatchNorm equal to single-process training."""

import pytest
from mpi_helpers import ok_ranks, require_mpi, run_mpi

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("n", [2, 3])
def test_sync_batchnorm_equals_batchnorm_on_the_concatenated_batch(n):
    require_mpi()
    pytest.importorskip("torch")
    assert ok_ranks(run_mpi("sync_batchnorm.py", n=n, timeout=180).stdout) == list(range(n))
