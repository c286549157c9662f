"""default_collate / default_convert against PyTorch's, case by case (values, dtypes, structure)."""

import collections

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import default_collate, default_convert

Pair = collections.namedtuple("Pair", "x y")

CASES = {
    "ints": [1, 2, 3],
    "int_then_floats": [0, 1.5, 2, 3.25],
    "bool_then_int": [True, 7],
    "bools": [True, False],
    "floats": [1.5, 2.0],
    "float_then_int": [1.5, 2],
    "np_f32_f64": [np.float32(1), np.float64(2)],
    "np_i32_i64": [np.int32(1), np.int64(2)],
    "np_i32_pyfloat": [np.int32(1), 1.5],
    "np_f32_pyint": [np.float32(1.5), 2],
    "np_bools": [np.bool_(True), np.bool_(False)],
    "np_uint8": [np.uint8(3), np.uint8(250)],
    "arrays_i32_f64": [np.array([1, 2], np.int32), np.array([1.5, 2.0])],
    "arrays_0d": [np.array(1.5), np.array(2.5)],
    "arrays_f32": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "tuples": [(1, 2.0), (3, 4.0)],
    "lists": [[1, 2], [3, 4]],
    "dicts": [{"a": 1, "b": np.ones(2, np.float32)}, {"a": 2, "b": np.zeros(2, np.float32)}],
    "nested": [{"x": (np.float32(1), [1, 2])}, {"x": (np.float32(2), [3, 4])}],
    "strings": ["a", "b"],
    "namedtuples": [Pair(1, 2.0), Pair(3, 4.0)],
    "np_str": [np.str_("a"), np.str_("b")],
}


def _compare(ours, theirs):
    torch = pytest.importorskip("torch")
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, cr.Tensor), f"expected a Tensor, got {type(ours).__name__}"
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (
            ours.dtype,
            theirs.dtype,
        )
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        for k in theirs:
            _compare(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs), (type(ours), type(theirs))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _compare(a, b)
    else:
        assert ours == theirs


@pytest.mark.parametrize("name", sorted(CASES))
def test_default_collate_matches_torch(name):
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    _compare(default_collate(CASES[name]), torch_collate(CASES[name]))


def test_tensors_are_stacked_with_promotion_like_torch():
    torch = pytest.importorskip("torch")
    ours = default_collate([cr.tensor([1]), cr.tensor([1.5])])
    theirs = torch.utils.data.default_collate([torch.tensor([1]), torch.tensor([1.5])])
    _compare(ours, theirs)
    ours = default_collate([cr.tensor([1.0], dtype=cr.float64), cr.tensor([2.0])])
    assert ours.dtype == np.float64


def test_issue_9_labels_are_promoted_not_truncated():
    labels = default_collate([0, 1.5, 2, 3.25])
    np.testing.assert_array_equal(labels.numpy(), [0, 1.5, 2, 3.25])
    assert labels.dtype == np.float32
    np.testing.assert_array_equal(default_collate([True, 7]).numpy(), [1, 7])


@pytest.mark.parametrize(
    "batch",
    [[None, None], [1, None], [np.array(["a"]), np.array(["b"])], [object(), object()], [1, "a"]],
)
def test_uncollatable_batches_raise_type_error(batch):
    with pytest.raises(TypeError, match="default_collate"):
        default_collate(batch)


def test_unequal_sequences_and_shapes_raise():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1,), (2, 3)])
    with pytest.raises(RuntimeError, match=r"\(2,\), \(3,\)"):
        default_collate([cr.zeros(2), cr.zeros(3)])


def test_collated_batch_owns_its_memory():
    a, b = np.zeros(3, np.float32), np.ones(3, np.float32)
    out = default_collate([a, b])
    out.numpy()[:] = 7
    assert a.sum() == 0 and b.sum() == 3


@pytest.mark.parametrize(
    "value", [np.arange(3), (np.array(1.5),), 3, {"k": np.float32(2)}, "s", Pair(np.zeros(2), 1)]
)
def test_default_convert_matches_torch(value):
    pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert

    _compare(default_convert(value), torch_convert(value))
