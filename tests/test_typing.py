"""mypy on the typed public core (Tensor, ops, record and backward, nn.Module, optimizers).

The files and options are pyproject.toml's ``[tool.mypy]``; CI runs the same ``mypy`` command.
Slow: a first run without mypy's cache takes ~15 s of CPU.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("mypy") is None,
        reason="mypy is not installed (it is in the dev extra: pip install -e .[dev])",
    ),
    pytest.mark.skipif(
        not os.path.isfile(os.path.join(ROOT, "pyproject.toml")),
        reason="needs the source checkout (pyproject.toml holds the mypy configuration)",
    ),
]


def _mypy(*args):
    # From the checkout's root: pyproject's files and mypy_path are relative to it.
    return subprocess.run(
        [sys.executable, "-m", "mypy", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_public_core_type_checks():
    result = _mypy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_a_wrong_use_of_the_typed_api_is_reported(tmp_path):
    # The annotations must mean something: misuses of Tensor, record and an optimizer fail,
    # and a correct use passes.
    user = tmp_path / "user_code.py"
    user.write_text(
        "import numpy as np\n"
        "from chainrule.autograd.engine import record\n"
        "from chainrule.optim.sgd import SGD\n"
        "from chainrule.tensor import Tensor\n"
        "\n"
        "t = Tensor([1.0], requires_grad=True)\n"
        "name: str = t + 1\n"  # line 7: an op returns a Tensor
        'record(np.zeros(1), (t,), "not a vjp", "Op")\n'  # line 8: the vjp must be callable
        'SGD([t], lr="0.1")\n'  # line 9: lr is a number
        "t.backward(retain_graph=1.5)\n"  # line 10: a flag is a bool
        't.sum(dim="0")\n'  # line 11: a dim is an int or ints
        "t.no_such_method()\n"  # line 12: Tensor's methods are all declared
        "ok: Tensor = t.exp().sum(dim=(0,)) * 2 + t.reshape(1, 1)[0]\n"  # line 13: fine
    )
    result = _mypy(str(user))
    assert result.returncode == 1, result.stdout + result.stderr
    reported = {
        int(line.split(":")[1])
        for line in result.stdout.splitlines()
        if line.startswith(str(user)) and ": error:" in line
    }
    assert reported == {7, 8, 9, 10, 11, 12}, result.stdout
