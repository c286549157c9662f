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
    assert monitor.first_nonfinite is not None  # the point of this fixture
    return monitor


ALL_PLOTS = [
    plots.plot_grad_heatmap,
    plots.plot_grad_flow,
    plots.plot_update_ratios,
    plots.plot_loss,
    plots.plot_saturation,
    plots.plot_time_gradients,
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("plot", ALL_PLOTS, ids=lambda f: f.__name__)
def test_every_plot_draws_healthy_and_nonfinite_runs(plot, healthy_run, broken_run):
    from matplotlib.figure import Figure

    for monitor in (healthy_run, broken_run):
        fig = plot(monitor)
        assert isinstance(fig, Figure) and fig.axes
        fig.savefig(__import__("io").BytesIO(), format="png")  # renders without error
    assert isinstance(plot(broken_run.history), Figure)  # a bare History works too


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
    # first layer at the top, named by module name, type, shape and activation
    assert [label.split(" · ")[0] for label in labels] == ["head", "fc", "rnn"]
    assert labels[0] == "head · Linear 8→1" and labels[2] == "rnn · RNN 2→8 · tanh"


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
    assert "http://" not in text and "https://" not in text  # nothing fetched from a network
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
    assert text.index("finding-1") < text.index("fig-grad_heatmap")  # findings on top


def test_html_report_without_matplotlib_still_has_the_findings(monkeypatch, healthy_run, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    text = open(healthy_run.save_report(tmp_path / "r.html"), encoding="utf-8").read()
    page_checks(text)
    assert "pip install chainrule[plot]" in text and "<img" not in text
    assert '<table class="layers">' in text  # the layer table


def test_report_renders_in_notebooks(healthy_run):
    snippet = healthy_run.report()._repr_html_()
    assert "<h2>Findings" in snippet and '<table class="layers">' in snippet
    assert 'id="verdict"' in snippet


# ---- the page as a reader meets it ----

from chainrule.diagnostics import html as crhtml  # noqa: E402
from chainrule.diagnostics.names import layer_labels  # noqa: E402
from chainrule.diagnostics.report import Finding, HealthReport  # noqa: E402


def test_markdown_bullets_become_lists_and_text_is_escaped():
    out = crhtml.markdown_html("Two cases:\n\n* a <b>\n* `x.grad`\n\n1. one\n2. two\n\nEnd.")
    assert out == (
        "<p>Two cases:</p><ul><li>a &lt;b&gt;</li><li><code>x.grad</code></li></ul>"
        "<ol><li>one</li><li>two</li></ol><p>End.</p>"
    )
    assert "* " not in crhtml.markdown_html("* a\n* b")


def test_banner_names_the_problem_where_and_the_first_remedy():
    f = Finding(
        "vanishing",
        ["0", "2"],
        "The gradient shrinks.",
        {"ratio": 1e-4},
        ["Use ReLU with He init.", "Add BatchNorm."],
        "error",
    )
    report = HealthReport([f], [], steps=30)
    banner = crhtml.verdict_banner(report, {"0": "Linear 1 · 64→128 · sigmoid"})
    assert 'data-verdict="vanishing"' in banner and "Vanishing gradients" in banner
    assert "Linear 1 · 64→128 · sigmoid" in banner and "Use ReLU with He init." in banner
    assert "Add BatchNorm." not in banner  # only the first remedy
    ok = crhtml.verdict_banner(HealthReport([], [], steps=30))
    assert 'data-verdict="healthy"' in ok and "30 recorded steps" in ok


def test_evidence_is_a_table_with_plain_words_and_units():
    out = crhtml.evidence_table({"out_grad_norm": 0.5, "dead_share": 0.25, "first_step": 3})
    assert "<table" in out and "gradient at the layer output" in out
    assert "25.0 %" in out and "L2 norm" in out and " = " not in out


def test_sequential_layers_are_named_by_type_shape_and_activation():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    monitor = GradientMonitor(model)
    loss = model(cr.randn(5, 4)).sum()
    loss.backward()
    monitor.step(loss)
    assert layer_labels(monitor) == {"0": "Linear 1 · 4→6 · tanh", "2": "Linear 2 · 6→3"}
    text = monitor.report()._repr_html_()  # no monitor there: no shapes
    assert "Linear 1 · tanh" in text and "module 0" in text


def _all_axes_labelled(fig):
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            assert ax.get_ylabel() or ax.get_xlabel()
            continue
        assert ax.get_xlabel() and ax.get_ylabel(), ax.get_title()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_every_axis_of_the_report_plots_is_labelled(healthy_run, broken_run):
    for monitor in (healthy_run, broken_run):
        for _key, _, fig in plots.figures(monitor):
            _all_axes_labelled(fig)


def test_thresholds_are_drawn_and_named_in_legends(healthy_run):
    report = healthy_run.report(vanishing_ratio=1e-3)
    legend = [
        t.get_text()
        for t in plots.plot_grad_flow(healthy_run, thresholds=report.thresholds)
        .axes[0]
        .get_legend()
        .get_texts()
    ]
    assert any("vanishing below: 0.001" in t for t in legend)
    legend = [
        t.get_text() for t in plots.plot_saturation(healthy_run).axes[0].get_legend().get_texts()
    ]
    assert any("saturated threshold 25%" in t for t in legend)


def test_many_weights_are_a_heatmap_not_lines():
    cr.manual_seed(0)
    model = nn.Sequential(*[m for _ in range(10) for m in (nn.Linear(4, 4), nn.Tanh())])
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    monitor = GradientMonitor(model, optimizer=opt)
    x = cr.randn(8, 4)
    for _ in range(3):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        monitor.step(loss)
    fig = plots.plot_update_ratios(monitor)
    ax = fig.axes[0]
    assert ax.images and not ax.get_lines()  # one row per weight
    assert len(ax.get_yticklabels()) == 10
    _all_axes_labelled(fig)


def test_lr_test_plot_is_clipped_to_the_useful_range():
    class Result:
        lrs = np.logspace(-6, 2, 50)
        losses = np.r_[np.linspace(2.3, 0.5, 35), np.geomspace(1, 2e5, 15)]
        smoothed_losses = losses
        suggested_lr = 1e-3
        suggested_range = (1e-4, 1e-2)
        diverged_at = float(lrs[40])

    ax = plots.plot_lr_test(Result()).axes[0]
    assert ax.get_xscale() == "log"
    assert ax.get_xlim()[1] <= Result.diverged_at * 3 + 1e-12  # not out to lr 100
    assert ax.get_ylim()[1] < 10  # not up to a loss of 2e5
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("diverged at") for t in legend) and "suggested range" in legend


def test_learning_curves_show_training_and_validation_per_epoch():
    from chainrule.train import TrainingHistory

    h = TrainingHistory()
    for e, (tl, vl, ta, va) in enumerate([(2.0, 1.8, 0.3, 0.35), (1.0, 1.1, 0.7, 0.66)]):
        h.epochs.append(e)
        h.train_loss.append(tl)
        h.val_loss.append(vl)
        h.metrics.setdefault("train_accuracy", []).append(ta)
        h.metrics.setdefault("val_accuracy", []).append(va)
    fig = plots.plot_learning_curves(h, "accuracy")
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["training", "validation"]
    assert list(acc_ax.get_lines()[1].get_ydata()) == [35.0, 66.0]
    _all_axes_labelled(fig)
