"""Packed sequences: pack/pad helpers and RNN/LSTM/GRU over a PackedSequence, against PyTorch
(outputs, final states, gradients of inputs and weights)."""

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")
RNG = None  # this test's generator, seeded afresh by the fixture below


@pytest.fixture(autouse=True)
def _fresh_rng():
    """Each test draws from its own generator, seeded the same: its inputs do not depend on
    which tests ran before it."""
    global RNG
    RNG = np.random.default_rng(0)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("sort", [False, True])
def test_rnn_over_packed_sequence_matches_torch(mode, bidirectional, sort):
    lens = [5, 5, 3, 2] if sort else [3, 5, 2, 5]
    x = RNG.standard_normal((4, 5, 3)).astype(np.float32)  # batch first
    theirs = getattr(torch.nn, mode)(
        3, 6, num_layers=2, bidirectional=bidirectional, batch_first=True
    )
    ours = getattr(cr.nn, mode)(3, 6, num_layers=2, bidirectional=bidirectional, batch_first=True)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    h0 = RNG.standard_normal((4 if bidirectional else 2, 4, 6)).astype(np.float32)
    results = []
    for lib, model in ((torch, theirs), (cr, ours)):
        xt = lib.tensor(x, requires_grad=True)
        packed = lib.nn.utils.rnn.pack_padded_sequence(
            xt, lib.tensor(lens), batch_first=True, enforce_sorted=sort
        )
        hx = (lib.tensor(h0), lib.tensor(h0)) if mode == "LSTM" else lib.tensor(h0)
        out, h = model(packed, hx)
        h = h[0] + 2 * h[1] if mode == "LSTM" else h
        padded, lengths = lib.nn.utils.rnn.pad_packed_sequence(
            out, batch_first=True, total_length=6
        )
        g = np.random.default_rng(1).standard_normal(tuple(padded.shape)).astype(np.float32)
        ((padded * lib.tensor(g)).sum() + (h**2).sum()).backward()
        results.append(
            (
                packed.batch_sizes.numpy(),
                out.data.detach().numpy(),
                padded.detach().numpy(),
                lengths.numpy(),
                h.detach().numpy(),
                xt.grad.numpy(),
                [p.grad.numpy() for p in model.parameters()],
            )
        )
    (tb, td, tp, tl, th, tg, tw), (cb, cd, cp, cl, ch, cg, cw) = results
    np.testing.assert_array_equal(cb, tb)
    np.testing.assert_array_equal(cl, tl)
    for a, b in [(cd, td), (cp, tp), (ch, th), (cg, tg)] + list(zip(cw, tw, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, side):
    seqs = [RNG.standard_normal((n, 2)) for n in (3, 1, 4)]
    a = torch.nn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first, -1.0, side)
    b = cr.nn.utils.rnn.pad_sequence([cr.tensor(s) for s in seqs], batch_first, -1.0, side)
    np.testing.assert_array_equal(b.numpy(), a.numpy())


def test_pack_sequence_round_trip_and_gradients():
    seqs = [RNG.standard_normal((n, 2)) for n in (3, 1, 4)]
    ours = [cr.tensor(s, requires_grad=True) for s in seqs]
    packed = cr.nn.utils.rnn.pack_sequence(ours, enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.numpy(), theirs.data.numpy())
    np.testing.assert_array_equal(packed.sorted_indices.numpy(), theirs.sorted_indices.numpy())
    back = cr.nn.utils.rnn.unpack_sequence(packed)
    for a, s in zip(back, seqs, strict=True):
        np.testing.assert_array_equal(a.numpy(), s)
    (packed.data * 3).sum().backward()
    for t in ours:
        np.testing.assert_array_equal(t.grad.numpy(), np.full(t.shape, 3.0))
    assert cr.autograd.gradcheck(
        lambda a, b: (
            cr.nn.utils.rnn.pad_packed_sequence(
                cr.nn.utils.rnn.pack_sequence([a, b], enforce_sorted=False)
            )[0]
            * 2
        ),
        [cr.tensor(seqs[1], requires_grad=True), cr.tensor(seqs[2], requires_grad=True)],
    )


def test_packing_errors():
    with pytest.raises(RuntimeError, match="decreasing"):
        cr.nn.utils.rnn.pack_padded_sequence(cr.randn(4, 2, 1), [2, 4])
    with pytest.raises(ValueError, match="lengths for a batch"):
        cr.nn.utils.rnn.pack_padded_sequence(cr.randn(4, 2, 1), [4, 3, 1])
    with pytest.raises(ValueError, match="at least 1"):
        cr.nn.utils.rnn.pack_padded_sequence(cr.randn(4, 2, 1), [4, 0])
