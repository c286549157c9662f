import os
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

import chainrule.data
from chainrule.data import digits_split, load_digits


def test_load_digits_shapes_dtypes_and_range():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    # Pixels were integer counts 0..16, so X * 16 is whole.
    np.testing.assert_array_equal(X * 16, np.round(X * 16))


def test_load_digits_class_counts():
    _, y = load_digits()
    counts = np.bincount(y)
    np.testing.assert_array_equal(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])


def test_load_digits_known_first_image():
    # The first row of the UCI file is a zero; the top image row is 0 0 5 13 9 1 0 0.
    X, y = load_digits(return_images=True)
    assert X.shape == (1797, 8, 8) and y[0] == 0
    np.testing.assert_array_equal(X[0, 0] * 16, [0, 0, 5, 13, 9, 1, 0, 0])


def test_load_digits_returns_fresh_arrays():
    X, _ = load_digits()
    X[:] = 5
    assert load_digits()[0].max() == 1.0


def test_bundled_files_are_package_resources():
    root = resources.files("chainrule.data")
    npz = root.joinpath("digits.npz")
    assert npz.is_file() and len(npz.read_bytes()) < 100_000
    with np.load(npz.open("rb")) as archive:
        assert archive["images"].dtype == np.uint8 and archive["images"].max() == 16
    assert "CC BY 4.0" in root.joinpath("DIGITS_SOURCE.txt").read_text()


def test_load_digits_works_from_a_zipped_package(tmp_path):
    # A zip import has no real files on disk: loading must go through importlib.resources.
    src = Path(chainrule.data.__file__).parent.parent
    archive = tmp_path / "chainrule.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in src.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, Path("chainrule") / path.relative_to(src))
    code = (
        "import chainrule.data as d; X, y = d.load_digits(); "
        f"assert d.__file__.startswith({str(archive)!r}), d.__file__; print(X.shape, int(y.sum()))"
    )
    env = dict(os.environ, PYTHONPATH=str(archive))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["(1797,", "64)", str(int(load_digits()[1].sum()))]


def test_digits_split_is_stratified_and_fixed():
    X_tr, y_tr, X_te, y_te = digits_split()
    assert X_tr.shape == (1438, 64) and X_te.shape == (359, 64)
    assert X_tr.dtype == np.float32 and y_te.dtype == np.int64
    per_class = np.bincount(y_tr, minlength=10) + np.bincount(y_te, minlength=10)
    np.testing.assert_array_equal(per_class, np.bincount(load_digits()[1]))
    # Each class gives ~20% of its images to the test set.
    np.testing.assert_allclose(np.bincount(y_te) / per_class, 0.2, atol=0.01)
    again = digits_split()
    np.testing.assert_array_equal(again[3], y_te)
    np.testing.assert_array_equal(again[0], X_tr)
    assert not np.array_equal(digits_split(seed=1)[3], y_te)


def test_digits_split_is_a_partition():
    X, _ = load_digits()
    X_tr, _, X_te, _ = digits_split(test_fraction=0.3, seed=2)
    assert len(X_tr) + len(X_te) == 1797
    # Compare the multisets of rows by sorting both the same way.
    both = np.concatenate([X_tr, X_te])
    np.testing.assert_array_equal(both[np.lexsort(both.T)], X[np.lexsort(X.T)])


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5])
def test_digits_split_bad_fraction(bad):
    with pytest.raises(ValueError, match="test_fraction"):
        digits_split(test_fraction=bad)
