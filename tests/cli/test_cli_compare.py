"""``chainrule compare``: run folders side by side on one page."""

import re

import pytest


@pytest.mark.slow
def test_compare_shows_settings_that_differ_verdicts_and_figures(chainrule, workdir):
    for name, extra in (("relu", []), ("sig", ["--activation", "sigmoid", "--depth", "6"])):
        result = chainrule(
            "train", "--epochs", "2", "--width", "16", "--no-plots", "--name", name, *extra
        )
        assert result.exit_code == 0, result.output
    result = chainrule("compare", "runs/relu", "runs/sig")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    depth = next(line for line in lines if line.startswith("depth"))
    assert depth.split() == ["depth", "2", "6"]
    assert not any(line.startswith("width ") for line in lines)  # the same in both
    sig = next(line for line in lines if line.startswith("sig "))
    assert "vanishing" in sig
    page = (workdir / "compare.html").read_text()
    assert "Settings that differ" in page and "Vanishing gradients" in page
    images = re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)
    assert len(images) == 3  # flow, loss, accuracy
    assert "<script" not in page and "http://" not in page
    # never overwrites: a second compare gets its own file
    assert chainrule("compare", "runs/relu", "runs/sig").exit_code == 0
    assert (workdir / "compare-2.html").exists()


def test_compare_refuses_folders_that_are_not_runs(chainrule, workdir):
    (workdir / "empty").mkdir()
    (workdir / "empty2").mkdir()
    result = chainrule("compare", "empty", "empty2")
    assert result.exit_code == 2 and "not a run folder" in result.output
    result = chainrule("compare", "empty")
    assert result.exit_code == 2 and "at least two" in result.output
