"""cr.save / cr.load: round trips, refusal of damaged or foreign files, atomic writes."""

import io
import json
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
        "model": {
            "w": cr.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True),
            "b": cr.tensor(np.zeros(4, np.float64)),
        },
        "optim": {
            "state": {
                0: {"step": 7, "exp_avg": rng.standard_normal(5).astype(np.float32)},
                12: {"step": 3, "mask": np.array([True, False])},
            },
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 12]}],
        },
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
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert a == b


def test_round_trip_keeps_structure_types_and_dtypes(tmp_path):
    obj = nested()
    save(obj, tmp_path / "ckpt.npz")
    back = load(tmp_path / "ckpt.npz")
    assert_same(obj, back)
    assert list(back["optim"]["state"]) == [0, 12]  # int keys stay ints
    assert isinstance(back["model"]["w"], cr.Tensor) and back["model"]["w"].requires_grad
    assert isinstance(back["counts"], np.ndarray)
    assert back["zero_d"].shape == () and isinstance(back["zero_d"], np.ndarray)
    assert isinstance(back["np_scalar"], np.float32)
    assert cr.load is load and cr.save is save


def test_structured_and_string_arrays_round_trip(tmp_path):
    obj = {
        "s": np.array(["ab", "ç"]),
        "b": np.array([b"x", b"yz"]),
        "rec": np.zeros(3, dtype=[("λ", "<f4"), ("n", "<i8")]),
        "when": np.array(["2024-01-02"], dtype="datetime64[D]"),
    }
    save(obj, tmp_path / "s.npz")
    assert_same(obj, load(tmp_path / "s.npz"))


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
    save(
        {"big": np.random.default_rng(1).standard_normal(20000).astype(np.float32), "step": 3}, path
    )
    return path


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load(tmp_path / "nope.npz")
    with pytest.raises(ValueError, match="nope.npz"):  # also a ValueError
        load(tmp_path / "nope.npz")
    with pytest.raises(CheckpointError, match="is a folder"):
        load(tmp_path)
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty.npz.*empty"):
        load(tmp_path / "empty.npz")


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.999])
def test_truncated_file_refused(good_file, keep):
    data = good_file.read_bytes()
    good_file.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match="ckpt.npz"):
        load(good_file)


def test_flipped_byte_in_array_payload_refused(good_file):
    data = bytearray(good_file.read_bytes())
    data[len(data) // 2] ^= 0x01  # the 80 kB array fills the middle of the file
    good_file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="ckpt.npz.*corrupted"):
        load(good_file)


@pytest.mark.parametrize(
    "offset", [6, 7, 8, 9], ids=["flags-lo", "flags-hi", "method-lo", "method-hi"]
)
def test_damaged_local_header_refused(good_file, offset):
    # zipfile reads through the local headers but ignores their flags: they must match the
    # zip directory, or damage there would load silently.
    with zipfile.ZipFile(good_file) as zf:
        starts = [info.header_offset for info in zf.infolist()]
    for start in starts:
        data = bytearray(good_file.read_bytes())
        data[start + offset] ^= 0xFF
        damaged = good_file.with_name("damaged.npz")
        damaged.write_bytes(bytes(data))
        with pytest.raises(CheckpointError, match="damaged.npz.*(corrupted|compressed)"):
            load(damaged)


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
    with zipfile.ZipFile(tmp_path / "torch.pt", "w") as zf:  # torch.save's zip layout
        zf.writestr("archive/data.pkl", pickle.dumps({"a": io.StringIO}))
    with pytest.raises(CheckpointError, match="torch.pt.*_io.StringIO.*not a tensor record"):
        load(tmp_path / "torch.pt")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="other.zip.*not a chainrule checkpoint"):
        load(tmp_path / "other.zip")


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
    assert os.listdir(good_file.parent) == [good_file.name]  # no temporary file left


def test_crash_mid_write_keeps_old_file(good_file, monkeypatch):
    real_write = np.lib.format.write_array

    def write_half_then_crash(fp, array, **kwargs):
        real_write(fp, array[: array.size // 2], **kwargs)
        raise KeyboardInterrupt  # e.g. Ctrl-C while writing

    monkeypatch.setattr(np.lib.format, "write_array", write_half_then_crash)
    with pytest.raises(KeyboardInterrupt):
        save({"big": np.zeros(50000, np.float32), "step": 99}, good_file)
    monkeypatch.undo()
    assert load(good_file)["step"] == 3
    assert os.listdir(good_file.parent) == [good_file.name]


# ---- file objects, torch.load's arguments, whole objects ----


def test_save_and_load_through_file_objects(tmp_path):
    obj = nested()
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    assert_same(obj, load(buffer))
    with open(tmp_path / "c.npz", "wb") as f:
        save(obj, f)
    with open(tmp_path / "c.npz", "rb") as f:
        assert_same(obj, load(f))

    class Stream(io.RawIOBase):  # a pipe-like stream: readable, not seekable
        def __init__(self, data):
            self.data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, b):
            chunk = self.data.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    assert_same(obj, load(io.BufferedReader(Stream(buffer.getvalue()))))
    prefixed = io.BytesIO(b"header" + buffer.getvalue())  # read from the current position
    prefixed.seek(6)
    assert_same(obj, load(prefixed))


def test_damage_through_a_file_object_names_it(tmp_path):
    with open(tmp_path / "bad.npz", "wb") as f:
        f.write(b"PK\x03\x04 not really a zip")
    with open(tmp_path / "bad.npz", "rb") as f, pytest.raises(CheckpointError, match="bad.npz"):
        load(f)
    with pytest.raises(CheckpointError, match="file object"):
        load(io.BytesIO(b"PK\x05\x06"))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(weights_only=True),
        dict(weights_only=False),
        dict(map_location="cpu"),
        dict(map_location=None, mmap=True),
        dict(map_location={"cuda:0": "cpu"}),
        dict(map_location=lambda storage, loc: storage),
    ],
)
def test_torch_load_arguments_are_accepted(good_file, kwargs):
    assert load(good_file, **kwargs)["step"] == 3


def test_map_location_other_than_cpu_is_refused(good_file):
    with pytest.raises(ValueError, match="CPU only"):
        load(good_file, map_location="cuda:0")
    with pytest.raises(TypeError, match="weights_only"):
        load(good_file, weights_only="yes")


@pytest.mark.parametrize(
    "make",
    [
        lambda: cr.nn.Linear(2, 3),
        lambda: {"model": cr.nn.Sequential(cr.nn.Linear(2, 3))},
        lambda: cr.optim.SGD(cr.nn.Linear(2, 3).parameters(), lr=0.1),
    ],
)
def test_saving_a_whole_module_or_optimizer_points_to_state_dict(tmp_path, make):
    with pytest.raises(TypeError, match=r"whole .*state_dict\(\).*load_state_dict"):
        save(make(), tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []


# ---- temporary files of killed saves ----


def _dead_pid():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_save_removes_temporaries_of_dead_processes_only(tmp_path):
    path = tmp_path / "c.npz"
    dead = tmp_path / f".c.npz.{_dead_pid()}.0123abcd.tmp"
    live = tmp_path / f".c.npz.{os.getppid()}.0123abcd.tmp"  # a running process
    mine = tmp_path / f".c.npz.{os.getpid()}.89abcdef.tmp"  # not a save in progress
    other = tmp_path / f".d.npz.{_dead_pid()}.0123abcd.tmp"  # another file's temporary
    for p in (dead, live, mine, other):
        p.write_bytes(b"x" * 1000)
    save({"v": 1}, path)
    assert sorted(os.listdir(tmp_path)) == sorted(["c.npz", live.name, other.name])
    assert load(path) == {"v": 1}


def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(tmp_path):
    import subprocess
    import sys

    script = (
        "import os, signal, numpy as np\n"
        "import chainrule.serialization as s\n"
        "s.os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"s.save({{'big': np.zeros(100000)}}, {str(tmp_path / 'c.npz')!r})\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(serialization.__file__)))
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script], env=env, timeout=60)
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    # Each killed save removed the one before it: the pile never grows past one file.
    assert len(leftovers) == 1 and leftovers[0].startswith(".c.npz.")
    save({"v": 2}, tmp_path / "c.npz")
    assert os.listdir(tmp_path) == ["c.npz"]


def test_replacing_names_its_temporary_with_the_pid_and_removes_dead_ones(tmp_path):
    path = tmp_path / "page.html"
    dead = tmp_path / f".page.html.{_dead_pid()}.0123abcd.tmp"
    live = tmp_path / f".page.html.{os.getppid()}.0123abcd.tmp"
    for p in (dead, live):
        p.write_bytes(b"x")
    with serialization.replacing(path) as tmp:
        name = os.path.basename(tmp)
        assert name.startswith(f".page.html.{os.getpid()}.") and name.endswith(".tmp")
        assert not dead.exists() and live.exists()
        with open(tmp, "w") as f:
            f.write("new")
    assert path.read_text() == "new"
    with pytest.raises(RuntimeError), serialization.replacing(path) as tmp:
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError
    assert path.read_text() == "new"  # the old file stays whole
    assert sorted(os.listdir(tmp_path)) == sorted(["page.html", live.name])


# ---- crafted files: every declared size is checked before allocating ----


def _chainrule_zip(path, members, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data, compress_type=compress)


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_compressed_json_bomb_is_refused_without_inflating(tmp_path, good_file):
    members = _members(good_file)
    members["chainrule.json"] = b" " * (64 << 20) + members["chainrule.json"]  # 64 MiB
    _chainrule_zip(tmp_path / "bomb.npz", members, zipfile.ZIP_DEFLATED)
    assert os.path.getsize(tmp_path / "bomb.npz") < 1 << 20
    with pytest.raises(CheckpointError, match="bomb.npz.*compressed"):
        load(tmp_path / "bomb.npz")


def test_compressed_array_is_refused(tmp_path):
    np.savez_compressed(tmp_path / "z.npz", arr_0=np.zeros(1 << 20))
    members = _members(tmp_path / "z.npz")
    save({"a": np.zeros(1 << 20)}, tmp_path / "ok.npz")
    good = _members(tmp_path / "ok.npz")
    good["arr_0.npy"] = members["arr_0.npy"]
    _chainrule_zip(tmp_path / "z2.npz", good, zipfile.ZIP_DEFLATED)
    with pytest.raises(CheckpointError, match="z2.npz.*compressed"):
        load(tmp_path / "z2.npz")


@pytest.mark.parametrize("shape", [(1 << 40,), (1 << 20, 1 << 20, 1 << 20), (3, 0, 1 << 62), (5,)])
def test_npy_header_larger_than_its_bytes_is_refused(tmp_path, good_file, shape):
    members = _members(good_file)
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    members["arr_0.npy"] = header.getvalue() + b"\0" * 16
    _chainrule_zip(tmp_path / "huge.npz", members)
    with pytest.raises(CheckpointError, match=r"huge.npz.*declares shape"):
        load(tmp_path / "huge.npz")


def test_object_array_and_stray_members_are_refused(tmp_path, good_file):
    members = _members(good_file)
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()]), allow_pickle=True)
    _chainrule_zip(tmp_path / "obj.npz", dict(members, **{"arr_0.npy": buffer.getvalue()}))
    with pytest.raises(CheckpointError, match="obj.npz"):
        load(tmp_path / "obj.npz")
    _chainrule_zip(tmp_path / "extra.npz", dict(members, **{"arr_7.npy": b""}))
    with pytest.raises(CheckpointError, match="extra.npz.*arr_7"):
        load(tmp_path / "extra.npz")


@pytest.mark.parametrize("depth", [101, 100_000])
def test_deeply_nested_json_is_a_checkpoint_error(tmp_path, depth):
    meta = (
        '{"format": "chainrule", "version": 1, "root": ' + "[" * depth + "]" * depth + "}"
    ).encode()
    import hashlib

    _chainrule_zip(
        tmp_path / "deep.npz",
        {"chainrule.json": meta, "chainrule.sha256": hashlib.sha256(meta).hexdigest()},
    )
    with pytest.raises(CheckpointError, match="deep.npz.*nested deeper"):
        load(tmp_path / "deep.npz")


def test_moderate_nesting_still_loads(tmp_path):
    obj = 0
    for _ in range(40):
        obj = [obj]
    save(obj, tmp_path / "n.npz")
    assert load(tmp_path / "n.npz") == obj


@pytest.mark.parametrize(
    "bad_root",
    [
        {"type": "dict", "items": [[1.5, 0]]},
        {"type": "dict", "items": "x"},
        {"type": "tensor", "index": "0", "requires_grad": False},
        {"type": "tensor", "index": True, "requires_grad": False},
        {"type": "array", "index": 0, "scalar": "no"},
        {"type": "set"},
        {"no type": 1},
    ],
)
def test_malformed_structure_is_a_checkpoint_error(tmp_path, bad_root):
    import hashlib

    meta = json.dumps({"format": "chainrule", "version": 1, "root": bad_root}).encode()
    buffer = io.BytesIO()
    np.save(buffer, np.ones(2), allow_pickle=False)
    digest = hashlib.sha256(meta)
    serialization._hash_array(digest, 0, np.ones(2))
    _chainrule_zip(
        tmp_path / "m.npz",
        {
            "chainrule.json": meta,
            "arr_0.npy": buffer.getvalue(),
            "chainrule.sha256": digest.hexdigest(),
        },
    )
    with pytest.raises(CheckpointError, match="m.npz"):
        load(tmp_path / "m.npz")


def _small_checkpoint(path):
    obj = {
        "w": cr.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True),
        "step": 3,
        "names": ("a", "b"),
        "i": np.arange(3),
    }
    save(obj, path)
    return obj


def _named_stream(data, name):
    stream = io.BytesIO(data)
    stream.name = name  # as an open file has: errors must name it
    return stream


def _loads_or_refuses(data, expected, name="damaged.npz"):
    """The only two acceptable outcomes for a damaged file: CheckpointError or the right value."""
    try:
        back = load(_named_stream(data, name))
    except CheckpointError as err:
        assert name in str(err)
        return False
    assert_same(expected, back)
    return True


def test_every_flipped_byte_and_every_truncation_is_refused_or_harmless(tmp_path):
    """Bit flips used to escape as NotImplementedError, RuntimeError, RecursionError..."""
    path = tmp_path / "small.npz"
    expected = _small_checkpoint(path)
    data = path.read_bytes()
    outcomes = {True: 0, False: 0}
    for i in range(len(data)):
        for mask in (0x01, 0xFF):
            flipped = bytearray(data)
            flipped[i] ^= mask
            outcomes[_loads_or_refuses(bytes(flipped), expected)] += 1
    for cut in range(len(data)):
        outcomes[_loads_or_refuses(data[:cut], expected)] += 1
    assert outcomes[False] > len(data)  # most damage is caught, the rest changed nothing
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])  # and through a path
    with pytest.raises(CheckpointError, match="cut.npz"):
        load(tmp_path / "cut.npz")


# ---- PyTorch files, read without PyTorch's unpickler ----

torch_reason = "PyTorch writes the files these tests read"


def _torch():
    return pytest.importorskip("torch", reason=torch_reason)


def test_torch_state_dict_loads_into_an_identical_chainrule_model(tmp_path):
    torch = _torch()
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3)
    )
    theirs.train()
    theirs(torch.randn(16, 4))  # non-trivial running statistics
    theirs.eval()
    torch.save(theirs.state_dict(), tmp_path / "weights.pt")
    state = load(tmp_path / "weights.pt", map_location="cpu", weights_only=True)
    assert list(state) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        assert isinstance(state[key], cr.Tensor)
        assert str(state[key].dtype) == str(value.dtype).replace("torch.", "")
        np.testing.assert_array_equal(state[key].numpy(), value.numpy())
    ours = cr.nn.Sequential(
        cr.nn.Linear(4, 8), cr.nn.BatchNorm1d(8), cr.nn.ReLU(), cr.nn.Linear(8, 3)
    )
    ours.load_state_dict(state)
    ours.eval()
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        ours(cr.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_torch_dtypes_views_and_parameters(tmp_path):
    torch = _torch()
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    values = {
        "f64": torch.randn(3, dtype=torch.float64),
        "f16": torch.randn(3).half(),
        "bf16": torch.tensor([1.5, -2.25, 3e38]).bfloat16(),
        "i64": torch.arange(5),
        "i32": torch.arange(5, dtype=torch.int32),
        "i16": torch.arange(5, dtype=torch.int16),
        "i8": torch.arange(-2, 3, dtype=torch.int8),
        "u8": torch.arange(5, dtype=torch.uint8),
        "bool": torch.tensor([True, False]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "transposed": base.t(),
        "slice": base[1:3, 2:5],
        "base": base,
        "expanded": torch.ones(1, 3).expand(4, 3),
        "param": torch.nn.Parameter(torch.ones(2)),
        "nested": [torch.ones(1), (2, "x", None), {"lr": 0.1, "betas": (0.9, 0.999)}],
    }
    torch.save(values, tmp_path / "mixed.pt")
    back = load(tmp_path / "mixed.pt")
    for key, value in values.items():
        if isinstance(value, torch.Tensor):
            expected = value.detach().float() if key == "bf16" else value.detach()
            assert isinstance(back[key], cr.Tensor), key
            assert back[key].shape == tuple(expected.shape), key
            np.testing.assert_array_equal(back[key].numpy(), expected.numpy(), err_msg=key)
    assert isinstance(back["param"], cr.nn.Parameter) and back["param"].requires_grad
    assert back["bf16"].dtype == cr.float32
    assert back["nested"][1] == (2, "x", None) and back["nested"][2]["betas"] == (0.9, 0.999)
    back["slice"].numpy()[...] = -1  # loaded views own their memory
    assert back["base"].numpy().min() == 0


def test_torch_optimizer_state_dict_loads_into_chainrule(tmp_path):
    torch = _torch()
    w = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([w], lr=0.01)
    w.grad = torch.ones(3)
    opt.step()
    torch.save(opt.state_dict(), tmp_path / "opt.pt")
    ours = cr.optim.Adam([cr.tensor(np.ones(3, np.float32), requires_grad=True)], lr=0.01)
    ours.load_state_dict(load(tmp_path / "opt.pt"))
    np.testing.assert_allclose(ours.state[0]["exp_avg"], opt.state[w]["exp_avg"].numpy())
    assert ours.state[0]["step"] == 1


def test_a_whole_torch_module_is_refused_with_a_pointer_to_state_dict(tmp_path):
    torch = _torch()
    torch.save(torch.nn.Linear(2, 2), tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match=r"model.pt.*torch\.nn\.modules\.linear\.Linear"):
        load(tmp_path / "model.pt")


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _torch_layout(path, pickled, extra=()):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickled)
        zf.writestr("archive/byteorder", "little")
        for name, data in extra:
            zf.writestr(name, data)


@pytest.mark.parametrize("payload", ["system", "eval", "nested system"])
def test_malicious_pickle_is_refused_and_never_run(tmp_path, payload):
    marker = tmp_path / "pwned"
    if payload == "system":
        obj = _Exploit(marker)
    elif payload == "eval":
        obj = {"w": _EvalExploit(f"open({str(marker)!r}, 'w')")}
    else:
        obj = {"state": [1, {"x": _Exploit(marker)}]}
    _torch_layout(tmp_path / "evil.pt", pickle.dumps(obj, protocol=2))
    with pytest.raises(CheckpointError, match="evil.pt.*not a tensor record"):
        load(tmp_path / "evil.pt")
    assert not marker.exists()


class _EvalExploit:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (eval, (self.code,))


def _torch_bytes(tmp_path, obj):
    torch = _torch()
    torch.save(obj, tmp_path / "t.pt")
    return (tmp_path / "t.pt").read_bytes()


def test_torch_records_are_checked_against_their_storages(tmp_path):
    torch = _torch()
    data = _torch_bytes(tmp_path, {"w": torch.arange(6.0)})
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    prefix = next(n for n in members if n.endswith("data.pkl"))[: -len("data.pkl")]
    pkl = members[prefix + "data.pkl"]
    # The storage record says 6 elements; claim 2**40 instead (same pickle opcode width).
    assert b"K\x06t" in pkl
    cases = {
        "declares 1099511627776 elements": pkl.replace(
            b"K\x06t", b"\x8a\x06\x00\x00\x00\x00\x00\x01t", 1
        ),
        "reaches past its storage": pkl.replace(b"K\x06\x85", b"K\x07\x85", 1),
    }
    for message, bad in cases.items():
        bad_members = dict(members, **{prefix + "data.pkl": bad})
        with zipfile.ZipFile(tmp_path / "bad.pt", "w") as zf:
            for name, payload in bad_members.items():
                zf.writestr(name, payload)
        with pytest.raises(CheckpointError, match=f"bad.pt.*{message}"):
            load(tmp_path / "bad.pt")


def test_every_flipped_byte_of_a_torch_file_is_refused_or_harmless(tmp_path):
    torch = _torch()
    state = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "b": torch.ones(2)}
    data = _torch_bytes(tmp_path, state)
    expected = {k: cr.tensor(v.numpy()) for k, v in state.items()}
    for i in range(0, len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        try:
            back = load(_named_stream(bytes(flipped), "damaged.pt"))
        except CheckpointError as err:
            assert "damaged.pt" in str(err)
            continue
        assert list(back) == list(expected)
        for k in expected:
            np.testing.assert_array_equal(back[k].numpy(), expected[k].numpy())


def test_torch_file_loads_where_torch_cannot_be_imported(tmp_path):
    import subprocess
    import sys

    torch = _torch()
    torch.save({"w": torch.arange(6.0).reshape(2, 3)}, tmp_path / "w.pt")
    script = (
        "import sys; sys.modules['torch'] = None\n"  # `import torch` now fails
        "import chainrule as cr\n"
        f"w = cr.load({str(tmp_path / 'w.pt')!r})['w']\n"
        "print(w.shape, float(w.sum()), 'torch' in sys.modules and sys.modules['torch'])\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(serialization.__file__)))
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["(2,", "3)", "15.0", "None"]


def test_loading_holds_an_array_in_memory_once(tmp_path):
    import tracemalloc

    array = np.ones(16 << 20, np.float32)  # 64 MiB
    save({"a": array}, tmp_path / "big.npz")
    del array
    tracemalloc.start()
    try:
        back = load(tmp_path / "big.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert back["a"].nbytes == 64 << 20 and back["a"][-1] == 1
    assert peak < 1.5 * (64 << 20)  # no second full copy


@pytest.mark.parametrize("declared", [1 << 62, 1 << 40])
def test_pickle_declaring_a_huge_string_is_refused_before_allocating(tmp_path, declared):
    """Python's unpickler allocates a declared BINBYTES8 length before reading it."""
    _torch_layout(tmp_path / "long.pt", b"\x80\x04\x8e" + declared.to_bytes(8, "little") + b"abc")
    with pytest.raises(CheckpointError, match=f"long.pt.*expected {declared} bytes"):
        load(tmp_path / "long.pt")


class _Plain:
    pass


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_pickled_instances_are_refused_naming_their_class(tmp_path, protocol):
    _torch_layout(tmp_path / "obj.pt", pickle.dumps({"w": _Plain()}, protocol=protocol))
    named = r"copy_reg\._reconstructor" if protocol == 0 else r"test_serialization\._Plain"
    with pytest.raises(CheckpointError, match=rf"obj.pt.*asks for {named}.*state_dict"):
        load(tmp_path / "obj.pt")


def test_instance_building_opcodes_are_refused_even_for_allowed_classes(tmp_path):
    # OrderedDict is allowed, but only as PyTorch uses it (called, not built with NEWOBJ)
    _torch_layout(tmp_path / "obj.pt", b"\x80\x02ccollections\nOrderedDict\nq\x00)\x81.")
    with pytest.raises(CheckpointError, match="obj.pt.*NEWOBJ"):
        load(tmp_path / "obj.pt")
    _torch_layout(tmp_path / "inst.pt", pickle.dumps({"w": _Plain()}, protocol=0))  # INST
    with pytest.raises(CheckpointError, match="inst.pt"):
        load(tmp_path / "inst.pt")


# ---- crafted files found by fuzzing: each refused naming the file (or loaded), in linear time ----

_STORAGE_RECORD = (
    b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x06tQ"
)
_TENSOR_RECORD = (
    b"ctorch._utils\n_rebuild_tensor_v2\n(" + _STORAGE_RECORD + b"K\x00K\x06\x85K\x01\x85\x89}tR"
)
_SET_X = b"}X\x01\x00\x00\x00xK\x01sb."  # BUILD with the state {'x': 1}
_QUOTES = '\\"' * 100_000  # 100,000 escaped quotes: quadratic for a regular expression


def _pickle_file(pickled):
    def write(path, good_file):
        storage = ("archive/data/0", np.arange(6, dtype=np.float32).tobytes())
        _torch_layout(path, pickled, extra=[storage])
        return path

    return write


def _metadata_file(root):
    def write(path, good_file):
        import hashlib

        meta = ('{"format": "chainrule", "version": 1, "root": ' + root + "}").encode()
        digest = hashlib.sha256(meta).hexdigest()
        _chainrule_zip(path, {"chainrule.json": meta, "chainrule.sha256": digest})
        return path

    return write


def _npy3_file(header_text):
    def write(path, good_file):
        members = _members(good_file)
        header = header_text.encode()
        members["arr_0.npy"] = b"\x93NUMPY\x03\x00" + len(header).to_bytes(4, "little") + header
        _chainrule_zip(path, members)
        return path

    return write


def _fifo(path, good_file):
    os.mkfifo(path)
    return path


_NEEDS_FIFO = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")

# id: (writes the file and returns its path, what the error says; None: it loads to `value`)
CRAFTED_FILES = {
    # the C unpickler sizes its memo table by the largest index: 32 GiB for 2**32 - 1
    "LONG_BINPUT 2**32-1": (_pickle_file(b"\x80\x02]r\xff\xff\xff\xff."), "memo entry 4294967295"),
    "LONG_BINPUT 2**31": (_pickle_file(b"\x80\x02]r\x00\x00\x00\x80."), "memo entry 2147483648"),
    "PUT 2**32-1 (protocol 0)": (_pickle_file(b"(lp4294967295\n."), "memo entry 4294967295"),
    # BUILD could set a storage type's dtype (to object...), or failed without the file name
    "BUILD on a storage type": (
        _pickle_file(b"\x80\x02ctorch\nFloatStorage\n}X\x04\x00\x00\x00kindX\x02\x00\x00\x00|Osb."),
        "change a storage type",
    ),
    "BUILD on a storage": (
        _pickle_file(b"\x80\x02" + _STORAGE_RECORD + _SET_X),
        "change a storage ",
    ),
    "BUILD on a tensor": (_pickle_file(b"\x80\x02" + _TENSOR_RECORD + _SET_X), "change a tensor"),
    # the nesting of chainrule.json was counted with a quadratic regular expression
    "unterminated string of escaped quotes": (_metadata_file('"' + _QUOTES), "corrupted"),
    "string of escaped quotes": (_metadata_file('"' + _QUOTES + '"'), None),
    "nesting 101 deep in tuple nodes": (
        _metadata_file('{"type": "tuple", "items": [' * 50 + "1" + "]}" * 50),
        "nested deeper than 100",
    ),
    # Python's parser raised MemoryError, which load() passes on as a real shortage
    "npy 3.0 header: unary minus 9,990 deep": (_npy3_file("-" * 9990 + "1"), "nested too deeply"),
    "npy 3.0 header: bitwise not 9,990 deep": (_npy3_file("~" * 9990 + "1"), "nested too deeply"),
    "npy 3.0 header of 99,000 bytes": (_npy3_file("-" * 99_000 + "1"), "99001-byte .npy header"),
    # a named pipe or a device was reported as a missing file
    "named pipe": (_fifo, "not a regular file"),
    "/dev/null": (lambda path, good_file: "/dev/null", "not a regular file"),
}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=_NEEDS_FIFO if c in ("named pipe", "/dev/null") else ())
        for c in CRAFTED_FILES
    ],
)
def test_crafted_file_is_refused_naming_it(tmp_path, good_file, case):
    import time

    write, message = CRAFTED_FILES[case]
    path = write(tmp_path / "crafted.bin", good_file)
    start = time.perf_counter()
    if message is None:
        assert load(path) == '"' * 100_000
    else:
        with pytest.raises(CheckpointError, match=f"{os.path.basename(path)}.*{message}"):
            load(path)
    assert time.perf_counter() - start < 2.0  # the quadratic cases took minutes
