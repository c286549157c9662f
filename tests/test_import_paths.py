"""Import paths PyTorch programs use, after the rename: each names the same object as
chainrule's own path (one implementation, two paths)."""

import importlib

import pytest

import chainrule as cr

PATHS = [
    ("chainrule.nn.modules.module", "Module", lambda: cr.nn.Module),
    ("chainrule.nn.modules.batchnorm", "_BatchNorm", lambda: cr.nn.BatchNorm1d.__mro__[1]),
    ("chainrule.nn.modules.batchnorm", "BatchNorm2d", lambda: cr.nn.BatchNorm2d),
    ("chainrule.nn.modules.sparse", "Embedding", lambda: cr.nn.Embedding),
    ("chainrule.optim.lr_scheduler", "_LRScheduler", lambda: cr.optim.lr_scheduler.LRScheduler),
    ("chainrule.utils.data.dataset", "StackDataset", lambda: cr.data.StackDataset),
    ("chainrule.autograd", "Variable", lambda: cr.autograd.Variable),
    ("chainrule.autograd.functional", "jacobian", lambda: cr.autograd.functional.jacobian),
    ("chainrule.testing", "assert_close", lambda: cr.testing.assert_close),
    ("chainrule.special", "gammaln", lambda: cr.lgamma),
]


@pytest.mark.parametrize("module, name, same", PATHS, ids=[f"{m}.{n}" for m, n, _ in PATHS])
def test_torch_import_paths(module, name, same):
    assert getattr(importlib.import_module(module), name) is same()


def test_batch_norms_are_found_by_their_base_class():
    from chainrule.nn.modules.batchnorm import _BatchNorm

    for layer in (cr.nn.BatchNorm1d(2), cr.nn.BatchNorm3d(2), cr.nn.SyncBatchNorm(2)):
        assert isinstance(layer, _BatchNorm)


def test_a_custom_scheduler_on_the_old_base_class():
    from chainrule.optim.lr_scheduler import _LRScheduler

    class Halving(_LRScheduler):
        def get_lr(self):
            return [
                group["initial_lr"] * 0.5**self.last_epoch for group in self.optimizer.param_groups
            ]

    opt = cr.optim.SGD([cr.nn.Parameter(cr.ones(1))], lr=1.0)
    schedule = Halving(opt)
    opt.step()
    schedule.step()
    assert opt.param_groups[0]["lr"] == 0.5


def test_tensorboard_writer_comes_from_tensorboardx():
    pytest.importorskip("tensorboardX")
    from chainrule.utils.tensorboard import SummaryWriter

    assert SummaryWriter.__module__.startswith("tensorboardX")


def test_memory_formats_are_accepted_as_torch():
    t = cr.ones(2, 3)
    for fmt in (cr.preserve_format, cr.contiguous_format, cr.channels_last):
        for like in (cr.zeros_like, cr.ones_like, cr.empty_like, cr.rand_like, cr.randn_like):
            assert like(t, memory_format=fmt).shape == (2, 3)
    assert cr.full_like(t, 2.0, memory_format=cr.preserve_format).tolist() == [[2.0] * 3] * 2
    assert t.contiguous(memory_format=cr.contiguous_format) is t
