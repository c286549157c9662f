"""The command group: help, exit codes, one-line errors, --debug, python -m chainrule."""

import pytest

from chainrule.cli import cli

COMMANDS = [
    ["train"],
    ["experiment"],
    ["experiment", "vanishing"],
    ["experiment", "exploding"],
    ["experiment", "learning-rate"],
    ["lr-find"],
    ["explain"],
    ["check"],
    ["gradcheck"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_examples(chainrule, command):
    result = chainrule(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: chainrule " + " ".join(command) in result.output
    assert "Examples:" in result.output and "chainrule " + " ".join(command) in result.output


def test_the_group_lists_every_command(chainrule):
    result = chainrule()  # no arguments: the help
    assert result.exit_code == 0
    for name in ("train", "experiment", "lr-find", "explain", "check", "gradcheck"):
        assert name in result.output


def test_version(chainrule):
    result = chainrule("--version")
    assert result.exit_code == 0 and "chainrule, version" in result.output


@pytest.mark.parametrize(
    "args, message, help_of",
    [
        (["trian"], "No such command 'trian'", "chainrule"),
        (["train", "--lrr", "0.1"], "Did you mean", "chainrule train"),
        (["train", "--model", "transformer"], "'transformer' is not one of", "chainrule train"),
        (["train", "--epochs", "0"], "0 is not in the range x>=1", "chainrule train"),
        (["train", "--data", "digitz"], "did you mean 'digits'?", "chainrule train"),
        (["experiment", "vanish"], "No such command 'vanish'", "chainrule experiment"),
    ],
)
def test_usage_errors_exit_2_with_one_line(chainrule, args, message, help_of):
    # The line points to the help of the command that was misused: the group for an unknown
    # subcommand, the command itself for a bad option.
    result = chainrule(*args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and message in lines[0]
    assert lines[0].endswith(f"(see '{help_of} --help')"), lines[0]
    assert "Traceback" not in result.output


def test_failure_is_one_line_and_debug_shows_the_traceback(chainrule, monkeypatch, fast):
    from chainrule.cli import run

    def broken(self, *a, **k):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(run.Session, "fit", broken)
    plain = chainrule("train", *fast)
    assert plain.exit_code == 1
    assert plain.output.strip().splitlines()[-1] == (
        "Error: RuntimeError: the disk is full (run with --debug for the traceback)"
    )
    assert "Traceback" not in plain.output
    debug = chainrule("train", *fast, "--debug")
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.output
    assert "RuntimeError: the disk is full" in debug.output


def test_python_dash_m_runs_the_same_command(module):
    ok = module("--help")
    assert ok.returncode == 0 and "Usage: chainrule" in ok.stdout
    bad = module("train", "--optimizer", "adamm")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Error: Invalid value for '--optimizer'" in bad.stderr


def test_main_returns_exit_codes_without_standalone_mode():
    assert cli.main(["--help"], standalone_mode=False) == 0
    assert cli.main(["train", "--nope"], standalone_mode=False) == 2
