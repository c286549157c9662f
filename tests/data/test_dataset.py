"""``StackDataset`` (chainrule/data/dataset.py) against PyTorch's."""

import pytest

import chainrule as cr


def test_stack_dataset_as_torch():
    torch = pytest.importorskip("torch")
    a, b = list(range(3)), ["x", "y", "z"]
    ours, theirs = cr.utils.data.StackDataset(a, b), torch.utils.data.StackDataset(a, b)
    assert len(ours) == len(theirs) and ours[1] == theirs[1]
    ours = cr.utils.data.StackDataset(num=a, letter=b)
    assert ours[2] == torch.utils.data.StackDataset(num=a, letter=b)[2]
    with pytest.raises(ValueError, match="Size mismatch"):
        cr.utils.data.StackDataset(a, b[:2])
