"""The diagnostics package: modules by responsibility, no import cycles, old names kept."""

import ast
import os

import chainrule.diagnostics as diagnostics

PACKAGE = os.path.dirname(diagnostics.__file__)


def _imports():
    """Module -> the package modules it imports at module level."""
    graph = {}
    for name in os.listdir(PACKAGE):
        if name.endswith(".py"):
            with open(os.path.join(PACKAGE, name)) as f:
                tree = ast.parse(f.read())
            deps = set()
            for node in tree.body:
                if isinstance(node, ast.ImportFrom) and node.level == 1:
                    deps |= (
                        {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
                    )
            graph[name[:-3]] = deps
    return graph


def test_no_module_level_import_cycles():
    graph = _imports()
    done, path = set(), []

    def visit(m):
        assert m not in path, f"import cycle: {' -> '.join(path[path.index(m) :] + [m])}"
        if m in done:
            return
        path.append(m)
        for dep in graph.get(m, ()):
            visit(dep)
        path.pop()
        done.add(m)

    for m in graph:
        visit(m)


def test_report_module_keeps_the_old_names():
    from chainrule.diagnostics import report

    for name in (
        "Finding",
        "HealthReport",
        "THRESHOLDS",
        "SOURCES",
        "analyze",
        "fmt",
        "LAYER_COLUMNS",
        "RELU_LIKE",
        "SATURATING",
        "nanmedian",
        "render_text",
    ):
        assert hasattr(report, name), name
    assert report.Finding is diagnostics.Finding


def test_benchmark_labels_and_scoring_run_on_two_small_cases():
    import sys

    root = os.path.join(PACKAGE, "..", "..", "..")
    sys.path.insert(0, os.path.abspath(root))
    try:
        from benchmarks.diagnostics import fault_injection as fi
    finally:
        sys.path.pop(0)
    specs = {s["name"]: s for s in fi.specs()}
    assert len(specs) >= 60
    assert sum(s.get("fault") is None for s in specs.values()) >= 20
    healthy = specs["mlp_relu_sgd"]
    phys = fi.run(healthy)
    assert fi.label(healthy, phys, None) == "healthy"
    results = [
        {
            "name": "a",
            "label": "healthy",
            "monitor": fi.flagged(phys["monitor"].report()),
            "check": fi.flagged(phys["check"]),
        }
    ]
    assert "healthy runs flagged by the monitor: 0 of 1" in fi.summary(results)


def test_benchmark_sets_match_their_frozen_labels_and_do_not_overlap():
    import json
    import sys

    root = os.path.abspath(os.path.join(PACKAGE, "..", "..", ".."))
    sys.path.insert(0, root)
    try:
        from benchmarks.diagnostics import fault_injection as fi
    finally:
        sys.path.pop(0)
    names, frozen = {}, {}
    for name, (labels_file, make) in fi.SETS.items():
        with open(os.path.join(root, "benchmarks", "diagnostics", labels_file)) as f:
            labels = frozen[name] = json.load(f)
        names[name] = [s["name"] for s in make()]
        assert len(set(names[name])) == len(names[name])
        assert set(names[name]) == set(labels), name  # every run has its frozen label
        assert set(labels.values()) <= set(fi.ACCEPTS)
    assert not set(names["tuned"]) & set(names["heldout"])
    assert sum(v == "healthy" for v in frozen["heldout"].values()) >= 20
