"""Gradient-flow diagnostics: measure vanishing/exploding gradients and bad learning rates on the
user's own model, and say which layer suffers, the evidence and the fix.

Example::

    import chainrule as cr
    monitor = cr.diagnostics.GradientMonitor(model, optimizer=opt)
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        monitor.step(loss)
    print(monitor.report())                  # findings with evidence and ranked remedies
    monitor.save_report("health.html")       # one self-contained page with plots

    print(cr.diagnostics.check(model, loss_fn, (x, y)))   # one-batch pre-flight at init
"""

from . import activations, plots
from .explain import GradientPath, explain_gradient
from .export import add_histograms, to_csv, to_dict, to_numpy, to_tensorboard
from .findings import Finding, HealthReport
from .graph import GraphDrawing, draw_graph
from .lr_finder import LRRangeResult, lr_range_test
from .monitor import GradientMonitor, History
from .nonfinite import NonfiniteOrigin, NonfiniteTracer, trace_nonfinite
from .preflight import check
from .repair import RepairResult, repair
from .sharpness import sharpness
from .thresholds import SOURCES, THRESHOLDS

__all__ = [
    "GradientMonitor",
    "History",
    "HealthReport",
    "Finding",
    "THRESHOLDS",
    "SOURCES",
    "check",
    "lr_range_test",
    "LRRangeResult",
    "explain_gradient",
    "GradientPath",
    "draw_graph",
    "GraphDrawing",
    "trace_nonfinite",
    "NonfiniteTracer",
    "NonfiniteOrigin",
    "plots",
    "activations",
    "sharpness",
    "repair",
    "RepairResult",
    "to_csv",
    "to_dict",
    "to_numpy",
    "to_tensorboard",
    "add_histograms",
]
