import os
import re
import shutil
import stat
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.diagnostics import graph as graph_module
from chainrule.diagnostics.graph import draw_graph


def _model_and_loss(hook=False):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    if hook:
        model[1].register_full_backward_hook(lambda m, gi, go: None)
    x, y = cr.randn(5, 4), cr.tensor([0, 1, 1, 0, 1])
    return model, nn.functional.cross_entropy(model(x), y)


def _parse(source):
    """{id: label} and [(src, dst)] from the DOT text."""
    nodes = dict(re.findall(r'^\s+(\w+) \[label="([^"]*)"', source, re.M))
    edges = re.findall(r"^\s+(\w+) -> (\w+);", source, re.M)
    return nodes, edges


def test_dot_structure_with_names_shapes_and_gradient_norms():
    model, loss = _model_and_loss()
    params = dict(model.named_parameters())
    source = draw_graph(loss, params=params).source
    assert source.startswith("digraph chainrule {") and source.rstrip().endswith("}")
    nodes, edges = _parse(source)
    ops = {k: v.split("\\n")[0] for k, v in nodes.items() if k.startswith("op")}
    assert sorted(ops.values()) == ["CrossEntropy", "Linear", "Linear", "Relu"]
    leaves = {v.split("\\n")[0]: k for k, v in nodes.items() if k.startswith("leaf")}
    assert set(leaves) == set(params)
    assert {s for s, _ in edges} | {d for _, d in edges} <= set(nodes)  # no dangling edge
    assert len(edges) == 3 + 4  # op-to-op chain, one edge per parameter
    assert "(5, 3)" in nodes[next(k for k, v in ops.items() if v == "Relu")]
    assert "peripheries=2" in source.splitlines()[2]  # the root is drawn first, bold
    for name, leaf in leaves.items():
        consumer = [d for s, d in edges if s == leaf]
        assert len(consumer) == 1 and ops[consumer[0]] == "Linear"
        assert str(tuple(params[name].shape)) in nodes[leaf]
    # Norms are those of d loss / d param, and no .grad was written to compute them.
    assert all(p.grad is None for p in params.values())
    loss.backward()
    for name, leaf in leaves.items():
        expected = f"|grad| {np.linalg.norm(params[name].grad.numpy().astype(np.float64)):.3g}"
        assert nodes[leaf].endswith(expected)


def test_without_grad_and_without_names():
    model, loss = _model_and_loss()
    source = draw_graph(loss, show_grad=False).source
    assert "|grad|" not in source
    nodes, _ = _parse(source)
    assert (
        sorted(v.split("\\n")[0] for k, v in nodes.items() if k.startswith("leaf"))
        == ["parameter"] * 4
    )


def test_hook_identities_are_seen_through():
    model, loss = _model_and_loss(hook=True)
    source = draw_graph(loss).source
    assert "BackwardHook" not in source
    nodes, edges = _parse(source)
    relu = next(k for k, v in nodes.items() if v.startswith("Relu"))
    assert [nodes[s].split("\\n")[0] for s, d in edges if d == relu] == ["Linear"]


def test_nonscalar_root_shows_retained_grads_and_nonfinite_in_red():
    w = cr.tensor([1.0, 0.0], requires_grad=True)
    y = cr.sqrt(w * w)
    y.retain_grad()
    with np.errstate(all="ignore"):
        y.backward(cr.ones(2), retain_graph=True)  # d sqrt at 0: NaN
    source = draw_graph(y, params={"w": w}).source
    nodes, edges = _parse(source)
    assert nodes["op0"] == "Sqrt\\n(2,)\\n|grad| 1.41"
    assert "|grad| nan" in nodes["leaf0"] and "#ff9999" in source
    assert ("op1", "op0") in edges and ("leaf0", "op1") in edges


def test_labels_are_escaped():
    w = cr.ones(2, requires_grad=True)
    source = draw_graph((w * 2).sum(), params={'say "hi"\\': w}).source
    assert 'label="say \\"hi\\"\\\\\\n(2,)' in source


def test_freed_graph_and_bad_input_are_explained():
    model, loss = _model_and_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        draw_graph(loss)
    with pytest.raises(TypeError, match="Tensor"):
        draw_graph(np.ones(2))


def test_render_without_graphviz_says_how_to_install(monkeypatch, tmp_path):
    _, loss = _model_and_loss()
    g = draw_graph(loss)
    monkeypatch.setattr(graph_module.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Install Graphviz \\(apt install graphviz"):
        g.render(tmp_path / "g.svg")
    with pytest.raises(ValueError, match="format"):
        g.render(tmp_path / "g.jpg")
    g.save(tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == g.source


@pytest.mark.skipif(sys.platform == "win32", reason="uses a shell script as a fake dot")
def test_render_calls_dot(monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    # Writes its arguments and then stdin into the -o file, like a very dumb Graphviz.
    fake.write_text('#!/bin/sh\necho "$1" > "$3"\ncat >> "$3"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + os.environ.get("PATH", ""))
    _, loss = _model_and_loss()
    g = draw_graph(loss)
    out = tmp_path / "g.png"
    assert g.render(out) == out
    text = out.read_text()
    assert text.startswith("-Tpng\n") and text.endswith(g.source)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_svg_with_real_graphviz(tmp_path):
    _, loss = _model_and_loss()
    out = draw_graph(loss).render(tmp_path / "g.svg")
    assert "<svg" in out.read_text()


def _in_place_graph():
    """exp reads a = 2w; then a += 1 in place: a's node is now the in-place add, but exp's
    input edge still leads to the multiplication that made the value it read."""
    w = cr.tensor([0.5, -1.0], requires_grad=True)
    a = w * 2
    b = a.exp()
    a.add_(1.0)
    return w, a, b, (b + a).sum()


def test_graph_walks_follow_the_recorded_edges_after_an_in_place_op():
    w, a, b, loss = _in_place_graph()
    nodes = graph_module.graph_nodes(loss)
    assert a._node is not b._node.next[0]  # the in-place op gave a a new node
    exp = b._node
    assert exp.next[0] in nodes and a._node in nodes
    assert nodes.index(exp) < nodes.index(exp.next[0])  # users before their producers
    leaves = graph_module.grad_leaves(nodes)
    assert len(leaves) == 1 and leaves[0] is w
    names, edges = _parse(draw_graph(loss, params={"w": w}).source)
    label = {k: v.split("\\n")[0] for k, v in names.items()}
    into_exp = [label[s] for s, d in edges if label[d] == exp.name]
    assert into_exp == [exp.next[0].name]  # the multiplication, not the in-place add
    assert a._node.name not in into_exp
    # the gradient the drawing shows at w is the true one: d/dw sum(exp(2w) + 2w + 1)
    out, (gw,) = graph_module.output_grads(loss, nodes, leaves)
    np.testing.assert_allclose(gw, 2 * np.exp(2 * w.numpy()) + 2)


def test_nan_origin_follows_the_recorded_edges_after_an_in_place_op():
    from chainrule.diagnostics.origin import trace_op

    w = cr.tensor([1.0, -1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        a = cr.log(w * 1.0)  # log(-1): NaN, the NaN that c reads
        c = a * 2.0
        a.copy_(cr.sqrt(w * 1.0))  # another NaN, from sqrt, written over a afterwards
    assert a._node.name != "Log"
    event = trace_op(c.sum(), set())
    assert event["op"] == "Log" and "negative" in event["explanation"]
