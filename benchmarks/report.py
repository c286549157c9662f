"""Tables: plain text for the terminal, Markdown and JSON for ``--out``."""

import json
from pathlib import Path

MEMORY_TARGET = 1.2  # chainrule's peak step memory may be at most 1.2x PyTorch's
MIB = 2**20


def _met(value, ok):
    return "-" if value is None else ("yes" if ok else "NO")


def case_row(r):
    """The cells of one case as strings (errors fill the row with the message)."""
    if "error" in r:
        return [r["key"], r["title"], f"ERROR: {r['error']}"]
    ratio = f"{r['ratio']:.2f} [{r['ratio_min']:.2f}-{r['ratio_max']:.2f}]"
    if r.get("reruns"):
        ratio += f" (rerun x{r['reruns']})"
    mem_ratio = r["chainrule_peak_bytes"] / max(r["torch_peak_bytes"], 1)
    mem_ok = None if r["inference"] else mem_ratio <= MEMORY_TARGET
    return [
        r["key"],
        r["title"],
        f"{r['chainrule_steps_s']:.1f}",
        f"{r['torch_steps_s']:.1f}",
        f"{r['chainrule_steps_s'] * r['batch']:.0f}",
        f"{r['torch_steps_s'] * r['batch']:.0f}",
        ratio,
        f"{r['ratio_best']:.2f}",
        f">= {r['target']}",
        _met(r["ratio"], r["ratio"] >= r["target"]),
        f"{r['ceiling_ratio']:.2f}" if "ceiling_ratio" in r else "-",
        (
            f"{r['of_ceiling']:.0%} [{r['of_ceiling_min']:.0%}-{r['of_ceiling_max']:.0%}]"
            if "of_ceiling" in r
            else "-"
        ),
        f"{r['chainrule_peak_bytes'] / MIB:.2f}",
        f"{r['torch_peak_bytes'] / MIB:.2f}",
        f"{mem_ratio:.2f}",
        _met(mem_ok, mem_ok),
        f"{r['numpy_peak_bytes'] / MIB:.2f}" if "numpy_peak_bytes" in r else "-",
        f"{r['load']:.1f}",
    ]


CASE_HEADER = [
    "case",
    "model",
    "cr steps/s",
    "torch steps/s",
    "cr samples/s",
    "torch samples/s",
    "ratio cr/torch median [min-max]",
    "best/best",
    "target",
    "met",
    "numpy/torch (ceiling)",
    "cr % of ceiling [min-max]",
    "cr peak MiB",
    "torch peak MiB",
    "mem ratio",
    f"mem <= {MEMORY_TARGET}x",
    "numpy peak MiB",
    "load",
]
OP_HEADER = ["op", "NumPy us", "chainrule us", "torch us", "torch/chainrule"]
GEMM_HEADER = [
    "case",
    "MFLOP/step",
    "NumPy sgemm-only ms/step",
    "NumPy sgemm GFLOP/s",
    "torch.mm GFLOP/s",
    "cr steps GFLOP/s (of NumPy sgemm)",
    "torch steps GFLOP/s (of torch.mm)",
]


def op_row(r):
    cell = lambda k: f"{r[k]:.2f}" if k in r else "-"
    return [
        r["op"],
        cell("numpy_us"),
        cell("chainrule_us"),
        cell("torch_us"),
        f"{r['ratio']:.2f}" if "ratio" in r else "-",
    ]


def gemm_row(g):
    share = lambda k, limit: f"{g[k]:.1f} ({g[k] / g[limit]:.0%})" if limit in g else f"{g[k]:.1f}"
    return [
        g["key"],
        f"{g['flops_per_step'] / 1e6:.1f}",
        f"{g['gemm_s_per_step'] * 1e3:.3f}",
        f"{g['numpy_sgemm_gflops']:.1f}",
        f"{g.get('torch_sgemm_gflops', float('nan')):.1f}",
        share("chainrule_gflops", "numpy_sgemm_gflops"),
        share("torch_gflops", "torch_sgemm_gflops"),
    ]


def _text_table(header, rows):
    full = [r for r in rows if len(r) == len(header)]  # error rows are not aligned
    widths = [max(len(str(c)) for c in col) for col in zip(header, *full, strict=True)]
    fmt = lambda cells: "  ".join(
        str(c).ljust(w) for c, w in zip(cells, widths, strict=True)
    ).rstrip()
    lines = [fmt(header), fmt(["-" * w for w in widths])]
    for r in rows:
        lines.append(fmt(r) if len(r) == len(header) else "  ".join(r))
    return "\n".join(lines)


def _md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        cells = r if len(r) == len(header) else r + [""] * (len(header) - len(r))
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def _sections(run):
    yield (
        "Training / inference (ratio > 1: chainrule faster)",
        CASE_HEADER,
        [case_row(r) for r in run["cases"]],
    )
    if run.get("op_overhead"):
        yield (
            "Per-op overhead (median microseconds per call)",
            OP_HEADER,
            [op_row(r) for r in run["op_overhead"]],
        )
    if run.get("gemm"):
        ceiling = run.get("peak_sgemm_gflops")
        title = (
            "Matrix products: a step's GEMM flops over its fastest block, vs sgemm alone at "
            "the same sizes (the practical limit)"
        )
        if ceiling:
            title += f"; large square sgemm: {ceiling:.1f} GFLOP/s"
        yield title, GEMM_HEADER, [gemm_row(g) for g in run["gemm"]]


def text(run):
    """The terminal report of one thread count."""
    out = [f"== {run['threads']} thread(s), {_clock(run)}: {run['info_line']}"]
    for title, header, rows in _sections(run):
        out += ["", title, _text_table(header, rows)]
    return "\n".join(out)


def _clock(run):
    clocks = {r.get("clock") for r in run["cases"]} - {None}
    names = {"cpu": "steps/s by process CPU time", "wall": "steps/s by wall time"}
    return ", ".join(names[c] for c in sorted(clocks)) or "no timings"


def markdown(results):
    """The whole report (every thread count) as Markdown."""
    out = ["# chainrule vs PyTorch CPU benchmarks", "", results.get("note", ""), ""]
    for run in results["runs"]:
        out += [f"## {run['threads']} thread(s)", "", f"{run['info_line']}; {_clock(run)}", ""]
        for title, header, rows in _sections(run):
            out += [f"### {title}", "", _md_table(header, rows), ""]
    return "\n".join(out)


def write(results, out):
    """Write ``<out>.json`` and ``<out>.md`` (an ``out`` ending in .json or .md names one of them)."""
    path = Path(out)
    stem = path.with_suffix("") if path.suffix in (".json", ".md") else path
    stem.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = stem.with_name(stem.name + ".json"), stem.with_name(stem.name + ".md")
    json_path.write_text(json.dumps(results, indent=2))
    md_path.write_text(markdown(results))
    return json_path, md_path
