"""The first run as a new user meets it: ``chainrule train`` writes a report page with figures."""

import os
import re

import pytest
import tomllib

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_matplotlib_is_a_core_dependency():
    # `pip install . && chainrule train` must draw the figures: no extra needed
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    assert any(re.match(r"matplotlib\b", d) for d in deps)


@pytest.mark.slow
def test_the_main_job_writes_a_report_with_figures(chainrule, workdir):
    result = chainrule("train", "--epochs", "2", "--name", "first")
    assert result.exit_code == 0, result.output
    page = (workdir / "runs" / "first" / "report.html").read_text()
    images = re.findall(r'<img [^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', page)
    assert len(images) > 0
    assert 'id="fig-learning_curves"' in page and 'id="fig-grad_flow"' in page
    # the verdict comes first, before the run's numbers, the findings and the plots
    assert page.index('id="verdict"') < page.index("<h2>Run</h2>") < page.index("<h2>Findings")
    assert "Linear 1 · 64→128 · relu" in page  # layers named, not '0'
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert os.path.exists(workdir / "runs" / "first" / "figures" / "learning_curves.png")


def test_every_option_of_every_command_has_help_text():
    import click

    from chainrule.cli import cli

    missing = []

    def walk(cmd, path):
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")
        missing.extend(
            f"{path} {p.opts[0]}"
            for p in cmd.params
            if isinstance(p, click.Option) and not p.hidden and not p.help
        )

    walk(cli, "chainrule")
    assert missing == []
