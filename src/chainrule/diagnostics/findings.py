"""``Finding`` and ``HealthReport``: the verdicts as data."""

from dataclasses import dataclass, field

import numpy as np

from .render import _evidence_text, render_text
from .thresholds import THRESHOLDS

SEVERITIES = ("error", "warning", "info")


@dataclass
class Finding:
    """One verdict: what is wrong, where, the numbers that show it and what to try, best first.

    Attributes:
        kind: ``'vanishing'``, ``'exploding'``, ``'saturated'``, ``'dead'``, ``'lr_too_high'``,
            ``'lr_too_low'``, ``'no_gradient'``, ``'nonfinite'``, ``'clipping'``, or (from
            the pre-flight :func:`check` only) ``'layer_gain'``.
        layers: names of the layers (modules) concerned, as in ``model.named_modules()``.
        message: one plain sentence.
        evidence: the supporting numbers (floats, lists, short strings).
        remedies: concrete fixes naming the layer, most promising first.
        severity: ``'error'``, ``'warning'`` or ``'info'``.
    """

    kind: str
    layers: list
    message: str
    evidence: dict = field(default_factory=dict)
    remedies: list = field(default_factory=list)
    severity: str = "warning"

    def to_dict(self):
        return {
            "kind": self.kind,
            "severity": self.severity,
            "layers": list(self.layers),
            "message": self.message,
            "evidence": _plain(self.evidence),
            "remedies": list(self.remedies),
        }

    def __str__(self):
        lines = [f"[{self.severity}] {self.kind}: {self.message}"]
        if self.evidence:
            lines.append("  evidence: " + _evidence_text(self.evidence))
        lines += [f"  {i}. {r}" for i, r in enumerate(self.remedies, 1)]
        return "\n".join(lines)


class HealthReport:
    """The findings about one model, printable as a text table and usable as data.

    Attributes:
        findings: list of :class:`Finding`, errors first.
        layers: one dict per layer (forward order) with its summary numbers.
        source: ``'monitor'`` or ``'preflight'``.
        steps: number of recorded steps the verdicts rest on.
        clipping: ``None`` or a dict with how often gradient clipping acted.

    Example::

        report = monitor.report()
        print(report)                       # text table
        [f.kind for f in report.findings]   # e.g. ['vanishing']
        report.healthy                      # False when any error or warning was found
        report.to_dict()                    # JSON-friendly
    """

    def __init__(
        self, findings, layers=(), source="monitor", steps=0, clipping=None, thresholds=None
    ):
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        self.findings = sorted(findings, key=lambda f: rank.get(f.severity, 9))
        self.layers = list(layers)
        self.source = source
        self.steps = steps
        self.clipping = clipping
        self.thresholds = dict(THRESHOLDS if thresholds is None else thresholds)

    @property
    def healthy(self):
        """True when no finding is an error or a warning."""
        return not any(f.severity in ("error", "warning") for f in self.findings)

    @property
    def kinds(self):
        """The kinds found, in report order, without repeats."""
        return list(dict.fromkeys(f.kind for f in self.findings))

    def find(self, kind):
        """The findings of one ``kind`` (a list, maybe empty)."""
        return [f for f in self.findings if f.kind == kind]

    def __contains__(self, kind):
        return any(f.kind == kind for f in self.findings)

    def __iter__(self):
        return iter(self.findings)

    def __len__(self):
        return len(self.findings)

    def to_dict(self):
        return {
            "source": self.source,
            "steps": self.steps,
            "healthy": self.healthy,
            "findings": [f.to_dict() for f in self.findings],
            "layers": _plain(self.layers),
            "clipping": _plain(self.clipping),
            "thresholds": dict(self.thresholds),
        }

    def __str__(self):
        return render_text(self)

    def __repr__(self):
        return f"<HealthReport {self.source}: {len(self.findings)} findings {self.kinds}>"

    def _repr_html_(self):
        from .html import report_html

        return report_html(self)


def _plain(x):
    """Python scalars and lists in place of NumPy ones (for JSON)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_plain(v) for v in x.tolist()]
    if isinstance(x, np.generic):
        return x.item()
    return x
