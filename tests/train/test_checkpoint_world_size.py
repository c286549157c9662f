"""A training checkpoint records the world size; a resume at another size is refused, naming
both (the MPI side: tests/distributed/test_ddp.py and test_cli_nproc.py)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import train


def _saved(tmp_path, world_size=None):
    """A checkpoint of one step's model; ``world_size`` rewrites what it recorded."""
    model = cr.nn.Linear(3, 2)
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / "run.ckpt"
    train.save_checkpoint(path, model, opt, epoch=1)
    if world_size is not None:
        raw = cr.load(path)
        raw["world_size"] = world_size
        cr.save(raw, path)
    return path, model


def test_a_checkpoint_records_the_world_size_of_one_process(tmp_path):
    path, _ = _saved(tmp_path)
    assert cr.load(path)["world_size"] == 1
    model = cr.nn.Linear(3, 2)
    assert train.load_checkpoint(path, model, cr.optim.SGD(model.parameters(), lr=0.1))["epoch"]


def test_resume_at_another_world_size_is_refused_and_nothing_is_loaded(tmp_path):
    path, saved = _saved(tmp_path, world_size=2)
    model = cr.nn.Linear(3, 2)
    before = model.weight.numpy().copy()
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"world size 2 \(2 ranks\) but this run has world size 1"):
        train.load_checkpoint(path, model, opt)
    np.testing.assert_array_equal(model.weight.numpy(), before)
    # weights alone load anywhere (e.g. evaluating a DDP run in one process) ...
    train.load_checkpoint(path, model, restore_rng=False)
    np.testing.assert_array_equal(model.weight.numpy(), saved.weight.numpy())
    # ... and the check can be waived, knowingly
    assert train.load_checkpoint(path, model, opt, check_world_size=False)["epoch"] == 1


def test_checkpoints_without_a_recorded_world_size_still_load(tmp_path):
    path, _ = _saved(tmp_path)
    raw = cr.load(path)
    del raw["world_size"]  # written before the world size was recorded
    cr.save(raw, path)
    model = cr.nn.Linear(3, 2)
    assert train.load_checkpoint(path, model, cr.optim.SGD(model.parameters(), lr=0.1))["epoch"]
