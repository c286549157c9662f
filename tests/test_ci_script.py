""".ci/run tests a fresh clone in a folder named ``chainrule``, as the README's commands assume."""

import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, ".ci", "run")

# Stands in for python3: `python3 -m venv DIR` makes an activate script whose python, ruff and mypy
# only record what they were asked to run, and where.
FAKE_PYTHON3 = """#!/usr/bin/env bash
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  cat > "$3/bin/activate" <<'EOS'
python() { echo "python $* @ $PWD" >> "$CI_LOG"; }
ruff() { echo "ruff $* @ $PWD" >> "$CI_LOG"; }
mypy() { echo "mypy${*:+ $*} @ $PWD" >> "$CI_LOG"; }
EOS
fi
"""


@pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("bash") is None, reason="needs git and bash"
)
@pytest.mark.skipif(
    not os.path.isdir(os.path.join(ROOT, ".git"))
    and not os.path.isfile(os.path.join(ROOT, ".git")),
    reason="needs a git checkout",
)
@pytest.mark.slow
def test_ci_runs_from_a_clone_named_chainrule(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(FAKE_PYTHON3)
    (bin_dir / "python3").chmod(0o755)
    log = tmp_path / "log"
    env = dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        CI_LOG=str(log),
        TMPDIR=str(tmp_path),
    )
    result = subprocess.run(["bash", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = log.read_text().splitlines()
    places = {line.rsplit(" @ ", 1)[1] for line in lines}
    assert len(places) == 1
    place = places.pop()
    assert os.path.basename(place) == "chainrule" and not place.startswith(ROOT)
    commands = [line.rsplit(" @ ", 1)[0] for line in lines]
    assert "python -m pip install -e .[dev,plot,tensorboard,bench,mpi]" in commands
    assert "ruff check src tests benchmarks examples" in commands
    assert "ruff format --check src tests benchmarks examples" in commands
    assert "mypy" in commands  # files and options from pyproject.toml
    assert commands.index("mypy") < commands.index("python -m pytest -q -p no:cacheprovider")
    assert "python -m pytest -q -p no:cacheprovider" in commands  # fast tier
    assert "python -m pytest -q -p no:cacheprovider -m slow --durations=20" in commands
    assert not os.path.exists(place)  # the temporary clone is removed afterwards
