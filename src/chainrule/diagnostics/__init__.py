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
from . import plots
from .export import to_csv, to_dict, to_numpy, to_tensorboard
from .monitor import GradientMonitor, History
from .preflight import check
from .report import SOURCES, THRESHOLDS, Finding, HealthReport

__all__ = ["plots", "GradientMonitor", "History", "HealthReport", "Finding", "THRESHOLDS", "SOURCES",
           "check", "to_csv", "to_dict", "to_numpy", "to_tensorboard"]

# Written alongside this package; exported when present.
try:
    from .explain import explain_gradient  # noqa: F401
    __all__.append("explain_gradient")
except ImportError:
    pass
try:
    from .graph import draw_graph  # noqa: F401
    __all__.append("draw_graph")
except ImportError:
    pass
try:
    from .lr_finder import lr_range_test  # noqa: F401
    __all__.append("lr_range_test")
except ImportError:
    pass
try:
    from .nonfinite import trace_nonfinite  # noqa: F401
    __all__.append("trace_nonfinite")
except ImportError:
    pass
