"""repair(): remedies tried on fresh copies, recommended only when they fix it and help."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import repair


@pytest.fixture(scope="module")
def digits():
    X, y = cr.data.load_digits()
    return X.astype(np.float32), y.astype(np.int64)


def test_softmax_before_cross_entropy_is_repaired_by_removing_it(digits):
    result = repair(lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10),
                                          nn.Softmax(dim=1)), F.cross_entropy, digits, steps=80)
    assert result.original.kinds == ["output_loss_mismatch"]
    best = result.recommended
    assert best is not None and best.remedy == "remove the final softmax/sigmoid"
    assert best.kinds == [] and best.accuracy > result.original.accuracy + 0.2
    text = str(result)
    assert "recommended: remove the final softmax/sigmoid" in text and "(original)" in text


def test_a_remedy_that_does_not_help_is_not_recommended(digits):
    # a healthy setup: nothing to repair, nothing recommended
    result = repair(lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)),
                    F.cross_entropy, digits, steps=60)
    assert result.original.kinds == [] and result.trials == [] and result.recommended is None


def test_too_low_learning_rate_is_raised_by_the_measured_factor(digits):
    result = repair(lambda: nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)),
                    F.cross_entropy, digits, steps=120,
                    optimizer=lambda p: cr.optim.SGD(p, lr=1e-4))
    assert "lr_too_low" in result.original.kinds
    assert result.recommended is not None and "raise the learning rate" in \
        result.recommended.remedy
    for t in result.trials:             # recommended only if fixed and better
        assert (t is result.recommended) <= (t.fixed and t.better)
