"""``chainrule doctor``: the repair table for a training configuration."""

import json

DEEP = [
    "--depth",
    "10",
    "--width",
    "32",
    "--activation",
    "sigmoid",
    "--init",
    "xavier",
    "--optimizer",
    "sgd",
    "--samples",
    "512",
    "--steps",
    "60",
]


def test_doctor_proves_a_remedy_for_a_deep_sigmoid_net(chainrule, workdir):
    result = chainrule("doctor", *DEEP, "--max-trials", "2", "--json", "doctor.json")
    assert result.exit_code == 0, result.output
    assert "vanishing" in result.output and "RECOMMENDED" in result.output
    assert "best: " in result.output and "best: none" not in result.output
    data = json.loads((workdir / "doctor.json").read_text())
    assert "vanishing" in data["original"]["problems"]
    assert data["best"] in ("relu_he", "batchnorm")
    best = next(t for t in data["trials"] if t["remedy"] == data["best"])
    assert best["recommended"] and "vanishing" not in best["problems"]
    assert best["accuracy"] > data["original"]["accuracy"]
    assert not (workdir / "runs").exists()  # doctor writes no run folder


def test_doctor_on_a_healthy_net_recommends_nothing(chainrule):
    result = chainrule(
        "doctor", "--width", "32", "--samples", "512", "--steps", "60", "--lr", "0.01"
    )
    assert result.exit_code == 0, result.output
    assert "original  healthy" in result.output and "RECOMMENDED" not in result.output
    assert "best: none" in result.output


def test_doctor_refuses_inconsistent_options_like_train(chainrule):
    result = chainrule("doctor", "--model", "lstm", "--norm", "batch")
    assert result.exit_code == 2
    assert "--norm" in result.output


def test_doctor_and_repair_try_the_same_number_of_remedies_by_default():
    import inspect

    from chainrule.cli import cli
    from chainrule.diagnostics import repair

    option = next(p for p in cli.commands["doctor"].params if p.name == "max_trials")
    default = inspect.signature(repair).parameters["max_trials"].default
    assert option.default == default == 8
