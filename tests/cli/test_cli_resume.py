"""Ctrl-C and ``--resume``: an interrupted run continues to the weights of an uninterrupted one."""

import csv
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule import train as crtrain

# Dropout and a schedule: the random state and the scheduler must both be restored exactly.
RUN = [
    "--epochs",
    "4",
    "--width",
    "16",
    "--dropout",
    "0.2",
    "--schedule",
    "exponential",
    "--no-plots",
]
STEPS_PER_EPOCH = 23
RUNS = ("full", "part")


def weights(run):
    state = cr.load(f"runs/{run}/checkpoint.npz")
    return {k: v.numpy() for k, v in state["model"].items()}


def same_weights(a, b):
    return set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


def interrupt_at_step(monkeypatch, step):
    """Make the ``step``-th training step (1-based) raise KeyboardInterrupt, like Ctrl-C."""
    original = crtrain.Trainer._train_step
    calls = {"n": 0}

    def step_or_interrupt(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == step:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(crtrain.Trainer, "_train_step", step_or_interrupt)
    return lambda: monkeypatch.setattr(crtrain.Trainer, "_train_step", original)


def test_interrupt_then_resume_ends_at_the_uninterrupted_weights(chainrule, workdir, monkeypatch):
    assert chainrule("train", *RUN, "--name", "full").exit_code == 0
    restore = interrupt_at_step(monkeypatch, 2 * STEPS_PER_EPOCH + 7)  # inside epoch 3
    stopped = chainrule("train", *RUN, "--name", "part")
    restore()
    assert stopped.exit_code == 130
    assert "continue with: chainrule train --resume runs/part" in stopped.output
    summary = json.loads((workdir / "runs/part/summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["epochs_done"] == 2
    assert not same_weights(weights("full"), weights("part"))
    resumed = chainrule("train", "--resume", "runs/part")
    assert resumed.exit_code == 0, resumed.output
    assert "resuming runs/part after epoch 2" in resumed.output
    assert "epoch 3/4" in resumed.output and "epoch 1/4" not in resumed.output
    assert same_weights(weights("full"), weights("part"))
    for name in ("metrics.csv", "gradients.csv"):  # the same series, no duplicates
        full = (workdir / "runs/full" / name).read_text().splitlines()
        part = (workdir / "runs/part" / name).read_text().splitlines()
        assert len(full) == len(part) and full[0] == part[0]
    rows = list(csv.DictReader(open(workdir / "runs/part/gradients.csv")))
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(steps) and steps[-1] == 4 * STEPS_PER_EPOCH - 1
    # the checkpoint carried the monitor: the resumed report judges the whole run, as the
    # uninterrupted one does (same steps, same findings, same per-epoch health flags)
    full, part = (json.loads((workdir / f"runs/{r}/summary.json").read_text()) for r in RUNS)
    assert part["health"]["steps"] == full["health"]["steps"] == 4 * STEPS_PER_EPOCH
    assert part["health"]["findings"] == full["health"]["findings"]
    assert (workdir / "runs/part/gradients.csv").read_text() == (
        workdir / "runs/full/gradients.csv"
    ).read_text()
    assert "since the resume" not in resumed.output


def test_resume_with_more_epochs_equals_a_longer_run(chainrule, workdir):
    short = ["--width", "16", "--no-plots", "--optimizer", "sgd", "--momentum", "0.9"]
    assert chainrule("train", *short, "--epochs", "3", "--name", "long").exit_code == 0
    assert chainrule("train", *short, "--epochs", "1", "--name", "grow").exit_code == 0
    result = chainrule("train", "--resume", "runs/grow", "--epochs", "3")
    assert result.exit_code == 0, result.output
    assert same_weights(weights("long"), weights("grow"))
    assert json.loads((workdir / "runs/grow/config.json").read_text())["epochs"] == 3


def test_interrupt_in_the_first_epoch_resumes_from_the_start(chainrule, workdir, monkeypatch):
    run = ["--epochs", "2", "--width", "16", "--no-plots"]
    assert chainrule("train", *run, "--name", "full").exit_code == 0
    restore = interrupt_at_step(monkeypatch, 5)
    assert chainrule("train", *run, "--name", "part").exit_code == 130
    restore()
    assert chainrule("train", "--resume", "runs/part").exit_code == 0
    assert same_weights(weights("full"), weights("part"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "0.5"], "--lr cannot be changed"),
        (["--config", "x.toml"], "--config cannot be combined with it"),
        (["--epochs", "1"], "already finished 1 epochs: give --epochs N with N > 1"),
    ],
)
def test_resume_refuses_what_would_break_it(chainrule, workdir, fast, args, message):
    (workdir / "x.toml").write_text("depth = 2\n")
    assert (
        chainrule("train", "--epochs", "1", "--width", "8", "--no-plots", "--name", "r").exit_code
        == 0
    )
    result = chainrule("train", "--resume", "runs/r", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_resume_needs_a_run_folder(chainrule, workdir):
    (workdir / "empty").mkdir()
    result = chainrule("train", "--resume", "empty")
    assert result.exit_code == 2 and "no config.json there" in result.output
    assert chainrule("train", "--resume", "missing").exit_code == 2


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
def test_ctrl_c_in_a_real_process_saves_and_resumes(module, workdir):
    """A real SIGINT while training: exit 130, the checkpoint is complete, --resume finishes."""
    args = [
        sys.executable,
        "-m",
        "chainrule",
        "train",
        "--epochs",
        "200",
        "--width",
        "16",
        "--no-plots",
        "--no-progress",
        "--name",
        "sig",
    ]
    proc = subprocess.Popen(
        args, cwd=workdir, env=module.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.time() + 60
    for line in proc.stdout:
        if line.startswith("epoch 2/200") or time.time() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "chainrule train --resume runs/sig" in err
    done = json.loads((workdir / "runs/sig/summary.json").read_text())["epochs_done"]
    assert done >= 2
    resumed = module("train", "--resume", "runs/sig", "--epochs", str(done + 1))
    assert resumed.returncode == 0, resumed.stderr
    assert f"epoch {done + 1}/{done + 1}" in resumed.stdout


def test_resume_from_a_checkpoint_without_monitor_state(chainrule, workdir):
    # Checkpoints written before the monitor was saved: the run resumes, the monitor's series
    # start at the resume, and gradients.csv still counts steps from the start of the run.
    run = ["--epochs", "1", "--width", "16", "--no-plots", "--name", "old"]
    assert chainrule("train", *run).exit_code == 0
    path = workdir / "runs/old/checkpoint.npz"
    state = cr.load(str(path))
    assert state["callbacks"]["monitor"]["step"] == STEPS_PER_EPOCH
    state["callbacks"] = {}
    cr.save(state, str(path))
    result = chainrule("train", "--resume", "runs/old", "--epochs", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads((workdir / "runs/old/summary.json").read_text())
    assert summary["health"]["steps"] == STEPS_PER_EPOCH  # the resumed epoch only
    steps = [int(r["step"]) for r in csv.DictReader(open(workdir / "runs/old/gradients.csv"))]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 2 * STEPS_PER_EPOCH - 1
    assert len(set(steps)) == 2 * STEPS_PER_EPOCH
