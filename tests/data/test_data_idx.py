import gzip

import numpy as np
import pytest

from chainrule.data import MNIST, DataLoader, FashionMNIST, load_idx

CODES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def idx_bytes(array, code):
    """An IDX file's bytes: magic 00 00 <code> <ndim>, big-endian uint32 dims, big-endian data."""
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=CODES[code]).tobytes()


def write(path, raw, gz=False):
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def mnist_files(folder, prefix, n_images=6, n_labels=6, gz=False, label_code=0x08):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n_images, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n_labels).astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    write(folder / f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images, 0x08), gz)
    write(folder / f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels, label_code), gz)
    return images, labels


# --- load_idx ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("code", sorted(CODES))
def test_load_idx_every_type_code_plain_and_gzip(tmp_path, code, gz):
    values = np.arange(-12, 12).reshape(2, 3, 4) * (1.5 if code >= 0x0D else 1)
    if code == 0x08:
        values = values + 12
    path = write(tmp_path / "a.idx", idx_bytes(values, code), gz)
    out = load_idx(path)
    assert out.shape == (2, 3, 4)
    assert out.dtype == np.dtype(CODES[code]).newbyteorder("=") and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


def test_load_idx_large_values_are_big_endian(tmp_path):
    values = np.array([1, 256, 65536, 2**31 - 1], dtype=np.int64)
    out = load_idx(write(tmp_path / "b.idx", idx_bytes(values, 0x0C)))
    np.testing.assert_array_equal(out, values)
    assert out.flags.writeable


def test_load_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.idx"):
        load_idx(tmp_path / "nope.idx")


@pytest.mark.parametrize(
    "raw,message",
    [
        (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "magic bytes 00 00"),
        (b"\x00", "magic bytes"),
        (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x05", "type code 0x0A"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated header"),
        (
            b"\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x03" + bytes(5),
            "truncated.*needs 6 bytes.*found 5",
        ),
        (b"\x00\x00\x0c\x01\x00\x00\x00\x02" + bytes(9), "trailing bytes.*needs 8 bytes.*found 9"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_load_idx_malformed_files_name_file_and_expectation(tmp_path, raw, message, gz):
    path = write(tmp_path / "bad-file.idx", raw, gz)
    with pytest.raises(ValueError, match=message) as info:
        load_idx(path)
    assert "bad-file.idx" in str(info.value)


def test_load_idx_truncated_gzip_stream(tmp_path):
    good = gzip.compress(idx_bytes(np.zeros((50, 50), np.uint8), 0x08))
    path = tmp_path / "cut.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="cut.gz.*gzip"):
        load_idx(path)


# --- MNIST ------------------------------------------------------------------------------------


@pytest.mark.parametrize("train,prefix,gz", [(True, "train", True), (False, "t10k", False)])
def test_mnist_reads_images_and_labels(tmp_path, train, prefix, gz):
    images, labels = mnist_files(tmp_path, prefix, gz=gz)
    ds = MNIST(tmp_path, train=train)
    assert len(ds) == 6
    assert ds.data.shape == (6, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.targets, labels)
    image, label = ds[2]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1
    np.testing.assert_allclose(image[0] * 255, images[2], atol=1e-4)
    assert label == labels[2] and label.dtype == np.int64


def test_mnist_loader_fast_path_matches_samples(tmp_path):
    mnist_files(tmp_path, "train")
    ds = MNIST(tmp_path)
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    assert xb.shape == (4, 1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64
    np.testing.assert_array_equal(xb.numpy(), np.stack([ds[i][0] for i in range(4)]))
    np.testing.assert_array_equal(yb.numpy(), ds.targets[:4])


def test_mnist_transform_is_applied(tmp_path):
    mnist_files(tmp_path, "train")
    ds = MNIST(tmp_path, transform=lambda img: img.reshape(784) * 2)
    assert ds[0][0].shape == (784,)
    xb, _ = next(iter(DataLoader(ds, batch_size=3)))
    assert xb.shape == (3, 784) and xb.numpy().max() > 1


def test_mnist_and_fashion_find_torchvision_layout(tmp_path):
    mnist_files(tmp_path / "MNIST" / "raw", "t10k", gz=True)
    mnist_files(tmp_path / "FashionMNIST" / "raw", "train", n_images=3, n_labels=3)
    assert len(MNIST(tmp_path, train=False)) == 6
    assert len(FashionMNIST(tmp_path, train=True)) == 3


def test_mnist_missing_files_name_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        MNIST(tmp_path)
    mnist_files(tmp_path, "train")
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        MNIST(tmp_path)


def test_mnist_count_mismatch(tmp_path):
    mnist_files(tmp_path, "t10k", n_images=6, n_labels=5)
    with pytest.raises(ValueError, match="6 images.*t10k-labels-idx1-ubyte.*5 labels"):
        MNIST(tmp_path, train=False)


def test_mnist_wrong_label_type(tmp_path):
    mnist_files(tmp_path, "train", label_code=0x0C)
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.*expected uint8 labels"):
        MNIST(tmp_path)


def test_mnist_truncated_image_file(tmp_path):
    mnist_files(tmp_path, "train")
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.*truncated"):
        MNIST(tmp_path)


# --- crafted headers: sizes are checked before anything is allocated or inflated ----------------


@pytest.mark.parametrize("dims", [(0xFFFFFFFF,) * 3, (0xFFFFFFFF,) * 8, (1 << 31, 1 << 31)])
@pytest.mark.parametrize("gz", [False, True])
def test_absurd_dimensions_are_refused_naming_the_file(tmp_path, dims, gz):
    """Overflowing dimensions used to surface as NumPy's messages without the file name."""
    header = bytes([0, 0, 0x0E, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    path = write(tmp_path / "absurd.idx", header + bytes(64), gz)
    with pytest.raises(ValueError, match=r"absurd.idx.*(needs|declares) \d+ bytes") as info:
        load_idx(path)
    assert str(np.prod(dims, dtype=object) * 8) in str(info.value)


def test_gzip_bomb_behind_a_one_byte_header_is_not_inflated(tmp_path, monkeypatch):
    """A gzip'd IDX whose header declares 1 byte used to inflate 9 MB into gigabytes."""
    import tracemalloc

    from chainrule.data import idx

    monkeypatch.setattr(idx, "_TRAILING_CHECK", 4 << 20)  # stop counting after 4 MiB
    payload = bytes([0, 0, 0x08, 1, 0, 0, 0, 1, 7]) + bytes(24 << 20)  # 24 MiB of zeros
    path = write(tmp_path / "bomb.idx.gz", payload, gz=True)
    assert path.stat().st_size < 50_000
    tracemalloc.start()
    try:
        with pytest.raises(
            ValueError, match="bomb.idx.gz.*trailing bytes.*needs 1 bytes.*more than"
        ):
            load_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20  # chunks are counted and dropped, never kept


def test_gzip_header_declaring_more_than_deflate_can_hold_is_refused_early(tmp_path):
    header = bytes([0, 0, 0x08, 2]) + (60000).to_bytes(4, "big") + (60000).to_bytes(4, "big")
    path = write(tmp_path / "small.gz", header + bytes(100), gz=True)
    with pytest.raises(ValueError, match="small.gz.*declares 3600000000 bytes.*gzip file of"):
        load_idx(path)


def test_gzip_trailing_bytes_are_counted_exactly_when_few(tmp_path):
    raw = idx_bytes(np.arange(4, dtype=np.uint8), 0x08) + bytes(10)
    with pytest.raises(
        ValueError, match="trailing bytes: needs 4 bytes after the header, found 14"
    ):
        load_idx(write(tmp_path / "t.gz", raw, gz=True))
