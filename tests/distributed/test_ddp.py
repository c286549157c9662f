"""DistributedDataParallel and fit() on two real MPI ranks; failures end every rank."""

import os
import signal
import subprocess
import time

import numpy as np
import pytest
from mpi_helpers import command, env, ok_ranks, require_mpi, run_mpi

pytestmark = pytest.mark.slow


def test_ddp_gradients_equal_single_process_on_the_whole_batch():
    require_mpi()
    assert ok_ranks(run_mpi("ddp_grads.py", n=2).stdout) == [0, 1]


def test_ddp_gradients_on_three_ranks():
    require_mpi()
    assert ok_ranks(run_mpi("ddp_grads.py", n=3).stdout) == [0, 1, 2]


def test_two_epochs_of_ddp_fit_equal_single_process_and_resume_is_exact(tmp_path):
    require_mpi()
    done = run_mpi("ddp_train.py", tmp_path, n=2)
    assert ok_ranks(done.stdout) == [0, 1]
    # one progress bar per epoch: rank 1's are silent
    assert done.stderr.count("epoch 1/2:   0%") == 1
    assert sorted(os.listdir(tmp_path)) == ["full-0.ckpt", "half.ckpt"]
    # the checkpoint knows it was written by 2 ranks: a resume in one process is refused
    import chainrule as cr

    assert cr.load(tmp_path / "half.ckpt")["world_size"] == 2
    model = cr.nn.Sequential(cr.nn.Linear(12, 32), cr.nn.Tanh(), cr.nn.Linear(32, 3))
    opt = cr.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    with pytest.raises(ValueError, match="world size 2 .* this run has world size 1"):
        cr.train.load_checkpoint(tmp_path / "half.ckpt", _Prefixed(model), opt)


def _ends_promptly(done, started, limit=20):
    assert done.returncode != 0
    assert time.monotonic() - started < limit


def test_exception_on_one_rank_ends_all(tmp_path):
    require_mpi()
    started = time.monotonic()
    done = run_mpi("fault.py", "raise", tmp_path, n=2, timeout=60, check=False)
    _ends_promptly(done, started)
    assert "ValueError: deliberate failure on rank 1" in done.stderr
    assert "rank 1 of 2 failed with ValueError" in done.stderr
    assert "aborting all ranks (MPI_Abort)" in done.stderr
    assert ok_ranks(done.stdout) == []


def test_exception_inside_ddp_fit_ends_all_and_keeps_last_checkpoint(tmp_path):
    require_mpi()
    import chainrule as cr

    started = time.monotonic()
    done = run_mpi("fault.py", "fit", tmp_path, n=2, timeout=60, check=False)
    _ends_promptly(done, started)
    assert "rank 1 of 2 failed with RuntimeError: rank 1 lost its data in epoch 2" in done.stderr
    assert os.listdir(tmp_path) == ["run.ckpt"]  # no temporary file left behind
    model = cr.nn.Sequential(cr.nn.Linear(4, 8), cr.nn.ReLU(), cr.nn.Linear(8, 2))
    state = cr.train.load_checkpoint(tmp_path / "run.ckpt", _Prefixed(model), restore_rng=False)
    assert state["epoch"] == 1  # the complete first epoch
    assert np.isfinite(model[0].weight.numpy()).all()


class _Prefixed:
    """Loads a DDP checkpoint ('module.' keys) into a plain model, as torch users do."""

    def __init__(self, model):
        self.model = model

    def state_dict(self):  # load_checkpoint snapshots it to roll back on refusal
        return {"module." + k: v for k, v in self.model.state_dict().items()}

    def load_state_dict(self, state, strict=True):
        return self.model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})


@pytest.mark.parametrize(
    "sig,message",
    [(signal.SIGINT, "was interrupted (Ctrl-C)"), (signal.SIGTERM, "was terminated (SIGTERM)")],
)
def test_ctrl_c_or_sigterm_on_one_rank_ends_all(tmp_path, sig, message):
    require_mpi()
    proc = subprocess.Popen(
        command("fault.py", "sigint", tmp_path, n=2),
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pid_file = tmp_path / "pid"
        deadline = time.monotonic() + 60
        while not pid_file.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "rank 1 never started"
            time.sleep(0.05)
        started = time.monotonic()
        os.kill(int(pid_file.read_text()), sig)
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"{sig.name} on rank 1 did not end the job within 30 s")
    assert proc.returncode != 0
    assert time.monotonic() - started < 20
    assert f"rank 1 of 2 {message}" in err
    assert ok_ranks(out) == []
