"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells (PyTorch's API).

By default each layer and direction runs as one fused graph node over the whole sequence (see
``nn.functional._rnn``): fast, but its per-step hidden states are not graph nodes.

Per-step hidden states for gradient-flow diagnostics: set ``record_steps = True`` on an RNN, LSTM
or GRU (or pass ``record_steps=True``) and the layer runs step by step instead (slower; the
GradientMonitor does this during the steps it records). Each forward then stores
``last_hidden_states``, a list with one entry per layer and direction (index
``layer * num_directions + direction``), each the list of the T per-step hidden states h_t (B, H)
in time order (also for the reverse direction). They are nodes of the graph: call
``retain_grad()`` on them (or register hooks) before ``backward()`` to see dL/dh_t at every step.
LSTMs also store ``last_cell_states`` the same way. With ``record_steps = False`` (default)
nothing is kept.
"""

import math
import warnings

import numpy as np

from ...creation import empty, tensor, zeros
from ...devices import check_device
from ...ops import cat
from .. import init
from ..functional import _rnn as R
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, _pack, pad_packed_sequence


class RNNBase(Module):
    """Shared parts of RNN, LSTM and GRU: parameters ``weight_ih_l{k}[_reverse]`` and friends."""

    def __init__(
        self,
        mode,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        record_steps=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        name = type(self).__name__
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size is not supported")
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        if hidden_size < 1 or num_layers < 1:
            raise ValueError(
                f"{name}: hidden_size and num_layers must be positive, got "
                f"{hidden_size} and {num_layers}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout={dropout} has no effect with num_layers=1 (it acts "
                "between layers)",
                stacklevel=2,
            )
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = (
            int(num_layers),
            bool(bias),
            bool(batch_first),
        )
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bool(bidirectional), 0
        self.record_steps = record_steps
        self.last_hidden_states = self.last_cell_states = None
        gates = R._GATES[mode] * hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for d in range(2 if bidirectional else 1):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                n_in = input_size if layer == 0 else hidden_size * (2 if bidirectional else 1)
                shapes = [("weight_ih", (gates, n_in)), ("weight_hh", (gates, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                for kind, shape in shapes:
                    setattr(self, kind + suffix, Parameter(empty(*shape, dtype=dtype)))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default: every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """No-op (PyTorch compacts cuDNN weights here)."""

    @property
    def all_weights(self):
        """Per layer and direction, ``[weight_ih, weight_hh, bias_ih, bias_hh]`` (no biases if bias=False)."""
        per = 4 if self.bias else 2
        ws = [getattr(self, n) for n in self._flat_weights_names]
        return [ws[i : i + per] for i in range(0, len(ws), per)]

    def _weights(self):
        return [tuple(ws) + (None, None) if len(ws) == 2 else tuple(ws) for ws in self.all_weights]

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        steps = [] if self.record_steps else None
        out = R.recurrent(
            self.mode,
            input,
            hx,
            self._weights(),
            self.num_layers,
            self.dropout,
            self.training,
            self.bidirectional,
            self.batch_first,
            steps,
            name=f"{self._get_name()}({self.extra_repr()})",
        )
        if steps is not None:
            self.last_hidden_states = [s["h"] for s in steps]
            self.last_cell_states = [s["c"] for s in steps] if self.mode == "LSTM" else None
        return out

    def _forward_packed(self, packed, hx):
        """A PackedSequence: the sequences of each length run together as one plain batch (so a
        reverse direction starts at each sequence's true end); results go back in batch order."""
        padded, lengths = pad_packed_sequence(packed)  # (T, B, *), original order
        lens = lengths.numpy()
        steps = padded.shape[0]
        outs, h_parts, c_parts, order = [], [], [], []
        for length in sorted(set(lens.tolist()), reverse=True):
            idx = np.nonzero(lens == length)[0]
            rows = tensor(idx)
            h_g = None
            if hx is not None:
                h_g = (
                    tuple(h.index_select(1, rows) for h in hx)
                    if self.mode == "LSTM"
                    else hx.index_select(1, rows)
                )
            out, h = R.recurrent(
                self.mode,
                padded[:length].index_select(1, rows),
                h_g,
                self._weights(),
                self.num_layers,
                self.dropout,
                self.training,
                self.bidirectional,
                False,
                None,
                name=f"{self._get_name()}({self.extra_repr()})",
            )
            if length < steps:
                out = cat([out, zeros(steps - length, *out.shape[1:], dtype=out.dtype)], 0)
            outs.append(out)
            h_parts.append(h[0] if self.mode == "LSTM" else h)
            c_parts.append(h[1] if self.mode == "LSTM" else None)
            order.append(idx)
        back = tensor(np.argsort(np.concatenate(order)))
        out = cat(outs, 1).index_select(1, back)
        h_n = cat(h_parts, 1).index_select(1, back)
        sorting = None if packed.sorted_indices is None else packed.sorted_indices.numpy()
        packed_out = _pack(out, lens, sorting)
        if self.mode == "LSTM":
            return packed_out, (h_n, cat(c_parts, 1).index_select(1, back))
        return packed_out, h_n

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or relu.

    Shapes: input (T, B, I) ((B, T, I) with ``batch_first``; (T, I) unbatched), h0
    (num_layers * D, B, H) or None -> ``(output (T, B, D*H), h_n (num_layers * D, B, H))``.
    See the module docstring for ``record_steps``.

    Example::

        rnn = cr.nn.RNN(3, 8, num_layers=2, batch_first=True)
        out, h_n = rnn(cr.randn(4, 10, 3))     # (4, 10, 8), (2, 4, 8)
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        **kwargs,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_" + nonlinearity.upper(),
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            **kwargs,
        )


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates [i, f, g, o]:
    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)``.

    Shapes: input (T, B, I) ((B, T, I) with ``batch_first``), ``hx = (h0, c0)`` each
    (num_layers * D, B, H) or None -> ``(output (T, B, D*H), (h_n, c_n))``. See the module
    docstring for ``record_steps``.

    Example::

        lstm = cr.nn.LSTM(3, 8)
        out, (h_n, c_n) = lstm(cr.randn(10, 4, 3))   # (10, 4, 8), (1, 4, 8), (1, 4, 8)
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        **kwargs,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            **kwargs,
        )


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates [r, z, n]:
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h_t = (1 - z) * n + z * h_{t-1}``.

    Shapes as for :class:`RNN`. See the module docstring for ``record_steps``.

    Example::

        gru = cr.nn.GRU(3, 8, bidirectional=True)
        out, h_n = gru(cr.randn(10, 4, 3))     # (10, 4, 16), (2, 4, 8)
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        **kwargs,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            **kwargs,
        )


# ---------------------------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------------------------


class RNNCellBase(Module):
    """Shared parts of the cells: ``weight_ih`` (G*H, I), ``weight_hh`` (G*H, H), biases (G*H,)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        check_device(device, type(self).__name__)
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _check_input(self, input):
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(
                f"{self._get_name()}({self.extra_repr()}): expected input of shape "
                f"(batch, {self.input_size}) or ({self.input_size},), "
                f"got {tuple(input.shape)}"
            )

    def _params(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """One Elman RNN step: input (B, I), h (B, H) or None -> h' (B, H).

    Example::

        cell = cr.nn.RNNCell(3, 8)
        h = cell(cr.randn(4, 3))               # (4, 8)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        super().__init__(input_size, hidden_size, bias, 1, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check_input(input)
        return R.rnn_cell(input, hx, *self._params(), nonlinearity=self.nonlinearity)


class LSTMCell(RNNCellBase):
    """One LSTM step: input (B, I), ``hx = (h, c)`` or None -> ``(h', c')``, each (B, H).

    Example::

        cell = cr.nn.LSTMCell(3, 8)
        h, c = cell(cr.randn(4, 3))
    """

    def __init__(self, input_size, hidden_size, bias=True, **kwargs):
        super().__init__(input_size, hidden_size, bias, 4, **kwargs)

    def forward(self, input, hx=None):
        self._check_input(input)
        return R.lstm_cell(input, hx, *self._params())


class GRUCell(RNNCellBase):
    """One GRU step: input (B, I), h (B, H) or None -> h' (B, H).

    Example::

        cell = cr.nn.GRUCell(3, 8)
        h = cell(cr.randn(4, 3))               # (4, 8)
    """

    def __init__(self, input_size, hidden_size, bias=True, **kwargs):
        super().__init__(input_size, hidden_size, bias, 3, **kwargs)

    def forward(self, input, hx=None):
        self._check_input(input)
        return R.gru_cell(input, hx, *self._params())
