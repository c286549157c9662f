"""RNN / LSTM / GRU layers and cells against PyTorch with the same weights."""

import itertools
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.nn.functional import _rnn as R
from chainrule.nn.modules import rnn as M

torch = pytest.importorskip("torch")
rng = None  # this test's generator, seeded afresh by the fixture below


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws from its own generator, seeded the same: its inputs do not depend on
    which tests ran before it."""
    global rng
    rng = np.random.default_rng(2)


T, B, I, H = 5, 3, 4, 6


def _both(shape):
    a = rng.standard_normal(shape).astype(np.float32)
    return cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _close(ours, theirs, tol=1e-4):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.numpy(), theirs, atol=tol, rtol=tol)


def _twins(name, *args, **kwargs):
    """Our module and PyTorch's with the same weights (copied from PyTorch's)."""
    ours, theirs = getattr(M, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        p.numpy()[...] = tp.detach().numpy()
    return ours, theirs


def _loss(outputs, weights):
    """Sum of <output, fixed random weight> over a nest of outputs (works for both libraries)."""
    if isinstance(outputs, (tuple, list)):
        return sum(_loss(o, w) for o, w in zip(outputs, weights, strict=True))
    return (outputs * weights).sum()


def _random_like(outputs):
    if isinstance(outputs, (tuple, list)):
        return [_random_like(o) for o in outputs]
    return rng.standard_normal(tuple(outputs.shape)).astype(np.float32)


def _as(weights, lib):
    if isinstance(weights, list):
        return [_as(w, lib) for w in weights]
    return cr.tensor(weights) if lib == "cr" else torch.tensor(weights)


def _flat(outputs):
    if not isinstance(outputs, (tuple, list)):
        return [outputs]
    return [leaf for o in outputs for leaf in _flat(o)]


def _check_against_torch(m, tm, x, tx, hx=None, thx=None, states=()):
    out, tout = m(x, hx), tm(tx, thx)
    w = _random_like(tout)
    _loss(out, _as(w, "cr")).backward()
    _loss(tout, _as(w, "torch")).backward()
    for a, b in zip(_flat(out), _flat(tout), strict=True):
        _close(a, b)
        assert a.dtype == np.float32
    _close(x.grad, tx.grad)
    for (_, p), (_, tp) in zip(m.named_parameters(), tm.named_parameters(), strict=True):
        _close(p.grad, tp.grad)
    for ours, theirs in states:
        _close(ours.grad, theirs.grad)


LAYER_GRID = list(itertools.product(["RNN", "LSTM", "GRU"], [1, 2], [False, True], [False, True]))


@pytest.mark.parametrize("name,layers,batch_first,with_state", LAYER_GRID)
def test_layers_match_torch(name, layers, batch_first, with_state):
    m, tm = _twins(name, I, H, num_layers=layers, batch_first=batch_first)
    x, tx = _both((B, T, I) if batch_first else (T, B, I))
    hx = thx = None
    states = []
    if with_state:
        h0, th0 = _both((layers, B, H))
        states.append((h0, th0))
        hx, thx = h0, th0
        if name == "LSTM":
            c0, tc0 = _both((layers, B, H))
            states.append((c0, tc0))
            hx, thx = (h0, c0), (th0, tc0)
    _check_against_torch(m, tm, x, tx, hx, thx, states)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_bidirectional_and_no_bias_match_torch(name):
    m, tm = _twins(name, I, H, num_layers=2, bidirectional=True, bias=False)
    x, tx = _both((T, B, I))
    _check_against_torch(m, tm, x, tx)


def test_relu_rnn_matches_torch():
    m, tm = _twins("RNN", I, H, nonlinearity="relu", num_layers=2)
    x, tx = _both((T, B, I))
    _check_against_torch(m, tm, x, tx)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_sequence_matches_torch(name):
    m, tm = _twins(name, I, H, num_layers=2)
    x, tx = _both((T, I))
    h0, th0 = _both((2, H))
    if name == "LSTM":
        c0, tc0 = _both((2, H))
        _check_against_torch(m, tm, x, tx, (h0, c0), (th0, tc0), [(h0, th0), (c0, tc0)])
    else:
        _check_against_torch(m, tm, x, tx, h0, th0, [(h0, th0)])


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("RNNCell", {}),
        ("RNNCell", dict(nonlinearity="relu")),
        ("LSTMCell", {}),
        ("GRUCell", {}),
        ("GRUCell", dict(bias=False)),
    ],
)
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(name, kwargs, with_state, batched):
    m, tm = _twins(name, I, H, **kwargs)
    assert m.extra_repr() == tm.extra_repr()
    x, tx = _both((B, I) if batched else (I,))
    hx = thx = None
    states = []
    if with_state:
        hx, thx = _both((B, H) if batched else (H,))
        states.append((hx, thx))
        if name == "LSTMCell":
            c, tc = _both((B, H) if batched else (H,))
            states.append((c, tc))
            hx, thx = (hx, c), (thx, tc)
    _check_against_torch(m, tm, x, tx, hx, thx, states)


def test_parameter_names_shapes_and_repr_match_torch():
    for args, kwargs in [
        ((3, 5), {}),
        ((3, 5, 3), dict(bidirectional=True, batch_first=True)),
        ((2, 4), dict(bias=False, dropout=0.5, num_layers=2)),
    ]:
        for name in ("RNN", "LSTM", "GRU"):
            m, tm = M.__dict__[name](*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
            assert [(k, p.shape) for k, p in m.named_parameters()] == [
                (k, tuple(p.shape)) for k, p in tm.named_parameters()
            ]
            assert m.extra_repr() == tm.extra_repr()
            assert set(m.state_dict()) == set(tm.state_dict())


def test_default_init_bounds():
    cr.manual_seed(0)
    for m in (M.LSTM(3, 16, num_layers=2), M.GRUCell(3, 16)):
        values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
        bound = 1 / math.sqrt(16)
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.95 * bound
        assert all(p.dtype == np.float32 for p in m.parameters())


# ---- gradient checks in float64 ----


def _t64(*shape):
    return cr.tensor(rng.standard_normal(shape) * 0.5, dtype=cr.float64, requires_grad=True)


@pytest.mark.parametrize("mode,gates", [("RNN_TANH", 1), ("LSTM", 4), ("GRU", 3)])
def test_gradcheck_two_layer_sequences(mode, gates):
    h = 2
    ws = [
        (_t64(gates * h, 3), _t64(gates * h, h), _t64(gates * h), _t64(gates * h)),
        (_t64(gates * h, h), _t64(gates * h, h), None, None),
    ]
    x, h0, c0 = _t64(4, 2, 3), _t64(2, 2, h), _t64(2, 2, h)

    def run(x, h0, c0, *flat):
        weights = [tuple(flat[:4]), tuple(flat[4:6]) + (None, None)]
        out, hn = R.recurrent(mode, x, (h0, c0) if mode == "LSTM" else h0, weights, num_layers=2)
        return (out,) + (tuple(hn) if mode == "LSTM" else (hn,))

    flat = ws[0] + ws[1][:2]
    assert gradcheck(run, (x, h0, c0) + flat)


def test_second_derivatives_of_cells():
    xg, hh, c = _t64(3, 8), _t64(3, 8), _t64(3, 2)
    assert gradgradcheck(R.lstm_cell_core, (xg, hh, c))
    xg, hh, h = _t64(3, 6), _t64(3, 6), _t64(3, 2)
    assert gradgradcheck(R.gru_cell_core, (xg, hh, h))


def test_split_steps_values_and_gradient():
    seq = _t64(7, 2, 3)
    steps = R.split_steps(seq)
    assert len(steps) == 7
    for t, s in enumerate(steps):
        np.testing.assert_array_equal(s.numpy(), seq.numpy()[t])
    cr.stack(steps[::-1]).sum().backward()
    np.testing.assert_array_equal(seq.grad.numpy(), np.ones((7, 2, 3)))


# ---- the fused whole-sequence path (the default) ----


def _states(name, shape):
    """(ours, theirs, pairs to compare) initial states requiring grad, (h0, c0) for LSTM."""
    h0, th0 = _both(shape)
    if name != "LSTM":
        return h0, th0, [(h0, th0)]
    c0, tc0 = _both(shape)
    return (h0, c0), (th0, tc0), [(h0, th0), (c0, tc0)]


@pytest.mark.parametrize(
    "name,kwargs", [("RNN", {}), ("RNN", dict(nonlinearity="relu")), ("LSTM", {}), ("GRU", {})]
)
def test_fused_bidirectional_batch_first_with_states_match_torch(name, kwargs):
    m, tm = _twins(name, I, H, num_layers=2, bidirectional=True, batch_first=True, **kwargs)
    x, tx = _both((B, T, I))
    hx, thx, states = _states(name, (4, B, H))
    _check_against_torch(m, tm, x, tx, hx, thx, states)


def _graph_size(t):
    seen, todo = set(), [t._node]
    while todo:
        node = todo.pop()
        if node is not None and node not in seen:
            seen.add(node)
            todo.extend(i._node for i in node.inputs)
    return len(seen)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("RNN", {}),
        ("RNN", dict(nonlinearity="relu")),
        ("LSTM", {}),
        ("GRU", {}),
        ("GRU", dict(bias=False)),
    ],
)
def test_fused_path_equals_per_step_path(name, kwargs):
    m = getattr(M, name)(I, H, num_layers=2, bidirectional=True, **kwargs)
    x = cr.tensor(rng.standard_normal((T, B, I)).astype(np.float32), requires_grad=True)
    hx = _states(name, (4, B, H))[0]
    results = []
    for record_steps in (False, True):
        m.record_steps = record_steps
        out, state = m(x, hx)
        outs, nodes = _flat((out, state)), _graph_size(out)
        w = (
            results[0][2]
            if results
            else [cr.tensor(rng.standard_normal(o.shape).astype(np.float32)) for o in outs]
        )
        grads = cr.grad(_loss(outs, w), [x, *_flat(hx), *m.parameters()])
        results.append(([o.numpy() for o in outs], [g.numpy() for g in grads], w, nodes))
    (fused, fused_grads, _, fused_nodes), (steps, step_grads, _, step_nodes) = results
    # the fused path records O(1) nodes per layer and direction, the per-step path O(T)
    assert fused_nodes <= 24 and step_nodes >= 4 * 3 * T
    for a, b in zip(fused + fused_grads, steps + step_grads, strict=True):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def _fused_inputs(mode, bias=True, hidden=3, n_in=2, steps=4, batch=2):
    g = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden
    x, h0, c0 = _t64(steps, batch, n_in), _t64(batch, hidden), _t64(batch, hidden)
    weights = [_t64(g, n_in), _t64(g, hidden)] + ([_t64(g), _t64(g)] if bias else [None, None])
    return [x, h0, c0 if mode == "LSTM" else None] + weights


def _fused_fn(mode, reverse, present):
    """fused_layer as a function of the tensors that are not None (for gradcheck)."""

    def fn(*ts):
        it = iter(ts)
        args = [next(it) if p else None for p in present]
        hs, h_n, c_n = R.fused_layer(mode, *args, reverse=reverse)
        return (hs, h_n) + ((c_n,) if c_n is not None else ())

    return fn


@pytest.mark.parametrize("mode", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_fused_layer(mode, reverse, bias):
    args = _fused_inputs(mode, bias)
    present = [a is not None for a in args]
    assert gradcheck(_fused_fn(mode, reverse, present), [a for a in args if a is not None])


@pytest.mark.parametrize(
    "mode,reverse", [("RNN_TANH", True), ("LSTM", False), ("LSTM", True), ("GRU", False)]
)
def test_second_derivatives_of_fused_layer(mode, reverse):
    # create_graph=True rebuilds the layer step by step and differentiates that
    args = _fused_inputs(mode, hidden=2, steps=3)
    present = [a is not None for a in args]
    assert gradgradcheck(_fused_fn(mode, reverse, present), [a for a in args if a is not None])


def test_fused_layer_with_one_tensor_in_two_slots():
    x, h0, c0, w_ih, w_hh, b, _ = _fused_inputs("LSTM")

    def run(x, h0, c0, w_ih, w_hh, b):
        hs, _, c_n = R.fused_layer("LSTM", x, h0, c0, w_ih, w_hh, b, b)
        return (hs * hs).sum() + (c_n * c_n).sum()

    assert gradcheck(run, (x, h0, c0, w_ih, w_hh, b))
    assert gradgradcheck(run, (x, h0, c0, w_ih, w_hh, b))


def test_weight_gradient_products_in_serial_chunks():
    a, b = rng.standard_normal((64, 2000)), rng.standard_normal((64, 2000))
    chunks = R._step_chunks(2000, 10, 64 * 64 * 10)
    assert len(chunks) > 1 and all(64 * 64 * len(range(2000)[c]) <= R._SERIAL_GEMM for c in chunks)
    np.testing.assert_allclose(R._products_nt(a, b, 10), a @ b.T, rtol=1e-12, atol=1e-10)
    assert R._step_chunks(2000, 10, R._SERIAL_GEMM + 1) == [slice(None)]  # big: one product


def test_fused_matches_torch_with_chunked_gradient_products():
    # big enough that the weight and input gradients are summed over several chunks of steps
    m, tm = _twins("LSTM", 32, 32, num_layers=2)
    assert len(R._step_chunks(20 * 16, 16, 4 * 32 * 65 * 16)) > 1
    x, tx = _both((20, 16, 32))
    _check_against_torch(m, tm, x, tx)


def test_fused_scratch_buffers_survive_retained_graphs_and_other_passes():
    m = M.LSTM(I, H)
    x = cr.randn(T, B, I)
    loss = (m(x)[0] ** 2).sum()
    loss.backward(retain_graph=True)
    first = [p.grad.numpy().copy() for p in m.parameters()]
    m.zero_grad()
    (m(2 * x)[0] ** 2).sum().backward()  # reuses pooled buffers meanwhile
    m.zero_grad()
    loss.backward()
    for a, p in zip(first, m.parameters(), strict=True):
        np.testing.assert_array_equal(a, p.grad.numpy())


def test_fused_backward_detects_weights_changed_in_place():
    m = M.GRU(I, H)
    out, _ = m(cr.randn(T, B, I))
    with cr.no_grad():
        m.weight_hh_l0.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


@pytest.mark.parametrize(
    "name, bidirectional, edit",
    [("GRU", False, "out"), ("RNN", True, "out"), ("LSTM", True, "out"), ("LSTM", False, "h_n")],
)
def test_in_place_ops_on_fused_outputs_as_torch(name, bidirectional, edit):
    # torch allows these (its unidirectional LSTM output alone refuses, an artefact of its
    # oneDNN path); the fused layer's backward must still read the states it computed
    m, tm = _twins(name, I, H, num_layers=2, bidirectional=bidirectional)
    x, tx = _both((T, B, I))
    grads = []
    for mod, inp in ((m, x), (tm, tx)):
        out, state = mod(inp)
        h_n = state[0] if name == "LSTM" else state
        if edit == "out":
            out.relu_()
        else:
            h_n.mul_(2.0)
        (out.sum() + (h_n * h_n).sum()).backward()
        grads.append([p.grad for p in mod.parameters()] + [inp.grad])
    for ours, theirs in zip(*grads, strict=True):
        _close(ours, theirs)


def test_fused_output_keeps_its_layout():
    # the handed-out copy has the strides of the view it replaces, so later products give the
    # same bits with and without grad mode (where no copy is made)
    m = M.LSTM(I, H)
    x = cr.randn(T, B, I)
    out, _ = m(x)
    with cr.no_grad():
        plain, _ = m(x)
    assert out.stride() == plain.stride()
    w = cr.randn(H, 7)
    np.testing.assert_array_equal((out @ w).detach().numpy(), (plain @ w).numpy())


def test_fused_forward_under_no_grad_matches():
    m = M.LSTM(I, H, num_layers=2)
    x = cr.randn(T, B, I)
    out, (h, c) = m(x)
    with cr.no_grad():
        out2, (h2, c2) = m(x)
    assert not out2.requires_grad and out.requires_grad
    for a, b in ((out, out2), (h, h2), (c, c2)):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---- per-step hidden states for diagnostics ----


def test_record_steps_exposes_per_step_states_with_torch_gradients():
    m, tm = _twins("LSTM", I, H)
    cell = torch.nn.LSTMCell(I, H)
    with torch.no_grad():
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, kind).copy_(getattr(tm, kind + "_l0"))
    x, tx = _both((T, B, I))
    m.record_steps = True
    out, _ = m(x)
    hs = m.last_hidden_states[0]
    assert len(m.last_hidden_states) == 1 and len(hs) == T and len(m.last_cell_states[0]) == T
    for h in hs:
        h.retain_grad()
    (out[-1] ** 2).sum().backward()  # only the last output: gradient flows back in time
    th, tc, th_list = torch.zeros(B, H), torch.zeros(B, H), []
    for t in range(T):
        th, tc = cell(tx[t], (th, tc))
        th.retain_grad()
        th_list.append(th)
    (th**2).sum().backward()
    for ours, theirs in zip(hs, th_list, strict=True):
        _close(ours, theirs)
        _close(ours.grad, theirs.grad)


def test_record_steps_off_keeps_nothing():
    m = M.GRU(I, H, num_layers=2, record_steps=False)
    m(cr.randn(T, B, I))
    assert m.last_hidden_states is None
    m.record_steps = True
    m(cr.randn(T, B, I))
    assert [len(s) for s in m.last_hidden_states] == [T, T]
    assert m.last_cell_states is None


# ---- dropout between layers ----


def test_dropout_between_layers_only_in_training():
    cr.manual_seed(0)
    m = M.LSTM(I, H, num_layers=2, dropout=0.5)
    x = cr.randn(T, B, I)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    m.train()
    cr.manual_seed(1)
    c = m(x)[0]
    cr.manual_seed(1)
    d = m(x)[0]
    np.testing.assert_array_equal(c.numpy(), d.numpy())  # reproducible under manual_seed
    assert np.abs(c.numpy() - a.numpy()).max() > 1e-3  # and different from eval mode


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="dropout"):
        M.GRU(I, H, dropout=0.3)


# ---- errors ----


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: M.LSTM(10, 20)(cr.randn(5, 3, 8)), r"LSTM\(10, 20\).*10 features.*\(5, 3, 8\)"),
        (lambda: M.GRU(4, 6)(cr.randn(5, 3, 4, 1)), r"GRU\(4, 6\).*\(seq_len, batch, input_size\)"),
        (
            lambda: M.RNN(4, 6)(cr.randn(5, 3, 4), cr.zeros(2, 3, 6)),
            r"RNN\(4, 6\).*h0.*\(1, 3, 6\).*\(2, 3, 6\)",
        ),
        (lambda: M.LSTM(4, 6)(cr.randn(5, 3, 4), cr.zeros(1, 3, 6)), r"\(h0, c0\)"),
        (lambda: M.LSTM(4, 6)(cr.randn(5, 3, 4), (cr.zeros(1, 3, 6), cr.zeros(1, 2, 6))), "c0"),
        (lambda: M.LSTMCell(4, 6)(cr.randn(3, 5)), r"LSTMCell\(4, 6\).*\(batch, 4\).*\(3, 5\)"),
        (
            lambda: M.GRUCell(4, 6)(cr.randn(3, 4), cr.zeros(2, 6)),
            r"hidden state.*\(3, 6\).*\(2, 6\)",
        ),
        (lambda: M.RNN(4, 6, nonlinearity="sigmoid"), "nonlinearity"),
        (
            lambda: M.GRU(4, 6, batch_first=True)(cr.randn(3, 0, 4)),
            r"at least one step.*\(3, 0, 4\)",
        ),
    ],
)
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_float64_module():
    m = M.GRU(I, H, dtype=cr.float64)
    out, h = m(cr.randn(T, B, I, dtype=cr.float64))
    assert out.dtype == h.dtype == np.float64


def test_public_names():
    for name in ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"):
        assert getattr(cr.nn, name) is getattr(M, name)


def test_serial_blas_runs_one_thread_and_restores_the_count():
    from chainrule.nn.functional import _blas

    if _blas._SET_LOCAL is None:
        pytest.skip("NumPy's BLAS has no openblas_set_num_threads_local (serial_blas is a no-op)")
    start = _blas._SET_LOCAL(3)  # this thread now asks for 3
    try:
        with _blas.serial_blas():
            assert _blas._SET_LOCAL(1) == 1  # inside: one thread
        assert _blas._SET_LOCAL(3) == 3  # restored after the block
        with _blas.serial_blas(enabled=False):
            assert _blas._SET_LOCAL(3) == 3  # disabled: untouched
    finally:
        _blas._SET_LOCAL(start)
