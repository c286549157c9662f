"""``chainrule train``: what it prints and the run folder it writes."""

import csv
import json
import os
import re
import sys

import numpy as np
import pytest

import chainrule as cr


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_default_run_writes_the_run_folder(chainrule, workdir):
    result = chainrule("train", "--epochs", "2", "--width", "32", "--name", "demo")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "epoch 1/2" in out and "epoch 2/2" in out and "health ok" in out
    assert "test accuracy" in out and "HealthReport (monitor" in out
    run = workdir / "runs" / "demo"
    expected = {
        "report.html",
        "metrics.csv",
        "gradients.csv",
        "config.json",
        "checkpoint.npz",
        "summary.json",
        "figures",
    }
    assert expected <= set(os.listdir(run))
    assert {"grad_flow.png", "grad_heatmap.png", "loss.png"} <= set(os.listdir(run / "figures"))
    metrics = read_csv(run / "metrics.csv")
    assert [r["epoch"] for r in metrics] == ["1", "2"]
    assert {"train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "health"} <= set(
        metrics[0]
    )
    assert float(metrics[1]["train_loss"]) < float(metrics[0]["train_loss"])
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs_done"] == 2
    assert f"{100 * summary['test']['accuracy']:.1f} %" in out  # the printed accuracy
    html = (run / "report.html").read_text()
    assert "<h2>Findings" in html and 'src="data:image/png;base64,' in html
    assert "test accuracy" in html and "<h2>Run</h2>" in html
    assert "model: mlp, 2 hidden layers of 32, relu, he init" in html


def test_gradients_csv_is_the_monitor_series(chainrule, workdir, fast):
    assert chainrule("train", *fast, "--name", "g").exit_code == 0
    rows = read_csv(workdir / "runs" / "g" / "gradients.csv")
    assert list(rows[0]) == ["step", "scope", "name", "metric", "value"]
    steps = sorted({int(r["step"]) for r in rows})
    assert steps == list(range(2 * 23))  # 1438 images / 64 per batch
    loss = [float(r["value"]) for r in rows if r["metric"] == "loss"]
    assert len(loss) == 46 and np.all(np.isfinite(loss))
    names = {r["name"] for r in rows if r["metric"] == "out_grad_norm"}
    assert names == {"0", "2", "4"}  # the three Linear layers


def test_monitor_every_records_fewer_steps(chainrule, workdir, fast):
    assert chainrule("train", *fast, "--monitor-every", "5", "--name", "m").exit_code == 0
    rows = read_csv(workdir / "runs" / "m" / "gradients.csv")
    assert sorted({int(r["step"]) for r in rows}) == list(range(0, 46, 5))


def test_sharpness_every_puts_the_stability_limit_in_the_learning_rate_verdict(chainrule):
    # SGD at 5e-4 on the digits MLP crawls: the low-learning-rate finding cites 2/λ_max only
    # when the sharpness is measured
    args = ("train", "--epochs", "2", "--width", "32", "--optimizer", "sgd", "--lr", "0.0005")
    args += ("--no-plots",)
    plain = chainrule(*args, "--name", "plain")
    measured = chainrule(*args, "--sharpness-every", "10", "--name", "sharp")
    assert plain.exit_code == 0 and measured.exit_code == 0, measured.output
    assert "lr_too_low" in plain.output and "2/λ_max" not in plain.output
    assert "lr_too_low" in measured.output
    assert re.search(r"2/λ_max = [0-9.]+ against the learning rate 0.0005", measured.output)


def test_config_json_round_trips_to_the_same_run(chainrule, workdir, fast):
    assert chainrule("train", *fast, "--dropout", "0.1", "--name", "a").exit_code == 0
    config = json.loads((workdir / "runs" / "a" / "config.json").read_text())
    assert config["dropout"] == 0.1 and config["lr"] == 0.001 and "name" not in config
    again = chainrule("train", "--config", "runs/a/config.json", "--name", "b")
    assert again.exit_code == 0, again.output
    a = cr.load("runs/a/checkpoint.npz")["model"]
    b = cr.load("runs/b/checkpoint.npz")["model"]
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)


@pytest.mark.parametrize(
    "options, expect",
    [
        (["--model", "rnn"], "each 8x8 image is fed as a sequence of 8 time steps"),
        (["--model", "lstm", "--width", "8"], "shape (8, 8)"),
        (["--model", "gru", "--depth", "2", "--dropout", "0.1"], "gru, 2 layer(s)"),
        (["--model", "cnn", "--width", "4", "--norm", "batch", "--residual"], "shape (1, 8, 8)"),
        (["--data", "spirals", "--norm", "layer", "--depth", "3"], "3 classes"),
        (
            ["--data", "moons", "--optimizer", "sgd", "--momentum", "0.9", "--schedule", "cosine"],
            "sgd lr 0.1",
        ),
        (
            [
                "--data",
                "adding",
                "--model",
                "rnn",
                "--seq-len",
                "10",
                "--samples",
                "200",
                "--clip-norm",
                "1",
                "--recurrent-gain",
                "1.2",
            ],
            "test MSE",
        ),
        (["--data", "adding", "--seq-len", "5", "--samples", "100"], "flattened into one vector"),
        (
            ["--schedule", "onecycle", "--optimizer", "adamw", "--weight-decay", "0.01"],
            "onecycle schedule",
        ),
    ],
)
def test_models_and_data(chainrule, fast, options, expect):
    result = chainrule("train", *fast, *options)
    assert result.exit_code == 0, result.output
    assert expect in result.output


def test_idx_data(chainrule, fast, idx_folder):
    result = chainrule(
        "train", *fast, "--model", "cnn", "--width", "4", "--data", f"idx:{idx_folder}"
    )
    assert result.exit_code == 0, result.output
    assert "60 training / 20 test examples of shape (1, 28, 28), 3 classes" in result.output


def test_progress_bar_shows_loss_accuracy_and_health(chainrule, fast):
    result = chainrule("train", *fast, "--progress")
    assert result.exit_code == 0
    assert "epoch 2/2" in result.output and "23/23" in result.output
    assert "test acc" in result.output and "health ok" in result.output


def test_tensorboard_logs(chainrule, workdir, fast):
    pytest.importorskip("tensorboardX")
    assert chainrule("train", *fast, "--tensorboard", "--name", "tb").exit_code == 0
    events = os.listdir(workdir / "runs" / "tb" / "tensorboard")
    assert any(name.startswith("events.out.tfevents") for name in events)


def test_without_matplotlib_it_still_runs_and_says_how_to_get_figures(
    chainrule, workdir, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    result = chainrule("train", "--epochs", "1", "--width", "8", "--name", "noplot")
    assert result.exit_code == 0, result.output
    assert "pip install chainrule[plot]" in result.output
    run = workdir / "runs" / "noplot"
    assert not (run / "figures").exists()
    html = (run / "report.html").read_text()
    assert "pip install chainrule[plot]" in html and "<h2>Findings" in html


def test_a_diverging_run_fails_with_the_report(chainrule, workdir):
    result = chainrule(
        "train",
        "--epochs",
        "3",
        "--width",
        "16",
        "--optimizer",
        "sgd",
        "--lr",
        "1e20",
        "--no-plots",
        "--name",
        "boom",
    )
    assert result.exit_code == 1
    assert (
        result.output.strip()
        .splitlines()[-1]
        .startswith("Error: training diverged: the loss became non-finite in epoch 1")
    )
    assert "nonfinite" in result.output  # the health report says why
    summary = json.loads((workdir / "runs" / "boom" / "summary.json").read_text())
    assert summary["status"] == "diverged" and summary["epochs_done"] == 1
    html = (workdir / "runs" / "boom" / "report.html").read_text()
    assert 'data-kind="nonfinite"' in html


def test_a_vanishing_network_is_flagged_per_epoch_and_in_the_report(chainrule, workdir):
    result = chainrule(
        "train",
        "--epochs",
        "1",
        "--depth",
        "12",
        "--width",
        "32",
        "--activation",
        "sigmoid",
        "--init",
        "xavier",
        "--optimizer",
        "sgd",
        "--no-plots",
        "--name",
        "deep",
    )
    assert result.exit_code == 0, result.output
    assert "health vanishing" in result.output
    assert "fix 1: Replace sigmoid with ReLU" in result.output  # the report's remedy
    metrics = read_csv(workdir / "runs" / "deep" / "metrics.csv")
    assert "vanishing" in metrics[0]["health"]
    assert 'data-kind="vanishing"' in (workdir / "runs" / "deep" / "report.html").read_text()


def _kinds(workdir, name):
    summary = json.loads((workdir / "runs" / name / "summary.json").read_text())
    return {f["kind"] for f in summary["health"]["findings"]}


def test_an_overfitting_run_is_reported_and_a_healthy_one_is_not(chainrule, workdir):
    # 40 training examples, 256 units, 40 epochs: memorised, the test loss climbs back up.
    small = ["--samples", "40", "--width", "256", "--epochs", "40", "--batch-size", "20"]
    result = chainrule("train", *small, "--lr", "0.01", "--no-plots", "--name", "over")
    assert result.exit_code == 0, result.output
    assert "overfitting" in _kinds(workdir, "over")
    assert "WARNING overfitting" in result.output
    result = chainrule("train", "--epochs", "10", "--width", "32", "--no-plots", "--name", "fine")
    assert result.exit_code == 0, result.output
    assert "overfitting" not in _kinds(workdir, "fine")
