"""The op snippet in docs/engine.md is the library's code: each function it shows must equal the
function of that name in ``chainrule.ops.pointwise`` (compared as syntax trees, docstring aside)."""

import ast
import inspect
import re
import textwrap
from pathlib import Path

from chainrule.ops import pointwise

ENGINE_MD = Path(__file__).resolve().parents[1] / "docs" / "engine.md"


def _without_docstring(fn):
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        fn.body = body[1:]
    return ast.dump(fn, include_attributes=False)


def _snippet_functions():
    blocks = re.findall(r"```python\n(.*?)```", ENGINE_MD.read_text(), re.S)
    snippet = next(b for b in blocks if "def _tanh_vjp" in b)
    return [n for n in ast.parse(snippet).body if isinstance(n, ast.FunctionDef)]


def test_the_engine_doc_snippet_matches_the_code():
    functions = _snippet_functions()
    assert [f.name for f in functions] == ["_tanh_vjp", "tanh"]
    for fn in functions:
        source = textwrap.dedent(inspect.getsource(getattr(pointwise, fn.name)))
        (code,) = ast.parse(source).body
        assert _without_docstring(fn) == _without_docstring(code), (
            f"docs/engine.md shows a {fn.name} that is not the one in ops/pointwise.py:\n{source}"
        )
