"""minigrad.viz.draw_graph: the DOT text of small graphs node by node, rendering, and the 100,000-op chain."""
import re
import shutil
import time

import graphviz
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.functional as F
from minigrad import nn
from minigrad.viz import GRAPH_COLOURS, GraphvizNotFound, draw_graph

NODE = re.compile(r'^\t(\w+) \[label=("[^"]*"|\w+)(.*?)\]$', re.MULTILINE | re.DOTALL)
ARROW = re.compile(r"^\t(\w+) -> (\w+)$", re.MULTILINE)


def parse(graph):
    """({DOT name: (label, attributes)}, [(tail, head)]) from the Digraph's DOT text."""
    nodes = {name: (label.strip('"'), attributes) for name, label, attributes in NODE.findall(graph.source)}
    return nodes, ARROW.findall(graph.source)


def named(nodes, first_line):
    """The DOT names of the nodes whose label starts with ``first_line``."""
    return [name for name, (label, _) in nodes.items() if label.split("\n")[0] == first_line]


def the(nodes, first_line):
    found = named(nodes, first_line)
    assert len(found) == 1, f"expected one node labelled {first_line!r}, found {len(found)} in {nodes}"
    return found[0]


def fill(nodes, name):
    return re.search(r"fillcolor=(\w+)", nodes[name][1]).group(1)


def shared_input_graph():
    """y = sum(x * x + x): x feeds Mul twice and Add once."""
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    return x, (x * x + x).sum()


def test_one_node_per_tensor_and_per_function_arrows_with_the_data():
    x, y = shared_input_graph()
    nodes, arrows = parse(draw_graph(y, params={"x": x}))
    assert len(nodes) == 4 + 3  # x, x*x, x*x + x, y and Mul, Add, Sum
    assert len(arrows) == 8
    x_box, mul, add, total = the(nodes, "x"), the(nodes, "Mul"), the(nodes, "Add"), the(nodes, "Sum")
    assert nodes[x_box][0] == "x\n(3,) float32"
    assert arrows.count((x_box, mul)) == 2  # the shared input: one box, an arrow per use
    assert arrows.count((x_box, add)) == 1
    assert [tail for tail, head in arrows if head == x_box] == []  # a leaf: nothing flows into it
    (y_box,) = [head for tail, head in arrows if tail == total]
    assert nodes[y_box][0] == "scalar float32"
    assert fill(nodes, y_box) == GRAPH_COLOURS["output"] and fill(nodes, x_box) == GRAPH_COLOURS["leaf"]


def test_values_and_gradients_are_written_only_when_asked():
    x, y = shared_input_graph()
    nodes, _ = parse(draw_graph(y, params={"x": x}, show_grads=True))
    assert "grad" not in nodes[the(nodes, "x")][0]  # no backward yet
    y.backward(retain_graph=True)
    nodes, _ = parse(draw_graph(y, params={"x": x}))
    assert nodes[the(nodes, "x")][0] == "x\n(3,) float32"  # x.grad is there now, but not asked for
    nodes, _ = parse(draw_graph(y, params={"x": x}, show_grads=True, show_values=True))
    assert nodes[the(nodes, "x")][0] == "x\n(3,) float32\n[1, 2, 3]\ngrad (3,): [3, 5, 7]"  # d/dx = 2x + 1
    assert "20" in [label.split("\n")[-1] for label, _ in nodes.values()]  # y = 1+1 + 4+2 + 9+3


def test_only_the_first_values_of_a_large_tensor_are_written():
    x = mg.tensor(np.arange(10.0), requires_grad=True)
    nodes, _ = parse(draw_graph(x.sum(), params={"x": x}, show_values=True))
    assert nodes[the(nodes, "x")][0] == "x\n(10,) float64\n[0, 1, 2, 3, ...]"


def test_parameters_are_named_by_the_module_and_set_apart_from_constants():
    model = nn.Sequential(nn.Dense(3, 4), nn.Tanh(), nn.Dense(4, 1))
    loss = F.mse_loss(model(mg.randn(8, 3)), mg.zeros((8, 1)))
    nodes, _ = parse(draw_graph(loss, params=model))
    for name, parameter in model.named_parameters():
        box = the(nodes, name)
        assert nodes[box][0] == f"{name}\n{parameter.shape} float32"
        assert fill(nodes, box) == GRAPH_COLOURS["parameter"]
    constants = [name for name in nodes if "fillcolor" in nodes[name][1]
                 and fill(nodes, name) == GRAPH_COLOURS["constant"]]
    assert sorted(nodes[name][0] for name in constants) == ["(8, 1) float32", "(8, 3) float32"]  # input, target


def test_a_second_order_graph_shares_the_first_graphs_input():
    x = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()
    (dy_dx,) = mg.grad(y, x, create_graph=True)
    assert dy_dx.grad_fn is not None
    nodes, arrows = parse(draw_graph([y, dy_dx], params={"x": x}))
    x_box = the(nodes, "x")
    outputs = [name for name in nodes if "fillcolor" in nodes[name][1] and fill(nodes, name) == "gold"]
    assert sorted(nodes[name][0] for name in outputs) == ["(2,) float64", "scalar float64"]
    # x feeds the forward Mul twice and each of the two Muls of the gradient 2x = x * 1 + x * 1 once
    assert sum(tail == x_box for tail, _ in arrows) == 4
    assert len(named(nodes, "Mul")) == 3 and len(named(nodes, "Add")) == 1


def test_a_freed_graph_says_so():
    x, y = shared_input_graph()
    y.backward()
    nodes, arrows = parse(draw_graph(y))
    assert nodes[the(nodes, "Sum")][0] == "Sum\n(freed by backward)"
    assert len(nodes) == 2 and len(arrows) == 1


def test_on_the_gpu_nothing_is_copied_unless_values_are_shown(gpu, monkeypatch):
    x = mg.tensor(np.arange(6.0, dtype=np.float32), requires_grad=True, device="cuda")
    y = (x * x).sum()
    y.backward(retain_graph=True)
    copied = []  # the size of every array brought to the host from here on
    real_asnumpy = gpu.asnumpy
    monkeypatch.setattr(gpu, "asnumpy", lambda array: copied.append(array.size) or real_asnumpy(array))
    nodes, arrows = parse(draw_graph(y, params={"x": x}))
    assert copied == []
    assert len(nodes) == 5 and len(arrows) == 5  # x -> Mul (twice) -> x*x -> Sum -> y
    assert nodes[the(nodes, "x")][0] == "x\n(6,) float32 cuda"
    nodes, _ = parse(draw_graph(y, params={"x": x}, show_values=True, show_grads=True))
    assert nodes[the(nodes, "x")][0] == "x\n(6,) float32 cuda\n[0, 1, 2, 3, ...]\ngrad (6,): [0, 2, 4, 6, ...]"
    assert copied and max(copied) <= 4  # the first values, never a whole array


def test_max_nodes_draws_a_100000_op_chain_at_once():
    x = mg.tensor(np.float32(1.0), requires_grad=True)
    rate = mg.tensor(np.float32(1.0001))
    y = x
    for _ in range(100_000):
        y = y * rate
    started = time.process_time()  # this process' CPU time: other jobs on the machine do not count
    graph = draw_graph(y, max_nodes=50)
    assert time.process_time() - started < 1.0
    nodes, arrows = parse(graph)
    assert len(nodes) == 50 + 1
    # Breadth first from y: y, Mul, its input product, Mul, the rate, then (product, Mul) pairs: 26 tensors and
    # 24 Muls are drawn, the 50th node a product whose Mul is left out. In all: 100,000 products, x and the
    # rate; 100,000 Muls.
    assert len(named(nodes, "Mul")) == 24
    assert nodes["more"][0] == "199,952 more nodes not drawn\n99,976 tensors, 99,976 ops, Mul x99,976"
    # one arrow from the left-out part into the drawn product, one from the drawn rate into the left-out Muls
    (rate_box,) = [name for name in nodes if "fillcolor" in nodes[name][1]
                   and fill(nodes, name) == GRAPH_COLOURS["constant"]]
    (product,) = [head for tail, head in arrows if tail == "more"]
    assert nodes[product][0] == "scalar float32" and fill(nodes, product) == GRAPH_COLOURS["intermediate"]
    assert sorted(arrow for arrow in arrows if "more" in arrow) == sorted([("more", product), (rate_box, "more")])


def test_max_nodes_joins_each_drawn_node_to_the_left_out_part_by_one_arrow():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    t = x.exp()
    y = (t * 3 + t).sum()
    # breadth first from y: y, Sum, 3t + t, Add, t, Exp, 3t are drawn; the Mul that made 3t, x and 3 are not
    nodes, arrows = parse(draw_graph(y, max_nodes=7, params={"t": t}))
    assert len(nodes) == 7 + 1
    assert nodes["more"][0] == "3 more nodes not drawn\n2 tensors, 1 ops, Mul x1"
    t_box, exp = the(nodes, "t"), the(nodes, "Exp")
    (three_t,) = [tail for tail, head in arrows if head == the(nodes, "Add") and tail != t_box]
    assert sorted(arrow for arrow in arrows if "more" in arrow) == sorted([
        ("more", three_t),   # the Mul that made 3t
        (t_box, "more"),     # t also feeds that Mul
        ("more", exp),       # x feeds Exp
    ])


UNARY = {"Sin": lambda a: a.sin(), "Tanh": F.tanh, "Neg": lambda a: -a}  # bounded: no chain of them overflows
BINARY = {"Add": lambda a, b: a + b, "Mul": lambda a, b: a * b}


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_any_graph_has_a_box_per_tensor_an_ellipse_per_op_and_an_arrow_per_use(data):
    """A random graph over a few leaves, built while counting what it holds; draw_graph must count the same."""
    tensors = [mg.tensor(np.ones(2), requires_grad=True) for _ in range(data.draw(st.integers(1, 3)))]
    ops, arrows = {}, 0
    for _ in range(data.draw(st.integers(0, 12))):
        name = data.draw(st.sampled_from(sorted(UNARY) + sorted(BINARY)))
        inputs = [data.draw(st.sampled_from(tensors)) for _ in range(1 if name in UNARY else 2)]
        tensors.append((UNARY | BINARY)[name](*inputs))
        ops[name] = ops.get(name, 0) + 1
        arrows += len(inputs) + 1
    output = tensors[0]
    for t in tensors[1:]:  # every tensor feeds the output, so the whole graph is drawn
        output = output + t
        ops["Add"] = ops.get("Add", 0) + 1
        arrows += 3
    tensors_in_graph = len(tensors) + len(tensors) - 1  # the tensors made, and one sum per Add at the end
    nodes, drawn_arrows = parse(draw_graph(output))
    assert {name: len(named(nodes, name)) for name in ops} == ops
    assert len(nodes) == tensors_in_graph + sum(ops.values()) and len(drawn_arrows) == arrows

    limit = data.draw(st.integers(1, len(nodes)))
    nodes, _ = parse(draw_graph(output, max_nodes=limit))
    left_out = tensors_in_graph + sum(ops.values()) - limit
    assert len(nodes) == limit + (left_out > 0)
    if left_out:
        assert nodes["more"][0].startswith(f"{left_out:,} more nodes not drawn\n")


@pytest.mark.parametrize("output, params, max_nodes, error, words", [
    (np.ones(3), None, None, TypeError, ["Tensor", "ndarray"]),
    ([], None, None, TypeError, ["Tensor", "list"]),
    ("loss", None, None, TypeError, ["Tensor", "str"]),
    (None, ["x"], None, TypeError, ["Module or a dict", "list"]),
    (None, {"x": np.ones(3)}, None, TypeError, ["params['x']", "Tensor", "ndarray"]),
    (None, None, 0, ValueError, ["max_nodes", "positive", "0"]),
    (None, None, 2.5, ValueError, ["max_nodes", "2.5"]),
])
def test_bad_arguments_are_named_with_what_was_expected(output, params, max_nodes, error, words):
    _, y = shared_input_graph()
    with pytest.raises(error) as raised:
        draw_graph(y if output is None else output, params=params, max_nodes=max_nodes)
    for word in words:
        assert word in str(raised.value)


needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


@needs_dot
def test_renders_png_and_svg_and_shows_inline_in_jupyter(tmp_path):
    x, y = shared_input_graph()
    graph = draw_graph(y, params={"x": x})
    assert isinstance(graph, graphviz.Digraph)
    written = graph.render(outfile=tmp_path / "graph.png", cleanup=True)
    assert (tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG") and written.endswith("graph.png")
    graph.render(outfile=tmp_path / "graph.svg", cleanup=True)  # the format from the file's suffix
    svg = (tmp_path / "graph.svg").read_text()
    assert "<svg" in svg and ">Mul<" in svg and ">x<" in svg
    assert graph.pipe(format="svg", encoding="utf-8") == svg
    assert "<svg" in graph._repr_mimebundle_()["image/svg+xml"]  # what Jupyter calls to show it


def test_without_dot_the_error_says_how_to_install_it_and_the_dot_text_remains(tmp_path, monkeypatch):
    x, y = shared_input_graph()
    graph = draw_graph(y, params={"x": x})
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder with no dot in it
    for render in (lambda: graph.render(outfile=tmp_path / "graph.png"), lambda: graph.pipe(format="png"),
                   graph._repr_mimebundle_):
        with pytest.raises(GraphvizNotFound) as raised:
            render()
        message = str(raised.value)
        for advice in ("'dot'", "not on PATH", "apt install graphviz", "conda install graphviz",
                       "brew install graphviz", ".source"):
            assert advice in message
        assert isinstance(raised.value, graphviz.ExecutableNotFound)  # code catching graphviz's own error still does
    assert not (tmp_path / "graph.png").exists()
    assert "-> " in graph.source and "label=Mul" in graph.source
