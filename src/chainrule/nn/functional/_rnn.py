"""Recurrent cells and layers (Elman RNN, LSTM, GRU) with PyTorch's formulas and gate order.

A layer (one layer and direction of ``recurrent``) runs one of two ways:

* fused (the default): :func:`fused_layer` records the whole sequence as ONE graph node. Its
  forward loops over time on NumPy arrays; its backward is hand-written BPTT that does per step
  one GEMM and the gate derivatives, and every weight gradient as one GEMM over all T*B columns.
* per step (``steps`` given, i.e. a module with ``record_steps=True``): the input projection is
  one GEMM, then a Python loop where each step does ``h @ W_hh^T + b_hh`` and one fused cell
  primitive, so every per-step hidden state is a real node of the graph and gradient flow through
  time can be observed on it (``retain_grad()``, hooks). The projected sequence is cut into
  per-step tensors by repeated halving (plain per-step indexing would make its backward O(T^2)).

Both compute the same values (to float32 rounding). Second derivatives (``create_graph=True``)
work on both: the fused backward then rebuilds the layer step by step and differentiates that.

Gates (PyTorch's order): LSTM rows of W are [i, f, g, o]; GRU rows are [r, z, n] and
``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
"""

import threading
import weakref

import numpy as np

from ...autograd.engine import record
from ...autograd.grad_mode import is_grad_enabled
from ...backend import SERIAL_GEMM_MACS
from ...ops import cat, linear, stack
from ...ops import dispatch as d
from ...ops._util import as_tensor
from ...random import default_generator
from ._blas import serial_blas

# ---------------------------------------------------------------------------------------------
# helpers that accept arrays (fast backward) and Tensors (recorded backward) alike: the vjp
# contract of chainrule.ops.dispatch
# ---------------------------------------------------------------------------------------------

_cat = d.primitive(
    lambda *parts: np.concatenate(parts, axis=-1), lambda *parts: cat(list(parts), dim=-1)
)


def _chunks(a, n):
    size = a.shape[-1] // n
    return [a[..., k * size : (k + 1) * size] for k in range(n)]


# ---------------------------------------------------------------------------------------------
# fused cell primitives
# ---------------------------------------------------------------------------------------------


def _lstm_gates(xg, hh, c):
    """Gate activations and the new cell state, from the two projections (B, 4H) and c (B, H)."""
    a = xg + hh
    i, f, _, o = _chunks(d.sigmoid(a), 4)  # one pass over all gates (g's is unused)
    g = d.tanh(_chunks(a, 4)[2])
    return i, f, g, o, f * c + i * g


def _lstm_vjp(ctx, grad):
    if d.is_recorded(grad):  # recorded backward: recompute from the inputs so that second
        i, f, g, o, c_new = _lstm_gates(ctx.input(0), ctx.input(1), ctx.input(2))  # derivatives
        tc = d.tanh(c_new)  # see them
    else:
        i, f, g, o, tc = ctx.saved
    gh, gc = grad[0], grad[1]
    dc = gc + gh * o * (1 - tc * tc)
    da = _cat(
        dc * g * i * (1 - i),
        dc * ctx.input(2) * f * (1 - f),
        dc * i * (1 - g * g),
        gh * tc * o * (1 - o),
    )
    return (
        da if ctx.needs[0] else None,
        da if ctx.needs[1] else None,
        dc * f if ctx.needs[2] else None,
    )


def lstm_cell_core(xg, hh, c):
    """One LSTM step from the projections: (B, 4H), (B, 4H), (B, H) -> packed (2, B, H) = [h, c]."""
    i, f, g, o, c_new = _lstm_gates(xg._data, hh._data, c._data)
    out = np.empty((2,) + c_new.shape, dtype=c_new.dtype)
    out[1] = c_new
    tc = np.tanh(c_new)
    np.multiply(o, tc, out=out[0])
    return record(out, (xg, hh, c), _lstm_vjp, "LSTMCell", saved=(i, f, g, o, tc))


def _gru_gates(xg, hh):
    two = xg.shape[-1] * 2 // 3
    r, z = _chunks(d.sigmoid(xg[..., :two] + hh[..., :two]), 2)
    hn = hh[..., two:]
    return r, z, d.tanh(xg[..., two:] + r * hn), hn


def _gru_vjp(ctx, grad):
    h = ctx.input(2)
    if d.is_recorded(grad):  # recorded backward: recomputed, as in _lstm_vjp
        r, z, n, hn = _gru_gates(ctx.input(0), ctx.input(1))
    else:
        r, z, n, hn = ctx.saved
    dan = grad * (1 - z) * (1 - n * n)  # through n = tanh(a_n)
    dr = dan * hn * r * (1 - r)
    dz = grad * (h - n) * z * (1 - z)
    dxg = _cat(dr, dz, dan) if ctx.needs[0] else None
    dhh = _cat(dr, dz, dan * r) if ctx.needs[1] else None
    return dxg, dhh, grad * z if ctx.needs[2] else None


def gru_cell_core(xg, hh, h):
    """One GRU step from the projections: (B, 3H), (B, 3H), h (B, H) -> h' (B, H)."""
    r, z, n, hn = _gru_gates(xg._data, hh._data)
    out = n + z * (h._data - n)  # (1 - z) * n + z * h
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
        raise ValueError(
            f"{op}: expected input of shape (batch, input_size) or (input_size,), got {x.shape}"
        )
    batch = x.shape[:-1]
    if hx is None:
        return x, None, batch
    hx = as_tensor(hx)
    if hx.shape != batch + (hidden,):
        raise ValueError(
            f"{op}: expected hidden state of shape {batch + (hidden,)}, got {hx.shape}"
        )
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
    return _simple_step(nonlinearity)(
        linear(x, weight_ih, bias_ih), linear(hx, weight_hh, bias_hh), hx
    )


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
# fused layers: a whole sequence (one layer, one direction) as one graph node
# ---------------------------------------------------------------------------------------------
#
# The forward loops over time on arrays, keeping what backward needs in preallocated arrays; the
# backward is a hand-written BPTT loop doing per step one GEMM and the gate derivatives, then the
# weight and bias gradients as ONE GEMM over all T*B columns (for small layers a few, see
# _step_chunks).
#
# Layout: feature-major. A step's state is h^T (H, B) and its gates (G*H, B), so every gate block
# is a contiguous array (NumPy runs it as one flat loop; (B, G*H) column slices cost a loop per
# row). ``hs`` (T + 2, H, B) holds h_t^T at row t + 1, h0 in the row before the first step (0
# forward, T + 1 reverse) and c_T (LSTM) in the row after the last one, so the packed output
# (hidden states in time order, then/before c_T) is one transposed view of it. dL/d(gates) goes
# into the (G*H, T*B) operand of the weight-gradient GEMM: LSTM writes each step's (4H, B) block
# there directly (strided rows of B: one multiply a step, cheaper than a transposing copy of it
# all); GRU and the plain RNN, which write several pieces a step, use (T, G*H, B) and one
# transposing copy after the loop.
#
# Big scratch arrays come from a small pool (``_SCRATCH``) and go back to it when no longer
# needed: fresh multi-MB arrays cost page faults comparable to the arithmetic.
#
# Sigmoid gates: sigmoid(a) = 1 / (1 + exp(-a)) with the -1 folded into the weights, so a step
# computes exp, +1 and a reciprocal on the sigmoid rows: NumPy's float32 exp costs about half of
# its tanh on this machine (one tanh over all gates, with sigmoid = (1 + tanh(a / 2)) / 2,
# measured 20-25 % slower per step). LSTM's tanh gate joins that pass as 2 sigmoid(2 a) - 1 (its
# rows scaled by -2): one exp over all 4H rows and two cheap ops beat a separate tanh by about
# 8 us a step (h128, batch 32).

_LAYER_NAMES = {"RNN_TANH": "RNNTanh", "RNN_RELU": "RNNReLU", "LSTM": "LSTM", "GRU": "GRU"}
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_SLOTS = ("x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0")


class _Scratch:
    """Freed scratch arrays, handed out again for the same shape and dtype.

    A multi-MB array fresh from the allocator is returned to the OS when freed, and the next one
    page-faults on first touch: for these loops that costs about as much as the arithmetic.
    """

    def __init__(self, max_bytes):
        self.arrays, self.max_bytes, self.lock = [], max_bytes, threading.Lock()

    def take(self, shape, dtype):
        with self.lock:
            for k in range(len(self.arrays) - 1, -1, -1):
                a = self.arrays[k]
                if a.shape == shape and a.dtype == dtype:
                    return self.arrays.pop(k)
        return np.empty(shape, dtype=dtype)

    def give(self, arrays):
        with self.lock:
            self.arrays.extend(arrays)
            total = sum(a.nbytes for a in self.arrays)
            while total > self.max_bytes:  # the oldest go first
                total -= self.arrays.pop(0).nbytes


_SCRATCH = _Scratch(64 << 20)


_SERIAL_GEMM = 1 << 18  # OpenBLAS keeps products up to about this many multiply-adds serial
# A time step's product runs on one BLAS thread up to the library's one threshold (backend.gemm).
# It was 4M; on an idle 2-core machine the LSTM case's 2M-multiply-add steps ran 52 us on two
# threads against 77 us on one, and the whole training step 22.8 ms against 30.4 ms.
_SERIAL_STEP = SERIAL_GEMM_MACS


def _step_chunks(n_cols, step_cols, per_step):
    """Column slices (whole time steps of ``step_cols`` columns) that split a product of
    ``per_step`` multiply-adds per step into parts below _SERIAL_GEMM; one slice if a single step
    is already above it. Bigger products go to OpenBLAS's worker threads, which on a busy machine
    can stall for milliseconds per call: worth it for big layers, not for small ones (the
    per-step path only ever made small products)."""
    if per_step > _SERIAL_GEMM or per_step == 0:
        return [slice(None)]
    width = _SERIAL_GEMM // per_step * step_cols
    return [slice(lo, lo + width) for lo in range(0, n_cols, width)]


def _products_nt(a, b, step_cols):
    """``a @ b.T`` for a (M, N), b (K, N) as a sum over :func:`_step_chunks` of the N columns."""
    chunks = _step_chunks(a.shape[1], step_cols, len(a) * len(b) * step_cols)
    out = a[:, chunks[0]] @ b[:, chunks[0]].T
    for c in chunks[1:]:
        out += a[:, c] @ b[:, c].T
    return out


def _gate_scale(mode, hidden, dtype):
    """(G, 1): -1 on the rows of sigmoid gates (computed as 1 / (1 + exp(a)) from the negated
    pre-activation a), 1 elsewhere; for LSTM -2 on its tanh gate g, computed from the same
    exp pass as tanh(a) = 2 sigmoid(2 a) - 1."""
    scale = np.ones((_GATES[mode] * hidden, 1), dtype=dtype)
    sigmoid = {"LSTM": (0, 1, 2, 3), "GRU": (0, 1)}.get(mode, ())  # [i, f, g, o], [r, z, n]
    for k in sigmoid:
        scale[k * hidden : (k + 1) * hidden] = -1
    if mode == "LSTM":
        scale[2 * hidden : 3 * hidden] = -2
    return scale


def _sigmoid_of_negated(a):
    """sigmoid(-a) in place: 1 / (1 + exp(a)). NumPy's float32 exp is about twice as fast as
    its tanh here (2 cores, AVX2), so this beats (1 + tanh(x / 2)) / 2 on the gate rows; exp
    overflowing to inf for a > 88 gives the right limit 0 (callers silence the warning)."""
    np.exp(a, out=a)
    a += 1
    np.reciprocal(a, out=a)


class _FusedRun:
    """One fused forward pass (one layer and direction) and the arrays its backward reads."""

    observer = None  # callback(t, dh) of observe_time_gradients

    def __init__(self, mode, x, w_ih, w_hh, b_ih, b_hh, reverse):
        n_steps, batch, n_in = x.shape
        hidden = w_hh.shape[1]
        self.mode, self.reverse, self.hidden, self.x_shape = mode, reverse, hidden, x.shape
        self.dtype = dtype = np.result_type(x, w_ih, w_hh)
        self.w_ih = w_ih  # for dL/dx
        self.scale = _gate_scale(mode, hidden, dtype)
        # one (G, H) @ (H, B) product per step: on OpenBLAS 0.3.2x about 10 % faster than one
        # product per gate block (measured in the LSTM loop, h128 batch 32)
        self.w_fwd = (w_hh * self.scale).astype(dtype, copy=False)
        self.w_back = np.ascontiguousarray(w_hh.T, dtype=dtype)  # (H, G): dh = W^T e
        self.scratch = []  # pooled arrays, given back when this run is freed
        weakref.finalize(self, _SCRATCH.give, self.scratch)
        # rows [h_{t-1}; x_t; 1] of every step: operand of the input projection (rows H:) now
        # and of the weight-gradient GEMM (all rows) in backward, which fills rows :H
        self.operand = self.take((hidden + n_in + 1, n_steps, batch))
        self.operand[hidden:-1] = x.transpose(2, 0, 1)
        self.operand[-1] = 1
        self.pre = self._input_part(b_ih, b_hh)
        self.b_hn = None
        if mode == "GRU":  # b_hn stays inside r * (W_hn h + b_hn): added per step
            b_hn = b_hh[2 * hidden :] if b_hh is not None else np.zeros(hidden, dtype)
            self.b_hn = b_hn.astype(dtype)[:, None]
        self.hs = np.empty((n_steps + 2, hidden, batch), dtype=dtype)
        self.steps = range(n_steps - 1, -1, -1) if reverse else range(n_steps)
        # per-step products this small run on one BLAS thread (see _blas.serial_blas)
        self.serial = _GATES[mode] * hidden * hidden * batch <= _SERIAL_STEP
        self.back = 1 if reverse else -1  # h_{t-1} (in processing order) is row t + 1 + back

    def take(self, shape, keep=True):
        """A scratch array from the pool; ``keep``: it goes back only when this run is freed."""
        a = _SCRATCH.take(shape, self.dtype)
        if keep:
            self.scratch.append(a)
        return a

    def _input_part(self, b_ih, b_hh):
        """Scaled pre-activations (T, G, B) from the input and the constant biases: one batched
        GEMM against the operand rows [x_t; 1], the biases being the weights' last column."""
        n_steps, batch, n_in = self.x_shape
        weights = np.zeros((len(self.w_ih), n_in + 1), dtype=self.dtype)
        weights[:, :-1] = self.w_ih
        if b_ih is not None:
            weights[:, -1] = b_ih
        if b_hh is not None:  # GRU's b_hn is added per step, inside r * (...)
            n_const = 2 * self.hidden if self.mode == "GRU" else len(b_hh)
            weights[:n_const, -1] += b_hh[:n_const]
        weights *= self.scale
        pre = self.take((n_steps, len(self.w_ih), batch), keep=False)
        with serial_blas(len(weights) * (n_in + 1) * batch <= _SERIAL_STEP):  # T products
            np.matmul(weights, self.operand[self.hidden :].transpose(1, 0, 2), out=pre)
        return pre

    def forward(self, h0, c0):
        """Run the recurrence; the packed output (T, B, H), for LSTM (T + 1, B, H) with c_T."""
        self.hs[self.steps[0] + 1 + self.back] = h0.T
        with np.errstate(over="ignore"), serial_blas(self.serial):  # exp(a) -> inf: sigmoid's 0
            if self.mode == "LSTM":
                _lstm_forward(self, c0)
            elif self.mode == "GRU":
                _gru_forward(self)
            else:
                _simple_forward(self)
        _SCRATCH.give([self.pre])  # backward does not need it
        del self.pre
        n, out = len(self.steps), self.hs.transpose(0, 2, 1)
        if self.mode != "LSTM":
            return out[1 : n + 1]
        return out[0 : n + 1] if self.reverse else out[1 : n + 2]

    def unpack(self, packed):
        """(hidden states (T, B, H), h_T, c_T or None) of the packed output (Tensor or array)."""
        n, lo = len(self.steps), self.first_row()
        c_n = packed[n if not self.reverse else 0] if self.mode == "LSTM" else None
        return packed[lo : lo + n], packed[lo + self.steps[-1]], c_n

    def first_row(self):
        return 1 if self.mode == "LSTM" and self.reverse else 0

    def gate_major(self, e):
        """(T, G, B) -> (G, T, B), the GEMM operand layout (e goes back to the pool)."""
        out = self.take((e.shape[1], e.shape[0], e.shape[2]), keep=False)
        np.copyto(out, e.transpose(1, 0, 2))
        _SCRATCH.give([e])
        return out

    def full_operand(self):
        """The operand rows [h_{t-1}; x_t; 1] of every step in time order, as (H + I + 1, T * B)."""
        start, n = 1 + self.back, len(self.steps)
        np.copyto(self.operand[: self.hidden], self.hs[start : start + n].transpose(1, 0, 2))
        return self.operand.reshape(len(self.operand), -1)


def _lstm_forward(run, c0):
    pre, hs, back, n_h = run.pre, run.hs, run.back, run.hidden
    s2, s3 = 2 * n_h, 3 * n_h
    run.gates = gates = run.take(pre.shape)
    run.cs = cs = run.take(hs.shape)
    run.tanh_c = tanh_c = run.take((len(pre),) + hs.shape[1:])
    cs[run.steps[0] + 1 + back] = c0.T
    tmp = np.empty_like(hs[0])
    w = run.w_fwd
    for t in run.steps:
        a = gates[t]
        np.matmul(w, hs[t + 1 + back], out=a)
        a += pre[t]
        # one exp pass over all four gates (rows pre-scaled by -1, g's by -2): i, f, o =
        # sigmoid(...), and sigmoid(2 a_g), of which g = tanh(a_g) = 2 sigmoid(2 a_g) - 1
        _sigmoid_of_negated(a)
        i, f, g, o = a[:n_h], a[n_h:s2], a[s2:s3], a[s3:]
        g *= 2
        g -= 1
        c = cs[t + 1]
        np.multiply(f, cs[t + 1 + back], out=c)  # f * c_{t-1}
        np.multiply(i, g, out=tmp)  # + i * g
        c += tmp
        tc = tanh_c[t]
        np.tanh(c, out=tc)
        np.multiply(o, tc, out=hs[t + 1])  # h = o * tanh(c)
    last = run.steps[-1] + 1
    hs[last - back] = cs[last]  # c_T beside the h's


def _nonzero_steps(gh):
    """Per time step: whether any gradient reaches its hidden state from outside the layer (a
    model that reads only the last state gives zeros elsewhere: those adds are skipped)."""
    return gh.reshape(len(gh), -1).any(axis=1).tolist()


def _lstm_backward(run, gh, dc, need_h0):
    """BPTT. gh (T, B, H): gradients of the hidden states; dc (H, B): of c_T (updated in place).
    Returns dL/d(pre-activations) gate-major (4H, T, B) and dL/dh0^T, dL/dc0^T."""
    gates, hs, cs, tanh_c, back, n_h = run.gates, run.hs, run.cs, run.tanh_c, run.back, run.hidden
    s2, s3 = 2 * n_h, 3 * n_h
    # e is written gate-major, the layout of the weight-gradient GEMM: a step's (4H, B) block is
    # strided (rows of B), which costs the per-step product nothing and saves a copy of all of e
    e = run.take((gates.shape[1], gates.shape[0], gates.shape[2]), keep=False)
    dh, tmp = np.zeros_like(dc), np.empty_like(dc)
    q, der = np.empty_like(gates[0]), np.empty_like(gates[0])
    q_i, q_f, q_g, q_o = q[:n_h], q[n_h:s2], q[s2:s3], q[s3:]
    der_g = der[s2:s3]
    w, first, outside = run.w_back, run.steps[0], _nonzero_steps(gh)
    for t in reversed(run.steps):
        if outside[t]:
            dh += gh[t].T
        if run.observer is not None:
            run.observer(t, dh)
        a, tc = gates[t], tanh_c[t]
        i, f, g, o = a[:n_h], a[n_h:s2], a[s2:s3], a[s3:]
        np.multiply(hs[t + 1], tc, out=tmp)  # o * tanh(c)^2
        np.subtract(o, tmp, out=tmp)
        tmp *= dh
        dc += tmp  # dc += dh * o * (1 - tanh(c)^2)
        np.multiply(dc, g, out=q_i)  # dL/di, dL/df, dL/dg, dL/do
        np.multiply(dc, cs[t + 1 + back], out=q_f)
        np.multiply(dc, i, out=q_g)
        np.multiply(dh, tc, out=q_o)
        np.subtract(1, a, out=der)  # sigmoid' = s (1 - s) on all rows, then g's: 1 - g^2
        der *= a
        np.multiply(g, g, out=der_g)
        np.subtract(1, der_g, out=der_g)
        e_t = e[:, t]
        np.multiply(q, der, out=e_t)
        dc *= f
        if t != first or need_h0:
            np.matmul(w, e_t, out=dh)
    return e, e, dh, dc


def _gru_forward(run):
    pre, hs, back, n_h = run.pre, run.hs, run.back, run.hidden
    s2 = 2 * n_h
    run.gates = gates = run.take(pre.shape)
    run.hn = hns = run.take((len(pre),) + hs.shape[1:])
    for t in run.steps:
        a = gates[t]
        np.matmul(run.w_fwd, hs[t + 1 + back], out=a)
        np.add(a[s2:], run.b_hn, out=hns[t])  # W_hn h + b_hn
        rz = a[:s2]
        rz += pre[t, :s2]
        _sigmoid_of_negated(rz)  # r, z = sigmoid(...)
        n = a[s2:]
        np.multiply(a[:n_h], hns[t], out=n)
        n += pre[t, s2:]
        np.tanh(n, out=n)  # n = tanh(W_in x + b_in + r * hn)
        h = hs[t + 1]
        np.subtract(hs[t + 1 + back], n, out=h)
        h *= a[n_h:s2]
        h += n  # h = n + z * (h_{t-1} - n)


def _gru_backward(run, gh, need_h0):
    """BPTT. Returns dL/d(input pre-activations) and dL/d(hidden pre-activations), each
    (T, 3H, B) (they differ in the n block: dL/da_n vs r * dL/da_n), and dL/dh0^T."""
    gates, hs, hns, back, n_h = run.gates, run.hs, run.hn, run.back, run.hidden
    s2 = 2 * n_h
    ex, eh = run.take(gates.shape, keep=False), run.take(gates.shape, keep=False)
    dh, tmp = np.zeros_like(hs[0]), np.empty_like(hs[0])
    q, der = np.empty_like(gates[0, :s2]), np.empty_like(gates[0, :s2])
    outside = _nonzero_steps(gh)
    for t in reversed(run.steps):
        if outside[t]:
            dh += gh[t].T
        if run.observer is not None:
            run.observer(t, dh)
        a = gates[t]
        r, z, n = a[:n_h], a[n_h:s2], a[s2:]
        np.multiply(n, n, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= dh
        dan = ex[t, s2:]
        np.subtract(1, z, out=dan)
        dan *= tmp  # dL/da_n = dh (1 - z) (1 - n^2)
        np.multiply(dan, hns[t], out=q[:n_h])  # dL/dr
        np.subtract(hs[t + 1 + back], n, out=q[n_h:])
        q[n_h:] *= dh  # dL/dz
        np.subtract(1, a[:s2], out=der)
        der *= a[:s2]
        np.multiply(q, der, out=ex[t, :s2])
        eh[t, :s2] = ex[t, :s2]
        np.multiply(dan, r, out=eh[t, s2:])
        if t != run.steps[0] or need_h0:
            np.multiply(dh, z, out=tmp)
            np.matmul(run.w_back, eh[t], out=dh)
            dh += tmp
    return run.gate_major(ex), run.gate_major(eh), dh, None


def _simple_forward(run):
    pre, hs, back = run.pre, run.hs, run.back
    for t in run.steps:
        h = hs[t + 1]
        np.matmul(run.w_fwd, hs[t + 1 + back], out=h)
        h += pre[t]
        if run.mode == "RNN_TANH":
            np.tanh(h, out=h)
        else:
            np.maximum(h, 0, out=h)


def _simple_backward(run, gh, need_h0):
    hs = run.hs
    e = run.take((len(gh),) + hs.shape[1:], keep=False)
    dh, tmp = np.zeros_like(hs[0]), np.empty_like(hs[0])
    outside = _nonzero_steps(gh)
    for t in reversed(run.steps):
        if outside[t]:
            dh += gh[t].T
        if run.observer is not None:
            run.observer(t, dh)
        h = hs[t + 1]
        if run.mode == "RNN_TANH":
            np.multiply(h, h, out=tmp)
            np.subtract(1, tmp, out=tmp)
            np.multiply(tmp, dh, out=e[t])  # dh * (1 - h^2)
        else:
            np.multiply(dh, h > 0, out=e[t])
        if t != run.steps[0] or need_h0:
            np.matmul(run.w_back, e[t], out=dh)
    e = run.gate_major(e)
    return e, e, dh, None


def _fused_vjp(ctx, grad):
    if d.is_recorded(grad):  # create_graph=True: differentiable backward, step by step
        return _recorded_fused_vjp(ctx, grad)
    run = ctx.saved
    need = dict(zip(run.slots, ctx.needs, strict=True))
    n, lo = len(run.steps), run.first_row()
    gh = grad[lo : lo + n]
    with serial_blas(run.serial):
        if run.mode == "LSTM":
            gc = np.array(grad[n if not run.reverse else 0].T, dtype=run.dtype, order="C")
            ex, eh, dh0, dc0 = _lstm_backward(run, gh, gc, need["h0"])
        elif run.mode == "GRU":
            ex, eh, dh0, dc0 = _gru_backward(run, gh, need["h0"])
        else:
            ex, eh, dh0, dc0 = _simple_backward(run, gh, need["h0"])
    ex, eh = ex.reshape(len(ex), -1), (None if eh is ex else eh.reshape(len(eh), -1))
    grads = _weight_grads(run, ex, eh, need)
    _SCRATCH.give([ex.base] if eh is None else [ex.base, eh.base])
    grads.update(h0=dh0.T, c0=None if dc0 is None else dc0.T)
    return tuple(grads[s] if need[s] else None for s in need)


def _weight_grads(run, ex, eh, need):
    """Gradients of x, weights and biases from dL/d(pre-activations) ex (G, T * B) (and eh, for
    GRU the different one of the hidden side): GEMMs against the operand rows [h_{t-1}; x_t; 1]."""
    _, batch, n_in = run.x_shape
    n_h, out = run.hidden, dict.fromkeys(_SLOTS)
    if need["x"]:  # dL/dx = ex^T W_ih
        dx = np.empty((ex.shape[1], n_in), dtype=run.dtype)
        for c in _step_chunks(len(dx), batch, len(ex) * n_in * batch):
            np.matmul(ex[:, c].T, run.w_ih, out=dx[c])
        out["x"] = dx.reshape(run.x_shape)
    if not any(need.get(k) for k in ("w_ih", "w_hh", "b_ih", "b_hh")):
        return out  # frozen layer
    operand = run.full_operand()
    if eh is None:  # one GEMM: [dW_hh | dW_ih | db] (G, H + I + 1)
        d_ih = _products_nt(ex, operand, batch)
        d_hh, db_hh, d_ih = d_ih[:, :n_h], d_ih[:, -1], d_ih[:, n_h:]
    else:
        d_hh, db_hh = _products_nt(eh, operand[:n_h], batch), eh.sum(axis=1)
        d_ih = _products_nt(ex, operand[n_h:], batch)
    out["w_hh"], out["b_hh"] = np.ascontiguousarray(d_hh), np.ascontiguousarray(db_hh)
    out["w_ih"] = np.ascontiguousarray(d_ih[:, :n_in])
    out["b_ih"] = np.ascontiguousarray(d_ih[:, -1])
    return out


def _recorded_fused_vjp(ctx, grad):
    """Backward with ``create_graph=True``: the fused BPTT is plain NumPy and cannot be recorded,
    so the layer is rebuilt from its inputs through the per-step path (cells with differentiable
    backward) and differentiated; the gradients then carry their own graph."""
    from ...autograd.engine import backward

    run = ctx.saved
    args = dict(zip(run.slots, ctx.inputs, strict=True))
    xproj = linear(args["x"], args["w_ih"], args.get("b_ih"))
    hs, _, _, c = _run_direction(
        run.mode, xproj, args["h0"], args.get("c0"), args["w_hh"], args.get("b_hh"), run.reverse
    )
    if run.mode == "LSTM":
        hs = [c] + hs if run.reverse else hs + [c]
    wanted = list(
        {id(t): t for t, need in zip(ctx.inputs, ctx.needs, strict=True) if need}.values()
    )
    grads = backward(
        [stack(hs)], [grad], retain_graph=True, create_graph=True, inputs=wanted, allow_unused=True
    )
    by_id = dict(zip(map(id, wanted), grads, strict=True))
    # a tensor passed in two slots gets its whole gradient once
    return tuple(
        by_id.pop(id(t), None) if need else None
        for t, need in zip(ctx.inputs, ctx.needs, strict=True)
    )


_OBSERVER = threading.local()


def observe_time_gradients(callback):
    """Report gradients through time of the next fused layer, read only (for diagnostics).

    The first forward-direction :func:`fused_layer` run on this thread after the call takes
    ``callback`` (one shot; ``None`` withdraws it) and, during its backward, calls
    ``callback(t, dh)`` for each step t = T-1, ..., 0, where ``dh`` (H, B) is dL/dh_t
    transposed: the whole gradient reaching the hidden state h_t, from the output at t and
    through time. ``dh`` is the backward's own buffer: read it, never write it. This lets
    ``GradientMonitor`` measure ||dL/dh_t|| with the layer staying fused.

    Example::

        norms = {}
        observe_time_gradients(lambda t, dh: norms.__setitem__(t, float(np.vdot(dh, dh))))
        out, _ = lstm(x)
        out.sum().backward()  # norms[t] = ||dL/dh_t||^2
    """
    _OBSERVER.callback = callback


def fused_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """One layer and direction over a whole sequence as ONE graph node (fast; no per-step nodes).

    Shapes: x (T, B, I); h0, c0 (B, H) (c0 only for LSTM, else None); weights and biases as in
    :func:`recurrent`. Returns ``(hidden states (T, B, H), h_T (B, H), c_T (B, H) or None)``; in
    reverse the sequence runs from t = T - 1 down to 0 and h_T is the state at t = 0. The
    backward is hand-written BPTT; with ``create_graph=True`` it is recomputed step by step so
    that second derivatives work.

    Example::

        hs, h_n, c_n = F.fused_layer("LSTM", cr.randn(7, 4, 3), cr.zeros(4, 5), cr.zeros(4, 5),
                                     cr.randn(20, 3), cr.randn(20, 5))
    """
    tensors = dict(zip(_SLOTS, (x, w_ih, w_hh, b_ih, b_hh, h0, c0), strict=True))
    tensors = {k: as_tensor(t) for k, t in tensors.items() if t is not None}
    data = {k: t._data for k, t in tensors.items()}
    run = _FusedRun(
        mode, data["x"], data["w_ih"], data["w_hh"], data.get("b_ih"), data.get("b_hh"), reverse
    )
    run.slots = tuple(tensors)
    if not reverse:  # (see observe_time_gradients)
        run.observer, _OBSERVER.callback = getattr(_OBSERVER, "callback", None), None
    out = run.forward(data["h0"], data.get("c0"))
    if is_grad_enabled() and any(t.requires_grad for t in tensors.values()):
        # The output is a view of run.hs, which backward reads. Hand out a copy so that an
        # in-place op on it (or on h_n, c_n) cannot change what backward reads, as torch allows
        # such ops. order="K" keeps the view's strides, so later products run the same BLAS
        # calls and give the same bits as on the view.
        out = out.copy(order="K")
    packed = record(
        out, tuple(tensors.values()), _fused_vjp, _LAYER_NAMES[mode], saved=run, save_output=False
    )
    return run.unpack(packed)


# ---------------------------------------------------------------------------------------------
# layers (whole sequences)
# ---------------------------------------------------------------------------------------------


def split_steps(seq):
    """``[seq[0], ..., seq[T-1]]`` as graph nodes; halving keeps the backward O(T log T)."""
    n = seq.shape[0]
    if n <= 2:
        return [seq[t] for t in range(n)]
    return split_steps(seq[: n // 2]) + split_steps(seq[n // 2 :])


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


def recurrent(
    mode,
    input,
    hx,
    weights,
    num_layers=1,
    dropout=0.0,
    training=False,
    bidirectional=False,
    batch_first=False,
    steps=None,
    name=None,
):
    """Run a multi-layer RNN ('RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU') over a sequence.

    Shapes: input (T, B, I) ((B, T, I) with ``batch_first``; (T, I) unbatched); ``hx`` the
    initial state (L*D, B, H) (for LSTM a pair ``(h0, c0)``) or None for zeros; ``weights`` one
    tuple ``(w_ih, w_hh, b_ih, b_hh)`` per layer and direction (biases may be None), in the
    order l0, l0_reverse, l1, ... Returns ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``),
    output (T, B, D*H). Each layer and direction is one fused graph node (:func:`fused_layer`),
    unless ``steps`` is a list: then the layers run step by step and one dict per layer and
    direction is appended to it: ``{"h": [h_0, ..., h_{T-1}], "c": [...] or None}`` (each
    (B, H), graph nodes).

    Example::

        out, (h, c) = F.recurrent("LSTM", cr.randn(7, 4, 3), None,
                                  [(cr.randn(20, 3), cr.randn(20, 5), None, None)])
    """
    op = name or mode
    x = as_tensor(input)
    dirs = 2 if bidirectional else 1
    hidden = weights[0][1].shape[1]
    if x.ndim not in (2, 3):
        raise ValueError(
            f"{op}: expected input of shape (seq_len, batch, input_size) or "
            f"(seq_len, input_size), got {x.shape}"
        )
    if x.shape[-1] != weights[0][0].shape[1]:
        raise ValueError(
            f"{op}: expected input with {weights[0][0].shape[1]} features "
            f"(last dim), got input of shape {tuple(x.shape)}"
        )
    if x.shape[1 if batch_first and x.ndim == 3 else 0] == 0:
        raise ValueError(
            f"{op}: expected a sequence of at least one step, got input of shape {tuple(x.shape)}"
        )
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
        for direction in range(dirs):
            k = layer * dirs + direction
            w_ih, w_hh, b_ih, b_hh = weights[k]
            c = None if c0 is None else c0[k]
            if steps is None:
                seq, h, c = fused_layer(mode, x, h0[k], c, w_ih, w_hh, b_ih, b_hh, direction == 1)
            else:
                hs, cs, h, c = _run_direction(
                    mode, linear(x, w_ih, b_ih), h0[k], c, w_hh, b_hh, direction == 1
                )
                steps.append({"h": hs, "c": cs if mode == "LSTM" else None})
                seq = stack(hs)
            outs.append(seq)
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
