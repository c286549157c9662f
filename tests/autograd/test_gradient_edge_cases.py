"""Gradients at NaN, zeros, ties and zero variance, compared with PyTorch (values and NaN places)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import chainrule as cr

torch = pytest.importorskip("torch")
NAN, INF = float("nan"), float("inf")


def grads(lib, f, inputs, upstream=None, create_graph=False):
    """Gradients of ``f(*inputs)`` (weighted by ``upstream``, default ones) for each input."""
    xs = [lib.tensor(np.array(v, dtype=np.float64), requires_grad=True) for v in inputs]
    y = f(lib, *xs)
    up = np.ones(tuple(y.shape)) if upstream is None else np.array(upstream, dtype=np.float64)
    gs = lib.autograd.grad([y], xs, [lib.tensor(up)], create_graph=create_graph)
    return [np.asarray(g.detach().numpy()) for g in gs]


def assert_like_torch(f, inputs, upstream=None):
    ours, theirs = grads(cr, f, inputs, upstream), grads(torch, f, inputs, upstream)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def _max_values(lib, x):
    return x.max(1)[0]


def _min_values(lib, x):
    return x.min(0)[0]


CASES = {
    "relu at NaN passes the gradient": (lambda lib, x: lib.relu(x), [[NAN, -1.0, 0.0, 2.0]], None),
    "relu blocks an upstream NaN": (lambda lib, x: lib.relu(x), [[-1.0, 2.0]], [NAN, NAN]),
    "clamp at NaN and bounds": (lambda lib, x: lib.clamp(x, -1, 1), [[NAN, -1.0, 0.0, 2.0]], None),
    "clamp blocks an upstream NaN": (lambda lib, x: lib.clamp(x, 0, 1), [[-1.0, 0.5]], [NAN, NAN]),
    "maximum with NaN on either side": (
        lambda lib, a, b: lib.maximum(a, b),
        [[NAN, 1.0, 2.0], [0.0, NAN, 2.0]],
        None,
    ),
    "maximum upstream NaN": (
        lambda lib, a, b: lib.maximum(a, b),
        [[1.0, 3.0, 2.0], [2.0, 1.0, 2.0]],
        [NAN, 1.0, 1.0],
    ),
    "minimum with NaN and ties": (
        lambda lib, a, b: lib.minimum(a, b),
        [[NAN, 1.0, 2.0], [0.0, NAN, 2.0]],
        None,
    ),
    "where upstream NaN stays in its branch": (
        lambda lib, a, b: lib.where(lib.tensor([True, False]), a, b),
        [[1.0, 2.0], [3.0, 4.0]],
        [NAN, 1.0],
    ),
    "where with an inf branch not chosen": (
        lambda lib, a, b: lib.where(lib.tensor([True, False]), a, lib.log(b)),
        [[1.0, 2.0], [0.0, 1.0]],
        None,
    ),
    "max over a tensor with NaN": (lambda lib, x: x.max(), [[1.0, NAN, 3.0, NAN]], None),
    "min over a tensor with NaN": (lambda lib, x: x.min(), [[1.0, NAN, -3.0, -3.0]], None),
    "max ties share": (lambda lib, x: x.max(), [[3.0, 3.0, 2.0]], None),
    "max with inf": (lambda lib, x: x.max(), [[INF, 3.0, 2.0]], None),
    "max upstream NaN": (lambda lib, x: x.max(), [[1.0, 3.0, 2.0]], NAN),
    "max(dim) with NaN": (_max_values, [[[1.0, NAN, 3.0, NAN], [1.0, 2.0, 3.0, 3.0]]], None),
    "max(dim) upstream NaN": (_max_values, [[[1.0, 3.0, 2.0], [1.0, 2.0, 3.0]]], [NAN, 1.0]),
    "min(dim) with NaN": (_min_values, [[1.0, NAN, 2.0, NAN]], None),
    "amax(dim) upstream NaN stays in its row": (
        lambda lib, x: x.amax(1),
        [[[1.0, 3.0, 2.0], [1.0, 2.0, 3.0]]],
        None,
    ),
    "std of a constant": (lambda lib, x: x.std(), [[2.0, 2.0, 2.0]], None),
    "std over dims, one row constant": (
        lambda lib, x: x.std(1),
        [[[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]]],
        None,
    ),
    "normalising a constant row": (
        lambda lib, x: (x - x.mean()) / (x.std() + 1e-5),
        [[0.5, 0.5, 0.5, 0.5]],
        None,
    ),
    "prod with one zero": (lambda lib, x: x.prod(), [[0.0, 2.0, 3.0]], None),
    "prod with two zeros": (lambda lib, x: x.prod(), [[0.0, 2.0, 0.0]], None),
    "prod over a dim with zeros": (
        lambda lib, x: x.prod(1),
        [[[0.0, 2.0, 3.0], [1.0, 0.0, 0.0]]],
        None,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradient_matches_torch(name):
    f, inputs, upstream = CASES[name]
    assert_like_torch(f, inputs, upstream)


def test_amax_with_nan_sends_the_gradient_to_the_nan_entries():
    # Deliberate difference: PyTorch's amax backward divides by a count of 0 and gives NaN to
    # every entry of the group; chainrule uses the rule of PyTorch's max() (NaN is the maximum).
    (g,) = grads(cr, lambda lib, x: x.amax(), [[1.0, NAN, 3.0, NAN]])
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.0, 0.5])
    (expected,) = grads(torch, lambda lib, x: x.max(), [[1.0, NAN, 3.0, NAN]])
    np.testing.assert_array_equal(g, expected)


@pytest.mark.parametrize(
    "values",
    [[0.0, 2.0, 3.0], [0.0, 2.0, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [-1.5, 0.0, 4.0, 2.0]],
)
def test_prod_first_and_second_derivatives_agree_with_and_without_create_graph(values):
    def first_and_hessian(lib, create_graph):
        x = lib.tensor(np.array(values), requires_grad=True)
        (g,) = lib.autograd.grad(x.prod(), [x], create_graph=create_graph)
        if not create_graph:
            return np.asarray(g.numpy()), None
        rows = [
            lib.autograd.grad(g[i], [x], retain_graph=True)[0].numpy() for i in range(len(values))
        ]
        return np.asarray(g.detach().numpy()), np.array(rows)

    plain, _ = first_and_hessian(cr, False)
    recorded, hessian = first_and_hessian(cr, True)
    t_first, t_hessian = first_and_hessian(torch, True)
    np.testing.assert_allclose(plain, t_first, rtol=1e-12)
    np.testing.assert_allclose(recorded, t_first, rtol=1e-12)
    np.testing.assert_allclose(hessian, t_hessian, rtol=1e-12)


def test_prod_over_a_dim_second_derivative_matches_torch():
    data = np.array([[0.0, 2.0, 3.0, -1.0], [1.5, 0.0, 0.0, 2.0], [1.0, 2.0, 3.0, 4.0]])

    def run(lib):
        x = lib.tensor(data.copy(), requires_grad=True)
        (g,) = lib.autograd.grad(
            (x.prod(1) * lib.tensor([1.0, 2.0, 3.0])).sum(), [x], create_graph=True
        )
        (gg,) = lib.autograd.grad((g * g).sum(), [x])
        return np.asarray(g.detach().numpy()), np.asarray(gg.numpy())

    for a, b in zip(run(cr), run(torch), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_std_second_derivative_at_zero_variance_matches_torch():
    def run(lib):
        x = lib.tensor([2.0, 2.0, 2.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(x.std(), [x], create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), [x])
        return np.asarray(g.detach().numpy()), np.asarray(gg.numpy())

    for a, b in zip(run(cr), run(torch), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda x, w: (x * w).sum(),  # float16 * float32 promotes to float32
        lambda x, w: (x.double() * 3).sum(),
        lambda x, w: (x * 2.5).mean(),
    ],
)
def test_float16_leaves_get_float16_gradients(make):
    x = cr.tensor([1.0, 2.0], dtype=cr.float16, requires_grad=True)
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    make(x, w).backward()
    assert x.grad.dtype == np.float16
    assert w.grad is None or w.grad.dtype == np.float32


def test_anomaly_points_at_user_code_in_a_folder_named_chainrule(tmp_path):
    # A git clone is a folder named "chainrule": code there is the user's, not the library's.
    folder = tmp_path / "chainrule"
    folder.mkdir()
    script = folder / "user_script.py"
    script.write_text(
        textwrap.dedent("""
        import numpy as np
        import chainrule as cr
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        with cr.autograd.detect_anomaly():
            try:
                cr.log(x)
            except FloatingPointError as e:
                print(e.created_at)
    """)
    )
    src = os.path.dirname(os.path.dirname(cr.__file__))
    env = dict(os.environ, PYTHONPATH=src)
    out = subprocess.run(
        [sys.executable, "-W", "ignore", str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=folder,
        check=True,
    ).stdout
    assert "user_script.py:7" in out, out
