import numpy as np
import pytest
from helpers import check_grad, compare_with_torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _setup(seed=0, steps=12, batch=3, classes=5):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((steps, batch, classes)).astype(np.float32)
    # Repeated labels (2, 2) need a blank between them; a length-0 target is all blanks.
    padded = np.array([[1, 2, 2, 3], [4, 1, 0, 0], [0, 0, 0, 0]])
    lengths = np.array([4, 2, 0])
    in_lens = np.array([12, 7, 5])
    return logits, padded, lengths, in_lens


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_and_logit_gradients_match_torch(reduction, concatenated):
    logits, padded, lengths, in_lens = _setup()
    targets = (
        np.concatenate([r[:n] for r, n in zip(padded, lengths, strict=True)])
        if concatenated
        else padded
    )

    def run(lib, f):
        return lambda x: f(
            x.log_softmax(2),
            lib.tensor(targets),
            lib.tensor(in_lens),
            lib.tensor(lengths),
            reduction=reduction,
        )

    compare_with_torch(run(cr, F.ctc_loss), run(torch, TF.ctc_loss), [logits], atol=1e-4)


def test_ctc_impossible_targets_are_inf_or_zero_like_torch():
    logits, padded, lengths, _ = _setup()
    in_lens = np.array([3, 7, 5])  # 3 steps cannot emit 1, 2, blank, 2, 3
    for zero_infinity in (False, True):
        compare_with_torch(
            lambda x, z=zero_infinity: nn.CTCLoss(reduction="none", zero_infinity=z)(
                x.log_softmax(2), cr.tensor(padded), cr.tensor(in_lens), cr.tensor(lengths)
            ),
            lambda x, z=zero_infinity: torch.nn.CTCLoss(reduction="none", zero_infinity=z)(
                x.log_softmax(2), torch.tensor(padded), torch.tensor(in_lens), torch.tensor(lengths)
            ),
            [logits],
            grad=zero_infinity,  # with inf in the loss, torch's gradient is NaN
            atol=1e-4,
        )


def test_ctc_unbatched_and_blank_index_match_torch():
    logits = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    compare_with_torch(
        lambda x: F.ctc_loss(x.log_softmax(1), cr.tensor([0, 1, 1]), [6], [3], blank=3),
        lambda x: TF.ctc_loss(
            x.log_softmax(1), torch.tensor([0, 1, 1]), torch.tensor(6), torch.tensor(3), blank=3
        ),
        [logits],
        atol=1e-4,
    )


def test_ctc_gradcheck_and_errors():
    logits = np.random.default_rng(2).standard_normal((5, 2, 3))

    def loss(x):
        lp = x.log_softmax(2)
        return F.ctc_loss(lp, cr.tensor([[1, 2], [2, 2]]), [5, 5], [2, 2], reduction="sum")

    check_grad(loss, logits, gradgrad=True)
    with pytest.raises(ValueError, match="reduction"):
        F.ctc_loss(cr.zeros(3, 1, 2), cr.tensor([[1]]), [3], [1], reduction="avg")
    with pytest.raises(ValueError, match="input_lengths"):
        F.ctc_loss(cr.zeros(3, 1, 2), cr.tensor([[1]]), [4], [1])
