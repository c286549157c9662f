"""nn.SyncBatchNorm in one process: exactly BatchNorm; convert_sync_batchnorm; the synchronised
path's arithmetic (with the all-reduce of a world of one) against BatchNorm and torch.
The real multi-rank checks are in tests/distributed/test_sync_batchnorm.py."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.modules import syncbatchnorm


def _pair(channels, **kw):
    sync, bn = nn.SyncBatchNorm(channels, **kw), nn.BatchNorm2d(channels, **kw)
    weight = np.random.default_rng(1).standard_normal(channels)
    for m in (sync, bn):
        m.weight.numpy()[:] = weight
        m.bias.numpy()[:] = 0.5
    return sync, bn


def _step(module, x, c):
    x = cr.tensor(x, requires_grad=True)
    out = module(x)
    (out * cr.tensor(c)).sum().backward()
    return out.numpy(), x.grad.numpy()


@pytest.mark.parametrize("forced", [False, True], ids=["batchnorm-path", "synced-path"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_one_process_equals_batchnorm(monkeypatch, forced, momentum):
    if forced:  # the synchronised code path, its all-reduce over a world of one
        monkeypatch.setattr(syncbatchnorm, "_world_size", lambda: 2)
        monkeypatch.setattr(syncbatchnorm, "_sum_over_ranks", lambda a: a)
    sync, bn = _pair(3, momentum=momentum)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = (rng.standard_normal((4, 3, 5, 2)) * 3 + 2).astype(np.float32)
        c = rng.standard_normal((4, 3, 5, 2)).astype(np.float32)
        (o1, g1), (o2, g2) = _step(sync, x, c), _step(bn, x, c)
        if forced:
            np.testing.assert_allclose(o1, o2, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(g1, g2, rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(o1, o2)
            np.testing.assert_array_equal(g1, g2)
        for name in ("weight", "bias"):
            np.testing.assert_allclose(
                getattr(sync, name).grad.numpy(), getattr(bn, name).grad.numpy(), rtol=1e-5
            )
            getattr(sync, name).grad = getattr(bn, name).grad = None
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(
                getattr(sync, name).numpy(), getattr(bn, name).numpy(), rtol=1e-6
            )
    sync.eval(), bn.eval()
    x = rng.standard_normal((2, 3, 5, 2)).astype(np.float32)
    out, ref = sync(cr.tensor(x)).numpy(), bn(cr.tensor(x)).numpy()
    if forced:
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_array_equal(out, ref)


def test_synced_path_matches_torch_without_affine_or_running_stats(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(syncbatchnorm, "_world_size", lambda: 2)
    monkeypatch.setattr(syncbatchnorm, "_sum_over_ranks", lambda a: a)
    sync = nn.SyncBatchNorm(4, affine=False, track_running_stats=False)
    ref = torch.nn.BatchNorm1d(4, affine=False, track_running_stats=False)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4, 3)).astype(np.float32)
    c = rng.standard_normal((6, 4, 3)).astype(np.float32)
    out, grad = _step(sync, x, c)
    xt = torch.tensor(x, requires_grad=True)
    (ref(xt) * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(out, ref(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_synced_path_refuses_what_it_cannot_do(monkeypatch):
    monkeypatch.setattr(syncbatchnorm, "_world_size", lambda: 2)
    monkeypatch.setattr(syncbatchnorm, "_sum_over_ranks", lambda a: a)
    sync = nn.SyncBatchNorm(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        sync(cr.ones(1, 3))
    with pytest.raises(ValueError, match=r"SyncBatchNorm\(3\): input of shape \(2, 4\)"):
        sync(cr.ones(2, 4))
    with pytest.raises(ValueError, match="at least 2D"):
        sync(cr.ones(3))
    x = cr.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match="double backward"):
        cr.autograd.grad(sync(x).pow(3).sum(), x, create_graph=True)
    with pytest.raises(ValueError, match="default process group"):
        nn.SyncBatchNorm(3, process_group=object())


def test_convert_sync_batchnorm_keeps_parameters_buffers_and_mode():
    net = nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.BatchNorm2d(4, eps=1e-3, momentum=0.2),
        nn.Sequential(nn.Flatten(), nn.Linear(16, 5), nn.BatchNorm1d(5, affine=False)),
        nn.InstanceNorm1d(5),
    )
    net[1].running_mean.numpy()[:] = 7.0
    net[1].num_batches_tracked.numpy()[...] = 3
    net[2][2].eval()
    old = net[1]
    params = {id(p) for p in net.parameters()}
    keys = list(net.state_dict())
    out = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert out is net
    assert type(net[1]) is nn.SyncBatchNorm and type(net[2][2]) is nn.SyncBatchNorm
    assert type(net[3]) is nn.InstanceNorm1d  # not a BatchNorm: left alone, as in torch
    new = net[1]
    assert (new.eps, new.momentum, new.num_features) == (1e-3, 0.2, 4)
    assert new.weight is old.weight and new.bias is old.bias
    assert new.running_mean is old.running_mean and new.num_batches_tracked.item() == 3
    assert net[2][2].weight is None and not net[2][2].training and net[1].training
    assert {id(p) for p in net.parameters()} == params
    assert list(net.state_dict()) == keys
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(3))
    assert type(single) is nn.SyncBatchNorm


def test_without_a_process_group_it_is_batchnorm_for_any_rank_of_input():
    sync, bn = nn.SyncBatchNorm(2), nn.BatchNorm1d(2)
    x = np.random.default_rng(3).standard_normal((5, 2, 3, 2, 2)).astype(np.float32)
    ref = nn.functional.batch_norm(
        cr.tensor(x), bn.running_mean, bn.running_var, bn.weight, bn.bias, True, 0.1
    )
    np.testing.assert_array_equal(sync(cr.tensor(x)).numpy(), ref.numpy())
    np.testing.assert_array_equal(sync.running_var.numpy(), bn.running_var.numpy())
