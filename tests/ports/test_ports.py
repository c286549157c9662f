"""Everyday PyTorch programs run after renaming ``torch`` to ``chainrule``.

Each file in ``programs/`` is written for PyTorch as people write it (weights are drawn from a
seeded NumPy generator and loaded through ``load_state_dict`` so both libraries start equal).
The test runs it under PyTorch, then renames every ``torch`` to ``chainrule`` — nothing else —
runs it again, and compares each result its ``COMPARE`` names: ``0`` means equal, a number is
the tolerance (relative and absolute) for floats.
"""

import pathlib
import re
import runpy

import numpy as np
import pytest

PROGRAMS = sorted((pathlib.Path(__file__).parent / "programs").glob("p*.py"))


def run_program(path):
    namespace = runpy.run_path(str(path), run_name="port")
    return namespace["main"](), namespace["COMPARE"]


def renamed(path, folder):
    source = re.sub(r"\btorch\b", "chainrule", path.read_text())
    target = folder / path.name
    target.write_text(source)
    return target


def assert_same(key, ours, theirs, tol):
    if isinstance(theirs, str) or (
        isinstance(theirs, list) and theirs and isinstance(theirs[0], str)
    ):
        assert ours == theirs, f"{key}: chainrule {ours!r}, PyTorch {theirs!r}"
        return
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    assert a.shape == b.shape, f"{key}: chainrule shape {a.shape}, PyTorch {b.shape}"
    if tol == 0:
        np.testing.assert_array_equal(a, b, err_msg=key)
    else:
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=key)


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_program_runs_after_the_rename_and_matches_pytorch(path, tmp_path):
    pytest.importorskip("torch")
    theirs, compare = run_program(path)
    ours, compare_renamed = run_program(renamed(path, tmp_path))
    assert compare == compare_renamed
    assert set(ours) == set(theirs) == set(compare)
    for key, tol in compare.items():
        assert_same(key, ours[key], theirs[key], tol)


def test_the_rename_is_purely_mechanical():
    for path in PROGRAMS:
        source = path.read_text()
        assert "chainrule" not in source, f"{path.name} must be a plain PyTorch program"
        assert re.search(r"^import torch$", source, re.M), path.name
