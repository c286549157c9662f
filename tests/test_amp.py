"""cr.amp (GradScaler, autocast) and cr.compile: GradScaler against torch's on CPU for the same
gradients, including inf/NaN ones; autocast and compile change nothing."""

import pickle
import warnings

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")

# Per iteration, the scaled gradients of two parameters (inf/NaN ones make the step skip).
GRADS = [
    ([1.0, 2.0], [3.0]),
    ([np.inf, 2.0], [3.0]),
    ([0.5, -2.0], [1.0]),
    ([0.5, -2.0], [1.0]),
    ([0.5, -2.0], [np.nan]),
    ([1e-3, 7.0], [2.5]),
    ([1e-3, 7.0], [2.5]),
    ([1e-3, 7.0], [2.5]),
    ([4.0, 1.0], [-1.0]),
]


def _run(lib, unscale_first=False, **kwargs):
    """Drive a GradScaler through GRADS; the scale, growth tracker, params and grads each step."""
    ps = [lib.nn.Parameter(lib.tensor([1.0, -1.0])), lib.nn.Parameter(lib.tensor([0.5]))]
    opt = lib.optim.SGD(ps, lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", **kwargs)
    trace = []
    for grads in GRADS:
        loss = sum((p * p).sum() for p in ps)
        scaler.scale(loss)  # starts the scale, as a real loop does
        for p, g in zip(ps, grads, strict=True):
            p.grad = lib.tensor(np.array(g, dtype=np.float32) * scaler.get_scale())
        if unscale_first:
            scaler.unscale_(opt)
        scaler.step(opt)
        scaler.update()
        trace.append(
            (
                scaler.get_scale(),
                scaler._get_growth_tracker(),
                [p.detach().numpy().copy() for p in ps],
                [p.grad.numpy().copy() for p in ps],
            )
        )
    return trace, scaler


@pytest.mark.parametrize(
    "kwargs",
    [
        {"init_scale": 2.0**10, "growth_interval": 3},
        {"init_scale": 1000.0, "growth_factor": 1.7, "backoff_factor": 0.3, "growth_interval": 2},
    ],
)
@pytest.mark.parametrize("unscale_first", [False, True])
def test_grad_scaler_matches_torch(kwargs, unscale_first):
    ours, our_scaler = _run(cr, unscale_first, **kwargs)
    theirs, their_scaler = _run(torch, unscale_first, **kwargs)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a[0] == b[0] and a[1] == b[1], f"iteration {i}: scale/tracker {a[:2]} vs {b[:2]}"
        for x, y in zip(a[3], b[3], strict=True):  # the unscaled gradients: bit for bit
            np.testing.assert_array_equal(x, y, err_msg=f"iteration {i}")
        for x, y in zip(a[2], b[2], strict=True):  # the optimizers round differently
            np.testing.assert_allclose(x, y, rtol=1e-6, err_msg=f"iteration {i}")
    assert our_scaler.state_dict() == their_scaler.state_dict()


def test_scale_backward_step_update_matches_torch():
    results = []
    for lib in (cr, torch):
        lib.manual_seed(0)
        w = lib.nn.Parameter(lib.tensor([[0.5, -1.0], [2.0, 0.25]]))
        opt = lib.optim.Adam([w], lr=0.01)
        scaler = lib.amp.GradScaler("cpu", init_scale=256.0)
        x = lib.tensor([[1.0, 2.0], [3.0, -4.0]])
        for _ in range(3):
            opt.zero_grad()
            with lib.autocast("cpu", enabled=False):
                loss = (x @ w).square().mean()
            scaled = scaler.scale(loss)
            assert scaled.item() == pytest.approx(loss.item() * scaler.get_scale())
            scaled.backward()
            scaler.step(opt)
            scaler.update()
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_scale_of_lists_tuples_and_errors():
    scaler = cr.amp.GradScaler("cpu", init_scale=4.0)
    a, (b, c) = scaler.scale([cr.ones(1), (cr.ones(2), cr.ones(3, dtype=cr.float64))])
    assert a.tolist() == [4.0] and b.tolist() == [4.0, 4.0] and c.dtype == cr.float64
    with pytest.raises(ValueError, match="Tensor or an iterable"):
        scaler.scale(3.0)
    opt = cr.optim.SGD([cr.nn.Parameter(cr.ones(1))], lr=1.0)
    opt.param_groups[0]["params"][0].grad = cr.ones(1)
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match="Closure"):
        scaler.step(opt, closure=lambda: None)
    fresh = cr.amp.GradScaler("cpu")
    with pytest.raises(AssertionError, match="scaler.scale"):
        fresh.step(opt)
    half = cr.amp.GradScaler("cpu")
    half.scale(cr.ones(1))
    p = cr.nn.Parameter(cr.ones(1, dtype=cr.float16))
    p.grad = cr.ones(1, dtype=cr.float16)
    with pytest.raises(ValueError, match="FP16"):
        half.unscale_(cr.optim.SGD([p], lr=1.0))
    with pytest.raises(AssertionError, match="growth factor"):
        cr.amp.GradScaler("cpu", growth_factor=1.0)


def test_update_with_a_new_scale_and_state_dict_round_trip():
    for lib in (cr, torch):
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        scaler.scale(lib.ones(1))
        scaler.update(3.0)
        assert scaler.get_scale() == 3.0
        scaler.update(lib.tensor(5.0))
        assert scaler.get_scale() == 5.0
    state = {
        "scale": 5.0,
        "growth_factor": 3.0,
        "backoff_factor": 0.25,
        "growth_interval": 7,
        "_growth_tracker": 2,
    }
    scaler = cr.amp.GradScaler("cpu")
    scaler.load_state_dict(state)
    assert scaler.state_dict() == state and scaler.get_scale() == 5.0
    assert pickle.loads(pickle.dumps(scaler)).state_dict() == state
    with pytest.raises(RuntimeError, match="empty"):
        scaler.load_state_dict({})


def test_disabled_scaler_passes_through_like_torch_without_cuda():
    w = cr.nn.Parameter(cr.ones(2))
    opt = cr.optim.SGD([w], lr=1.0)
    with pytest.warns(UserWarning, match="not available"):
        cuda_scaler = cr.cuda.amp.GradScaler()
    with pytest.warns(UserWarning, match="not available"):
        default = cr.amp.GradScaler()  # torch's default device is "cuda"
    for scaler in (cr.amp.GradScaler("cpu", enabled=False), cuda_scaler, default):
        loss = w.sum()
        assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0
        w.grad = cr.full((2,), np.inf)
        scaler.unscale_(opt)
        scaler.step(opt)  # steps anyway: nothing is checked
        scaler.update()
        assert not scaler.is_enabled() and scaler.state_dict() == {}
    assert np.isinf(w.detach().numpy()).all()


def test_autocast_changes_no_dtype_and_works_as_decorator():
    x = cr.ones(2, 2)
    with cr.autocast("cpu", dtype=cr.float16):
        assert cr.is_autocast_enabled("cpu")
        assert (x @ x).dtype == cr.float32
        with cr.amp.autocast("cpu", enabled=False):
            assert not cr.is_autocast_enabled("cpu")
        assert cr.is_autocast_enabled("cpu")
    assert not cr.is_autocast_enabled("cpu")

    @cr.autocast("cpu")
    def f(t):
        return cr.is_autocast_enabled("cpu"), t @ t

    enabled, y = f(x)
    assert enabled and y.dtype == cr.float32 and not cr.is_autocast_enabled("cpu")
    with pytest.warns(UserWarning, match="Disabling autocast"):
        with cr.cuda.amp.autocast():
            assert not cr.is_autocast_enabled("cuda")
    with pytest.raises(ValueError, match="of type `str`"):
        cr.autocast(cr.device("cpu"))
    with pytest.raises(RuntimeError, match="unknown device type"):
        cr.autocast("foo")


def test_compile_returns_its_argument():
    net = cr.nn.Linear(2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cr.compile(net) is net
        assert (
            cr.compile(net, fullgraph=True, dynamic=False, backend="eager", mode="default") is net
        )
        assert cr.compile(options={"x": 1}, disable=True)(len) is len
    assert cr.compiler.disable(len) is len and not cr.compiler.is_compiling()
    with pytest.raises(TypeError, match="module or a function"):
        cr.compile(3)
