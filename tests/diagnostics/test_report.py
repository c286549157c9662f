"""HealthReport / Finding as data and text, and the rules on hand-made series."""

import json
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics import (
    SOURCES,
    THRESHOLDS,
    Finding,
    GradientMonitor,
    HealthReport,
    History,
)
from chainrule.diagnostics.report import analyze, fmt


def context(n_layers=2, lr=0.1, activation="relu", **extra):
    layers = [
        {
            "name": f"fc{i}",
            "type": "Linear",
            "activation": activation if i < n_layers - 1 else None,
            "init_gain": 2.0,
            "param_columns": [i],
            "recurrent": False,
        }
        for i in range(n_layers)
    ]
    params = [
        {
            "name": f"fc{i}.weight",
            "layer": f"fc{i}",
            "ndim": 2,
            "requires_grad": True,
            "in_optimizer": True,
        }
        for i in range(n_layers)
    ]
    ctx = {
        "layers": layers,
        "layer_order": list(range(n_layers)),
        "params": params,
        "recurrent": [],
        "lr": lr,
        "optimizer": "SGD",
        "first_nonfinite": None,
        "clipping": None,
    }
    ctx.update(extra)
    return ctx


def history(rows, n_layers=2):
    """``rows``: one dict per step of metric -> value (scalars broadcast over the columns)."""
    h = History(64, [f"fc{i}.weight" for i in range(n_layers)], [f"fc{i}" for i in range(n_layers)])
    for step, values in enumerate(rows):
        base = {"has_grad": 1.0, "zero_frac": 0.0, "grad_norm": 1.0, "out_grad_norm": 1.0}
        base.update(values)
        h.append(step, base)
    return h


def test_finding_and_report_are_data_and_text():
    f = Finding(
        "vanishing",
        ["fc0"],
        "It shrinks.",
        {"ratio": 1e-9, "gains": [0.1, 0.2]},
        ["Use ReLU in 'fc0'.", "Add LayerNorm."],
        "error",
    )
    info = Finding("clipping", [], "Clipping acted on 1 of 2 steps.", severity="info")
    report = HealthReport([info, f], layers=[{"layer": "fc0", "type": "Linear"}], steps=3)
    assert report.findings[0] is f  # errors first
    assert report.kinds == ["vanishing", "clipping"]
    assert "vanishing" in report and "dead" not in report
    assert report.find("clipping") == [info] and len(report) == 2
    assert not report.healthy
    assert HealthReport([info]).healthy  # info alone is healthy
    d = report.to_dict()
    json.dumps(d)
    assert d["findings"][0] == {
        "kind": "vanishing",
        "severity": "error",
        "layers": ["fc0"],
        "message": "It shrinks.",
        "evidence": {"ratio": 1e-9, "gains": [0.1, 0.2]},
        "remedies": ["Use ReLU in 'fc0'.", "Add LayerNorm."],
    }
    text = str(report)
    assert "3 recorded steps): 2 findings" in text
    assert "vanishing" in text and "fix 1: Use ReLU in 'fc0'." in text and "ratio=1e-09" in text
    assert "fc0" in text.splitlines()[-1]  # the layer table at the end
    assert "vanishing" in str(f) and "1. Use ReLU" in str(f)


def test_fmt_handles_every_kind_of_number():
    assert fmt(float("nan")) == "nan" and fmt(float("inf")) == "inf" and fmt(None) == "-"
    assert fmt(np.float32(1.23456)) == "1.23" and fmt(3) == "3" and fmt(True) == "True"
    assert fmt(list(range(10))) == "[0, 1, 2, 3, 4, 5, 6, 7, ...]"


def test_every_threshold_has_a_source():
    assert set(SOURCES) == set(THRESHOLDS)
    assert "Glorot" in SOURCES["vanishing_ratio"] and "Karpathy" in SOURCES["update_ratio_target"]
    assert "Pascanu" in SOURCES["exploding_ratio"]


def test_depth_rule_from_the_back_propagated_signal():
    rows = [{"out_grad_norm": np.array([1e-4, 1.0])}] * 3
    report = analyze(history(rows), context())
    f = report.find("vanishing")[0]
    assert f.layers == ["fc0"] and f.evidence["ratio_first_to_last"] == pytest.approx(1e-4)
    assert f.evidence["direction"] == "depth"
    relaxed = analyze(history(rows), context(), {"vanishing_ratio": 1e-5})
    assert "vanishing" not in relaxed  # thresholds can be overridden
    grown = analyze(history([{"out_grad_norm": np.array([1e3, 1.0])}]), context())
    assert grown.find("exploding")[0].evidence["ratio_first_to_last"] == pytest.approx(1e3)


def test_unknown_threshold_is_an_error():
    with pytest.raises(TypeError, match="vanish_ratio"):
        analyze(history([{}]), context(), {"vanish_ratio": 1})


def test_lr_rules_on_hand_made_series():
    falling = [{"loss": 2.0 - 0.05 * k, "update_ratio": 1e-3} for k in range(10)]
    assert analyze(history(falling), context()).kinds == []
    spike = [{"loss": v, "update_ratio": 1e-3} for v in (2.0, 2.1, 9.0, 2.0)]
    f = analyze(history(spike), context()).find("lr_too_high")[0]
    assert f.evidence["loss_max"] == 9.0 and "Lower the learning rate from 0.1" in f.remedies[0]
    big = [{"loss": 2.0, "update_ratio": 0.3} for _ in range(10)]
    assert "lr_too_high" in analyze(history(big), context())
    flat = [{"loss": 2.0, "update_ratio": 1e-6} for _ in range(10)]
    f = analyze(history(flat), context(lr=0.01)).find("lr_too_low")[0]
    assert "from 0.01 to about 10" in f.remedies[0]  # 0.01 * 1e-3 / 1e-6
    few = [{"loss": 2.0, "update_ratio": 1e-6} for _ in range(3)]
    assert "lr_too_low" not in analyze(history(few), context())  # too few steps to judge


def test_no_gradient_and_zero_gradient():
    rows = [{"has_grad": np.array([1.0, 0.0])}] * 2
    f = analyze(history(rows), context()).find("no_gradient")[0]
    assert f.layers == ["fc1"] and f.evidence["no_grad"] == ["fc1.weight"]
    zeros = [{"zero_frac": np.array([0.0, 1.0])}] * 2
    f = analyze(history(zeros), context()).find("no_gradient")[0]
    assert f.evidence["zero_grad"] == ["fc1.weight"]
    ctx = context()
    ctx["params"][1]["requires_grad"] = False  # frozen on purpose: fine
    assert "no_gradient" not in analyze(history(rows), ctx)


def test_saturated_and_dead_rules():
    sat = [{"saturated_frac": np.array([0.9, np.nan])}] * 3
    f = analyze(history(sat), context(activation="tanh")).find("saturated")[0]
    assert f.layers == ["fc0"] and "90%" in f.message
    dead = [{"dead_frac": np.array([0.8, np.nan])}] * 3
    f = analyze(history(dead), context()).find("dead")[0]
    # dead from the first step: no update killed them, the initialisation is the fix
    assert f.layers == ["fc0"] and "He init" in f.remedies[0] and "learning rate" in f.remedies[-1]
    assert f.evidence["dead_at_first_step"] and "already at the first recorded step" in f.message
    dying = [{"dead_frac": np.array([v, np.nan])} for v in (0.1, 0.8, 0.8, 0.8)]
    f = analyze(history(dying), context()).find("dead")[0]
    assert "learning rate" in f.remedies[0] and "LeakyReLU" in f.remedies[1]
    assert "dead_at_first_step" not in f.evidence
    few = [{"dead_frac": np.array([0.3, np.nan])}] * 3
    assert "dead" not in analyze(history(few), context())


def test_clipping_finding_says_how_often():
    clip = {"seen": 10, "acted": 8, "max_norm": 1.0, "median_norm": 3.0, "max_seen_norm": 50.0}
    f = analyze(history([{}]), context(clipping=clip)).find("clipping")[0]
    assert "acted on 8 of 10 steps (80%)" in f.message and f.severity == "warning"
    clip = dict(clip, acted=1)
    assert analyze(history([{}]), context(clipping=clip)).find("clipping")[0].severity == "info"


def test_nonfinite_event_becomes_findings():
    event = {
        "phase": "forward",
        "layer": "fc1",
        "op": "Exp",
        "cause": "overflow in exp",
        "explanation": "overflow in exp (input up to 100)",
        "step": 4,
        "diverged": False,
    }
    rows = [{"loss": 1.0}] * 4 + [{"loss": math.inf}]
    report = analyze(history(rows), context(first_nonfinite=event))
    f = report.find("nonfinite")[0]
    assert f.layers == ["fc1"] and "'Exp'" in f.message and "step 4" in f.message
    assert "logsumexp" in f.remedies[0]
    assert "exploding" not in report  # a forward overflow is not divergence
    diverged = dict(event, phase="backward", cause="overflow", diverged=True)
    grads = [{"loss": 1.0, "grad_norm": 10.0**k} for k in range(4)] + [{"loss": math.inf}]
    report = analyze(history(grads), context(first_nonfinite=diverged))
    assert "exploding" in report and "lr_too_high" in report
    peak = math.sqrt(2) * 1e3  # two weights with norm 1e3 each
    assert report.find("exploding")[0].evidence["grad_norm_peak"] == pytest.approx(peak)


def test_empty_and_all_nan_monitors_report_without_crashing():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    monitor = GradientMonitor(model)
    report = monitor.report()
    assert report.healthy and report.steps == 0 and "healthy" in str(report)
    monitor.step(None)  # a step with no loss and no grads
    report = monitor.report()
    assert report.find("no_gradient")  # nothing reached the parameters
    assert report.layers[0]["grad_at_output"] is None
