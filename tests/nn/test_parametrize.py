"""nn.utils.parametrize / parametrizations and the hook-based weight_norm / spectral_norm,
against PyTorch: state-dict names, values, gradients, power iterations, removal."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import parametrizations, parametrize

torch = pytest.importorskip("torch")


def _twins(make_ours, make_theirs, wrap_ours, wrap_theirs, seed=0):
    """The two wrapped modules with the same state (every float entry drawn from ``seed``)."""
    ours, theirs = wrap_ours(make_ours()), wrap_theirs(make_theirs())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(seed)
    state = {}
    for k, v in theirs.state_dict().items():
        a = rng.uniform(-1, 1, tuple(v.shape)).astype(np.float32)
        if k.endswith(("_u", "_v")):
            a /= np.linalg.norm(a)  # power-iteration vectors are unit vectors (and any v may be)
        state[k] = a
    ours.load_state_dict(state)
    theirs.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    return ours, theirs


def _close(a, b, tol=1e-5):
    np.testing.assert_allclose(
        a.detach().numpy() if hasattr(a, "detach") else a,
        b.detach().numpy(),
        rtol=tol,
        atol=tol,
    )


def _grads_close(ours, theirs):
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        _close(mine[name].grad, p.grad, 1e-4)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_hook_weight_norm_matches_torch(dim):
    ours, theirs = _twins(
        lambda: nn.Conv1d(3, 4, 2),
        lambda: torch.nn.Conv1d(3, 4, 2),
        lambda m: nn.utils.weight_norm(m, dim=dim),
        lambda m: torch.nn.utils.weight_norm(m, dim=dim),
    )
    assert list(ours.state_dict()) == ["bias", "weight_g", "weight_v"]
    x = np.random.default_rng(1).standard_normal((2, 3, 5)).astype(np.float32)
    out_c, out_t = ours(cr.tensor(x)), theirs(torch.from_numpy(x))
    _close(out_c, out_t)
    (out_c**2).sum().backward()
    (out_t**2).sum().backward()
    _grads_close(ours, theirs)
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["bias", "weight"]
    _close(ours.weight, theirs.weight)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(ours)
    with pytest.raises(RuntimeError, match="two weight_norm"):
        nn.utils.weight_norm(nn.utils.weight_norm(nn.Linear(2, 2)))


@pytest.mark.parametrize("kind", ["linear", "conv_transpose"])
def test_hook_spectral_norm_matches_torch_in_train_and_eval(kind):
    if kind == "linear":
        make_ours, make_theirs = (lambda: nn.Linear(5, 4)), (lambda: torch.nn.Linear(5, 4))
        x = np.random.default_rng(2).standard_normal((3, 5)).astype(np.float32)
    else:
        make_ours = lambda: nn.ConvTranspose2d(2, 3, 2)  # noqa: E731
        make_theirs = lambda: torch.nn.ConvTranspose2d(2, 3, 2)  # noqa: E731
        x = np.random.default_rng(2).standard_normal((1, 2, 3, 3)).astype(np.float32)
    ours, theirs = _twins(
        make_ours, make_theirs, nn.utils.spectral_norm, torch.nn.utils.spectral_norm
    )
    assert list(ours.state_dict())[-3:] == ["weight_orig", "weight_u", "weight_v"]
    for _ in range(3):  # each training forward takes one power-iteration step
        _close(ours(cr.tensor(x)), theirs(torch.from_numpy(x)))
        _close(ours.weight_u, theirs.weight_u)
        _close(ours.weight_v, theirs.weight_v)
    ours.eval()
    theirs.eval()
    u = ours.weight_u.numpy().copy()
    _close(ours(cr.tensor(x)), theirs(torch.from_numpy(x)))
    np.testing.assert_array_equal(ours.weight_u.numpy(), u)  # no iteration in eval
    out_c, out_t = ours(cr.tensor(x)), theirs(torch.from_numpy(x))
    out_c.sum().backward()
    out_t.sum().backward()
    _grads_close(ours, theirs)
    nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _close(ours.weight, theirs.weight)


@pytest.mark.parametrize("dim", [0, None])
def test_parametrizations_weight_norm_matches_torch(dim):
    ours, theirs = _twins(
        lambda: nn.Linear(3, 4),
        lambda: torch.nn.Linear(3, 4),
        lambda m: parametrizations.weight_norm(m, dim=dim),
        lambda m: torch.nn.utils.parametrizations.weight_norm(m, dim=dim),
    )
    x = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
    out_c, out_t = ours(cr.tensor(x)), theirs(torch.from_numpy(x))
    _close(out_c, out_t)
    (out_c**2).sum().backward()
    (out_t**2).sum().backward()
    _grads_close(ours, theirs)
    assert repr(ours) == repr(theirs)


def test_parametrizations_spectral_norm_matches_torch():
    ours, theirs = _twins(
        lambda: nn.Linear(5, 4),
        lambda: torch.nn.Linear(5, 4),
        parametrizations.spectral_norm,
        torch.nn.utils.parametrizations.spectral_norm,
    )
    x = np.random.default_rng(4).standard_normal((3, 5)).astype(np.float32)
    for _ in range(2):
        out_c, out_t = ours(cr.tensor(x)), theirs(torch.from_numpy(x))
        _close(out_c, out_t)
    out_c.sum().backward()
    out_t.sum().backward()
    _grads_close(ours, theirs)
    _close(ours.parametrizations.weight[0]._u, theirs.parametrizations.weight[0]._u)
    sigma = np.linalg.svd(ours.weight.detach().numpy(), compute_uv=False)[0]
    assert abs(sigma - 1) < 0.05  # the estimate is close after 15 + 2 iterations


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class Scale(nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, X):
        return X / 2


def test_register_parametrization_chains_assigns_caches_and_removes():
    layer = nn.Linear(3, 3)
    original = layer.weight
    parametrize.register_parametrization(layer, "weight", Symmetric())
    parametrize.register_parametrization(layer, "weight", Scale())
    assert type(layer).__name__ == "ParametrizedLinear"
    assert parametrize.type_before_parametrizations(layer) is nn.Linear
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")
    assert layer.parametrizations.weight.original is original  # the same Parameter object
    w = layer.weight.numpy()
    np.testing.assert_allclose(w, w.T)
    np.testing.assert_allclose(
        w, 2 * np.triu(original.numpy()) + 2 * np.triu(original.numpy(), 1).T
    )
    layer(cr.ones(1, 3)).sum().backward()
    assert original.grad is not None and layer.weight.grad is None
    with pytest.raises(RuntimeError, match="Symmetric does not implement right_inverse"):
        layer.weight = cr.eye(3)
    with parametrize.cached():
        assert layer.weight is layer.weight
    assert layer.weight is not layer.weight
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    assert type(layer) is nn.Linear and "parametrizations" not in layer._modules
    assert layer.weight is original
    scaled = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Scale())
    scaled.weight = cr.eye(3) * 4  # through Scale.right_inverse
    np.testing.assert_allclose(scaled.parametrizations.weight.original.numpy(), 2 * np.eye(3))
    np.testing.assert_allclose(scaled.weight.numpy(), 4 * np.eye(3))


def test_register_parametrization_errors_and_leave_parametrized():
    with pytest.raises(ValueError, match="does not have a parameter"):
        parametrize.register_parametrization(nn.Linear(2, 2), "nope", Symmetric())

    class Shrink(nn.Module):
        def forward(self, X):
            return X[:1]

    with pytest.raises(ValueError, match="shape"):
        parametrize.register_parametrization(nn.Linear(2, 2), "weight", Shrink())
    layer = parametrizations.weight_norm(nn.Linear(2, 3))
    value = layer.weight.detach().numpy().copy()
    with pytest.raises(ValueError, match="sequence of tensors"):
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
    parametrize.remove_parametrizations(layer, "weight")
    assert list(layer.state_dict()) == ["bias", "weight"]  # as torch: re-registered last
    np.testing.assert_allclose(layer.weight.numpy(), value, rtol=1e-6)
    assert isinstance(layer.weight, nn.Parameter)
