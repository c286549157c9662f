"""``chainrule experiment NAME --nproc 2``: setups spread over two ranks, one table, page and
results file equal to the single-process run's."""

import json
import math
import os
import re
import subprocess
import sys

import pytest
from mpi_helpers import SRC, require_mpi

pytestmark = pytest.mark.slow

# (experiment, figures on its page)
EXPERIMENTS = [("vanishing", 2), ("exploding", 3), ("learning-rate", 3)]


def run(tmp_path, name, out, *extra):
    env = dict(
        os.environ,
        PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        OPENBLAS_NUM_THREADS="1",
    )
    env.pop("CHAINRULE_NPROC", None)
    try:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "chainrule",
                "experiment",
                name,
                "--quick",
                "--out",
                str(tmp_path / out),
                *extra,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"experiment {name} {' '.join(extra)} hung")


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def page(folder):
    """index.html without the figures' pixels (compared as data: the same series are drawn)."""
    text = (folder / "index.html").read_text()
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "PNG", text)


def printed(stdout):
    """What the command printed, without the per-setup timings and the page's path."""
    lines = [line for line in stdout.splitlines() if not re.search(r", [0-9.]+ s$", line)]
    return [line for line in lines if not line.startswith("page: ")]


@pytest.mark.parametrize("name,figures", EXPERIMENTS)
def test_experiment_on_two_ranks_matches_one_process(tmp_path, name, figures):
    require_mpi()
    two = run(tmp_path, name, "two", "--nproc", "2")
    assert two.returncode == 0, two.stderr
    one = run(tmp_path, name, "one")
    assert one.returncode == 0, one.stderr
    res2 = json.loads((tmp_path / "two" / "results.json").read_text())
    res1 = json.loads((tmp_path / "one" / "results.json").read_text())
    rows2, rows1 = res2.pop("rows"), res1.pop("rows")
    assert [r["setup"] for r in rows2] == [r["setup"] for r in rows1]  # table order kept
    for a, b in zip(rows2, rows1, strict=True):  # same numbers: each setup is seeded on its own
        assert a.keys() == b.keys()
        for key in a.keys() - {"seconds", "seconds_range", "seconds_text"}:
            assert same(a[key], b[key]), (a["setup"], key, a[key], b[key])
    figs2, figs1 = res2.pop("figures"), res1.pop("figures")
    assert [os.path.basename(f) for f in figs2] == [os.path.basename(f) for f in figs1]
    assert len(figs2) == figures
    assert res2 == res1  # the verdicts and the settings (and the range test's suggestion)
    assert printed(two.stdout) == printed(one.stdout)  # one table, no more
    assert two.stdout.count("as expected") == 1
    assert sorted(os.listdir(tmp_path)) == ["one", "two"]
    html = page(tmp_path / "two")
    assert html.count("<figure") == figures
    assert html == page(tmp_path / "one")  # findings with the same layer labels
    assert "rank_divergence" not in html  # ranks train different setups on purpose
