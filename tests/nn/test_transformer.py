"""MultiheadAttention and the Transformer layers against PyTorch: same state-dict keys and
shapes; with torch's weights loaded, the same outputs and gradients (float64, dropout off)."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

torch = pytest.importorskip("torch")


def _load(ours, theirs):
    theirs_sd = theirs.state_dict()
    ours_sd = ours.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for k in ours_sd:
        assert tuple(ours_sd[k].shape) == tuple(theirs_sd[k].shape), k
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs_sd.items()})


def _pair(seed, *shapes, requires_grad=True):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    return (
        [cr.tensor(a, requires_grad=requires_grad) for a in arrays],
        [torch.tensor(a, requires_grad=requires_grad) for a in arrays],
    )


def _check(ours_module, theirs_module, ours_out, theirs_out, ours_in, theirs_in, atol=1e-10):
    np.testing.assert_allclose(ours_out.numpy(), theirs_out.detach().numpy(), atol=atol, rtol=1e-8)
    weights = np.random.default_rng(0).standard_normal(tuple(theirs_out.shape))
    (ours_out * cr.tensor(weights)).sum().backward()
    (theirs_out * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours_in, theirs_in, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=1e-7)
    theirs_params = dict(theirs_module.named_parameters())
    for name, p in ours_module.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), theirs_params[name].grad.numpy(), atol=atol, rtol=1e-7, err_msg=name
        )


def _masks(L, S, N, kind, seed=0):
    rng = np.random.default_rng(seed)
    pad = np.zeros((N, S), bool)
    pad[0, -2:] = True
    pad[-1, -1] = True
    causal = np.triu(np.ones((L, S), bool), k=1)
    float_mask = rng.standard_normal((L, S))
    if kind == "none":
        return {}, {}
    if kind == "bool":
        return (
            {"key_padding_mask": cr.tensor(pad), "attn_mask": cr.tensor(causal)},
            {"key_padding_mask": torch.tensor(pad), "attn_mask": torch.tensor(causal)},
        )
    return (
        {
            "key_padding_mask": cr.tensor(np.where(pad, -1e4, 0.0)),
            "attn_mask": cr.tensor(float_mask),
        },
        {
            "key_padding_mask": torch.tensor(np.where(pad, -1e4, 0.0)),
            "attn_mask": torch.tensor(float_mask),
        },
    )


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", ["none", "bool", "float"])
@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_matches_torch(batch_first, masks, average):
    E, H, L, N = 8, 2, 5, 3
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=batch_first).double()
    ours = nn.MultiheadAttention(E, H, batch_first=batch_first).to(cr.float64)
    _load(ours, theirs)
    shape = (N, L, E) if batch_first else (L, N, E)
    (q, k, v), (tq, tk, tv) = _pair(1, shape, shape, shape)
    om, tm = _masks(L, L, N, masks)
    out, w = ours(q, k, v, average_attn_weights=average, **om)
    tout, tw = theirs(tq, tk, tv, average_attn_weights=average, **tm)
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), atol=1e-12)
    _check(ours, theirs, out, tout, [q, k, v], [tq, tk, tv])


def test_multihead_attention_kdim_vdim_bias_kv_zero_attn_and_unbatched():
    E, H = 6, 3
    theirs = torch.nn.MultiheadAttention(
        E, H, kdim=4, vdim=5, add_bias_kv=True, add_zero_attn=True
    ).double()
    ours = nn.MultiheadAttention(E, H, kdim=4, vdim=5, add_bias_kv=True, add_zero_attn=True).to(
        cr.float64
    )
    _load(ours, theirs)
    assert {"q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v"} <= set(
        ours.state_dict()
    )
    (q, k, v), (tq, tk, tv) = _pair(2, (4, 2, E), (7, 2, 4), (7, 2, 5))
    pad = np.zeros((2, 7), bool)
    pad[1, :3] = True
    out, w = ours(q, k, v, key_padding_mask=cr.tensor(pad))
    tout, tw = theirs(tq, tk, tv, key_padding_mask=torch.tensor(pad))
    assert w.shape == tuple(tw.shape) == (2, 4, 9)
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), atol=1e-12)
    _check(ours, theirs, out, tout, [q, k, v], [tq, tk, tv])
    # Unbatched (L, E) input and need_weights=False.
    (x,), (tx,) = _pair(3, (4, E), requires_grad=False)
    theirs2 = torch.nn.MultiheadAttention(E, H).double()
    ours2 = nn.MultiheadAttention(E, H).to(cr.float64)
    _load(ours2, theirs2)
    out, w = ours2(x, x, x, need_weights=False)
    tout, _ = theirs2(tx, tx, tx, need_weights=False)
    assert w is None and out.shape == (4, E)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), atol=1e-12)


def test_multihead_attention_init_and_errors():
    m = nn.MultiheadAttention(16, 4)
    assert m.in_proj_weight.shape == (48, 16) and m.in_proj_bias.shape == (48,)
    assert np.all(m.in_proj_bias.numpy() == 0) and np.all(m.out_proj.bias.numpy() == 0)
    bound = np.sqrt(6 / (48 + 16))  # xavier-uniform over the stacked (3E, E) matrix
    assert np.abs(m.in_proj_weight.numpy()).max() <= bound
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        x = cr.randn(5, 2, 16)
        m(x, x, x, attn_mask=cr.zeros(4, 4))


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_encoder_layer_and_stack_match_torch(norm_first, activation, batch_first):
    E, H, S, N = 8, 2, 6, 3
    kw = dict(
        dim_feedforward=16,
        dropout=0.0,
        activation=activation,
        batch_first=batch_first,
        norm_first=norm_first,
    )
    theirs = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(E, H, **kw),
        2,
        norm=torch.nn.LayerNorm(E),
        enable_nested_tensor=False,
    ).double()
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(E, H, **kw), 2, norm=nn.LayerNorm(E)
    ).to(cr.float64)
    _load(ours, theirs)
    shape = (N, S, E) if batch_first else (S, N, E)
    (x,), (tx,) = _pair(4, shape)
    om, tm = _masks(S, S, N, "bool")
    out = ours(x, mask=om["attn_mask"], src_key_padding_mask=om["key_padding_mask"])
    tout = theirs(tx, mask=tm["attn_mask"], src_key_padding_mask=tm["key_padding_mask"])
    _check(ours, theirs, out, tout, [x], [tx])


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(norm_first):
    E, H, T, S, N = 8, 4, 5, 6, 2
    kw = dict(dim_feedforward=12, dropout=0.0, norm_first=norm_first)
    theirs = torch.nn.TransformerDecoderLayer(E, H, **kw).double()
    ours = nn.TransformerDecoderLayer(E, H, **kw).to(cr.float64)
    _load(ours, theirs)
    (tgt, mem), (ttgt, tmem) = _pair(5, (T, N, E), (S, N, E))
    mask = nn.Transformer.generate_square_subsequent_mask(T).to(cr.float64)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(T).double()
    np.testing.assert_array_equal(mask.numpy(), tmask.numpy())
    pad = np.zeros((N, S), bool)
    pad[0, -1] = True
    out = ours(tgt, mem, tgt_mask=mask, memory_key_padding_mask=cr.tensor(pad))
    tout = theirs(ttgt, tmem, tgt_mask=tmask, memory_key_padding_mask=torch.tensor(pad))
    _check(ours, theirs, out, tout, [tgt, mem], [ttgt, tmem])


def test_full_transformer_matches_torch_and_keys_are_identical():
    kw = dict(
        d_model=8,
        nhead=2,
        num_encoder_layers=2,
        num_decoder_layers=1,
        dim_feedforward=16,
        dropout=0.0,
        batch_first=True,
    )
    theirs = torch.nn.Transformer(**kw).double()
    ours = nn.Transformer(**kw).to(cr.float64)
    _load(ours, theirs)
    (src, tgt), (tsrc, ttgt) = _pair(6, (2, 7, 8), (2, 4, 8))
    mask = nn.Transformer.generate_square_subsequent_mask(4).to(cr.float64)
    out = ours(src, tgt, tgt_mask=mask)
    tout = theirs(
        tsrc, ttgt, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4).double()
    )
    _check(ours, theirs, out, tout, [src, tgt], [tsrc, ttgt])


def test_transformer_defaults_and_dropout_in_training():
    model = nn.Transformer(
        d_model=8,
        nhead=2,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dim_feedforward=8,
        dropout=0.5,
    )
    src, tgt = cr.randn(5, 2, 8), cr.randn(3, 2, 8)
    model.train()
    a, b = model(src, tgt), model(src, tgt)
    assert not np.allclose(a.numpy(), b.numpy())  # dropout draws differ
    model.eval()
    np.testing.assert_array_equal(model(src, tgt).numpy(), model(src, tgt).numpy())
    with pytest.raises(RuntimeError, match="d_model"):
        model(cr.randn(5, 2, 4), cr.randn(3, 2, 4))
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


@pytest.mark.parametrize("mask", ["none", "causal", "bool", "float"])
def test_scaled_dot_product_attention_matches_torch(mask):
    import chainrule.nn.functional as F

    (q, k, v), (tq, tk, tv) = _pair(7, (2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 2))
    kw, tkw = {}, {}
    if mask == "causal":
        kw = tkw = {"is_causal": True}
    elif mask == "bool":
        allowed = np.random.default_rng(1).random((5, 6)) > 0.3
        allowed[:, 0] = True
        kw, tkw = {"attn_mask": cr.tensor(allowed)}, {"attn_mask": torch.tensor(allowed)}
    elif mask == "float":
        m = np.random.default_rng(2).standard_normal((2, 1, 5, 6))
        kw, tkw = {"attn_mask": cr.tensor(m)}, {"attn_mask": torch.tensor(m)}
    out = F.scaled_dot_product_attention(q, k, v, scale=0.3, **kw)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, scale=0.3, **tkw)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), atol=1e-12)
    g = np.random.default_rng(3).standard_normal(tuple(tout.shape))
    (out * cr.tensor(g)).sum().backward()
    (tout * torch.tensor(g)).sum().backward()
    for a, b in zip((q, k, v), (tq, tk, tv), strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)


def test_scaled_dot_product_attention_gqa_and_errors():
    import chainrule.nn.functional as F

    (q, k, v), (tq, tk, tv) = _pair(
        8, (1, 4, 3, 2), (1, 2, 3, 2), (1, 2, 3, 2), requires_grad=False
    )
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, enable_gqa=True)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=cr.ones(3, 3), is_causal=True)


@pytest.mark.parametrize("left_aligned", [True, False])
@pytest.mark.parametrize("grad", [False, True])
def test_encoder_eval_fast_path_zeros_padding_like_torch(left_aligned, grad):
    """torch's inference fast path outputs 0 (then the final norm) at padded positions."""
    E, H, S, N = 8, 2, 6, 3
    kw = dict(dim_feedforward=16, dropout=0.1, batch_first=True)
    theirs = (
        torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(E, H, **kw), 2, norm=torch.nn.LayerNorm(E)
        )
        .double()
        .eval()
    )
    ours = (
        nn.TransformerEncoder(nn.TransformerEncoderLayer(E, H, **kw), 2, norm=nn.LayerNorm(E))
        .to(cr.float64)
        .eval()
    )
    _load(ours, theirs)
    pad = np.zeros((N, S), bool)
    pad[0, -2:] = True
    pad[1, -1] = True
    if not left_aligned:
        pad[2, 0] = True
    (x,), (tx,) = _pair(9, (N, S, E), requires_grad=False)
    with warnings.catch_warnings(), torch.set_grad_enabled(grad), cr.set_grad_enabled(grad):
        warnings.simplefilter("ignore")  # torch: "nested tensors are a prototype"
        out = ours(x, src_key_padding_mask=cr.tensor(pad))
        tout = theirs(tx, src_key_padding_mask=torch.tensor(pad))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), atol=1e-10)
    if left_aligned and not grad:  # the fast path: padded positions are the norm of zeros
        np.testing.assert_allclose(out.numpy()[0, -1], ours.norm.bias.numpy(), atol=1e-12)


def test_fully_masked_queries_match_torch():
    """A query that may see no key: zeros through SDPA and the need_weights=False path, NaN with
    need_weights=True -- torch's (uneven) rules, each matched; gradients stay finite."""
    import chainrule.nn.functional as F

    (q,), (tq,) = _pair(10, (1, 1, 3, 4))
    allowed = np.array([[True, True, False], [False, False, False], [True, False, True]])
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=cr.tensor(allowed))
    tout = torch.nn.functional.scaled_dot_product_attention(
        tq, tq, tq, attn_mask=torch.tensor(allowed)
    )
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), atol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(q.grad.numpy(), tq.grad.numpy(), atol=1e-10)

    E, H, S, N = 8, 2, 4, 2
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=True).double()
    ours = nn.MultiheadAttention(E, H, batch_first=True).to(cr.float64)
    _load(ours, theirs)
    (x,), (tx,) = _pair(11, (N, S, E))
    pad = np.zeros((N, S), bool)
    pad[1, :] = True
    for need_weights in (False, True):
        with np.errstate(invalid="ignore"):  # the NaN row of need_weights=True
            o, _ = ours(x, x, x, key_padding_mask=cr.tensor(pad), need_weights=need_weights)
        t, _ = theirs(tx, tx, tx, key_padding_mask=torch.tensor(pad), need_weights=need_weights)
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), atol=1e-12)
        assert np.isnan(o.numpy()[1]).all() == need_weights
