"""Plots (robust to NaN/Inf, clear error without matplotlib) and the self-contained HTML page."""
import html
import re
import sys

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.diagnostics import GradientMonitor, plots

pytest.importorskip("matplotlib")


class TinyRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(2, 8, batch_first=True)
        self.fc = nn.Linear(8, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(F.relu(self.fc(out[:, -1])))


def run(lr, steps=12, seed=0):
    """A monitored run; with a huge learning rate it goes to NaN/Inf part-way."""
    cr.manual_seed(seed)
    model = TinyRNN()
    opt = cr.optim.SGD(model.parameters(), lr=lr)
    monitor = GradientMonitor(model, optimizer=opt)
    X, Y = cr.data.adding_problem(10, 64, seed=seed)
    x, y = cr.tensor(X[:16]), cr.tensor(Y[:16])
    with np.errstate(all="ignore"):
        for _ in range(steps):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            monitor.step(loss)
    return monitor


@pytest.fixture(scope="module")
def healthy_run():
    return run(0.05)


@pytest.fixture(scope="module")
def broken_run():
    monitor = run(1e6)
    assert monitor.first_nonfinite is not None          # the point of this fixture
    return monitor


ALL_PLOTS = [plots.plot_grad_heatmap, plots.plot_grad_flow, plots.plot_update_ratios,
             plots.plot_loss, plots.plot_saturation, plots.plot_time_gradients]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("plot", ALL_PLOTS, ids=lambda f: f.__name__)
def test_every_plot_draws_healthy_and_nonfinite_runs(plot, healthy_run, broken_run):
    from matplotlib.figure import Figure
    for monitor in (healthy_run, broken_run):
        fig = plot(monitor)
        assert isinstance(fig, Figure) and fig.axes
        fig.savefig(__import__("io").BytesIO(), format="png")   # renders without error
    assert isinstance(plot(broken_run.history), Figure)         # a bare History works too


def test_plots_draw_into_a_given_axes(healthy_run):
    from matplotlib.figure import Figure
    fig = Figure()
    ax = fig.subplots()
    assert plots.plot_loss(healthy_run, ax=ax) is fig
    assert ax.get_lines()


def test_nonfinite_steps_are_marked_in_red(broken_run):
    fig = plots.plot_loss(broken_run)
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "NaN/Inf" in labels and "non-finite" in fig.axes[0].get_title()


def test_heatmap_rows_are_layers_in_forward_order(healthy_run):
    fig = plots.plot_grad_heatmap(healthy_run)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["head", "fc", "rnn"]                  # first layer at the top


def test_lr_test_plot_tolerates_nan_losses():
    class Result:
        lrs = np.logspace(-5, 1, 20)
        losses = np.r_[np.linspace(2, 1, 18), np.nan, np.inf]
        suggested_lr = 1e-3
    fig = plots.plot_lr_test(Result())
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert any("suggested" in line.get_label() for line in ax.get_lines())


def test_plots_without_matplotlib_say_how_to_install(monkeypatch, healthy_run):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[plot\]"):
        plots.plot_loss(healthy_run)


def page_checks(text):
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "http://" not in text and "https://" not in text      # nothing fetched from a network
    assert "<script" not in text and "<link" not in text


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_html_report_contains_every_finding_and_figure(broken_run, tmp_path):
    report = broken_run.report()
    assert len(report.findings) >= 2
    path = broken_run.save_report(tmp_path / "health.html")
    text = open(path, encoding="utf-8").read()
    page_checks(text)
    for i, f in enumerate(report.findings, 1):
        assert f'id="finding-{i}" data-kind="{f.kind}"' in text
        assert html.escape(f.message) in text
        for r in f.remedies:
            assert html.escape(r) in text
    keys = [k for k, _, _ in plots.figures(broken_run)]
    assert {"grad_heatmap", "grad_flow", "loss", "time_gradients", "saturation"} <= set(keys)
    for k in keys:
        assert f'id="fig-{k}"' in text
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == len(keys) and all(len(b) > 1000 for b in images)
    assert text.index("finding-1") < text.index("fig-grad_heatmap")   # findings on top


def test_html_report_without_matplotlib_still_has_the_findings(monkeypatch, healthy_run, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    text = open(healthy_run.save_report(tmp_path / "r.html"), encoding="utf-8").read()
    page_checks(text)
    assert "pip install chainrule[plot]" in text and "<img" not in text
    assert "<table>" in text                                  # the layer table


def test_report_renders_in_notebooks(healthy_run):
    snippet = healthy_run.report()._repr_html_()
    assert "<h2>Findings" in snippet and "<table>" in snippet
