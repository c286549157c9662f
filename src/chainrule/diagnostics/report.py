"""``HealthReport`` and ``Finding``, the thresholds and the rules, under their old names.

The code lives by responsibility: :mod:`.thresholds` (the numbers and their sources),
:mod:`.findings` (``Finding``, ``HealthReport``), :mod:`.rules` (what reaches a verdict),
:mod:`.render` (text), :mod:`.activations` (the activation table). This module only re-exports
them, so ``from chainrule.diagnostics.report import analyze, fmt`` keeps working.
"""

from .activations import ACTIVATION_FACTOR, RECOMMENDED_GAIN, RELU_LIKE, SATURATING
from .findings import SEVERITIES, Finding, HealthReport, _plain
from .render import LAYER_COLUMNS, _evidence_text, fmt, render_text
from .rules import RULES, View, analyze, init_mismatch, layer_summary, nanmedian
from .thresholds import SOURCES, THRESHOLDS

__all__ = [
    "ACTIVATION_FACTOR",
    "RECOMMENDED_GAIN",
    "RELU_LIKE",
    "SATURATING",
    "SEVERITIES",
    "Finding",
    "HealthReport",
    "LAYER_COLUMNS",
    "fmt",
    "render_text",
    "RULES",
    "View",
    "analyze",
    "init_mismatch",
    "layer_summary",
    "nanmedian",
    "SOURCES",
    "THRESHOLDS",
    "_plain",
    "_evidence_text",
]
