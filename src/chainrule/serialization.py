"""Checkpoint files: ``save(obj, f)`` and ``load(f)`` (exported as ``cr.save`` / ``cr.load``).

A checkpoint is a NumPy ``.npz`` (an uncompressed zip) that never needs pickle:

* ``chainrule.json``: the structure of ``obj`` (dicts, lists, tuples, plain JSON values, and
  references to arrays) with a format name and version;
* ``arr_0.npy``, ``arr_1.npy``, ...: the arrays, written with ``allow_pickle=False``;
* ``chainrule.sha256``: a SHA-256 over the metadata bytes and every array's dtype, shape and bytes.

Saving to a path is atomic (a temporary file ``.NAME.PID.RANDOM.tmp`` in the same folder, fsync,
rename, fsync the folder): a crash leaves either the old file or the new one, never half of one,
and the next save to that path removes temporary files left by processes that died mid-save.

Loading treats the file as untrusted. Every size the format declares (zip members, ``.npy``
headers, storages) is checked against the bytes the file really holds before anything is
allocated, compressed members are refused (chainrule never writes them), JSON nesting is
bounded, and any damage, truncation or foreign content raises :class:`CheckpointError` naming
the file. ``load`` also reads a state dict written by PyTorch's ``torch.save`` (its zip format)
without PyTorch and without running pickled code: see :func:`load`.
"""

import ast
import collections
import contextlib
import hashlib
import io
import json
import os
import pickle
import pickletools
import re
import secrets
import struct
import threading
import time
import warnings
import zipfile

import numpy as np

from .tensor import Tensor, to_array

FORMAT = "chainrule"
VERSION = 1
_META = "chainrule.json"
_CHECKSUM = "chainrule.sha256"
_ARRAY_NAME = re.compile(r"arr_(0|[1-9][0-9]*)\.npy")
MAX_JSON_DEPTH = 100  # nesting of lists/objects in chainrule.json (a state dict needs ~6)


class CheckpointError(ValueError):
    """``load`` refused a file: empty, truncated, corrupted, foreign, oversized or pickle."""


class CheckpointNotFoundError(FileNotFoundError, ValueError):
    """``load`` of a path that does not exist (both a ``FileNotFoundError`` and a ``ValueError``)."""


# ---- save ----
def save(obj, f):
    """Write ``obj`` to ``f``: a path (written atomically) or a binary file object.

    ``obj`` may nest dicts (str or int keys; int keys stay ints), lists and tuples of Tensors,
    NumPy arrays and scalars, and plain values (str, int, float, bool, None). Dtypes and shapes
    are kept; Tensors come back as Tensors (with ``requires_grad``), arrays as arrays. Objects
    with a ``state_dict()`` (a whole Module, an optimizer) are refused: save their
    ``state_dict()`` and load it into a freshly built object, because chainrule never stores
    code.

    Example::

        cr.save({'model': model.state_dict(), 'optim': opt.state_dict(), 'epoch': 3}, 'ckpt.npz')
        buffer = io.BytesIO(); cr.save(model.state_dict(), buffer)
    """
    arrays = []
    tree = _encode(obj, arrays, "obj")
    meta = json.dumps({"format": FORMAT, "version": VERSION, "root": tree}).encode("utf-8")
    if hasattr(f, "write"):
        _write_zip(f, meta, arrays)
        return
    path = os.fspath(f)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder {folder!r} does not exist (saving to {path!r})")
    base = os.path.basename(path)
    _remove_stale_temps(folder, base)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with _ACTIVE_LOCK:
        _ACTIVE.add(tmp)
    try:
        # O_EXCL: never clobber someone else's file; mode 0o666 lets the umask decide, as open() does.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                _write_zip(out, meta, arrays)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            _remove_quietly(tmp)
            raise
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(tmp)
    _fsync_folder(folder)


def _encode(obj, arrays, where):
    """JSON tree for ``obj``; arrays are appended to ``arrays`` and referenced by index.

    Every JSON object in the tree is a tagged node ({"type": ...}); JSON lists are Python lists.
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, Tensor):
        arrays.append(_checked_array(obj._data, where))
        return {"type": "tensor", "index": len(arrays) - 1, "requires_grad": obj.requires_grad}
    if isinstance(obj, (np.ndarray, np.generic)):
        arrays.append(_checked_array(np.asarray(obj), where))
        return {"type": "array", "index": len(arrays) - 1, "scalar": isinstance(obj, np.generic)}
    if isinstance(obj, list):
        return [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, tuple):
        return {
            "type": "tuple",
            "items": [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)],
        }
    if isinstance(obj, dict):
        return {
            "type": "dict",
            "items": [
                [_checked_key(k, where), _encode(v, arrays, f"{where}[{k!r}]")]
                for k, v in obj.items()
            ],
        }
    kind = type(obj).__name__
    if callable(getattr(obj, "state_dict", None)):
        raise TypeError(
            f"save: {where} is a whole {kind}; chainrule saves values, never code or "
            f"objects. Save its weights with cr.save({kind.lower()}.state_dict(), f) "
            f"and restore them into a freshly built {kind} with "
            f".load_state_dict(cr.load(f))"
        )
    raise TypeError(
        f"save: cannot store {where} of type {kind}; only Tensors, "
        "NumPy arrays, dicts, lists, tuples, str, int, float, bool and None"
    )


def _checked_array(array, where):
    if array.dtype.hasobject:
        raise TypeError(
            f"save: {where} is an array of Python objects (dtype {array.dtype}), "
            "which cannot be stored without pickle"
        )
    return array


def _checked_key(key, where):
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(
            f"save: dict keys must be str or int, but {where} has a key {key!r} "
            f"of type {type(key).__name__}"
        )
    return key


def _write_zip(f, meta, arrays):
    digest = hashlib.sha256(meta)
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_META, meta)
        for i, array in enumerate(arrays):
            with (
                zf.open(f"arr_{i}.npy", "w", force_zip64=True) as member,
                warnings.catch_warnings(),
            ):
                # format 3.0 (UTF-8 field names) is read by every NumPy chainrule supports
                warnings.filterwarnings("ignore", "Stored array in format 3.0")
                np.lib.format.write_array(member, array, allow_pickle=False)
            _hash_array(digest, i, array)
        zf.writestr(_CHECKSUM, digest.hexdigest())


def _hash_array(digest, i, array):
    digest.update(f"|{i}|{array.dtype.str}|{array.shape}|".encode())
    digest.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary path next to ``path`` to write the new file to; on success it replaces
    ``path`` in one rename, so readers see the old file or the new one, never half of one.

    The temporary is named ``.NAME.PID.RANDOM.tmp`` like :func:`save`'s, and those left by
    processes that died mid-write (killed, power cut) are removed first. It is removed if the
    block raises.

    Example::

        with replacing("out/figure.png") as tmp:
            fig.savefig(tmp, format="png")
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    _remove_stale_temps(folder, base)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with _ACTIVE_LOCK:
        _ACTIVE.add(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        _remove_quietly(tmp)
        with _ACTIVE_LOCK:
            _ACTIVE.discard(tmp)


# Temporary files of saves in progress in this process (never removed as stale).
_ACTIVE = set()
_ACTIVE_LOCK = threading.Lock()
_LEGACY_TEMP_AGE = 3600.0  # seconds: temporaries of older versions carry no process id


def _remove_stale_temps(folder, base):
    """Remove ``.BASE.PID.RANDOM.tmp`` files of saves whose process is gone (killed mid-save).

    A live process's temporary file is kept: it may be saving right now.
    """
    pattern = re.compile(r"\." + re.escape(base) + r"\.(?:(\d+)\.)?[0-9a-f]{8}\.tmp")
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        if match.group(1) is None:
            stale = _age(entry) > _LEGACY_TEMP_AGE
        else:
            pid = int(match.group(1))
            with _ACTIVE_LOCK:
                mine = entry.path in _ACTIVE
            stale = (not mine) if pid == os.getpid() else not _process_alive(pid)
        if stale:
            _remove_quietly(entry.path)


def _age(entry):
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0


def _process_alive(pid):
    if os.name != "posix":
        return True  # no safe probe: keep the file
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # e.g. PermissionError: it exists, owned by someone else
    return True


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); folders cannot be opened on some systems."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---- load ----
def load(f, map_location=None, weights_only=None, mmap=None):
    """Read a checkpoint written by :func:`save`, or a state dict written by ``torch.save``.

    ``f`` is a path or a binary file object. The arguments of ``torch.load`` are accepted for
    ported code: ``map_location`` may be None or the CPU (the one device chainrule has);
    ``weights_only`` may be True, False or None and changes nothing, because chainrule only
    ever loads values (tensors, arrays, numbers, strings, containers), never code; ``mmap``
    is accepted and ignored (the file is read).

    A PyTorch file (``torch.save(model.state_dict(), f)``, its zip format) is read without
    PyTorch: its pickle is interpreted by an allow-list unpickler that accepts only tensor
    records (``torch._utils._rebuild_tensor_v2`` and ``_rebuild_parameter``, the standard
    storage types, ``collections.OrderedDict``); anything else is refused, never executed.
    Its tensors come back as chainrule Tensors (bfloat16 as float32).

    Raises :class:`CheckpointError` (a ``ValueError``) naming the file when it is empty,
    truncated, corrupted (checksum mismatch), oversized for what it declares, a plain pickle
    or an unsupported PyTorch file, not a checkpoint, or not a regular file (a pipe, a
    device); :class:`CheckpointNotFoundError` (a ``FileNotFoundError`` and ``ValueError``)
    when missing.

    Example::

        ckpt = cr.load('ckpt.npz')
        model.load_state_dict(ckpt['model'])
        model.load_state_dict(cr.load('resnet_weights.pt', map_location='cpu'))
    """
    _check_location(map_location)
    if weights_only not in (None, True, False):
        raise TypeError(f"load: weights_only must be True, False or None, got {weights_only!r}")
    if hasattr(f, "read"):
        name = repr(getattr(f, "name", "<file object>"))
        return _load_stream(_seekable(f), name)
    path = os.fspath(f)
    if os.path.isdir(path):
        raise CheckpointError(f"load: {path!r} is a folder, not a checkpoint file")
    if not os.path.exists(path):
        raise CheckpointNotFoundError(2, f"load: no checkpoint file at {path!r}", path)
    if not os.path.isfile(path):
        # a pipe would block, /dev/zero would never end
        raise CheckpointError(f"load: {path!r} is not a regular file (a device, pipe or socket)")
    with open(path, "rb") as stream:
        return _load_stream(stream, repr(path))


def _check_location(map_location):
    if map_location is None or callable(map_location) and not isinstance(map_location, type):
        return  # a function maps storages to devices: every storage is on the CPU anyway
    text = str(map_location)
    if isinstance(map_location, dict):
        text = ",".join(map(str, map_location.values())) or "cpu"
    if all(part.strip().split(":")[0] == "cpu" for part in text.split(",")):
        return
    raise ValueError(
        f"load: map_location={map_location!r}: chainrule runs on the CPU only; "
        "use map_location='cpu' or leave it out"
    )


def _seekable(f):
    try:
        if f.seekable():
            return f
    except (AttributeError, OSError):
        pass
    return io.BytesIO(f.read())


def _load_stream(stream, name):
    """Every failure while reading becomes a CheckpointError naming the file."""
    try:
        start = stream.tell()
        size = stream.seek(0, os.SEEK_END) - start
        stream.seek(start)
        head = stream.read(8)
        stream.seek(start)
        _check_magic(name, head)
        if start:
            stream = io.BytesIO(stream.read(size))
        with zipfile.ZipFile(stream) as zf:
            members = _checked_members(name, zf, size)
            if _META in members:
                return _load_chainrule(name, zf, members)
            return _load_torch(name, zf, members)
    except (CheckpointError, MemoryError):
        raise  # sizes are checked first: a MemoryError is a real shortage, not damage
    except Exception as err:  # noqa: BLE001 - damaged files fail in many ways (zip, npy, JSON)
        raise CheckpointError(
            f"load: {name} is truncated or corrupted ({type(err).__name__}: {err})"
        ) from err


def _check_magic(name, head):
    if not head:
        raise CheckpointError(f"load: {name} is empty")
    if head[0] == 0x80:
        raise CheckpointError(
            f"load: {name} is a pickle file (e.g. from pickle.dump or a "
            "torch.save older than PyTorch 1.6); chainrule never unpickles such "
            "files because that can run arbitrary code. Re-save it with a "
            "recent torch.save (zip format), or as a chainrule checkpoint"
        )
    if head.startswith(b"\x93NUMPY"):
        raise CheckpointError(
            f"load: {name} is a single .npy array, not a chainrule checkpoint; use numpy.load"
        )
    if not head.startswith(b"PK"):
        raise CheckpointError(f"load: {name} is not a chainrule checkpoint (not a zip/npz file)")


def _checked_members(name, zf, size):
    """``{member name: ZipInfo}`` after checking every declared size against the file's size.

    Only uncompressed (stored), unencrypted members are read: chainrule and torch.save both
    write them that way, and it means no member can inflate beyond the bytes on disk.
    """
    members, total = {}, 0
    for info in zf.infolist():
        if info.filename in members:
            raise CheckpointError(f"load: {name} holds the member {info.filename!r} twice")
        if info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(
                f"load: {name}: member {info.filename!r} is compressed "
                f"(method {info.compress_type}); checkpoints are stored "
                "uncompressed, so this file was not written by cr.save or "
                "torch.save"
            )
        if info.flag_bits & 0x1:
            raise CheckpointError(f"load: {name}: member {info.filename!r} is encrypted")
        if info.file_size != info.compress_size or info.header_offset + info.file_size > size:
            raise CheckpointError(
                f"load: {name}: member {info.filename!r} declares "
                f"{info.file_size} bytes, more than the file holds ({size})"
            )
        _check_local_header(name, zf.fp, info)
        total += info.file_size
        members[info.filename] = info
    if total > size:
        raise CheckpointError(
            f"load: {name}: its members declare {total} bytes in all, more "
            f"than the file holds ({size})"
        )
    return members


def _check_local_header(name, fp, info):
    """The member's local header must agree with the zip directory on flags and method.

    ``zipfile`` reads the data through the local header but ignores most of it, so damage
    there would otherwise load silently.
    """
    fp.seek(info.header_offset)
    header = fp.read(30)
    if (
        len(header) != 30
        or header[:4] != b"PK\x03\x04"
        or struct.unpack("<HH", header[6:10]) != (info.flag_bits, info.compress_type)
    ):
        raise CheckpointError(
            f"load: {name} is corrupted: the local header of member "
            f"{info.filename!r} does not match the zip directory"
        )


# ---- chainrule's own format ----
def _load_chainrule(name, zf, members):
    arrays_named = {n for n in members if _ARRAY_NAME.fullmatch(n)}
    count = len(arrays_named)
    expected = {_META, _CHECKSUM} | {f"arr_{i}.npy" for i in range(count)}
    if set(members) != expected:
        odd = sorted(set(members) ^ expected)
        raise CheckpointError(
            f"load: {name} is not a well-formed chainrule checkpoint "
            f"(unexpected or missing members {odd[:5]})"
        )
    meta = zf.read(_META)
    digest = hashlib.sha256(meta)
    arrays = []
    for i in range(count):
        arrays.append(_read_npy(name, zf, members[f"arr_{i}.npy"]))
        _hash_array(digest, i, arrays[-1])
    expected_digest = zf.read(_CHECKSUM).decode("ascii", "replace")
    if digest.hexdigest() != expected_digest:
        raise CheckpointError(f"load: {name} is corrupted: SHA-256 checksum mismatch")
    root = _parse_meta(name, meta)["root"]
    return _decode(root, arrays, name)


def _read_npy(name, zf, info):
    """An array from a ``.npy`` member, its header's shape checked against the member's size
    before the array is allocated; the bytes are read straight into it (no second copy)."""
    member = info.filename
    with zf.open(info) as stream:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        elif version == (3, 0):
            shape, fortran, dtype = _npy3_header(name, stream, member)
        else:
            raise CheckpointError(f"load: {name}: {member} has .npy format version {version}")
        if dtype.hasobject:
            raise CheckpointError(f"load: {name}: {member} holds Python objects (pickle)")
        count = 1
        for dim in shape:
            count *= dim  # Python ints: no overflow
        held = info.file_size - stream.tell()
        if count * dtype.itemsize != held:
            raise CheckpointError(
                f"load: {name}: {member} declares shape {shape} of {dtype} "
                f"({count * dtype.itemsize} bytes) but holds {held}"
            )
        flat = np.empty(count, dtype)
        _read_exactly(stream, flat.view(np.uint8) if dtype.itemsize else flat[:0], name, member)
    return flat.reshape(shape, order="F" if fortran else "C")


def _read_exactly(stream, buffer, name, member, chunk=1 << 20):
    view = memoryview(buffer).cast("B")
    done = 0
    while done < len(view):
        n = stream.readinto(view[done : done + chunk])
        if not n:
            raise CheckpointError(f"load: {name}: {member} ends early")
        done += n
    if stream.read(1):
        raise CheckpointError(f"load: {name}: {member} holds more bytes than its header says")


def _npy3_header(name, stream, member):
    """Version 3.0 ``.npy`` header (UTF-8; written for non-Latin-1 structured field names),
    which NumPy reads only through a private function."""
    length = int.from_bytes(stream.read(4), "little")
    if length > 10_000:  # NumPy's own limit for versions 1 and 2 (max_header_size)
        raise CheckpointError(f"load: {name}: {member} has a {length}-byte .npy header")
    try:
        header = ast.literal_eval(stream.read(length).decode("utf-8"))
    except (MemoryError, RecursionError):
        # Python's parser says MemoryError for text nested too deeply ('-' * 9990 + '1'),
        # not a shortage: the header is at most 10 kB
        raise CheckpointError(
            f"load: {name}: {member} has a malformed .npy header (nested too deeply)"
        ) from None
    if (
        not isinstance(header, dict)
        or set(header) != {"descr", "fortran_order", "shape"}
        or not isinstance(header["shape"], tuple)
        or not all(isinstance(d, int) and d >= 0 for d in header["shape"])
        or not isinstance(header["fortran_order"], bool)
    ):
        raise CheckpointError(f"load: {name}: {member} has a malformed .npy header")
    dtype = np.lib.format.descr_to_dtype(header["descr"])
    return header["shape"], header["fortran_order"], dtype


def _json_depth(value):
    """The deepest nesting of lists and dicts in a parsed JSON ``value``, without recursion.

    (It used to be counted on the text, with a regular expression for the strings that took
    quadratic time on a string of escaped quotes: 16,000 characters took 4 s.)
    """
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (list, dict)):
            deepest = max(deepest, depth)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _parse_meta(name, meta_bytes):
    deep = CheckpointError(f"load: {name}: {_META} is nested deeper than {MAX_JSON_DEPTH}")
    try:
        meta = json.loads(meta_bytes.decode("utf-8"))  # linear time; bounded recursion
    except RecursionError:
        raise deep from None
    if _json_depth(meta) > MAX_JSON_DEPTH:
        raise deep
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "root" not in meta:
        raise CheckpointError(f"load: {name} is not a chainrule checkpoint (bad {_META})")
    if meta.get("version") != VERSION:
        raise CheckpointError(
            f"load: {name} has format version {meta.get('version')}; this "
            f"chainrule reads version {VERSION}"
        )
    return meta


def _decode(node, arrays, name):
    if isinstance(node, list):
        return [_decode(v, arrays, name) for v in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "tuple":
        return tuple(_decode(v, arrays, name) for v in _field(node, "items", list, name))
    if kind == "dict":
        items = _field(node, "items", list, name)
        out = {}
        for item in items:
            if not (
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], (str, int))
                and not isinstance(item[0], bool)
            ):
                raise CheckpointError(f"load: {name} has a malformed dict entry in {_META}")
            out[item[0]] = _decode(item[1], arrays, name)
        return out
    if kind in ("tensor", "array"):
        index = _field(node, "index", int, name)
        if isinstance(index, bool) or not 0 <= index < len(arrays):
            raise CheckpointError(f"load: {name} refers to array {index}, but holds {len(arrays)}")
        if kind == "tensor":
            return Tensor._wrap(to_array(arrays[index])).requires_grad_(
                _field(node, "requires_grad", bool, name)
            )
        return arrays[index][()] if _field(node, "scalar", bool, name) else arrays[index]
    raise CheckpointError(f"load: {name} has an unknown node type {kind!r} in {_META}")


def _field(node, key, kind, name):
    value = node.get(key)
    if not isinstance(value, kind):
        raise CheckpointError(
            f"load: {name} has a malformed {node.get('type')!r} node in "
            f"{_META} ({key!r} is not a {kind.__name__})"
        )
    return value


# ---- PyTorch's zip format, without PyTorch and without running pickled code ----
_TORCH_DTYPES = {
    "FloatStorage": "f4",
    "DoubleStorage": "f8",
    "HalfStorage": "f2",
    "BFloat16Storage": "bf16",
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
    "ComplexFloatStorage": "c8",
    "ComplexDoubleStorage": "c16",
}


class _Frozen:
    """The objects the unpickler hands out: a pickle's BUILD instruction cannot change them
    (it would otherwise set, say, a storage type's dtype to ``object``)."""

    __slots__ = ()

    def __setstate__(self, state):
        raise _BuildRefused(type(self).what)


class _BuildRefused(Exception):
    """A BUILD instruction aimed at a storage or tensor record; ``_load_torch`` names the file."""


class _StorageType(_Frozen):
    """What ``find_class`` gives for ``torch.FloatStorage`` etc.: a dtype, nothing callable."""

    __slots__ = ("kind",)
    what = "storage type"

    def __init__(self, kind):
        self.kind = kind


class _Storage(_Frozen):
    __slots__ = ("array", "kind")
    what = "storage"

    def __init__(self, array, kind):
        self.array, self.kind = array, kind


class _Rebuilt(_Frozen):
    """A tensor record of the pickle; turned into a Tensor once the whole pickle is read."""

    __slots__ = ("array", "requires_grad", "parameter")
    what = "tensor"

    def __init__(self, array, requires_grad, parameter=False):
        self.array, self.requires_grad, self.parameter = array, requires_grad, parameter


class _TorchReader:
    """Reads one torch.save zip: storages on demand, every size checked, a budget on copies."""

    def __init__(self, name, zf, members, prefix):
        self.name, self.zf, self.members, self.prefix = name, zf, members, prefix
        self.storages = {}
        storage_bytes = sum(
            info.file_size for n, info in members.items() if n.startswith(prefix + "data/")
        )
        # Views may repeat storage bytes (e.g. two slices of one tensor), but not without end.
        self.budget = 2 * storage_bytes + (1 << 20)
        byteorder = prefix + "byteorder"
        order = zf.read(byteorder).strip() if byteorder in members else b"little"
        if order not in (b"little", b"big"):
            raise CheckpointError(f"load: {name} declares byte order {order!r}")
        self.order = "<" if order == b"little" else ">"

    def storage(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise CheckpointError(f"load: {self.name}: unsupported PyTorch record {pid!r:.80}")
        _, kind, key, location, numel = pid
        if (
            not isinstance(kind, _StorageType)
            or not isinstance(key, str)
            or not key.isdigit()
            or not isinstance(location, str)
            or isinstance(numel, bool)
            or not isinstance(numel, int)
            or numel < 0
        ):
            raise CheckpointError(f"load: {self.name}: malformed storage record {pid!r:.80}")
        if key not in self.storages:
            self.storages[key] = _Storage(self._read_storage(kind.kind, key, numel), kind.kind)
        storage = self.storages[key]
        if storage.array.size != numel or storage.kind != kind.kind:
            raise CheckpointError(
                f"load: {self.name}: storage {key} is used with two sizes or types"
            )
        return storage

    def _read_storage(self, kind, key, numel):
        member = f"{self.prefix}data/{key}"
        info = self.members.get(member)
        itemsize = 2 if kind == "bf16" else np.dtype(kind).itemsize
        if info is None or info.file_size != numel * itemsize:
            held = "none" if info is None else f"{info.file_size} bytes"
            raise CheckpointError(
                f"load: {self.name}: storage {key} declares {numel} elements "
                f"({numel * itemsize} bytes) but the file holds {held}"
            )
        stored = np.dtype(self.order + "u2" if kind == "bf16" else kind)
        if stored.itemsize > 1:
            stored = stored.newbyteorder(self.order)
        array = np.empty(numel, stored)
        with self.zf.open(info) as stream:
            _read_exactly(stream, array.view(np.uint8), self.name, member)
        if kind == "bf16":  # NumPy has no bfloat16: its bits are a float32's upper half
            return (array.astype(np.uint32) << 16).view(np.float32)
        return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))

    def rebuild_tensor(self, storage, offset, size, stride, requires_grad, hooks, metadata=None):
        if not isinstance(storage, _Storage):
            raise CheckpointError(f"load: {self.name}: a tensor record without a storage")
        if not (
            _is_index(offset)
            and _is_shape(size)
            and _is_shape(stride)
            and len(size) == len(stride)
            and isinstance(requires_grad, bool)
            and isinstance(hooks, dict)
            and not hooks
            and (metadata is None or isinstance(metadata, dict))
        ):
            raise CheckpointError(
                f"load: {self.name}: malformed tensor record "
                f"(offset {offset!r:.40}, size {size!r:.60})"
            )
        array = storage.array
        count = int(np.prod(size, dtype=object)) if size else 1
        if count:
            last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
            if last >= array.size:
                raise CheckpointError(
                    f"load: {self.name}: a tensor of size {tuple(size)} "
                    f"reaches past its storage of {array.size} elements"
                )
        if not count:
            return _Rebuilt(np.zeros(tuple(size), array.dtype), requires_grad)
        if offset == 0 and count == array.size and tuple(stride) == _c_strides(size):
            # the whole storage in order (the usual state-dict entry): a view, no copy; tensors
            # sharing such a storage share memory, as in PyTorch
            return _Rebuilt(array.reshape(tuple(size)), requires_grad)
        self.budget -= count * array.itemsize
        if self.budget < 0:
            raise CheckpointError(
                f"load: {self.name}: its tensors add up to far more bytes than its storages hold"
            )
        strides = tuple(s * array.itemsize for s in stride)
        view = np.lib.stride_tricks.as_strided(
            array[offset:], shape=tuple(size), strides=strides, writeable=False
        )
        return _Rebuilt(view.copy(), requires_grad)

    def rebuild_parameter(self, data, requires_grad, hooks, *state):
        if (
            not isinstance(data, _Rebuilt)
            or not isinstance(requires_grad, bool)
            or not isinstance(hooks, dict)
            or hooks
            or len(state) > 1
        ):
            raise CheckpointError(f"load: {self.name}: malformed parameter record")
        return _Rebuilt(data.array, requires_grad, parameter=True)


def _c_strides(size):
    """Element strides of a C-contiguous tensor of ``size`` (as PyTorch records them)."""
    strides, step = [], 1
    for n in reversed(size):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
}
_ALLOWED_GLOBALS |= {("torch", storage) for storage in _TORCH_DTYPES}


def _check_global(file_name, module, name):
    if (module, name) not in _ALLOWED_GLOBALS:
        raise CheckpointError(
            f"load: {file_name}: the pickle asks for {module}.{name}, which is "
            "not a tensor record; chainrule loads only tensors and plain "
            "values, never pickled code or objects (for a whole pickled "
            "model, save its state_dict() with torch.save instead)"
        )


def _is_index(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_shape(value):
    return isinstance(value, tuple) and all(_is_index(v) for v in value)


class _AllowListUnpickler(pickle.Unpickler):
    """Resolves only the globals a tensor state dict needs; anything else is refused."""

    def __init__(self, stream, reader):
        super().__init__(stream)
        self.reader = reader

    def find_class(self, module, name):
        _check_global(self.reader.name, module, name)
        if module == "collections":
            return collections.OrderedDict
        if module == "torch" and name in _TORCH_DTYPES:
            return _StorageType(_TORCH_DTYPES[name])
        if name == "_rebuild_tensor_v2":
            return self.reader.rebuild_tensor
        return self.reader.rebuild_parameter

    def persistent_load(self, pid):
        return self.reader.storage(pid)


# Opcodes that build instances of classes: a tensor state dict never needs them.
_REFUSED_OPCODES = {"INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4"}


def _prescan_pickle(name, data):
    """Walk the pickle's opcodes without running any of them.

    Python's unpickler allocates the length a bytes/str opcode declares before reading it, so
    a 20-byte pickle can ask for 1 TiB; ``pickletools`` checks every length against the bytes
    present, and memo indices are checked to count up as picklers write them. Opcodes that
    instantiate classes are refused outright.
    """
    strings = []  # the last strings pushed: STACK_GLOBAL takes its names from them
    memo = 0  # entries memoized so far
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name in ("PUT", "BINPUT", "LONG_BINPUT"):
            # Picklers number memo entries 0, 1, 2...; the C unpickler sizes its memo table
            # by the largest index, so LONG_BINPUT 2**32-1 alone would claim 32 GiB.
            if not 0 <= arg <= memo:
                raise CheckpointError(
                    f"load: {name}: the pickle stores memo entry {arg} after only {memo} "
                    "(a crafted index: the unpickler would allocate a table that large)"
                )
            memo += arg == memo
        elif opcode.name == "MEMOIZE":
            memo += 1
        if opcode.name == "GLOBAL":
            _check_global(name, *arg.split(" ", 1))
        elif opcode.name == "STACK_GLOBAL" and len(strings) == 2:
            _check_global(name, *strings)
        elif opcode.name in _REFUSED_OPCODES:
            raise CheckpointError(
                f"load: {name}: the pickle uses {opcode.name}, which builds "
                "objects; chainrule loads only tensors and plain values"
            )
        if isinstance(arg, str) and "UNICODE" in opcode.name:
            strings = (strings + [arg])[-2:]


def _load_torch(name, zf, members):
    pickles = [n for n in members if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pickles) != 1:
        raise CheckpointError(
            f"load: {name} is a zip/npz file but not a chainrule checkpoint "
            f"(no {_META} entry) nor a PyTorch file"
        )
    prefix = pickles[0][: -len("data.pkl")]
    reader = _TorchReader(name, zf, members, prefix)
    data = zf.read(pickles[0])
    _prescan_pickle(name, data)
    try:
        obj = _AllowListUnpickler(io.BytesIO(data), reader).load()
    except _BuildRefused as err:
        raise CheckpointError(
            f"load: {name}: the pickle tries to change a {err} (BUILD instruction); "
            "chainrule loads only tensors and plain values"
        ) from None
    return _Plain(name).convert(obj, 0)


class _Plain:
    """The unpickled object with tensor records as Tensors; only plain containers allowed.

    An object met twice (tied weights, a shared list) is converted once and shared again, so a
    pickle of repeated references cannot make the work grow exponentially; a container inside
    itself is refused.
    """

    def __init__(self, name):
        self.name, self.done, self.open = name, {}, set()

    def convert(self, obj, depth):
        if obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)):
            return obj
        if id(obj) in self.done:
            return self.done[id(obj)][1]
        if depth > MAX_JSON_DEPTH:
            raise CheckpointError(
                f"load: {self.name}: the pickle is nested deeper than {MAX_JSON_DEPTH}"
            )
        if id(obj) in self.open:
            raise CheckpointError(f"load: {self.name}: the pickle holds a container inside itself")
        self.open.add(id(obj))
        result = self._convert(obj, depth)
        self.open.discard(id(obj))
        self.done[id(obj)] = (obj, result)  # obj kept alive: its id stays unique
        return result

    def _convert(self, obj, depth):
        if isinstance(obj, _Rebuilt):
            if obj.parameter:
                from .nn.parameter import Parameter

                return Parameter(obj.array, requires_grad=obj.requires_grad)
            return Tensor._wrap(to_array(obj.array)).requires_grad_(obj.requires_grad)
        if isinstance(obj, dict):
            items = [
                (self.convert(k, depth + 1), self.convert(v, depth + 1)) for k, v in obj.items()
            ]
            return (
                collections.OrderedDict(items)
                if isinstance(obj, collections.OrderedDict)
                else dict(items)
            )
        if isinstance(obj, (list, tuple)):
            values = [self.convert(v, depth + 1) for v in obj]
            return tuple(values) if isinstance(obj, tuple) else values
        raise CheckpointError(
            f"load: {self.name}: the pickle holds a {type(obj).__name__}, "
            "which is not a tensor or a plain value"
        )
