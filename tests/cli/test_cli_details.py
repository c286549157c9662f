"""Smaller things a new user meets: --lr auto, lr-find's output file, check's gains, explain's
notation, the hint for --data mnist."""

import json
import re


def test_train_lr_auto_trains_at_the_range_tests_suggestion(chainrule, workdir, fast):
    result = chainrule("train", *fast, "--lr", "auto", "--name", "auto")
    assert result.exit_code == 0, result.output
    match = re.search(
        r"--lr auto: the learning-rate range test suggests ([0-9.e+-]+)", result.output
    )
    assert match
    lr = float(match[1])
    assert f"adam lr {lr:g}," in result.output  # trained at it
    config = json.loads((workdir / "runs" / "auto" / "config.json").read_text())
    assert config["lr"] == lr  # --resume reproduces it


def test_lr_auto_is_refused_where_it_means_nothing(chainrule):
    result = chainrule("check", "--lr", "auto")
    assert result.exit_code == 2 and "--lr auto is for chainrule train" in result.output
    result = chainrule("train", "--lr", "fast")
    assert result.exit_code == 2


def test_lr_find_never_overwrites_a_plot_and_every_column_has_a_header(chainrule, workdir):
    (workdir / "lr_find.png").write_bytes(b"keep me")
    result = chainrule("lr-find", "--steps", "20")
    assert result.exit_code == 0, result.output
    assert (workdir / "lr_find.png").read_bytes() == b"keep me"
    assert "plot: lr_find-2.png" in result.output
    assert (workdir / "lr_find-2.png").read_bytes()[:4] == b"\x89PNG"
    header = next(line for line in result.output.splitlines() if line.startswith("lr "))
    assert header.split() == ["lr", "loss", "smoothed", "loss", "note"]


def test_check_explains_variance_gain_and_norm_gain(chainrule):
    result = chainrule(
        "check", "--depth", "4", "--width", "16", "--activation", "tanh", "--init", "normal"
    )
    assert result.exit_code == 0, result.output
    assert "bwd_gain" in result.output
    assert "variance gains" in result.output and "square root" in result.output


def test_explain_uses_the_forward_notation_in_the_chain(chainrule):
    out = chainrule("explain", "--depth", "2").output
    chain = next(line for line in out.splitlines() if line.strip().startswith("∂L/∂W1[0, 0] ="))
    assert "Linear[" not in chain and "Tanh[" not in chain
    assert "∂z3[0]/∂h2[0]" in chain and "∂h1[0]/∂z1[0]" in chain and "∂z1[0]/∂W1[0, 0]" in chain
    assert "Linear → z3" in out and "Tanh → h2" in out


def test_data_mnist_points_to_idx_files(chainrule):
    result = chainrule("train", "--data", "mnist")
    assert result.exit_code == 2 and "idx:FOLDER" in result.output
    assert "idx:~/data/mnist" in result.output and "moons" not in result.output.split("(")[-1]
