"""Every public callable of ``chainrule``, ``chainrule.nn.functional``, ``chainrule.ops``,
``chainrule.linalg``, ``chainrule.amp`` and ``chainrule.compiler`` has a docstring with a ``>>>``
example, and every example runs (doctest), so a wrong one fails here. Public Tensor methods have
a docstring."""

import doctest
import inspect

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
import chainrule.ops as ops

MODULES = {
    "chainrule": cr,
    "chainrule.nn.functional": F,
    "chainrule.ops": ops,
    "chainrule.linalg": cr.linalg,
    "chainrule.amp": cr.amp,
    "chainrule.compiler": cr.compiler,
}


def _public_callables():
    """{object id: (qualified name, object)} over the three modules' public names."""
    found = {}
    for module_name, module in MODULES.items():
        names = getattr(module, "__all__", None) or [n for n in dir(module) if n[0] != "_"]
        for name in names:
            obj = getattr(module, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue
            found.setdefault(id(obj), (f"{module_name}.{name}", obj))
    return sorted(found.values(), key=lambda pair: pair[0])


CALLABLES = _public_callables()


def test_the_public_surface_is_found():
    names = {name for name, _ in CALLABLES}
    assert len(CALLABLES) > 250  # guards against an empty or truncated walk
    assert {"chainrule.add", "chainrule.nn.functional.conv2d", "chainrule.Tensor"} <= names


def test_every_public_callable_has_a_docstring_with_an_example():
    missing = [name for name, obj in CALLABLES if not (obj.__doc__ or "").strip()]
    no_example = [name for name, obj in CALLABLES if ">>>" not in (obj.__doc__ or "")]
    assert not missing, f"no docstring: {missing}"
    assert not no_example, f"no '>>>' example: {no_example}"


def test_every_public_tensor_method_has_a_docstring():
    missing = []
    for name, attr in vars(cr.Tensor).items():
        if name.startswith("_") or not callable(attr):
            continue
        if not (getattr(attr, "__doc__", None) or "").strip():
            missing.append(name)
    assert not missing, f"Tensor methods without a docstring: {sorted(missing)}"


@pytest.fixture
def global_state():
    """The examples reseed the default generator and switch the default dtype: restore both."""
    rng_state, dtype = cr.get_rng_state(), cr.get_default_dtype()
    yield
    cr.set_rng_state(rng_state)
    cr.set_default_dtype(dtype)
    cr.set_grad_enabled(True)


TENSOR_METHODS = sorted(
    (f"Tensor.{name}", attr)
    for name, attr in vars(cr.Tensor).items()
    if not name.startswith("_") and callable(attr) and ">>>" in (attr.__doc__ or "")
)


@pytest.mark.parametrize(
    "name, obj", CALLABLES + TENSOR_METHODS, ids=[n for n, _ in CALLABLES + TENSOR_METHODS]
)
def test_docstring_examples_run(name, obj, global_state):
    globs = {"cr": cr, "F": F, "np": np}
    parser = doctest.DocTestParser()
    test = parser.get_doctest(obj.__doc__ or "", globs, name, None, 0)
    assert test.examples, f"{name}: no example to run"
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    report = []
    runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)
