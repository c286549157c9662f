"""Ctrl-C: train and the experiments stop, say what they kept, and exit with 130."""

import csv
import json

import pytest

import chainrule.train as crtrain
from chainrule import serialization
from chainrule.cli.experiments import common


class Interrupt(crtrain.Callback):
    """Raises KeyboardInterrupt (what Ctrl-C does) at the given training step."""

    def __init__(self, at_step=3):
        self.at, self.seen = at_step, 0

    def on_step_end(self, info):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt


@pytest.mark.slow
def test_ctrl_c_in_an_experiment_stops_it_marks_the_row_and_exits_130(
    chainrule, workdir, monkeypatch
):
    real = common.run_setup

    def run_setup(label, config, bundle=None, callbacks=(), **kwargs):
        extra = [Interrupt()] if label.startswith("tanh") else []
        return real(label, config, bundle, callbacks=[*callbacks, *extra], **kwargs)

    monkeypatch.setattr(common, "run_setup", run_setup)
    result = chainrule("experiment", "vanishing", "--quick", "--out", "v")
    assert result.exit_code == 130, result.output
    assert "Interrupted" in result.output
    rows = json.loads((workdir / "v" / "results.json").read_text())["rows"]
    assert [r["setup"] for r in rows] == ["sigmoid, N(0,1)", "sigmoid, Xavier", "tanh, Xavier"]
    assert rows[-1]["interrupted"] and rows[-1]["as_expected"].startswith("interrupted")
    assert not rows[0].get("interrupted")
    assert "ReLU, He" not in result.output  # the rest did not run
    assert "1 interrupted: not counted" in result.output
    assert "tanh, Xavier" in (workdir / "v" / "index.html").read_text()


def test_ctrl_c_while_a_checkpoint_is_written_reports_what_the_checkpoint_holds(
    chainrule, workdir, monkeypatch, fast
):
    # The held-back Ctrl-C fires just after checkpoint.npz of epoch 2 is in place: the message,
    # metrics.csv and --resume must all say 2 epochs.
    real = crtrain.save_checkpoint

    def save_checkpoint(path, *args, epoch=0, **kwargs):
        real(path, *args, epoch=epoch, **kwargs)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(crtrain, "save_checkpoint", save_checkpoint)
    result = chainrule("train", *fast, "--epochs", "4", "--name", "cut")
    assert result.exit_code == 130, result.output
    assert "holds the 2 complete epoch(s)" in result.output
    folder = workdir / "runs" / "cut"
    assert int(serialization.load(str(folder / "checkpoint.npz"))["epoch"]) == 2
    with open(folder / "metrics.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 2
    assert json.loads((folder / "summary.json").read_text())["epochs_done"] == 2
