"""Seeing backprop: the graph as DOT text and pictures, the traced backward pass, gradient flow per epoch."""

import csv
import math
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu import viz
from minitorch_relu.autograd import graph
from minitorch_relu.cli import main
from minitorch_relu.training import build_model, train

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
needs_mnist = pytest.mark.skipif(not (SHARED / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").is_file(),
                                 reason=f"MNIST not found in {SHARED}/MNIST/raw")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` program is not installed")


def _sigmoid_chain(backend="numpy", dtype="float64"):
    """The lesson's chain x=1 -> W1=0.1 -> sigmoid -> W2=0.2 -> sigmoid -> W3=0.3 -> sigmoid."""
    x = mt.tensor([1.0], dtype=dtype, backend=backend)
    weights = {f"W{i}": mt.tensor([w], dtype=dtype, backend=backend, requires_grad=True)
               for i, w in enumerate((0.1, 0.2, 0.3), 1)}
    activations = []
    a = x
    for w in weights.values():
        a = (w * a).sigmoid()
        activations.append(a)
    return x, weights, activations


def _small_graph():
    """y = sigmoid(w @ x + b).sum() with w (2, 3) and b (2,) named, x (3,) an input."""
    w = mt.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], dtype="float64", requires_grad=True)
    b = mt.tensor([0.05, -0.05], dtype="float64", requires_grad=True)
    x = mt.tensor([1.0, 2.0, 3.0], dtype="float64")
    y = (w @ x + b).sigmoid().sum()
    return y, {"w": w, "b": b}


# ----- the graph as DOT text --------------------------------------------------------------------
def test_dot_text_of_a_small_graph():
    y, params = _small_graph()
    assert viz.to_dot(y, params) == (
        "digraph backprop {\n"
        "  rankdir=TB;\n"
        '  node [fontname="Helvetica", fontsize=11];\n'
        '  n0 [label="w\\n(2, 3)", shape=ellipse, style=filled, fillcolor="#dff0d8"];\n'
        '  n1 [label="input\\n(3,)", shape=ellipse, style=filled, fillcolor="#eeeeee"];\n'
        '  n2 [label="MatMul\\n(2,)", shape=box, style="rounded,filled", fillcolor="#dbe8f7"];\n'
        '  n3 [label="b\\n(2,)", shape=ellipse, style=filled, fillcolor="#dff0d8"];\n'
        '  n4 [label="Add\\n(2,)", shape=box, style="rounded,filled", fillcolor="#dbe8f7"];\n'
        '  n5 [label="Sigmoid\\n(2,)", shape=box, style="rounded,filled", fillcolor="#dbe8f7"];\n'
        '  n6 [label="Sum\\n()", shape=box, style="rounded,filled,bold", fillcolor="#f7dcc4"];\n'
        "  n0 -> n2;\n"
        "  n1 -> n2;\n"
        "  n2 -> n4;\n"
        "  n3 -> n4;\n"
        "  n4 -> n5;\n"
        "  n5 -> n6;\n"
        "}\n"
    )


def test_dot_leaves_show_their_gradient_norm_after_backward():
    y, params = _small_graph()
    y.backward()
    w, b, x = params["w"].numpy(), params["b"].numpy(), np.array([1.0, 2.0, 3.0])
    s = 1 / (1 + np.exp(-(w @ x + b)))
    grad_b = s * (1 - s)  # d sum(sigmoid(z)) / dz, and dz/db = 1
    grad_w = np.outer(grad_b, x)
    text = viz.to_dot(y, params)
    assert f'label="w\\n(2, 3)\\ngrad norm {np.linalg.norm(grad_w):.4g}"' in text
    assert f'label="b\\n(2,)\\ngrad norm {np.linalg.norm(grad_b):.4g}"' in text
    assert 'label="input\\n(3,)"' in text  # an input has no gradient to show


def test_unnamed_leaves_and_a_leaf_used_twice():
    a = mt.tensor([2.0, 3.0], requires_grad=True)
    y = (a * a).sum()  # one node for a, two edges into Mul
    nodes, edges = viz.build_graph(y)
    assert [(n.kind, n.lines) for n in nodes] == [("param", ["leaf", "(2,)"]), ("op", ["Mul", "(2,)"]),
                                                  ("output", ["Sum", "()"])]
    assert edges == [("n0", "n1"), ("n0", "n1"), ("n1", "n2")]


def test_named_results_and_a_leaf_as_the_whole_graph():
    x, weights, activations = _sigmoid_chain()
    names = {**weights, "x": x, "a1": activations[0], "a3": activations[2]}
    nodes, edges = viz.build_graph(activations[2], names)
    assert [n.lines[0] for n in nodes] == ["W1", "x", "Mul", "a1 = Sigmoid", "W2", "Mul", "Sigmoid", "W3", "Mul",
                                           "a3 = Sigmoid"]  # in the order of the forward pass
    assert len(edges) == 9
    with mt.autograd.trace(params=names) as tr:
        activations[2].backward()
    assert [r["name"] for r in tr.records] == ["a3", None, None, None, "a1", None]
    assert str(tr).splitlines()[2].split()[1:4] == ["a3", "=", "Sigmoid"]
    nodes, edges = viz.build_graph(weights["W1"], names)
    assert [(n.kind, n.lines) for n in nodes] == [("param", ["W1", "(1,)", "grad norm 0.0009268"])] and edges == []


def test_dot_text_of_the_lessons_mlp():
    mt.manual_seed(777)
    model = build_model("mlp")
    x = mt.tensor(np.random.default_rng(0).random((4, 784), dtype=np.float32))
    y = mt.tensor([0, 1, 2, 3])
    loss = mt.nn.CrossEntropyLoss()(model(x), y)
    loss.backward()
    nodes, edges = viz.build_graph(loss, model)  # a Module names its parameters itself
    key = {n.lines[0] + (n.lines[1] if n.kind != "param" else ""): n.key for n in nodes}
    ops = [n.lines[:2] for n in nodes if n.kind in ("op", "output")]
    assert ops == [["Linear", "(4, 256)"], ["ReLU", "(4, 256)"], ["Linear", "(4, 256)"], ["ReLU", "(4, 256)"],
                   ["Linear", "(4, 10)"], ["CrossEntropy", "()"]]
    params = {n.lines[0]: n.lines[1:] for n in nodes if n.kind == "param"}
    for name, p in model.named_parameters():
        assert params[name] == [str(tuple(p.shape)), f"grad norm {np.linalg.norm(p.grad.numpy()):.4g}"]
    assert [n.lines[1] for n in nodes if n.kind == "input"] == ["(4, 784)", "(4,)"]  # the images, the labels
    # Data flows from the leaves through the three layers to the loss.
    linears = [n.key for n in nodes if n.lines[0] == "Linear"]
    relus = [n.key for n in nodes if n.lines[0] == "ReLU"]
    names = {n.lines[0]: n.key for n in nodes if n.kind == "param"}
    chain = [(linears[0], relus[0]), (relus[0], linears[1]), (linears[1], relus[1]), (relus[1], linears[2]),
             (linears[2], key["CrossEntropy()"])]
    assert all(edge in edges for edge in chain)
    for i, layer in enumerate(("0", "2", "4")):
        assert (names[f"{layer}.weight"], linears[i]) in edges and (names[f"{layer}.bias"], linears[i]) in edges
    assert len(edges) == 3 * 3 + 2 + 2  # 3 inputs per Linear, one per ReLU, logits and labels into the loss
    text = viz.to_dot(loss, params=dict(model.named_parameters()))
    assert text.count(" -> ") == len(edges) and 'label="0.weight\\n(256, 784)\\ngrad norm ' in text


# ----- pictures ---------------------------------------------------------------------------------
def _check_png(path):
    matplotlib = pytest.importorskip("matplotlib")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image = plt.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert image.std() > 0.01  # not a blank page


def _check_svg(path, words):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    for word in words:
        assert word in text


def test_save_graph_without_graphviz_draws_with_matplotlib(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)  # as on a machine without Graphviz
    y, params = _small_graph()
    y.backward()
    assert viz.save_graph(y, tmp_path / "g.png", params) == "matplotlib"
    _check_png(tmp_path / "g.png")
    assert viz.save_graph(y, tmp_path / "g.svg", params) == "matplotlib"
    _check_svg(tmp_path / "g.svg", [])  # matplotlib draws text as paths: a valid SVG is what can be checked
    assert viz.save_graph(y, tmp_path / "g.dot", params) == "text"
    assert (tmp_path / "g.dot").read_text() == viz.to_dot(y, params)
    with pytest.raises(RuntimeError, match="needs Graphviz's `dot` program"):
        viz.save_graph(y, tmp_path / "h.png", params, renderer="dot")


@needs_dot
def test_save_graph_with_graphviz(tmp_path):
    y, params = _small_graph()
    y.backward()
    assert viz.save_graph(y, tmp_path / "g.svg", params) == "dot"
    _check_svg(tmp_path / "g.svg", ["MatMul", "Sigmoid", "w", "grad norm"])
    assert viz.save_graph(y, tmp_path / "g.png", params, renderer="dot") == "dot"
    _check_png(tmp_path / "g.png")


def test_save_graph_bad_arguments(tmp_path):
    y, _ = _small_graph()
    with pytest.raises(ValueError, match=r"'.*g\.jpg' must end in \.dot, \.svg, \.png"):
        viz.save_graph(y, tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="renderer='gv'"):
        viz.save_graph(y, tmp_path / "g.png", renderer="gv")
    assert not (tmp_path / "g.png").exists()


# ----- the traced backward pass -----------------------------------------------------------------
def test_trace_of_the_lessons_sigmoid_chain(backend):
    x, weights, activations = _sigmoid_chain(backend)
    a = [t.item() for t in activations]
    assert [round(v, 3) for v in a] == [0.525, 0.526, 0.539]  # the lesson's forward pass
    with mt.autograd.trace(params=weights) as tr:
        activations[-1].backward()
    records = tr.records
    assert [r["op"] for r in records] == ["Sigmoid", "Mul"] * 3  # backward runs from the output down
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6] and all(r["shape"] == (1,) for r in records)
    assert all(r["seconds"] >= 0 for r in records)
    # Each sigmoid step scales the gradient by its local factor s(1 - s): the engine's numbers, read back.
    factors = [r["ratios"][0] for r in records if r["op"] == "Sigmoid"]
    assert [round(f, 3) for f in factors] == [0.248, 0.249, 0.249]
    for f, s in zip(factors, reversed(a)):
        assert f == pytest.approx(s * (1 - s), rel=1e-12)
    assert math.prod(factors) == pytest.approx(0.015, abs=5e-4)  # the lesson's ~0.015
    # The gradient that reaches each step is the one the step before passed on.
    for before, after in zip(records, records[1:]):
        assert after["grad_in"] == pytest.approx(before["grads_out"][-1], rel=1e-12)
    assert records[0]["grad_in"] == 1.0
    # Mul(W3, a2) hands W3 the gradient times a2, and a2 the gradient times W3 = 0.3.
    mul = records[1]
    assert mul["inputs"] == ["W3", "Sigmoid"]
    assert mul["grads_out"][0] == pytest.approx(factors[0] * a[1], rel=1e-12)
    assert mul["ratios"][1] == pytest.approx(0.3, rel=1e-12)
    assert records[-1]["inputs"] == ["W1", "input"] and records[-1]["grads_out"][1] is None
    assert records[-1]["grads_out"][0] == pytest.approx(weights["W1"].grad.item(), rel=1e-12)
    # The table a learner reads, top to bottom.
    table = str(tr).splitlines()
    assert table[0].split()[:4] == ["step", "op", "output", "shape"]
    assert table[2].split()[:4] == ["1", "Sigmoid", "(1,)", "1"] and "0.248" in table[2]
    assert table[4].split()[1] == "Sigmoid" and "0.249" in table[4] and "0.249" in table[6]
    assert "W1: 0.0009268" in table[7]


def test_tracing_changes_no_gradient_and_records_every_op(backend):
    def run(traced):
        a = mt.tensor([[1.0, -2.0], [3.0, 0.5]], dtype="float64", backend=backend, requires_grad=True)
        b = mt.tensor([0.5, -1.0], dtype="float64", backend=backend, requires_grad=True)
        h = (a * b).relu()
        y = (h + h.exp() * a).sum()  # a used twice, h used twice (a diamond)
        if traced:
            with mt.autograd.trace() as tr:
                y.backward()
            return a.grad.numpy(), b.grad.numpy(), tr
        y.backward()
        return a.grad.numpy(), b.grad.numpy(), None

    ga, gb, _ = run(False)
    ta, tb, tr = run(True)
    np.testing.assert_array_equal(ga, ta)
    np.testing.assert_array_equal(gb, tb)
    assert sorted(r["op"] for r in tr.records) == sorted(["Mul", "ReLU", "Exp", "Mul", "Add", "Sum"])
    assert tr.records[0]["op"] == "Sum" and len(tr) == 6
    for r in tr.records:  # every input of these ops needs its gradient
        assert len(r["grads_out"]) == len(r["inputs"]) == len(r["ratios"]) and None not in r["grads_out"]


def test_trace_of_a_leaf_used_twice_by_one_op(backend):
    a = mt.tensor([2.0, 3.0], dtype="float64", backend=backend, requires_grad=True)
    with mt.autograd.trace(params={"a": a}) as tr:
        (a * a).sum().backward()
    mul = tr.records[1]
    # Each input got grad * (the other input) = a; the leaf's .grad is their sum, 2a.
    assert mul["op"] == "Mul" and mul["inputs"] == ["a", "a"]
    assert mul["grads_out"] == [pytest.approx(np.sqrt(13), rel=1e-12)] * 2
    np.testing.assert_array_equal(a.grad.numpy(), [4.0, 6.0])


def test_trace_is_off_outside_its_block_and_nests():
    assert graph._tracer is None  # the one global run_backward looks at
    _, weights, activations = _sigmoid_chain()
    with mt.autograd.trace() as outer:
        with mt.autograd.trace() as inner:
            activations[-1].backward(retain_graph=True)
        assert graph._tracer is outer
        (weights["W1"] * 2.0).sum().backward()
    assert graph._tracer is None
    assert len(inner) == 6 and [r["op"] for r in outer.records] == ["Sum", "Mul"]
    assert "backward" not in vars(activations[-1].grad_fn)  # the recording wrapper is gone
    activations[-1].backward()  # untraced now: nothing more is recorded
    assert len(inner) == 6 and len(outer) == 2
    with pytest.raises(ZeroDivisionError):
        with mt.autograd.trace():
            1 / 0
    assert graph._tracer is None
    assert str(mt.autograd.trace()) == "trace: no backward step recorded"


# ----- gradient flow while training -------------------------------------------------------------
def test_grad_stats_csv_matches_gradients_computed_directly(tmp_path):
    rng = np.random.default_rng(3)
    batches = [(mt.tensor(rng.standard_normal((8, 4))), mt.tensor(rng.integers(0, 3, 8))) for _ in range(5)]

    def make_model():
        mt.manual_seed(5)
        model = mt.nn.Sequential(mt.nn.Linear(4, 6, dtype="float64"), mt.nn.ReLU(), mt.nn.Linear(6, 3, dtype="float64"))
        with mt.no_grad():
            model[0].weight.data[1] = 0.0  # unit 1 of the ReLU never fires: a dead unit
            model[0].bias.data[1] = -1.0
        return model

    # The direct computation: the same training, written out, reading gradients and ReLU outputs by hand.
    model = make_model()
    optimizer = mt.optim.SGD(model.parameters(), lr=0.1)
    expected = []
    for epoch in (1, 2):
        norms, zeros, ever = {"0": [], "2": []}, [], np.zeros(6, bool)
        for x, y in batches:
            optimizer.zero_grad()
            hidden = model[1](model[0](x))
            loss = mt.nn.functional.cross_entropy(model[2](hidden), y)
            loss.backward()
            for name in norms:
                layer = model[int(name)]
                squares = np.sum(layer.weight.grad.numpy() ** 2) + np.sum(layer.bias.grad.numpy() ** 2)
                norms[name].append(np.sqrt(squares))
            out = hidden.numpy()
            zeros.append(np.mean(out == 0))
            ever |= (out > 0).any(axis=0)
            optimizer.step()
        expected += [(epoch, "0", "grad_norm", np.mean(norms["0"])), (epoch, "2", "grad_norm", np.mean(norms["2"])),
                     (epoch, "1", "zero_fraction", np.mean(zeros)), (epoch, "1", "dead_fraction", 1 - ever.mean())]

    model = make_model()
    stats = viz.GradStats(model)
    train(model, batches, mt.optim.SGD(model.parameters(), lr=0.1), epochs=2,
          on_epoch=lambda epoch, cost: stats.end_epoch(epoch), after_backward=stats.after_backward)
    stats.close()
    assert "forward" not in vars(model[1])  # the ReLU has its own forward back
    stats.write(tmp_path / "stats.csv")
    rows = list(csv.reader((tmp_path / "stats.csv").open()))
    assert rows[0] == ["epoch", "module", "stat", "value"]
    got = [(int(e), m, s, float(v)) for e, m, s, v in rows[1:]]
    assert [r[:3] for r in got] == [r[:3] for r in expected]
    for (*_, value), (*_, want) in zip(got, expected):
        assert value == pytest.approx(want, rel=1e-12)
    assert got[3][3] >= 1 / 6  # the dead unit is counted

    pytest.importorskip("matplotlib")
    stats.write(tmp_path / "stats.png", title="test")
    _check_png(tmp_path / "stats.png")


def test_grad_stats_ignores_evaluation_under_no_grad():
    model = mt.nn.Sequential(mt.nn.Linear(3, 4), mt.nn.ReLU())
    stats = viz.GradStats(model)
    with mt.no_grad():
        model(mt.tensor(np.ones((2, 3), np.float32)))
    stats.end_epoch(1)
    stats.close()
    assert stats.rows == []


# ----- the command line -------------------------------------------------------------------------
def test_graph_command_draws_the_mlp_and_prints_the_trace(tmp_path, capsys):
    out = tmp_path / "mlp.dot"
    code = main(["graph", "--model", "mlp", "--out", str(out), "--data-dir", str(tmp_path / "no-mnist"),
                 "--batch-size", "8", "--trace"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "random pixels (MNIST not found)" in printed and f"wrote {out} (Graphviz DOT text)" in printed
    text = out.read_text()
    for label in ("0.weight\\n(256, 784)\\ngrad norm", "4.bias\\n(10,)\\ngrad norm", "images\\n(8, 784)",
                  "labels\\n(8,)", "CrossEntropy\\n()", "ReLU\\n(8, 256)"):
        assert label in text
    steps = [line.split()[1:4] for line in printed.splitlines() if line[:1].isdigit()]
    assert steps == [["loss", "=", "CrossEntropy"], ["logits", "=", "Linear"], ["3.out", "=", "ReLU"],
                     ["2.out", "=", "Linear"], ["1.out", "=", "ReLU"], ["0.out", "=", "Linear"]]

    pytest.importorskip("matplotlib")
    png = tmp_path / "mlp.png"
    assert main(["graph", "--out", str(png), "--data-dir", str(tmp_path), "--renderer", "matplotlib",
                 "--batch-size", "2"]) == 0
    _check_png(png)


def test_graph_command_bad_output_name(tmp_path, capsys):
    assert main(["graph", "--out", str(tmp_path / "mlp.jpg")]) == 2
    assert "--out" in capsys.readouterr().err and not (tmp_path / "mlp.jpg").exists()


def test_train_grad_stats_needs_png_or_csv(tmp_path, capsys):
    assert main(["train", "--grad-stats", str(tmp_path / "g.txt"), "--data-dir", str(tmp_path)]) == 2
    assert "--grad-stats" in capsys.readouterr().err


@needs_mnist
def test_train_grad_stats_on_mnist_leaves_training_unchanged(tmp_path, capsys):
    argv = ["train", "--model", "mlp", "--epochs", "1", "--data-dir", str(SHARED), "--batch-size", "500"]
    assert main(argv) == 0
    plain = capsys.readouterr().out
    assert main(argv + ["--grad-stats", str(tmp_path / "g.csv")]) == 0
    assert capsys.readouterr().out == plain  # the same costs, accuracy and prediction
    rows = list(csv.reader((tmp_path / "g.csv").open()))[1:]
    assert [(r[0], r[1], r[2]) for r in rows] == [("1", "0", "grad_norm"), ("1", "2", "grad_norm"),
                                                  ("1", "4", "grad_norm"), ("1", "1", "zero_fraction"),
                                                  ("1", "1", "dead_fraction"), ("1", "3", "zero_fraction"),
                                                  ("1", "3", "dead_fraction")]
    values = [float(r[3]) for r in rows]
    assert all(v > 0 for v in values[:3]) and all(0 <= v <= 1 for v in values[3:])


def test_mt_autograd_is_an_attribute_of_the_package():
    from minitorch_relu.autograd.trace import trace

    assert mt.autograd.trace is trace and mt.viz.to_dot is viz.to_dot
