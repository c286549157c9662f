"""Fixtures of the command-line tests: run ``chainrule`` in a temporary folder."""

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from chainrule.cli import cli

SRC = os.path.join(os.path.dirname(__file__), "..", "..", "src")
FAST = ["--epochs", "2", "--width", "16", "--no-plots"]  # a train run of well under a second


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run in an empty temporary folder (runs/ and outputs land there)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def chainrule(workdir):
    """``chainrule(*args)`` runs the command in-process; returns click's Result (exit_code,
    output = stdout and stderr)."""
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, [str(a) for a in args], prog_name="chainrule")

    return run


@pytest.fixture
def fast():
    """Options of a train run of well under a second."""
    return list(FAST)


@pytest.fixture
def module(workdir):
    """``module(*args)`` runs ``python -m chainrule ARGS`` in a subprocess in the temporary
    folder; returns the CompletedProcess (stdout and stderr kept apart)."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(SRC))

    def run(*args, timeout=120):
        return subprocess.run(
            [sys.executable, "-m", "chainrule", *map(str, args)],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    run.env = env
    return run


def write_idx(path, array):
    """An IDX file (gzip-compressed) holding ``array`` (uint8)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def idx_folder(tmp_path):
    """A tiny MNIST-format dataset: 60 training and 20 test 28x28 images of 3 classes."""
    folder = tmp_path / "idx"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 20)):
        labels = np.arange(n) % 3
        images = rng.integers(0, 60, (n, 28, 28))
        for k in range(3):  # a bright band per class: learnable
            images[labels == k, 9 * k : 9 * k + 9, :] += 180
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder
