"""Recurrent cells and layers (Elman RNN, LSTM, GRU) with PyTorch's formulas and gate order.

A layer runs in three parts:

1. the input projection of every time step at once, ``x @ W_ih^T + b_ih``: one GEMM;
2. a Python loop over time, where each step does ``h @ W_hh^T + b_hh`` (one GEMM) and one fused
   cell primitive (gate nonlinearities and state update, analytic backward);
3. a stack of the per-step hidden states into the output sequence.

Every per-step hidden state is a real node of the graph, so gradient flow through time can be
observed on it (``retain_grad()``, hooks). The projected sequence is cut into per-step tensors by
repeated halving: the backward of plain per-step indexing would build one full-size gradient per
step (O(T^2)); halving keeps it O(T log T).

Gates (PyTorch's order): LSTM rows of W are [i, f, g, o]; GRU rows are [r, z, n] and
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
"""
import numpy as np

from ...autograd.engine import record
from ...ops import cat, linear, stack
from ...ops._util import as_tensor, is_array
from ...random import default_generator


# ---------------------------------------------------------------------------------------------
# helpers that accept arrays (fast backward) and Tensors (recorded backward) alike
# ---------------------------------------------------------------------------------------------

def _sigmoid(a):
    if not is_array(a):
        return a.sigmoid()
    with np.errstate(over="ignore"):     # exp(-a) = inf for a << 0 gives the right limit, 0
        return 1 / (1 + np.exp(-a))


def _tanh(a):
    return np.tanh(a) if is_array(a) else a.tanh()


def _cat(parts):
    return np.concatenate(parts, axis=-1) if is_array(parts[0]) else cat(parts, dim=-1)


def _chunks(a, n):
    size = a.shape[-1] // n
    return [a[..., k * size:(k + 1) * size] for k in range(n)]


# ---------------------------------------------------------------------------------------------
# fused cell primitives
# ---------------------------------------------------------------------------------------------

def _lstm_gates(xg, hh, c):
    """Gate activations and the new cell state, from the two projections (B, 4H) and c (B, H)."""
    a = xg + hh
    i, f, _, o = _chunks(_sigmoid(a), 4)         # one pass over all gates (g's is unused)
    g = _tanh(_chunks(a, 4)[2])
    return i, f, g, o, f * c + i * g


def _lstm_vjp(ctx, grad):
    if is_array(grad):
        i, f, g, o, tc = ctx.saved
    else:   # recorded backward: recompute from the inputs so second derivatives see them
        i, f, g, o, c_new = _lstm_gates(ctx.input(0), ctx.input(1), ctx.input(2))
        tc = _tanh(c_new)
    gh, gc = grad[0], grad[1]
    dc = gc + gh * o * (1 - tc * tc)
    da = _cat([dc * g * i * (1 - i), dc * ctx.input(2) * f * (1 - f), dc * i * (1 - g * g),
               gh * tc * o * (1 - o)])
    return (da if ctx.needs[0] else None, da if ctx.needs[1] else None,
            dc * f if ctx.needs[2] else None)


def lstm_cell_core(xg, hh, c):
    """One LSTM step from the projections: (B, 4H), (B, 4H), (B, H) -> packed (2, B, H) = [h, c]."""
    i, f, g, o, c_new = _lstm_gates(xg.data, hh.data, c.data)
    out = np.empty((2,) + c_new.shape, dtype=c_new.dtype)
    out[1] = c_new
    tc = np.tanh(c_new)
    np.multiply(o, tc, out=out[0])
    return record(out, (xg, hh, c), _lstm_vjp, "LSTMCell", saved=(i, f, g, o, tc))


def _gru_gates(xg, hh):
    two = xg.shape[-1] * 2 // 3
    r, z = _chunks(_sigmoid(xg[..., :two] + hh[..., :two]), 2)
    hn = hh[..., two:]
    return r, z, _tanh(xg[..., two:] + r * hn), hn


def _gru_vjp(ctx, grad):
    h = ctx.input(2)
    if is_array(grad):
        r, z, n, hn = ctx.saved
    else:
        r, z, n, hn = _gru_gates(ctx.input(0), ctx.input(1))
    dan = grad * (1 - z) * (1 - n * n)           # through n = tanh(a_n)
    dr = dan * hn * r * (1 - r)
    dz = grad * (h - n) * z * (1 - z)
    dxg = _cat([dr, dz, dan]) if ctx.needs[0] else None
    dhh = _cat([dr, dz, dan * r]) if ctx.needs[1] else None
    return dxg, dhh, grad * z if ctx.needs[2] else None


def gru_cell_core(xg, hh, h):
    """One GRU step from the projections: (B, 3H), (B, 3H), h (B, H) -> h' (B, H)."""
    r, z, n, hn = _gru_gates(xg.data, hh.data)
    out = n + z * (h.data - n)                   # (1 - z) * n + z * h
    return record(out, (xg, hh, h), _gru_vjp, "GRUCell", saved=(r, z, n, hn))


def _simple_step(nonlinearity):
    def step(xg, hh, h):
        a = xg + hh
        return a.tanh() if nonlinearity == "tanh" else a.relu()
    return step


# ---------------------------------------------------------------------------------------------
# cells (one time step from the raw input)
# ---------------------------------------------------------------------------------------------

def _cell_input(x, hx, hidden, op):
    x = as_tensor(x)
    if x.ndim not in (1, 2):
        raise ValueError(f"{op}: expected input of shape (batch, input_size) or (input_size,), "
                         f"got {x.shape}")
    batch = x.shape[:-1]
    if hx is None:
        return x, None, batch
    hx = as_tensor(hx)
    if hx.shape != batch + (hidden,):
        raise ValueError(f"{op}: expected hidden state of shape {batch + (hidden,)}, got {hx.shape}")
    return x, hx, batch


def _zeros(shape, like):
    from ...tensor import Tensor
    return Tensor._wrap(np.zeros(shape, dtype=like.dtype))


def rnn_cell(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, nonlinearity="tanh"):
    """Elman RNN step ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``: (B, I), (B, H) -> (B, H).

    Example::

        h = F.rnn_cell(cr.randn(4, 3), None, cr.randn(5, 3), cr.randn(5, 5))   # (4, 5)
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_cell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    x, hx, batch = _cell_input(input, hx, weight_hh.shape[1], "rnn_cell")
    hx = _zeros(batch + (weight_hh.shape[1],), x) if hx is None else hx
    return _simple_step(nonlinearity)(linear(x, weight_ih, bias_ih), linear(hx, weight_hh, bias_hh), hx)


def lstm_cell(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """LSTM step: input (B, I), ``hx = (h, c)`` each (B, H) or None -> ``(h', c')``.

    Example::

        h, c = F.lstm_cell(cr.randn(4, 3), None, cr.randn(20, 3), cr.randn(20, 5))
    """
    hidden = weight_hh.shape[1]
    h, c = (None, None) if hx is None else hx
    x, h, batch = _cell_input(input, h, hidden, "lstm_cell")
    _, c, _ = _cell_input(input, c, hidden, "lstm_cell")
    h = _zeros(batch + (hidden,), x) if h is None else h
    c = _zeros(batch + (hidden,), x) if c is None else c
    packed = lstm_cell_core(linear(x, weight_ih, bias_ih), linear(h, weight_hh, bias_hh), c)
    return packed[0], packed[1]


def gru_cell(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """GRU step: input (B, I), h (B, H) or None -> h' (B, H).

    Example::

        h = F.gru_cell(cr.randn(4, 3), None, cr.randn(15, 3), cr.randn(15, 5))   # (4, 5)
    """
    x, hx, batch = _cell_input(input, hx, weight_hh.shape[1], "gru_cell")
    hx = _zeros(batch + (weight_hh.shape[1],), x) if hx is None else hx
    return gru_cell_core(linear(x, weight_ih, bias_ih), linear(hx, weight_hh, bias_hh), hx)


# ---------------------------------------------------------------------------------------------
# layers (whole sequences)
# ---------------------------------------------------------------------------------------------

def split_steps(seq):
    """``[seq[0], ..., seq[T-1]]`` as graph nodes; halving keeps the backward O(T log T)."""
    n = seq.shape[0]
    if n <= 2:
        return [seq[t] for t in range(n)]
    return split_steps(seq[:n // 2]) + split_steps(seq[n // 2:])


def _run_direction(mode, xproj, h, c, w_hh, b_hh, reverse):
    """The time loop of one layer and direction. Returns the per-step states and the last ones."""
    steps = split_steps(xproj)
    order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
    hs, cs = [None] * len(steps), [None] * len(steps)
    for t in order:
        hh = linear(h, w_hh, b_hh)
        if mode == "LSTM":
            packed = lstm_cell_core(steps[t], hh, c)
            h, c = packed[0], packed[1]
            cs[t] = c
        elif mode == "GRU":
            h = gru_cell_core(steps[t], hh, h)
        else:
            h = _simple_step("relu" if mode == "RNN_RELU" else "tanh")(steps[t], hh, h)
        hs[t] = h
    return hs, cs, h, c


def _dropout(x, p):
    keep = default_generator().random(x.shape, dtype=np.float32) >= p
    return x * (keep.astype(x.dtype) * x.dtype.type(1 / (1 - p)))


def _check_state(state, expected, what, op):
    state = as_tensor(state)
    if state.shape != expected:
        raise ValueError(f"{op}: expected {what} of shape {expected}, got {state.shape}")
    return state


def recurrent(mode, input, hx, weights, num_layers=1, dropout=0.0, training=False,
              bidirectional=False, batch_first=False, steps=None, name=None):
    """Run a multi-layer RNN ('RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU') over a sequence.

    Shapes: input (T, B, I) ((B, T, I) with ``batch_first``; (T, I) unbatched); ``hx`` the
    initial state (L*D, B, H) (for LSTM a pair ``(h0, c0)``) or None for zeros; ``weights`` one
    tuple ``(w_ih, w_hh, b_ih, b_hh)`` per layer and direction (biases may be None), in the
    order l0, l0_reverse, l1, ... Returns ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``),
    output (T, B, D*H). When ``steps`` is a list, one dict per layer and direction is appended to
    it: ``{"h": [h_0, ..., h_{T-1}], "c": [...] or None}`` (each (B, H), graph nodes).

    Example::

        out, (h, c) = F.recurrent("LSTM", cr.randn(7, 4, 3), None,
                                  [(cr.randn(20, 3), cr.randn(20, 5), None, None)])
    """
    op = name or mode
    x = as_tensor(input)
    dirs = 2 if bidirectional else 1
    hidden = weights[0][1].shape[1]
    if x.ndim not in (2, 3):
        raise ValueError(f"{op}: expected input of shape (seq_len, batch, input_size) or "
                         f"(seq_len, input_size), got {x.shape}")
    if x.shape[-1] != weights[0][0].shape[1]:
        raise ValueError(f"{op}: expected input with {weights[0][0].shape[1]} features "
                         f"(last dim), got input of shape {tuple(x.shape)}")
    unbatched = x.ndim == 2
    if unbatched:
        x = x.unsqueeze(1)
    elif batch_first:
        x = x.transpose(0, 1)
    h0, c0 = _initial_states(mode, hx, x, num_layers * dirs, hidden, unbatched, op)
    h_last, c_last = [], []
    for layer in range(num_layers):
        if layer and dropout and training:
            x = _dropout(x, dropout)
        outs = []
        for d in range(dirs):
            k = layer * dirs + d
            w_ih, w_hh, b_ih, b_hh = weights[k]
            c = None if c0 is None else c0[k]
            hs, cs, h, c = _run_direction(mode, linear(x, w_ih, b_ih), h0[k], c, w_hh, b_hh, d == 1)
            if steps is not None:
                steps.append({"h": hs, "c": cs if mode == "LSTM" else None})
            outs.append(stack(hs))
            h_last.append(h)
            c_last.append(c)
        x = outs[0] if dirs == 1 else cat(outs, dim=2)
    return _finish(mode, x, h_last, c_last, unbatched, batch_first)


def _initial_states(mode, hx, x, n_states, hidden, unbatched, op):
    """(h0, c0) as per-layer sequences of (B, H) tensors; zeros when not given."""
    shape = (n_states, x.shape[1], hidden)
    if hx is None:
        zeros = _zeros(shape, x)
        return zeros, (zeros if mode == "LSTM" else None)
    if mode == "LSTM":
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise ValueError(f"{op}: hx must be a tuple (h0, c0)")
        h0, c0 = hx
    else:
        h0, c0 = hx, None
    expected = (n_states, hidden) if unbatched else shape
    h0 = _check_state(h0, expected, "h0", op)
    c0 = None if c0 is None else _check_state(c0, expected, "c0", op)
    if unbatched:
        h0 = h0.unsqueeze(1)
        c0 = None if c0 is None else c0.unsqueeze(1)
    return h0, c0


def _finish(mode, out, h_last, c_last, unbatched, batch_first):
    h_n = stack(h_last)
    c_n = stack(c_last) if mode == "LSTM" else None
    if unbatched:
        out, h_n = out.squeeze(1), h_n.squeeze(1)
        c_n = None if c_n is None else c_n.squeeze(1)
    elif batch_first:
        out = out.transpose(0, 1)
    return out, ((h_n, c_n) if mode == "LSTM" else h_n)
