"""Run folders: created atomically, so parallel runs never share one; a failed --resume changes
nothing."""

import json
import os
import subprocess
import sys
import threading

import click
import pytest

import chainrule as cr
from chainrule.cli import folder as run_folder
from chainrule.cli.config import TrainConfig

TINY = [
    "--epochs",
    "1",
    "--width",
    "8",
    "--no-plots",
    "--no-progress",
    "--data",
    "moons",
    "--samples",
    "40",
]


def _race(n, config):
    """``create_run_folder(config)`` from ``n`` threads at once; (paths, errors)."""
    barrier, paths, errors = threading.Barrier(n), [], []

    def worker():
        barrier.wait()
        try:
            paths.append(run_folder.create_run_folder(config))
        except click.UsageError as err:
            errors.append(str(err))

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return paths, errors


def test_timestamped_folders_created_at_once_are_all_distinct(tmp_path, monkeypatch):
    monkeypatch.setattr(run_folder.time, "strftime", lambda fmt: "20260101-000000")
    paths, errors = _race(8, TrainConfig(runs_dir=str(tmp_path / "runs")))
    assert not errors and len(set(paths)) == 8
    assert sorted(os.listdir(tmp_path / "runs")) == sorted(os.path.basename(p) for p in paths)
    assert "20260101-000000" in os.listdir(tmp_path / "runs")


def test_one_name_claimed_at_once_has_exactly_one_winner(tmp_path):
    paths, errors = _race(8, TrainConfig(runs_dir=str(tmp_path / "runs"), name="same"))
    assert len(paths) == 1 and len(errors) == 7
    assert all("already exists" in e for e in errors)


def _spawn(workdir, env, *args):
    return subprocess.Popen(
        [sys.executable, "-m", "chainrule", "train", *TINY, *map(str, args)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_parallel_runs_keep_their_own_config_and_checkpoint(module, workdir):
    """4 runs started in the same second used to end with another run's config or checkpoint."""
    procs = [_spawn(workdir, module.env, "--seed", seed) for seed in range(4)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, outputs
    folders = sorted(os.listdir(workdir / "runs"))
    assert len(folders) == 4
    seeds = set()
    for out, _ in outputs:
        folder = out.split("run folder: ", 1)[1].splitlines()[0].strip()
        config = json.loads((workdir / folder / "config.json").read_text())
        seeds.add(config["seed"])
        assert f"seed {config['seed']}" in out  # the folder holds this run's config
    assert seeds == {0, 1, 2, 3}


@pytest.mark.slow
def test_two_runs_with_one_name_cannot_both_succeed(module, workdir):
    procs = [_spawn(workdir, module.env, "--name", "twin", "--seed", seed) for seed in (1, 2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outputs
    loser = outputs[[p.returncode for p in procs].index(2)]
    assert "run folder" in loser[1] and "already exists" in loser[1]
    winner_seed = [1, 2][[p.returncode for p in procs].index(0)]
    assert json.loads((workdir / "runs/twin/config.json").read_text())["seed"] == winner_seed


def test_a_data_error_leaves_no_run_folder(chainrule, workdir):
    result = chainrule("train", "--data", "idx:.", "--name", "x")
    assert result.exit_code == 2 and not (workdir / "runs").exists()


def test_failed_resume_leaves_config_and_checkpoint_untouched(chainrule, workdir):
    """A failed --resume used to rewrite config.json before it had checked the checkpoint."""
    assert chainrule("train", *TINY, "--name", "r").exit_code == 0
    run = workdir / "runs" / "r"
    config = json.loads((run / "config.json").read_text())
    config["width"] = 9  # the checkpoint's weights no longer fit
    (run / "config.json").write_text(json.dumps(config))
    before = {name: (run / name).read_bytes() for name in ("config.json", "checkpoint.npz")}
    result = chainrule("train", "--resume", "runs/r", "--epochs", "3")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--resume runs/r" in lines[0] and "size mismatch" in lines[0]
    assert {name: (run / name).read_bytes() for name in before} == before


def test_resume_of_a_damaged_checkpoint_is_one_clear_line(chainrule, workdir):
    assert chainrule("train", *TINY, "--name", "d").exit_code == 0
    run = workdir / "runs" / "d"
    data = bytearray((run / "checkpoint.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (run / "checkpoint.npz").write_bytes(bytes(data))
    config_before = (run / "config.json").read_bytes()
    result = chainrule("train", "--resume", "runs/d", "--epochs", "2")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "checkpoint.npz" in lines[0]
    assert (run / "config.json").read_bytes() == config_before


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_resume_of_a_run_in_use_is_refused(chainrule, workdir):
    assert chainrule("train", *TINY, "--name", "busy").exit_code == 0
    run = workdir / "runs" / "busy"
    before = {name: (run / name).read_bytes() for name in ("config.json", "checkpoint.npz")}
    with run_folder.run_lock(str(run)):  # as a training process holds it
        result = chainrule("train", "--resume", "runs/busy", "--epochs", "3")
    assert result.exit_code == 1
    assert "is in use by another chainrule train process" in result.output
    assert {name: (run / name).read_bytes() for name in before} == before
    assert chainrule("train", "--resume", "runs/busy", "--epochs", "2").exit_code == 0


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_resume_while_the_run_trains_in_another_process_is_refused(module, workdir):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chainrule",
            "train",
            "--epochs",
            "500",
            "--width",
            "8",
            "--no-plots",
            "--no-progress",
            "--name",
            "live",
        ],
        cwd=workdir,
        env=module.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stdout:
            if line.startswith("epoch 1/500"):
                break
        result = module("train", "--resume", "runs/live", "--epochs", "600")
        assert result.returncode == 1 and "in use" in result.stderr
    finally:
        proc.kill()
        proc.communicate()
    # the kernel dropped the killed process's lock: the folder can be taken again
    with run_folder.run_lock(str(workdir / "runs" / "live")):
        pass


# Checkpoints with a valid checksum but crafted entries: each used to fail in the middle of the
# resumed training ("Error: KeyError: ..." after config.json was rewritten).
CRAFTED = {
    "global step not a count": (("extra", "global_step"), "x", "global_step"),
    "health flag not printable": (("extra", "health", 0), "\ud800", "health"),
    "world size not a count": (("world_size",), "2", "world_size"),
    "random state without its state": (("rng_state", "state"), None, "malformed 'rng_state'"),
    "monitor state without facts": (("callbacks", "monitor", "facts"), None, "'facts'"),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_resume_of_a_crafted_checkpoint_is_one_line_and_changes_nothing(chainrule, workdir, case):
    keys, value, message = CRAFTED[case]
    assert chainrule("train", *TINY, "--name", "c").exit_code == 0
    run = workdir / "runs" / "c"
    ckpt = cr.load(run / "checkpoint.npz")
    holder = ckpt
    for key in keys[:-1]:
        holder = holder[key]
    if value is None:
        del holder[keys[-1]]
    else:
        holder[keys[-1]] = value
    cr.save(ckpt, run / "checkpoint.npz")
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    result = chainrule("train", "--resume", "runs/c", "--epochs", "2")
    lines = result.output.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert "--resume runs/c" in lines[0] and message in lines[0] and "--debug" not in lines[0]
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
