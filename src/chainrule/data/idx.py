"""IDX files (the MNIST / Fashion-MNIST format) and the MNIST datasets built on them."""

import gzip
import os
import zlib

import numpy as np

from .dataset import Dataset

# IDX type byte -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


# Deflate cannot compress better than about 1032:1, so a gzip file of n bytes holds at most
# this many times n bytes: a header declaring more is refused before anything is inflated.
_MAX_GZIP_RATIO = 1100
_CHUNK = 1 << 20
_TRAILING_CHECK = 64 << 20  # bytes past the declared payload that are counted, at most


def _parse_header(stream, path):
    """(dtype, shape, header length) from the magic number ``00 00 type ndim`` and the dims."""
    head = stream.read(4)
    if len(head) < 4 or head[:2] != b"\x00\x00":
        raise ValueError(
            f"{path}: not an IDX file (expected magic bytes 00 00 <type> <ndim>, "
            f"got {head[:4].hex(' ')})"
        )
    type_code, ndim = head[2], head[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(
            f"{path}: unknown IDX type code 0x{type_code:02X} (expected one of {known})"
        )
    end = 4 + 4 * ndim
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(
            f"{path}: truncated header, expected {ndim} dimension sizes ({end} bytes), "
            f"file has {4 + len(dims)}"
        )
    shape = tuple(int.from_bytes(dims[4 * i : 4 * i + 4], "big") for i in range(ndim))
    return IDX_DTYPES[type_code], shape, end


def _read_payload(stream, expected, path):
    """Exactly ``expected`` bytes, or a ValueError saying how many there really are."""
    chunks, have = [], 0
    while have < expected:
        chunk = stream.read(min(_CHUNK, expected - have))
        if not chunk:
            break
        chunks.append(chunk)
        have += len(chunk)
    extra = 0
    while have == expected and extra <= _TRAILING_CHECK:  # count, don't keep, what follows
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        extra += len(chunk)
    if have != expected or extra:
        problem = "truncated" if have < expected else "has trailing bytes"
        found = (
            f"more than {expected + _TRAILING_CHECK}"
            if extra > _TRAILING_CHECK
            else str(have + extra)
        )
        raise ValueError(
            f"{path}: payload {problem}: needs {expected} bytes after the header, found {found}"
        )
    return b"".join(chunks)


def load_idx(path):
    """Read an IDX file, plain or gzip-compressed (detected by the magic bytes 1f 8b).

    The header gives the element type (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64; stored big-endian) and the shape. The payload size the header
    declares is checked against the file before it is read: a plain file must hold exactly
    that many bytes, and a gzip file is inflated only up to it (never further), so a crafted
    header or a compressed bomb cannot make chainrule allocate more than the file declares.

    Returns:
        A NumPy array in native byte order, e.g. uint8 ``(60000, 28, 28)`` for MNIST images.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError (naming the file): bad magic number, unknown type code, a payload whose
            size does not match the header, or a header declaring more than the file can hold.

    Example::

        images = cr.data.load_idx("train-images-idx3-ubyte.gz")
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"IDX file not found: {path}")
    file_size = os.path.getsize(path)
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
        f.seek(0)
        stream = gzip.GzipFile(fileobj=f, mode="rb") if compressed else f
        raw, dtype, shape = _read_file(stream, path, file_size, compressed)
    array = np.frombuffer(raw, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def _read_file(stream, path, file_size, compressed):
    """``(payload bytes, dtype, shape)``; gzip damage becomes a ValueError naming the file."""
    try:
        with stream:
            dtype, shape, offset = _parse_header(stream, path)
            count = 1
            for dim in shape:
                count *= dim  # Python ints: no overflow, however absurd the dimensions
            expected = count * dtype.itemsize
            if not compressed and expected != file_size - offset:
                problem = "truncated" if file_size - offset < expected else "has trailing bytes"
                raise ValueError(
                    f"{path}: payload {problem}: header shape {shape} of {dtype.name} "
                    f"needs {expected} bytes after the header, found "
                    f"{file_size - offset}"
                )
            if compressed and expected > _MAX_GZIP_RATIO * file_size:
                raise ValueError(
                    f"{path}: header shape {shape} of {dtype.name} declares "
                    f"{expected} bytes, more than a gzip file of {file_size} bytes "
                    "can hold"
                )
            return _read_payload(stream, expected, path), dtype, shape
    except (OSError, EOFError, zlib.error) as e:
        if not compressed:
            raise
        raise ValueError(f"{path}: corrupt or truncated gzip data ({e})") from e


def _find(folders, name):
    """The path of ``name`` or ``name.gz`` in the first folder holding one of them."""
    for folder in folders:
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
    tried = ", ".join(os.path.join(f, name) + "[.gz]" for f in folders)
    raise FileNotFoundError(f"{name} not found; looked for {tried}")


class MNIST(Dataset):
    """MNIST from its four IDX files in ``root`` (or torchvision's ``root/MNIST/raw``).

    Reads ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (``t10k-*`` when
    ``train=False``), each plain or ``.gz``. Nothing is downloaded.

    ``ds[i]`` is ``(image, label)``: image float32 ``(1, 28, 28)`` in [0, 1] (after
    ``transform`` if given), label an int64 scalar. ``ds.data`` holds all images as uint8
    ``(N, 28, 28)`` and ``ds.targets`` the labels as int64 ``(N,)``; without a transform the
    DataLoader builds batches straight from them.

    Example::

        train = cr.data.MNIST("~/data", train=True)
        loader = cr.data.DataLoader(train, batch_size=128, shuffle=True)
        xb, yb = next(iter(loader))      # (128, 1, 28, 28) float32, (128,) int64
    """

    folder = "MNIST"

    def __init__(self, root, train=True, transform=None):
        root = os.path.expanduser(os.fspath(root))
        prefix = "train" if train else "t10k"
        folders = [root, os.path.join(root, self.folder, "raw")]
        image_path = _find(folders, f"{prefix}-images-idx3-ubyte")
        label_path = _find(folders, f"{prefix}-labels-idx1-ubyte")
        self.data = self._check(load_idx(image_path), 3, image_path, "images (N, rows, cols)")
        self.targets = self._check(load_idx(label_path), 1, label_path, "labels (N,)").astype(
            np.int64
        )
        if len(self.data) != len(self.targets):
            raise ValueError(
                f"{image_path} holds {len(self.data)} images but {label_path} holds "
                f"{len(self.targets)} labels; expected the same count"
            )
        self.train = train
        self.transform = transform

    @staticmethod
    def _check(array, ndim, path, what):
        if array.ndim != ndim or array.dtype != np.uint8:
            raise ValueError(
                f"{path}: expected uint8 {what}, got {array.dtype.name} of shape {array.shape}"
            )
        return array

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        image = self.data[index][None].astype(np.float32) / np.float32(255)
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]

    def _batch(self, indices):
        if self.transform is not None:
            return None
        images = self.data[indices][:, None].astype(np.float32) / np.float32(255)
        return images, self.targets[indices]


class FashionMNIST(MNIST):
    """Fashion-MNIST: the same files and layout as :class:`MNIST` (torchvision folder ``FashionMNIST/raw``).

    Example::

        test = cr.data.FashionMNIST("~/data", train=False)
    """

    folder = "FashionMNIST"
