"""``chainrule check``, ``lr-find``, ``explain`` and ``gradcheck``."""

import re
import sys

import chainrule as cr
from chainrule.cli import cmd_gradcheck, gradcheck_ops
from chainrule.nn import functional as F


def test_check_passes_a_healthy_default(chainrule):
    result = chainrule("check")
    assert result.exit_code == 0, result.output
    assert "one batch of 64 examples" in result.output
    assert "HealthReport (preflight" in result.output and "healthy" in result.output


def test_check_names_a_vanishing_network_and_strict_fails(chainrule, workdir):
    deep = ["--depth", "15", "--width", "64", "--activation", "sigmoid", "--init", "xavier"]
    result = chainrule("check", *deep)
    assert result.exit_code == 0
    assert "vanishing" in result.output and "fix 1:" in result.output
    strict = chainrule("check", *deep, "--strict")
    assert strict.exit_code == 1
    assert strict.output.strip().splitlines()[-1].startswith("Error: the check found: vanishing")
    assert not (workdir / "runs").exists()  # check writes nothing


def test_lr_find_prints_the_curve_and_the_suggestion_and_saves_the_plot(chainrule, workdir):
    result = chainrule("lr-find", "--steps", "40", "--out", "lr.png")
    assert result.exit_code == 0, result.output
    match = re.search(
        r"suggested learning rate: ([0-9.e+-]+) \(range ([0-9.e+-]+) to "
        r"([0-9.e+-]+)\)",
        result.output,
    )
    assert match
    low, best, high = float(match[2]), float(match[1]), float(match[3])
    assert 1e-7 < low < best <= high <= 10
    assert "<- suggested" in result.output and "smoothed loss" in result.output
    assert f"--lr {match[1]}" in result.output
    assert (workdir / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lr_find_refuses_an_empty_sweep_and_works_without_matplotlib(
    chainrule, workdir, monkeypatch
):
    bad = chainrule("lr-find", "--start-lr", "1", "--end-lr", "0.1")
    assert bad.exit_code == 2 and "must be below --end-lr" in bad.output
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = chainrule("lr-find", "--steps", "10", "--out", "x.png")
    assert result.exit_code == 0 and "pip install chainrule[plot]" in result.output
    assert not (workdir / "x.png").exists()


def test_explain_checks_the_chain_rule_three_ways(chainrule):
    result = chainrule("explain")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "z1  = W1 x + b1" in out and "h1  = tanh(z1)" in out
    assert "scalar chain rule:" in out and "matches" in out
    numbers = {
        k: float(re.search(rf"{k}\s+(-?[0-9.e+-]+)", out)[1])
        for k in ("chain-rule product", r"backward \(W.grad\)", "finite difference")
    }
    values = list(numbers.values())
    assert abs(values[0] - values[1]) <= 1e-12 and abs(values[0] - values[2]) < 1e-7
    assert "all three agree" in out


def test_explain_shows_the_collapse_of_a_deep_sigmoid_chain(chainrule):
    result = chainrule("explain", "--depth", "10", "--activation", "sigmoid")
    assert result.exit_code == 0
    assert "signal collapsed at step" in result.output


def test_explain_wider_network_and_bad_choices(chainrule):
    assert chainrule("explain", "--width", "3", "--layer", "2", "--index", "1,2").exit_code == 0
    layer = chainrule("explain", "--layer", "9")
    assert layer.exit_code == 2 and "the network has 3 Linear layers" in layer.output
    index = chainrule("explain", "--index", "5,0")
    assert index.exit_code == 2 and "layer 1's weight has shape (1, 2)" in index.output


def test_gradcheck_passes_every_op(chainrule):
    result = chainrule("gradcheck")
    assert result.exit_code == 0, result.output
    n = len(gradcheck_ops.CASES)
    assert f"{n} ops checked" in result.output and f"{n} passed, 0 failed" in result.output
    assert re.search(r"^conv2d\s+2x2x4x4 3x2x3x3 3\s+\S+\s+\S+\s+ok$", result.output, re.M)


def test_gradcheck_select_and_list(chainrule):
    one = chainrule("gradcheck", "--op", "LSTM", "--op", "tanh")
    assert one.exit_code == 0 and "2 ops checked" in one.output
    listed = chainrule("gradcheck", "--list")
    assert listed.output.split() == [c.name for c in gradcheck_ops.CASES]
    bad = chainrule("gradcheck", "--op", "conv2dd")
    assert bad.exit_code == 2 and "did you mean 'conv2d'?" in bad.output


def test_gradcheck_fails_with_exit_1_on_a_wrong_gradient(chainrule, monkeypatch):
    # x * x.detach() has derivative x, not 2x: backward is "wrong" for this function.
    wrong = gradcheck_ops.op("half_square", lambda x: x * x.detach(), (2, 3))
    monkeypatch.setattr(cmd_gradcheck, "CASES", [wrong] + gradcheck_ops.CASES[:2])
    result = chainrule("gradcheck")
    assert result.exit_code == 1
    assert re.search(r"^half_square\s.*FAIL$", result.output, re.M)
    assert result.output.strip().splitlines()[-1] == "Error: gradient check failed for: half_square"


def _function(name):
    return getattr(cr.ops, name, None) or getattr(F, name, None) or getattr(cr.nn, name, None)


def test_gradcheck_covers_every_built_in_op():
    """Every differentiable function of cr.ops and nn.functional, and the recurrent layers, is
    checked by some case (aliases such as cr.ops.multiply count as their function)."""
    covered = {_function(name) for case in gradcheck_ops.CASES for name in case.covers}
    ops = {
        name
        for name in dir(cr.ops)
        if callable(getattr(cr.ops, name))
        and getattr(getattr(cr.ops, name), "__module__", "").startswith("chainrule.ops.")
    }
    layers = {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"}
    wanted = (ops | set(F.__all__) | layers) - set(gradcheck_ops.NOT_DIFFERENTIABLE)
    missing = sorted(name for name in wanted if _function(name) not in covered)
    assert not missing, f"ops without a gradcheck case: {missing}"


def test_negative_seeds_explain_as_torch_gradcheck_refuses(chainrule):
    # explain seeds the generator, which maps -1 onto 2**64 - 1 as torch.manual_seed does
    negative = chainrule("explain", "--seed", "-1")
    assert negative.exit_code == 0, negative.output
    assert negative.output == chainrule("explain", "--seed", str(2**64 - 1)).output
    # gradcheck's seed feeds NumPy's generator directly: a clear usage error, not NumPy's
    bad = chainrule("gradcheck", "--op", "tanh", "--seed", "-1")
    assert bad.exit_code == 2
    assert "Invalid value for '--seed': -1 is not in the range x>=0." in bad.output
