import numpy as np
import pytest

import chainrule as cr
from chainrule.optim import swa_utils

torch = pytest.importorskip("torch")


def _pair(seed=0):
    """A chainrule net and its torch twin with the same weights."""
    rng = np.random.default_rng(seed)
    ours = cr.nn.Sequential(cr.nn.Linear(3, 4), cr.nn.BatchNorm1d(4), cr.nn.Linear(4, 2))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)
    )
    state = {
        k: rng.standard_normal(tuple(v.shape)).astype(np.float32)
        if v.is_floating_point()
        else v.numpy()
        for k, v in theirs.state_dict().items()
    }
    ours.load_state_dict(state)
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    return ours, theirs


def _perturb(ours, theirs, step):
    """Move both nets' weights (and BatchNorm statistics) the same way."""
    rng = np.random.default_rng(100 + step)
    for (_, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items(), strict=True):
        if b.is_floating_point():
            delta = rng.uniform(0, 1, tuple(b.shape)).astype(np.float32)  # var stays > 0
            with cr.no_grad():
                a.add_(cr.tensor(delta))
            with torch.no_grad():
                b.add_(torch.from_numpy(delta))


def _assert_states_close(ours, theirs):
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), rtol=1e-5, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("kind", ["swa", "ema_multi", "ema_single", "swa_single", "use_buffers"])
def test_averaged_model_matches_torch(kind):
    ours, theirs = _pair()
    kwargs_c, kwargs_t = {}, {}
    if kind == "ema_multi":
        kwargs_c["multi_avg_fn"] = swa_utils.get_ema_multi_avg_fn(0.9)
        kwargs_t["multi_avg_fn"] = torch.optim.swa_utils.get_ema_multi_avg_fn(0.9)
    elif kind == "ema_single":
        kwargs_c["avg_fn"] = swa_utils.get_ema_avg_fn(0.9)
        kwargs_t["avg_fn"] = torch.optim.swa_utils.get_ema_avg_fn(0.9)
    elif kind == "swa_single":
        kwargs_c["avg_fn"] = swa_utils.get_swa_avg_fn()
        kwargs_t["avg_fn"] = torch.optim.swa_utils.get_swa_avg_fn()
    elif kind == "use_buffers":
        kwargs_c["use_buffers"] = kwargs_t["use_buffers"] = True
    avg_c = swa_utils.AveragedModel(ours, **kwargs_c)
    avg_t = torch.optim.swa_utils.AveragedModel(theirs, **kwargs_t)
    for step in range(4):
        _perturb(ours, theirs, step)
        avg_c.update_parameters(ours)
        avg_t.update_parameters(theirs)
    _assert_states_close(avg_c, avg_t)
    assert avg_c.n_averaged.item() == 4 and avg_c.n_averaged.dtype == cr.int64
    x = np.random.default_rng(9).standard_normal((5, 3)).astype(np.float32)
    avg_c.eval()
    avg_t.eval()
    np.testing.assert_allclose(
        avg_c(cr.tensor(x)).detach().numpy(),
        avg_t(torch.from_numpy(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-5,
    )


def test_update_bn_matches_torch_and_restores_mode_and_momentum():
    ours, theirs = _pair(1)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(2).standard_normal((12, 3)).astype(np.float32)
    y = np.zeros(12, dtype=np.int64)
    loader_c = cr.utils.data.DataLoader(
        cr.utils.data.TensorDataset(cr.tensor(x), cr.tensor(y)), batch_size=5
    )
    loader_t = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=5
    )
    swa_utils.update_bn(loader_c, ours)
    torch.optim.swa_utils.update_bn(loader_t, theirs)
    _assert_states_close(ours, theirs)
    assert not ours.training and ours[1].momentum == 0.1
    swa_utils.update_bn([cr.tensor(x)], cr.nn.Linear(3, 1))  # no BatchNorm: nothing to do


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 3])
def test_swalr_matches_torch(strategy, anneal_epochs):
    def lrs(lib, cls):
        a, b = lib.nn.Parameter(lib.zeros(1)), lib.nn.Parameter(lib.zeros(1))
        opt = lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
        sched = cls(opt, swa_lr=[0.01, 0.2], anneal_epochs=anneal_epochs, anneal_strategy=strategy)
        out = []
        for _ in range(6):
            opt.step()
            sched.step()
            out.append(sched.get_last_lr())
        return out

    np.testing.assert_allclose(
        lrs(cr, swa_utils.SWALR), lrs(torch, torch.optim.swa_utils.SWALR), rtol=1e-12
    )


def test_swalr_errors_and_state_dict_round_trip():
    p = cr.nn.Parameter(cr.zeros(1))
    opt = cr.optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(opt, 0.01, anneal_strategy="exp")
    with pytest.raises(ValueError, match="anneal_epochs"):
        swa_utils.SWALR(opt, 0.01, anneal_epochs=-1)
    sched = swa_utils.SWALR(opt, 0.01, anneal_epochs=4)
    opt.step()
    sched.step()
    twin = swa_utils.SWALR(cr.optim.SGD([p], lr=0.1), 0.01, anneal_epochs=4)
    twin.load_state_dict(sched.state_dict())
    assert twin.state_dict() == sched.state_dict()
