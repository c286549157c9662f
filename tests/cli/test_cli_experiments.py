"""``chainrule experiment ...`` in --quick mode: tables, files, the HTML page."""

import csv
import json
import sys

import pytest

pytestmark = pytest.mark.slow  # each trains several small setups: seconds to a minute

EXPERIMENTS = {
    "vanishing": (
        [
            "sigmoid, N(0,1)",
            "sigmoid, Xavier",
            "tanh, Xavier",
            "ReLU, He",
            "sigmoid, Xavier + BatchNorm",
            "sigmoid, Xavier + residual",
        ],
        {"gradient_flow.png", "accuracy.png"},
    ),
    "exploding": (
        ["RNN, recurrent gain 1.5", "RNN, recurrent gain 1.5, clip 1", "LSTM", "GRU"],
        {"grad_norms.png", "through_time.png", "loss.png"},
    ),
    "learning-rate": (
        ["lr 0.0001", "lr 0.1", "lr 10", "LR test: suggested", "LR test: low end of range"],
        {"loss_curves.png", "lr_range_test.png", "accuracy_vs_lr.png"},
    ),
}


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_quick_experiment_prints_its_table_and_writes_its_page(chainrule, workdir, name):
    setups, figures = EXPERIMENTS[name]
    result = chainrule("experiment", name, "--quick", "--out", "out")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("setup "))
    assert "as expected" in header
    for setup in setups:
        assert setup in result.output
    assert "setups behave as" in result.output or "predictions hold" in result.output
    out = workdir / "out"
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(setups)
    assert all(rows[i]["setup"].startswith(s) for i, s in enumerate(setups))
    data = json.loads((out / "results.json").read_text())
    assert [r["setup"] for r in data["rows"]] == [r["setup"] for r in rows]
    assert {p.name for p in (out / "figures").iterdir()} == figures
    html = (out / "index.html").read_text()
    assert "Findings per setup" in html and html.count("<figure") == len(figures)
    for setup in setups:
        assert setup in html


def test_vanishing_reports_the_vanishing_sigmoid_network(chainrule, workdir):
    assert chainrule("experiment", "vanishing", "--quick", "--out", "v").exit_code == 0
    rows = json.loads((workdir / "v" / "results.json").read_text())["rows"]
    xavier = next(r for r in rows if r["setup"] == "sigmoid, Xavier")
    assert "vanishing" in xavier["at_init"] and xavier["grad_ratio_init"] < 1e-2
    he = next(r for r in rows if r["setup"] == "ReLU, He")
    assert "vanishing" not in he["at_init"] and he["grad_ratio_init"] > 0.1


def test_exploding_unclipped_rnn_goes_nan_and_clipping_keeps_it_finite(chainrule, workdir):
    result = chainrule("experiment", "exploding", "--quick", "--out", "e")
    assert result.exit_code == 0, result.output
    rows = json.loads((workdir / "e" / "results.json").read_text())["rows"]
    assert rows[0]["first_nan_step"] >= 0 and "nonfinite" in rows[0]["after"]
    assert rows[0]["as_expected"] == "yes"
    assert rows[1]["first_nan_step_text"] == "-" and "clipping" in rows[1]["after"]
    # a prediction holds only when its claim holds: "learns" needs a test MSE below half the
    # trivial baseline's, so a clipped RNN or a gated cell near the baseline is no success
    data = json.loads((workdir / "e" / "results.json").read_text())
    for r in rows[1:]:
        learned = r["test_mse"] < 0.5 * data["baseline_mse"]
        claim = "learns" in r["expected"] and "not learn" not in r["expected"]
        assert (r["as_expected"] == "yes") == (learned == claim)


def test_experiment_without_matplotlib_says_how_to_get_figures(chainrule, workdir, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = chainrule("experiment", "learning-rate", "--quick", "--out", "l")
    assert result.exit_code == 0, result.output
    assert "pip install chainrule[plot]" in result.output
    assert not any((workdir / "l" / "figures").iterdir())
    assert "pip install chainrule[plot]" in (workdir / "l" / "index.html").read_text()


def test_learning_rate_list_is_validated(chainrule):
    result = chainrule("experiment", "learning-rate", "--lrs", "0.1,abc")
    assert result.exit_code == 2 and "give learning rates separated by commas" in result.output
