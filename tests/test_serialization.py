"""cr.save / cr.load: round trips, refusal of damaged or foreign files, atomic writes."""
import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import serialization
from chainrule.serialization import CheckpointError, load, save


def nested():
    rng = np.random.default_rng(0)
    return {
        "model": {"w": cr.tensor(rng.standard_normal((3, 4)).astype(np.float32),
                                 requires_grad=True),
                  "b": cr.tensor(np.zeros(4, np.float64))},
        "optim": {"state": {0: {"step": 7, "exp_avg": rng.standard_normal(5).astype(np.float32)},
                            12: {"step": 3, "mask": np.array([True, False])}},
                  "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 12]}]},
        "counts": np.arange(6, dtype=np.int64).reshape(2, 3),
        "zero_d": np.array(2.5, np.float32),
        "np_scalar": np.float32(1.25),
        "fortran": np.asfortranarray(rng.standard_normal((3, 2))),
        "empty": np.zeros((0, 3), np.float32),
        "plain": [1, 2.5, "text", None, True, float("inf"), (), []],
        "unicode ключ": "значение",
    }


def assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, cr.Tensor):
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b


def test_round_trip_keeps_structure_types_and_dtypes(tmp_path):
    obj = nested()
    save(obj, tmp_path / "ckpt.npz")
    back = load(tmp_path / "ckpt.npz")
    assert_same(obj, back)
    assert list(back["optim"]["state"]) == [0, 12]          # int keys stay ints
    assert isinstance(back["model"]["w"], cr.Tensor) and back["model"]["w"].requires_grad
    assert isinstance(back["counts"], np.ndarray)
    assert back["zero_d"].shape == () and isinstance(back["zero_d"], np.ndarray)
    assert isinstance(back["np_scalar"], np.float32)
    assert cr.load is load and cr.save is save


def test_file_is_an_npz_without_pickles(tmp_path):
    save({"a": np.ones(3, np.float32)}, tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["arr_0"], np.ones(3, np.float32))
    with zipfile.ZipFile(tmp_path / "c.npz") as zf:
        assert set(zf.namelist()) == {"chainrule.json", "arr_0.npy", "chainrule.sha256"}


def test_overwrite_replaces_content(tmp_path):
    save({"v": 1}, tmp_path / "c.npz")
    save({"v": 2}, str(tmp_path / "c.npz"))
    assert load(str(tmp_path / "c.npz")) == {"v": 2}
    assert os.listdir(tmp_path) == ["c.npz"]


def test_unsupported_values_are_named(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['a'\]\[1\].*set"):
        save({"a": [1, {2}]}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="dict keys"):
        save({1.5: 0}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="Python objects"):
        save(np.array([object()]), tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        save(1, tmp_path / "no_such_dir" / "x.npz")
    assert os.listdir(tmp_path) == []


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"big": np.random.default_rng(1).standard_normal(20000).astype(np.float32),
          "step": 3}, path)
    return path


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(tmp_path / "nope.npz")
    with pytest.raises(ValueError, match="nope.npz"):   # also a ValueError
        load(tmp_path / "nope.npz")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty.npz.*empty"):
        load(tmp_path / "empty.npz")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.999])
def test_truncated_file_refused(good_file, keep):
    data = good_file.read_bytes()
    good_file.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(CheckpointError, match="ckpt.npz"):
        load(good_file)


def test_flipped_byte_in_array_payload_refused(good_file):
    data = bytearray(good_file.read_bytes())
    data[len(data) // 2] ^= 0x01          # the 80 kB array fills the middle of the file
    good_file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="ckpt.npz.*corrupted"):
        load(good_file)


def test_checksum_catches_tampering_with_valid_zip(good_file):
    # Rewrite the zip with one changed array value: zip CRCs are valid, only our SHA-256 is not.
    with zipfile.ZipFile(good_file) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    array = np.load(io.BytesIO(members["arr_0.npy"]), allow_pickle=False)
    array[100] += 1.0
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    members["arr_0.npy"] = buffer.getvalue()
    with zipfile.ZipFile(good_file, "w") as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    with pytest.raises(CheckpointError, match="ckpt.npz.*checksum"):
        load(good_file)


def test_pickle_and_foreign_files_refused(tmp_path):
    (tmp_path / "p.pt").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="p.pt.*pickle"):
        load(tmp_path / "p.pt")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(CheckpointError, match="text.npz.*not a chainrule checkpoint"):
        load(tmp_path / "text.npz")
    np.savez(tmp_path / "plain.npz", x=np.ones(2))
    with pytest.raises(CheckpointError, match="plain.npz.*not a chainrule checkpoint"):
        load(tmp_path / "plain.npz")
    np.save(tmp_path / "one.npy", np.ones(2))
    with pytest.raises(CheckpointError, match="one.npy.*numpy.load"):
        load(tmp_path / "one.npy")
    with zipfile.ZipFile(tmp_path / "torch.pt", "w") as zf:     # torch.save's zip layout
        zf.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="torch.pt.*PyTorch"):
        load(tmp_path / "torch.pt")


def test_pickle_is_never_called(good_file, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used")
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    assert load(good_file)["step"] == 3


def test_crash_at_rename_keeps_old_file(good_file, monkeypatch):
    def crash(src, dst):
        raise OSError("simulated crash before rename")
    monkeypatch.setattr(serialization.os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        save({"step": 99}, good_file)
    monkeypatch.undo()
    assert load(good_file)["step"] == 3
    assert os.listdir(good_file.parent) == [good_file.name]    # no temporary file left


def test_crash_mid_write_keeps_old_file(good_file, monkeypatch):
    real_write = np.lib.format.write_array

    def write_half_then_crash(fp, array, **kwargs):
        real_write(fp, array[: array.size // 2], **kwargs)
        raise KeyboardInterrupt    # e.g. Ctrl-C while writing

    monkeypatch.setattr(np.lib.format, "write_array", write_half_then_crash)
    with pytest.raises(KeyboardInterrupt):
        save({"big": np.zeros(50000, np.float32), "step": 99}, good_file)
    monkeypatch.undo()
    assert load(good_file)["step"] == 3
    assert os.listdir(good_file.parent) == [good_file.name]
