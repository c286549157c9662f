"""Checkpoint files: ``save(obj, path)`` and ``load(path)`` (exported as ``cr.save`` / ``cr.load``).

A checkpoint is a NumPy ``.npz`` (an uncompressed zip) that never needs pickle:

* ``chainrule.json``: the structure of ``obj`` (dicts, lists, tuples, plain JSON values, and
  references to arrays) with a format name and version;
* ``arr_0.npy``, ``arr_1.npy``, ...: the arrays, written with ``allow_pickle=False``;
* ``chainrule.sha256``: a SHA-256 over the metadata bytes and every array's dtype, shape and bytes.

Saving is atomic (temporary file in the same folder, fsync, rename, fsync the folder): a crash
leaves either the old file or the new one, never half of one. Loading checks the checksum and
refuses damaged, foreign and pickle files with an error naming the file.
"""
import hashlib
import json
import os
import secrets
import zipfile

import numpy as np

from .tensor import Tensor

FORMAT = "chainrule"
VERSION = 1
_META = "chainrule.json"
_CHECKSUM = "chainrule.sha256"


class CheckpointError(ValueError):
    """``load`` refused a file: empty, truncated, corrupted, foreign or pickle."""


class CheckpointNotFoundError(FileNotFoundError, ValueError):
    """``load`` of a path that does not exist (both a ``FileNotFoundError`` and a ``ValueError``)."""


# ---- save ----
def save(obj, path):
    """Write ``obj`` to ``path`` atomically.

    ``obj`` may nest dicts (str or int keys; int keys stay ints), lists and tuples of Tensors,
    NumPy arrays and scalars, and plain values (str, int, float, bool, None). Dtypes and shapes
    are kept; Tensors come back as Tensors (with ``requires_grad``), arrays as arrays.

    Example::

        cr.save({'model': model.state_dict(), 'optim': opt.state_dict(), 'epoch': 3}, 'ckpt.npz')
    """
    arrays = []
    tree = _encode(obj, arrays, "obj")
    meta = json.dumps({"format": FORMAT, "version": VERSION, "root": tree}).encode("utf-8")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder {folder!r} does not exist (saving to {path!r})")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    # O_EXCL: never clobber someone else's file; mode 0o666 lets the umask decide, as open() does.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_zip(f, meta, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
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
        return {"type": "tuple", "items": [_encode(v, arrays, f"{where}[{i}]")
                                           for i, v in enumerate(obj)]}
    if isinstance(obj, dict):
        return {"type": "dict", "items": [[_checked_key(k, where), _encode(v, arrays,
                                           f"{where}[{k!r}]")] for k, v in obj.items()]}
    raise TypeError(f"save: cannot store {where} of type {type(obj).__name__}; only Tensors, "
                    "NumPy arrays, dicts, lists, tuples, str, int, float, bool and None")


def _checked_array(array, where):
    if array.dtype.hasobject:
        raise TypeError(f"save: {where} is an array of Python objects (dtype {array.dtype}), "
                        "which cannot be stored without pickle")
    return array


def _checked_key(key, where):
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise TypeError(f"save: dict keys must be str or int, but {where} has a key {key!r} "
                        f"of type {type(key).__name__}")
    return key


def _write_zip(f, meta, arrays):
    digest = hashlib.sha256(meta)
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(_META, meta)
        for i, array in enumerate(arrays):
            with zf.open(f"arr_{i}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
            _hash_array(digest, i, array)
        zf.writestr(_CHECKSUM, digest.hexdigest())


def _hash_array(digest, i, array):
    digest.update(f"|{i}|{array.dtype.str}|{array.shape}|".encode())
    digest.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


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
def load(path):
    """Read a checkpoint written by :func:`save`; returns the same nested structure.

    Raises :class:`CheckpointError` (a ``ValueError``) naming the file when it is empty, truncated, corrupted (checksum
    mismatch), a pickle or PyTorch file, or not a chainrule checkpoint;
    :class:`CheckpointNotFoundError` (a ``FileNotFoundError`` and ``ValueError``) when missing.
    Never unpickles anything.

    Example::

        ckpt = cr.load('ckpt.npz')
        model.load_state_dict(ckpt['model'])
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckpointNotFoundError(2, f"load: no checkpoint file at {path!r}", path)
    with open(path, "rb") as f:
        _check_magic(path, f.read(8))
        f.seek(0)
        try:
            meta_bytes, arrays = _read_zip(path, f)
        except CheckpointError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
            raise CheckpointError(f"load: {path!r} is truncated or corrupted ({err})") from err
    try:
        return _decode(_parse_meta(path, meta_bytes)["root"], arrays, path)
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"load: {path!r} has malformed {_META} ({err!r})") from err


def _check_magic(path, head):
    if not head:
        raise CheckpointError(f"load: {path!r} is empty")
    if head[0] == 0x80:
        raise CheckpointError(f"load: {path!r} is a pickle file (e.g. from pickle.dump or an old "
                         "torch.save); chainrule never unpickles files because that can run "
                         "arbitrary code")
    if head.startswith(b"\x93NUMPY"):
        raise CheckpointError(f"load: {path!r} is a single .npy array, not a chainrule checkpoint; "
                         "use numpy.load")
    if not head.startswith(b"PK"):
        raise CheckpointError(f"load: {path!r} is not a chainrule checkpoint (not a zip/npz file)")


def _read_zip(path, f):
    with zipfile.ZipFile(f) as zf:
        names = zf.namelist()
        if _META not in names:
            if any(n.endswith("data.pkl") for n in names):
                raise CheckpointError(f"load: {path!r} is a PyTorch checkpoint (torch.save), whose "
                               "data is pickled; chainrule cannot read it")
            raise CheckpointError(f"load: {path!r} is a zip/npz file but not a chainrule checkpoint "
                           f"(no {_META} entry)")
        meta = zf.read(_META)
        digest = hashlib.sha256(meta)
        arrays = []
        for i in range(sum(n.startswith("arr_") for n in names)):
            with zf.open(f"arr_{i}.npy") as member:
                arrays.append(np.lib.format.read_array(member, allow_pickle=False))
            _hash_array(digest, i, arrays[-1])
        expected = zf.read(_CHECKSUM).decode("ascii", "replace")
    if digest.hexdigest() != expected:
        raise CheckpointError(f"load: {path!r} is corrupted: SHA-256 checksum mismatch")
    return meta, arrays


def _parse_meta(path, meta_bytes):
    meta = json.loads(meta_bytes.decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or "root" not in meta:
        raise CheckpointError(f"load: {path!r} is not a chainrule checkpoint (bad {_META})")
    if meta.get("version") != VERSION:
        raise CheckpointError(f"load: {path!r} has format version {meta.get('version')}; this "
                         f"chainrule reads version {VERSION}")
    return meta


def _decode(node, arrays, path):
    if isinstance(node, list):
        return [_decode(v, arrays, path) for v in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "tuple":
        return tuple(_decode(v, arrays, path) for v in node["items"])
    if kind == "dict":
        return {key: _decode(v, arrays, path) for key, v in node["items"]}
    if kind in ("tensor", "array"):
        index = node["index"]
        if not 0 <= index < len(arrays):
            raise CheckpointError(f"load: {path!r} refers to array {index}, but holds {len(arrays)}")
        array = arrays[index]
        if kind == "tensor":
            return Tensor(array, requires_grad=node["requires_grad"])
        return array[()] if node["scalar"] else array
    raise CheckpointError(f"load: {path!r} has an unknown node type {kind!r} in {_META}")
