"""The report page in a real browser: headless Chromium at 1400 px (skipped without Chromium).

CI installs Chromium from the Debian packages (``apt-get install -y chromium``). The test
renders the page of a train run and of a broken run, takes a screenshot, and checks that the
page raised no JavaScript error, has no broken image, does not overflow sideways, and shows
the verdict at the top.
"""

import os

import numpy as np
import pytest
from browser import CHROMIUM, render

pytest.importorskip("matplotlib")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]


def check_page(path, tmp_path, name):
    shot = tmp_path / f"{name}.png"
    seen = render(str(path), width=1400, screenshot=str(shot))
    assert seen["errors"] == []
    assert seen["images"] > 0 and seen["broken"] == 0
    assert seen["scrollWidth"] <= seen["width"], seen["tooWide"]
    assert seen["tooWide"] == []
    assert seen["verdictTop"] is not None and seen["verdictTop"] < 200  # the banner on top
    # the plots share the width: at 1400 px two sit side by side, each under half the page
    assert max(seen["imageWidths"]) < seen["width"] / 2 + 50
    assert shot.exists() and shot.stat().st_size > 10_000
    return seen


def test_train_report_renders_cleanly(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from chainrule.cli import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["train", "--epochs", "2", "--width", "16", "--depth", "6", "--name", "r"]
    )
    assert result.exit_code == 0, result.output
    check_page(tmp_path / "runs" / "r" / "report.html", tmp_path, "train")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_broken_run_report_renders_cleanly(tmp_path):
    import chainrule as cr
    from chainrule import nn
    from chainrule.diagnostics import GradientMonitor

    cr.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1)
    )
    opt = cr.optim.SGD(model.parameters(), lr=1e4)
    monitor = GradientMonitor(model, optimizer=opt)
    x, y = cr.randn(16, 4), cr.randn(16, 1)
    with np.errstate(all="ignore"):
        for _ in range(10):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            monitor.step(loss)
    path = monitor.save_report(tmp_path / "broken.html")
    assert not monitor.report().healthy
    check_page(path, tmp_path, "broken")
    if os.environ.get("CHAINRULE_KEEP_SCREENSHOTS"):
        import shutil

        shutil.copy(tmp_path / "broken.png", os.environ["CHAINRULE_KEEP_SCREENSHOTS"])
