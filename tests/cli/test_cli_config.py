"""Config files (JSON, TOML), precedence, and bad input refused before any work."""

import json
import os
import sys

import pytest


def one_line_error(result):
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def test_toml_config_is_read_and_the_command_line_overrides_it(chainrule, workdir):
    (workdir / "run.toml").write_text(
        'model = "mlp"\ndepth = 3\nwidth = 8\nepochs = 1\n'
        'clip-norm = 0.5\nactivation = "tanh"\nplots = false\n'
    )
    result = chainrule("train", "--config", "run.toml", "--width", "12", "--name", "t")
    assert result.exit_code == 0, result.output
    config = json.loads((workdir / "runs" / "t" / "config.json").read_text())
    assert config["depth"] == 3 and config["clip_norm"] == 0.5 and config["activation"] == "tanh"
    assert config["width"] == 12  # the command line wins
    assert "3 hidden layers of 12, tanh" in result.output and "clip norm 0.5" in result.output


def test_json_config_for_check(chainrule, workdir):
    (workdir / "c.json").write_text(json.dumps({"depth": 4, "width": 16, "name": "ignored"}))
    result = chainrule("check", "--config", "c.json")
    assert result.exit_code == 0, result.output
    assert "mlp, 4 hidden layers of 16" in result.output


@pytest.mark.parametrize(
    "content, message",
    [
        ("learning_rate = 0.1\n", "unknown key 'learning_rate' (did you mean 'lr'?)"),
        ('optimiser = "sgd"\n', "unknown key 'optimiser' (did you mean 'optimizer'?)"),
        ('epochs = "many"\n', "key 'epochs' must be an integer, got 'many'"),
        ('model = "transformer"\n', "key 'model': 'transformer' is not one of"),
        ('residual = "yes"\n', "key 'residual' must be true or false"),
        ("[model]\ndepth = 3\n", "key 'model' must be a single value, got a table"),
        ("depth = \n", "is not valid TOML"),
    ],
)
def test_bad_config_files_are_refused_naming_the_key(chainrule, workdir, content, message):
    (workdir / "bad.toml").write_text(content)
    result = chainrule("train", "--config", "bad.toml")
    assert result.exit_code == 2
    line = one_line_error(result)
    assert line.startswith("Error: config file bad.toml") and message in line
    assert not (workdir / "runs").exists()  # refused before any work


def test_config_file_must_exist_and_be_json_or_toml(chainrule, workdir):
    assert chainrule("train", "--config", "nope.toml").exit_code == 2
    (workdir / "c.yaml").write_text("depth: 3\n")
    result = chainrule("train", "--config", "c.yaml")
    assert result.exit_code == 2 and "use a .json or .toml file" in one_line_error(result)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--model", "cnn", "--data", "spirals"], "--model cnn needs images"),
        (["--model", "lstm", "--data", "moons"], "--model lstm reads sequences"),
        (["--model", "lstm", "--activation", "sigmoid"], "lstm and gru have fixed gate"),
        (["--model", "rnn", "--activation", "sigmoid"], "an rnn takes tanh or relu"),
        (["--model", "gru", "--norm", "batch"], "--norm and --residual apply to mlp and cnn"),
        (["--model", "rnn", "--depth", "1", "--dropout", "0.2"], "it needs --depth 2 or more"),
        (["--recurrent-gain", "2"], "--recurrent-gain applies to rnn, lstm and gru"),
        (["--residual", "--depth", "1"], "--residual wraps hidden layers 2..depth"),
        (["--momentum", "0.9"], "--momentum applies to sgd and rmsprop"),
        (["--seq-len", "20"], "it needs --data adding"),
        (["--norm", "batch", "--batch-size", "1"], "--norm batch needs --batch-size 2"),
        (["--data", "idx:/no/such/folder"], "folder '/no/such/folder' does not exist"),
        (["--data", "idx:."], "train-images-idx3-ubyte not found"),
        (["--name", "a/b"], "use a plain folder name"),
    ],
)
def test_inconsistent_options_are_refused_before_any_work(chainrule, workdir, args, message):
    result = chainrule("train", *args)
    assert result.exit_code == 2
    assert message in one_line_error(result)
    assert not (workdir / "runs").exists()


def test_a_taken_name_is_refused(chainrule, workdir, fast):
    assert chainrule("train", *fast, "--name", "x").exit_code == 0
    result = chainrule("train", *fast, "--name", "x")
    assert result.exit_code == 2
    assert "run folder runs/x already exists: continue it with --resume runs/x" in one_line_error(
        result
    ).replace(os.sep, "/")


def test_timestamped_run_folders_never_collide(chainrule, workdir, fast):
    for _ in range(2):
        assert chainrule("train", *fast).exit_code == 0
    assert len(os.listdir(workdir / "runs")) == 2


def test_tensorboard_without_tensorboardx_is_refused(chainrule, workdir, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    result = chainrule("train", "--tensorboard")
    assert result.exit_code == 2
    assert "pip install chainrule[tensorboard]" in one_line_error(result)
    assert not (workdir / "runs").exists()


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epochs": 1.7}, "key 'epochs' must be an integer, got 1.7"),
        ({"epochs": 2.0}, "key 'epochs' must be an integer, got 2.0"),
        ({"depth": True}, "key 'depth' must be an integer, got True"),
        ({"seed": 0.5}, "key 'seed' must be an integer, got 0.5"),
        ({"seed": -3}, "key 'seed': -3 is not in the range x>=0"),
        ({"width": "16"}, "key 'width' must be an integer, got '16'"),
        ({"lr": True}, "key 'lr' must be a number, got True"),
        ({"lr": "0.1"}, "key 'lr' must be a number, got '0.1'"),
        ({"lr": float("nan")}, "key 'lr': nan is not a finite number"),
        ({"clip_norm": float("inf")}, "key 'clip_norm': inf is not a finite number"),
        ({"weight_decay": float("-inf")}, "key 'weight_decay'"),
        ({"dropout": float("nan")}, "key 'dropout': nan is not a finite number"),
        ({"model": 3}, "key 'model' must be a string, got 3"),
        ({"plots": 1}, "key 'plots' must be true or false, got 1"),
    ],
)
def test_config_values_are_not_coerced(chainrule, workdir, values, message):
    """1.7 epochs used to run 1 epoch, depth true gave depth 1, seed 0.5 gave seed 0."""
    (workdir / "c.json").write_text(json.dumps(values))  # NaN/Infinity as Python writes them
    result = chainrule("train", "--config", "c.json")
    assert result.exit_code == 2
    line = one_line_error(result)
    assert line.startswith("Error: config file c.json") and message in line
    assert not (workdir / "runs").exists()


def test_toml_nan_and_float_epochs_are_refused(chainrule, workdir):
    for content, message in [
        ("lr = nan\n", "not a finite number"),
        ("epochs = 3.0\n", "must be an integer"),
    ]:
        (workdir / "c.toml").write_text(content)
        result = chainrule("train", "--config", "c.toml")
        assert result.exit_code == 2 and message in one_line_error(result)
    assert not (workdir / "runs").exists()


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--lr", "nan"], "--lr"),
        (["--lr", "inf"], "--lr"),
        (["--clip-norm", "inf"], "--clip-norm"),
        (["--momentum", "nan", "--optimizer", "sgd"], "--momentum"),
        (["--weight-decay", "nan"], "--weight-decay"),
        (["--dropout", "nan"], "--dropout"),
        (["--recurrent-gain", "inf", "--model", "rnn"], "--recurrent-gain"),
    ],
)
def test_non_finite_options_are_refused(chainrule, workdir, args, flag):
    result = chainrule("train", *args)
    assert result.exit_code == 2
    line = one_line_error(result)
    assert f"Invalid value for '{flag}'" in line and "is not a finite number" in line
    assert not (workdir / "runs").exists()


def test_lr_finder_refuses_non_finite_bounds(chainrule, workdir):
    for args in (["--start-lr", "nan"], ["--end-lr", "inf"]):
        result = chainrule("lr-find", *args)
        assert result.exit_code == 2 and "is not a finite number" in result.output


@pytest.mark.parametrize(
    "name, content",
    [
        ("deep.json", "[" * 100_000 + "]" * 100_000),
        ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000),
    ],
)
def test_deeply_nested_config_is_a_one_line_usage_error(chainrule, workdir, name, content):
    (workdir / name).write_text(content)
    result = chainrule("train", "--config", name)
    assert result.exit_code == 2
    assert f"config file {name}" in one_line_error(result)
