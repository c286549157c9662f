import numpy as np
import pytest
from helpers import check_grad, compare_modules, compare_with_torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")


# ---- dropout ----


def test_dropout_train_scales_and_eval_is_identity():
    cr.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = cr.ones(200, 500, requires_grad=True)
    y = drop(x)
    kept = y.numpy() != 0
    assert y.dtype == cr.float32
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)  # inverted scaling
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())  # same mask backward
    drop.eval()
    assert drop(x) is x
    assert repr(drop) == repr(torch.nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"


def test_dropout_reproducible_and_edge_probabilities():
    cr.manual_seed(5)
    a = F.dropout(cr.ones(10, 10), 0.5).numpy()
    cr.manual_seed(5)
    np.testing.assert_array_equal(a, F.dropout(cr.ones(10, 10), 0.5).numpy())
    x = cr.randn(3, 3, requires_grad=True)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.9, training=False) is x
    y = F.dropout(x, 1.0)
    assert np.all(y.numpy() == 0)
    y.sum().backward()
    assert np.all(x.grad.numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_gradcheck_with_fixed_mask():
    x = np.random.default_rng(0).standard_normal((4, 4))

    def fn(t):
        cr.manual_seed(11)  # same mask on every evaluation
        return F.dropout(t, 0.3)

    check_grad(fn, x)


# ---- embedding ----


@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_matches_torch(padding_idx):
    idx = np.array([[0, 2, 4, 2], [9, 0, 1, 2]])
    ours = nn.Embedding(10, 3, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(10, 3, padding_idx=padding_idx)
    out, *_ = compare_modules(ours, theirs, [idx])
    assert out[0].shape == (2, 4, 3) and out[0].dtype == cr.float32
    assert repr(ours) == repr(theirs)
    if padding_idx is not None:
        assert np.all(ours.weight.grad.numpy()[padding_idx] == 0)


def test_embedding_default_init_and_padding_row():
    cr.manual_seed(0)
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = emb.weight.numpy()
    assert np.all(w[3] == 0)
    assert abs(np.delete(w, 3, 0).std() - 1.0) < 0.02


def test_embedding_gradient_accumulates_repeated_rows():
    emb = nn.Embedding(4, 2)
    emb(cr.tensor([1, 1, 3, 1])).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy(), [[0, 0], [3, 3], [0, 0], [1, 1]])
    check_grad(
        lambda w: F.embedding(cr.tensor([[0, 2], [2, 2]]), w),
        np.random.default_rng(0).standard_normal((3, 2)),
    )


def test_embedding_errors_and_from_pretrained():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="index 5 is out of range for 5 embeddings"):
        emb(cr.tensor([0, 5]))
    with pytest.raises(TypeError, match="integer"):
        emb(cr.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
    table = cr.randn(4, 3)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(frozen(cr.tensor([2])).numpy(), table.numpy()[[2]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


# ---- embedding_bag ----


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_with_offsets_matches_torch(mode, padding_idx):
    # Bags [1, 2], [] (empty), [0, 3, 3, 2], [2] (all padding when padding_idx=2).
    idx = np.array([1, 2, 0, 3, 3, 2, 2])
    offsets = np.array([0, 2, 2, 6])
    ours = nn.EmbeddingBag(5, 3, mode=mode, padding_idx=padding_idx)
    theirs = torch.nn.EmbeddingBag(5, 3, mode=mode, padding_idx=padding_idx)
    out, *_ = compare_modules(ours, theirs, [idx, offsets])
    assert out[0].shape == (4, 3) and out[0].dtype == cr.float32
    assert repr(ours) == repr(theirs)
    if padding_idx is not None:
        np.testing.assert_array_equal(out[0].numpy()[[1, 3]], 0)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_input_and_last_offset_match_torch(mode):
    weight = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    idx = np.array([[0, 5, 2], [4, 4, 1]])
    compare_with_torch(
        lambda w: F.embedding_bag(cr.tensor(idx), w, mode=mode),
        lambda w: torch.nn.functional.embedding_bag(torch.tensor(idx), w, mode=mode),
        [weight],
    )
    flat, offsets = np.array([3, 1, 1, 0]), np.array([0, 1, 4])
    compare_with_torch(
        lambda w: F.embedding_bag(
            cr.tensor(flat), w, cr.tensor(offsets), mode=mode, include_last_offset=True
        ),
        lambda w: torch.nn.functional.embedding_bag(
            torch.tensor(flat), w, torch.tensor(offsets), mode=mode, include_last_offset=True
        ),
        [weight],
    )


def test_embedding_bag_per_sample_weights_match_torch_and_gradcheck():
    idx, offsets = np.array([1, 2, 0, 3, 3]), np.array([0, 2])
    weight = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    psw = np.linspace(0.5, 1.5, 5).astype(np.float32)
    compare_with_torch(
        lambda w, p: F.embedding_bag(
            cr.tensor(idx), w, cr.tensor(offsets), mode="sum", per_sample_weights=p, padding_idx=0
        ),
        lambda w, p: torch.nn.functional.embedding_bag(
            torch.tensor(idx),
            w,
            torch.tensor(offsets),
            mode="sum",
            per_sample_weights=p,
            padding_idx=0,
        ),
        [weight, psw],
    )
    check_grad(
        lambda w, p: F.embedding_bag(
            cr.tensor(idx), w, cr.tensor(offsets), mode="sum", per_sample_weights=p
        ),
        weight,
        psw,
        gradgrad=True,
    )
    check_grad(lambda w: F.embedding_bag(cr.tensor(idx), w, cr.tensor(offsets)), weight)


def test_embedding_bag_errors_and_from_pretrained():
    w = cr.randn(4, 3)
    with pytest.raises(ValueError, match="offsets"):
        F.embedding_bag(cr.tensor([0, 1]), w)
    with pytest.raises(ValueError, match="offsets must be None"):
        F.embedding_bag(cr.tensor([[0, 1]]), w, cr.tensor([0]))
    with pytest.raises(RuntimeError, match="has to be 0"):
        F.embedding_bag(cr.tensor([0, 1]), w, cr.tensor([1]))
    with pytest.raises(NotImplementedError, match="mode='sum'"):
        F.embedding_bag(cr.tensor([0, 1]), w, cr.tensor([0]), per_sample_weights=cr.ones(2))
    with pytest.raises(IndexError, match="out of range"):
        F.embedding_bag(cr.tensor([0, 4]), w, cr.tensor([0]))
    frozen = nn.EmbeddingBag.from_pretrained(w, mode="sum")
    assert not frozen.weight.requires_grad and frozen.mode == "sum"
    np.testing.assert_allclose(
        frozen(cr.tensor([[1, 2]])).numpy(), w.numpy()[[1]] + w.numpy()[[2]], rtol=1e-6
    )
    assert nn.EmbeddingBag.from_pretrained(w, freeze=False).weight.requires_grad


# ---- one_hot ----


def test_one_hot_matches_torch():
    idx = np.array([[0, 3], [2, 1]])
    compare_with_torch(F.one_hot, torch.nn.functional.one_hot, [idx], grad=False)
    compare_with_torch(
        lambda t: F.one_hot(t, 6), lambda t: torch.nn.functional.one_hot(t, 6), [idx], grad=False
    )
    with pytest.raises(ValueError, match="out of range"):
        F.one_hot(cr.tensor([3]), 2)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(cr.tensor([1.0]))


def test_pad_and_linear_reexported():
    assert F.pad is cr.pad and F.linear is cr.linear
    compare_with_torch(
        lambda x: F.pad(x, (1, 2)),
        lambda x: torch.nn.functional.pad(x, (1, 2)),
        [np.ones((2, 3), np.float32)],
    )


# ---- channel_shuffle, alpha dropout ----


@pytest.mark.parametrize("shape,groups", [((2, 6, 3), 3), ((1, 4, 2, 2), 2), ((2, 6, 1, 2, 2), 6)])
def test_channel_shuffle_matches_torch(shape, groups):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours, theirs = nn.ChannelShuffle(groups), torch.nn.ChannelShuffle(groups)
    assert repr(ours) == repr(theirs)
    compare_modules(ours, theirs, [x])
    compare_with_torch(lambda t: F.channel_shuffle(t, groups), lambda t: TF_cs(t, groups), [x])
    with pytest.raises(ValueError, match=r"Got 5 channels and 2 groups \(input \(2, 5, 3\)\)"):
        F.channel_shuffle(cr.ones(2, 5, 3), 2)


def TF_cs(t, groups):
    return torch.nn.functional.channel_shuffle(t, groups)


_SELU_NEG_SAT = 1.7580993408473766


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_alpha_dropout_keeps_mean_and_variance_and_uses_torchs_affine_map(p):
    cr.manual_seed(0)
    x = cr.randn(400, 500, requires_grad=True)
    y = F.alpha_dropout(x, p, training=True)
    a = 1 / np.sqrt((_SELU_NEG_SAT**2 * p + 1) * (1 - p))
    y.sum().backward()
    kept = x.grad.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy()[kept], a, rtol=1e-6)  # d y / d x = a where kept
    kept_values = a * x.numpy()[kept] + _SELU_NEG_SAT * a * p
    np.testing.assert_allclose(y.numpy()[kept], kept_values, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.numpy()[~kept], -_SELU_NEG_SAT * a * (1 - p), rtol=1e-6)
    assert abs((~kept).mean() - p) < 0.01
    assert abs(float(y.mean())) < 0.01 and abs(float(y.std()) - 1) < 0.01  # as torch's output
    assert y.dtype == np.float32
    theirs = torch.nn.functional.alpha_dropout(torch.randn(400, 500), p, training=True)
    assert abs(float(theirs.std()) - float(y.std())) < 0.01


def test_alpha_dropout_modes_and_modules():
    x = cr.randn(3, 4)
    assert F.alpha_dropout(x, 0.5) is x  # training=False by default, as torch
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, training=True).numpy(), 0)
    for ours, theirs in [
        (nn.AlphaDropout(0.2), torch.nn.AlphaDropout(0.2)),
        (nn.FeatureAlphaDropout(), torch.nn.FeatureAlphaDropout()),
    ]:
        assert repr(ours) == repr(theirs)
        assert ours.eval()(x) is x
    cr.manual_seed(1)
    y = nn.FeatureAlphaDropout(0.5)(cr.ones(4, 6, 5))
    assert (y.numpy() == y.numpy()[:, :, :1]).all()  # one draw per (sample, channel)
    h = cr.randn(2, 3, requires_grad=True) * 1
    assert F.alpha_dropout(h, 0.3, training=True, inplace=True) is h
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.AlphaDropout(1.5)
