"""Attention and Transformers: ``MultiheadAttention``, ``TransformerEncoderLayer``,
``TransformerEncoder``, ``TransformerDecoderLayer``, ``TransformerDecoder``, ``Transformer``.

Built from differentiable ops (linear, matmul, softmax, layer norm), so gradients come for free.
Parameter names, shapes and layouts are PyTorch's, so a PyTorch state dict loads as is.

Masks follow PyTorch: a bool mask marks with True the positions that may *not* be attended to;
a float mask is added to the attention scores (``-inf`` blocks a position).
"""

import copy
import math

import numpy as np

from ...autograd import is_grad_enabled
from ...creation import empty, full, zeros
from ...devices import check_device
from ...ops import cat, softmax, where
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..functional._attention import safe_softmax
from ..module import Module
from ..parameter import Parameter
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm


def _float_mask(mask, name, dtype):
    """A bool mask as 0 / -inf in ``dtype``; a float mask as it is (added to the scores)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor._wrap(np.asarray(mask))
    if mask.dtype == np.bool_:
        return Tensor._wrap(np.where(mask._data, -np.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(
            f"MultiheadAttention: only bool and floating types of {name} are "
            f"supported, got {mask.dtype}"
        )
    return mask


class MultiheadAttention(Module):
    """Multi-head attention, ``softmax(Q K^T / sqrt(head_dim) + mask) V`` per head, as torch.

    Args:
        embed_dim: model width E (query features); ``num_heads`` must divide it.
        num_heads: number of heads H (each of width E / H).
        dropout: dropout on the attention weights (training only).
        bias: biases on the input and output projections.
        add_bias_kv: learn one extra key and value appended to the sequence.
        add_zero_attn: append a zero key and value to the sequence.
        kdim, vdim: key / value features (default E; when different, separate
            ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` replace ``in_proj_weight``).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).

    Parameters: ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,) hold the query, key and
    value projections stacked in that order; ``out_proj`` is a Linear(E, E).

    Forward: ``query`` (L, N, E), ``key`` (S, N, kdim), ``value`` (S, N, vdim) (or batch first,
    or unbatched (L, E)); ``key_padding_mask`` (N, S); ``attn_mask`` (L, S) or (N * H, L, S).
    Returns ``(output (L, N, E), weights)``: weights (N, L, S) averaged over heads, or
    (N, H, L, S) with ``average_attn_weights=False``; None when ``need_weights=False``.

    Example::

        mha = nn.MultiheadAttention(64, 8, batch_first=True)
        out, w = mha(x, x, x, key_padding_mask=pad)      # x (N, L, 64), pad (N, L) bool
    """

    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got "
                f"embed_dim={embed_dim} and num_heads={num_heads} instead"
            )
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = embed_dim if kdim is None else int(kdim)
        self.vdim = embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * E, E, dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty(E, E, dtype=dtype))
            self.k_proj_weight = Parameter(empty(E, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(empty(E, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * E, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(E, E, bias=bias, dtype=dtype)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, E, dtype=dtype))
            self.bias_v = Parameter(empty(1, 1, E, dtype=dtype))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """torch's initialisation: Xavier-uniform projections, zero biases."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _projections(self, query, key, value):
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E : 2 * E], b[2 * E :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E : 2 * E], w[2 * E :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "Need attn_mask if specifying the is_causal hint. You may use the "
                "Transformer module method `generate_square_subsequent_mask` to "
                "create this mask."
            )
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"MultiheadAttention: query, key and value must all be 2-D "
                f"(unbatched) or 3-D, got shapes {tuple(query.shape)}, "
                f"{tuple(key.shape)}, {tuple(value.shape)}"
            )
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.reshape(1, -1)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        L, N, E = query.shape
        if E != self.embed_dim:
            raise AssertionError(
                f"was expecting embedding dimension of {self.embed_dim}, but got {E}"
            )
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}"
            )
        H, hd = self.num_heads, self.head_dim
        dtype = query.dtype
        attn_mask = _float_mask(attn_mask, "attn_mask", dtype)
        key_padding_mask = _float_mask(key_padding_mask, "key_padding_mask", dtype)

        q, k, v = self._projections(query, key, value)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(1, N, E)])
            v = cat([v, self.bias_v.expand(1, N, E)])
            attn_mask = _pad_last(attn_mask)
            key_padding_mask = _pad_last(key_padding_mask)
        q = q.reshape(L, N * H, hd).transpose(0, 1)  # (N*H, L, hd)
        k = k.reshape(k.shape[0], N * H, hd).transpose(0, 1)  # (N*H, S, hd)
        v = v.reshape(v.shape[0], N * H, hd).transpose(0, 1)
        if self.add_zero_attn:
            k = cat([k, zeros(N * H, 1, hd, dtype=k.dtype)], dim=1)
            v = cat([v, zeros(N * H, 1, hd, dtype=v.dtype)], dim=1)
            attn_mask = _pad_last(attn_mask)
            key_padding_mask = _pad_last(key_padding_mask)
        S = k.shape[1]
        if key_padding_mask is not None and tuple(key_padding_mask.shape) != (N, S):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(N, S)}, but got "
                f"{tuple(key_padding_mask.shape)}"
            )

        scores = (q * (1.0 / math.sqrt(hd))) @ k.transpose(1, 2)  # (N*H, L, S)
        if attn_mask is not None or key_padding_mask is not None:
            scores = scores.reshape(N, H, L, S)
            if attn_mask is not None:
                if attn_mask.ndim == 2:
                    if tuple(attn_mask.shape) != (L, S):
                        raise RuntimeError(
                            f"The shape of the 2D attn_mask is "
                            f"{tuple(attn_mask.shape)}, but should be {(L, S)}."
                        )
                    scores = scores + attn_mask
                elif tuple(attn_mask.shape) == (N * H, L, S):
                    scores = scores + attn_mask.reshape(N, H, L, S)
                else:
                    raise RuntimeError(
                        f"The shape of the 3D attn_mask is "
                        f"{tuple(attn_mask.shape)}, but should be {(N * H, L, S)}."
                    )
            if key_padding_mask is not None:
                scores = scores + key_padding_mask.reshape(N, 1, 1, S)
            scores = scores.reshape(N * H, L, S)
        # As torch: without weights asked for, the fused path gives a query that may see no key
        # a zero row; with them, the plain softmax gives NaN.
        weights = softmax(scores, -1) if need_weights else safe_softmax(scores)
        if self.dropout > 0.0 and self.training:
            weights = F.dropout(weights, self.dropout)
        out = (weights @ v).transpose(0, 1).reshape(L * N, E)  # heads side by side
        out = self.out_proj(out).reshape(L, N, E)
        if batched and self.batch_first:
            out = out.transpose(0, 1)
        elif not batched:
            out = out.reshape(L, E)
        if not need_weights:
            return out, None
        weights = weights.reshape(N, H, L, S)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            weights = weights.reshape(weights.shape[1:])
        return out, weights

    def extra_repr(self):
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
            f"dropout={self.dropout}, batch_first={self.batch_first}"
        )


def _pad_last(mask):
    """One more (allowed) key position: a zero column at the end of the mask."""
    if mask is None:
        return None
    return cat([mask, zeros(*mask.shape[:-1], 1, dtype=mask.dtype)], dim=-1)


def _activation(activation):
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with dropout, a residual connection and
    LayerNorm (after each block, or before with ``norm_first=True``), as torch.

    Submodules (state-dict names): ``self_attn``, ``linear1`` (d_model -> dim_feedforward),
    ``dropout``, ``linear2``, ``norm1``, ``norm2``, ``dropout1``, ``dropout2``.

    Forward: ``src`` (S, N, E) (or (N, S, E) with ``batch_first``), ``src_mask`` (S, S),
    ``src_key_padding_mask`` (N, S) -> same shape as ``src``.

    Example::

        layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, batch_first=True)
        y = layer(cr.randn(8, 10, 64))      # (8, 10, 64)
    """

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation_relu_or_gelu = activation in ("relu", "gelu", F.relu, F.gelu) or type(
            activation
        ).__name__ in ("ReLU", "GELU")
        self.activation = _activation(activation)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask):
        x = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's ``memory``, then a feed-forward block, each
    with dropout, a residual connection and LayerNorm (``norm_first`` as in the encoder layer).

    Submodules: ``self_attn``, ``multihead_attn``, ``linear1``, ``dropout``, ``linear2``,
    ``norm1``, ``norm2``, ``norm3``, ``dropout1``, ``dropout2``, ``dropout3``.

    Forward: ``tgt`` (T, N, E), ``memory`` (S, N, E) (batch first if set), ``tgt_mask`` (T, T),
    ``memory_mask`` (T, S), key padding masks (N, T) and (N, S) -> same shape as ``tgt``.

    Example::

        layer = nn.TransformerDecoderLayer(d_model=64, nhead=4)
        y = layer(cr.randn(7, 2, 64), cr.randn(10, 2, 64))      # (7, 2, 64)
    """

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=False,
        memory_is_causal=False,
    ):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask):
        x = self.self_attn(
            x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False
        )[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask):
        x = self.multihead_attn(
            x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False
        )[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (``layers.0``, ``layers.1``...), then ``norm``.

    Example::

        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4), num_layers=2)
        y = enc(cr.randn(10, 8, 64), src_key_padding_mask=pad)     # pad (8, 10) bool
    """

    def __init__(
        self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True
    ):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        layer = encoder_layer
        attn = getattr(layer, "self_attn", None)
        # torch's rule for its inference fast path ("nested tensors"), see forward.
        self.use_nested_tensor = bool(
            enable_nested_tensor
            and isinstance(layer, TransformerEncoderLayer)
            and not layer.norm_first
            and attn.batch_first
            and attn._qkv_same_embed_dim
            and attn.in_proj_bias is not None
            and layer.activation_relu_or_gelu
            and layer.norm1.eps == layer.norm2.eps
            and attn.num_heads % 2 == 0
        )
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        keep = self._fast_path_keep(src, mask, src_key_padding_mask)
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask)
        if keep is not None:
            out = where(keep, out, 0.0)
        return self.norm(out) if self.norm is not None else out

    def _fast_path_keep(self, src, mask, key_padding_mask):
        """Where torch's encoder would take its inference fast path, the (N, S, 1) mask of real
        (not padded) positions; else None.

        On that path torch packs the unpadded tokens into a nested tensor and pads the result
        with zeros, so padded positions come out as 0 (then ``norm``) instead of the values the
        layers compute there. Reproduced here so eval-mode outputs match torch's exactly.
        """
        first = self.layers[0]
        if (
            not self.use_nested_tensor
            or first.training
            or src.ndim != 3
            or key_padding_mask is None
            or mask is not None
        ):
            return None
        pad = np.asarray(
            key_padding_mask._data if isinstance(key_padding_mask, Tensor) else key_padding_mask
        )
        keep = pad == 0 if pad.dtype != np.bool_ else ~pad
        lengths = keep.sum(axis=1)
        left_aligned = np.array_equal(keep, np.arange(keep.shape[1]) < lengths[:, None])
        if self.mask_check and not left_aligned:
            return None
        if is_grad_enabled() and (
            src.requires_grad or any(p.requires_grad for p in first.parameters())
        ):
            return None
        return Tensor._wrap(keep[:, :, None])


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` (``layers.0``...), then ``norm``.

    Example::

        dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(64, 4), num_layers=2)
        y = dec(tgt, memory, tgt_mask=nn.Transformer.generate_square_subsequent_mask(7))
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        out = tgt
        for layer in self.layers:
            out = layer(
                out,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
            )
        return self.norm(out) if self.norm is not None else out


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """(sz, sz) float mask: 0 on and below the diagonal, -inf above (no peeking ahead).

    Example::

        nn.Transformer.generate_square_subsequent_mask(3)
        # [[0, -inf, -inf], [0, 0, -inf], [0, 0, 0]]
    """
    check_device(device, "generate_square_subsequent_mask")
    mask = full((sz, sz), float("-inf"), dtype=dtype)
    return Tensor._wrap(np.triu(mask._data, k=1))


class Transformer(Module):
    """The encoder-decoder Transformer ("Attention Is All You Need"), as ``torch.nn.Transformer``.

    Submodules: ``encoder`` (layers and a final LayerNorm ``encoder.norm``), ``decoder``
    (``decoder.norm`` likewise). Every parameter with more than one dimension starts
    Xavier-uniform, as torch.

    Forward: ``src`` (S, N, E), ``tgt`` (T, N, E) (batch first if set) and optional masks ->
    (T, N, E).

    Example::

        model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2)
        tgt_mask = nn.Transformer.generate_square_subsequent_mask(7)
        y = model(cr.randn(10, 2, 32), cr.randn(7, 2, 32), tgt_mask=tgt_mask)   # (7, 2, 32)
    """

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def __init__(
        self,
        d_model=512,
        nhead=8,
        num_encoder_layers=6,
        num_decoder_layers=6,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        custom_encoder=None,
        custom_decoder=None,
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        check_device(device, type(self).__name__)
        options = dict(
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=batch_first,
            norm_first=norm_first,
            bias=bias,
            dtype=dtype,
        )
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **options),
                num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            )
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **options),
                num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            )
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(
        self,
        src,
        tgt,
        src_mask=None,
        tgt_mask=None,
        memory_mask=None,
        src_key_padding_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        src_is_causal=None,
        tgt_is_causal=None,
        memory_is_causal=False,
    ):
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask)
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
        )
