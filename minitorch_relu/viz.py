"""See the graph behind a tensor, and the gradients that flow through it while a model trains.

    dot_text = mt.viz.to_dot(loss, params=model)      # Graphviz DOT source
    mt.viz.save_graph(loss, "mlp.svg", params=model)  # .dot, .svg or .png

One node per op (its name and output shape) and per leaf (its name in the module when known, such
as ``0.weight``, and its shape); edges point the way data flows, from the leaves to the output.
After ``backward()`` each leaf that holds a gradient shows its norm. ``.svg``/``.png`` go through
Graphviz's ``dot`` program when it is installed, and are drawn with matplotlib (a layered layout)
when it is not.

``GradStats`` records, per epoch of training, each Linear layer's gradient norm and the share of
ReLU outputs that were zero (``minitorch-relu train --grad-stats FILE.png|FILE.csv``).

matplotlib is imported only when a picture is drawn without Graphviz, or gradient flow is plotted.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np

from .backend import backend_of
from .autograd.trace import _names_of, grad_norm

GRAPH_SUFFIXES = (".dot", ".svg", ".png")
RENDERERS = ("auto", "dot", "matplotlib")


# ----- the graph as nodes and edges -------------------------------------------------------------
class Node:
    """One box of the picture: an op or a leaf, with the lines of its label."""

    def __init__(self, key, kind, lines):
        self.key, self.kind, self.lines = key, kind, lines

    @property
    def label(self):
        return "\n".join(self.lines)


def _shape_text(shape):
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def build_graph(tensor, params=None):
    """(nodes, edges) of the graph behind ``tensor``, nodes in the order data flows (inputs first).

    ``edges`` are (from_key, to_key) pairs; keys are "n0", "n1", ... so the text is the same each run.
    """
    names = _names_of(params)
    # Depth-first from the output over the ops, each op listed after the ops it reads, and each leaf
    # just before its first user: the text reads like the forward pass. Iterative, so deep graphs
    # cannot hit the recursion limit.
    order, visited, stack = [], set(), [(tensor, False)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            for inp in t.grad_fn.inputs:
                if inp.grad_fn is None and id(inp) not in visited:
                    visited.add(id(inp))
                    order.append(inp)
            order.append(t)
            continue
        if t.grad_fn is None:  # a leaf: listed by its first user (or alone, when it is the whole graph)
            if t is tensor:
                order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        stack.extend((inp, False) for inp in reversed(t.grad_fn.inputs) if inp.grad_fn is not None)
    keys = {id(t): f"n{i}" for i, t in enumerate(order)}
    nodes, edges = [], []
    for t in order:
        shape = _shape_text(t.shape)
        if t.grad_fn is not None:
            kind = "output" if t is tensor else "op"
            title = type(t.grad_fn).__name__
            if id(t) in names:  # an intermediate result the caller named, such as {"a1": a1}
                title = f"{names[id(t)]} = {title}"
            nodes.append(Node(keys[id(t)], kind, [title, shape]))
            edges.extend((keys[id(inp)], keys[id(t)]) for inp in t.grad_fn.inputs)
            continue
        name = names.get(id(t), "leaf" if t.requires_grad else "input")
        lines = [name, shape]
        if t.grad is not None:
            lines.append(f"grad norm {grad_norm(t.grad.data):.4g}")
        nodes.append(Node(keys[id(t)], "param" if t.requires_grad else "input", lines))
    return nodes, edges


# ----- DOT text ---------------------------------------------------------------------------------
_DOT_STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#dbe8f7"',
    "output": 'shape=box, style="rounded,filled,bold", fillcolor="#f7dcc4"',
    "param": 'shape=ellipse, style=filled, fillcolor="#dff0d8"',
    "input": 'shape=ellipse, style=filled, fillcolor="#eeeeee"',
}


def _dot_quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(tensor, params=None):
    """Graphviz DOT source of the graph behind ``tensor``.

    ``params`` names the leaves: a dict such as ``dict(model.named_parameters())``, or the Module
    itself. Leaves not named are called "leaf" (requires grad) or "input". An op's result named there
    too (``{"a1": a1}``) is shown as ``a1 = Sigmoid``.
    """
    nodes, edges = build_graph(tensor, params)
    lines = ["digraph backprop {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=11];']
    lines += [f"  {n.key} [label={_dot_quote(n.label)}, {_DOT_STYLE[n.kind]}];" for n in nodes]
    lines += [f"  {a} -> {b};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----- writing a picture ------------------------------------------------------------------------
def graphviz_available():
    return shutil.which("dot") is not None


def save_graph(tensor, path, params=None, renderer="auto"):
    """Write the graph behind ``tensor`` to ``path``: .dot (the text), .svg or .png (a picture).

    ``renderer``: "dot" (Graphviz's program), "matplotlib" (a layered drawing), or "auto" (dot when
    installed, else matplotlib). Returns the renderer used ("text" for .dot).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GRAPH_SUFFIXES:
        raise ValueError(f"save_graph: {str(path)!r} must end in {', '.join(GRAPH_SUFFIXES)}")
    if renderer not in RENDERERS:
        raise ValueError(f"save_graph: renderer={renderer!r}; choose one of {', '.join(RENDERERS)}")
    if renderer == "dot" and not graphviz_available():
        raise RuntimeError("save_graph: renderer='dot' needs Graphviz's `dot` program, which is not on PATH "
                           "(install graphviz, or use renderer='matplotlib')")
    if suffix == ".dot":
        path.write_text(to_dot(tensor, params))
        return "text"
    if renderer == "dot" or (renderer == "auto" and graphviz_available()):
        result = subprocess.run(["dot", "-T" + suffix[1:], "-o", str(path)], input=to_dot(tensor, params),
                                text=True, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"save_graph: dot failed (exit {result.returncode}): {result.stderr.strip()}")
        return "dot"
    draw_graph(*build_graph(tensor, params), path)
    return "matplotlib"


def _layers(nodes, edges):
    """Each node's row: an op sits one row below its lowest input; a leaf one row above its first user."""
    inputs_of = {n.key: [] for n in nodes}
    users_of = {n.key: [] for n in nodes}
    for a, b in edges:
        inputs_of[b].append(a)
        users_of[a].append(b)
    row = {}
    for n in nodes:  # nodes come inputs first, so every op's inputs have a row already
        if n.kind in ("op", "output"):
            row[n.key] = 1 + max((row.get(a, 0) for a in inputs_of[n.key]), default=0)
    for n in nodes:
        if n.key not in row:
            row[n.key] = max(0, min((row[b] for b in users_of[n.key] if b in row), default=1) - 1)
    return row, inputs_of


def draw_graph(nodes, edges, path):
    """Draw (nodes, edges) with matplotlib in rows (data flows downwards) and save to ``path``."""
    plt = _pyplot("drawing a graph without Graphviz")
    row, inputs_of = _layers(nodes, edges)
    rows = {}
    for n in nodes:
        rows.setdefault(row[n.key], []).append(n)
    # Order each row by where its nodes' inputs sit (one barycentre pass), so edges cross less.
    x = {}
    for r in sorted(rows):
        members = rows[r]
        centre = {}
        for i, n in enumerate(members):
            placed = [x[a] for a in inputs_of[n.key] if a in x]
            centre[n.key] = sum(placed) / len(placed) if placed else i - (len(members) - 1) / 2
        members.sort(key=lambda n: centre[n.key])
        for i, n in enumerate(members):
            x[n.key] = i - (len(members) - 1) / 2
    width = max(len(m) for m in rows.values())
    depth = max(rows) + 1
    fig, ax = plt.subplots(figsize=(max(4.0, 2.2 * width), max(3.0, 1.1 * depth)))
    ax.set_xlim(-width / 2 - 0.1, width / 2 + 0.1)
    ax.set_ylim(-depth + 0.4, 0.6)
    ax.axis("off")
    colours = {"op": "#dbe8f7", "output": "#f7dcc4", "param": "#dff0d8", "input": "#eeeeee"}
    position = {n.key: (x[n.key], -row[n.key]) for n in nodes}
    box = {}
    for n in nodes:
        boxstyle = "round,pad=0.4" if n.kind in ("op", "output") else "round4,pad=0.4"
        text = ax.text(*position[n.key], n.label, ha="center", va="center", fontsize=8, zorder=2,
                       bbox=dict(boxstyle=boxstyle, facecolor=colours[n.kind], edgecolor="#333333",
                                 linewidth=1.6 if n.kind == "output" else 0.8))
        box[n.key] = text.get_bbox_patch()
    for a, b in edges:  # clipped at both boxes, so each arrowhead touches the box it points to
        ax.annotate("", xy=position[b], xytext=position[a], zorder=1,
                    arrowprops=dict(arrowstyle="-|>", color="#555555", patchA=box[a], patchB=box[b],
                                    shrinkA=2, shrinkB=2))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ----- gradient flow while training -------------------------------------------------------------
class GradStats:
    """Per epoch: each Linear layer's gradient norm, and the share of each ReLU's outputs that were 0.

    Use: ``stats = GradStats(model)``; call ``stats.after_backward()`` after each ``loss.backward()``
    and ``stats.end_epoch()`` after each epoch; ``stats.close()`` when done. Then ``stats.rows`` holds
    (epoch, module name, statistic, value) tuples:

    - ``grad_norm``: the norm of the layer's whole gradient (weight and bias together), averaged over
      the epoch's steps;
    - ``zero_fraction``: the share of the ReLU's outputs in the epoch that were exactly 0 (where it
      passed no gradient back);
    - ``dead_fraction``: the share of the ReLU's units that were 0 for every sample of the epoch —
      the lesson's dying ReLU.

    Sums stay on the device and are read back once per epoch, so a step pays a few small reductions.
    """

    def __init__(self, model):
        from .nn import Linear, ReLU

        named = list(model.named_modules())
        self.linears = [(name or "model", m) for name, m in named if isinstance(m, Linear)]
        self.relus = [(name or "model", m) for name, m in named if isinstance(m, ReLU)]
        self.rows = []
        self._reset()
        for name, module in self.relus:
            object.__setattr__(module, "forward", self._watching(module))  # shadows ReLU.forward until close()

    def _watching(self, module):
        forward = type(module).forward

        def watched_forward(x):
            out = forward(module, x)
            if out.requires_grad:  # a training step, not an evaluation under no_grad
                self._record_relu(module, out.data)
            return out

        return watched_forward

    def _reset(self):
        self.steps = 0
        self.norm_sums = {}
        self.active_counts = {}  # id(ReLU) -> per unit, how many of the epoch's outputs were > 0
        self.output_counts = {}  # id(ReLU) -> how many outputs each unit gave in the epoch

    def _record_relu(self, module, out):
        # One boolean mask and one column sum give both statistics: their total is the share of
        # outputs that were > 0, and a column of zeros is a unit that never fired (dead).
        units = out.reshape(-1, out.shape[-1])
        counts = (units > 0).sum(axis=0, dtype="int32")  # int32 sums run twice as fast as bool's default
        key = id(module)
        if key in self.active_counts:
            self.active_counts[key] += counts
            self.output_counts[key] += units.shape[0]
        else:
            self.active_counts[key] = counts.astype("int64")
            self.output_counts[key] = units.shape[0]

    def after_backward(self):
        """Add this step's gradient norms (call after backward, before the optimizer's step)."""
        self.steps += 1
        for name, layer in self.linears:
            squares = None  # the sum of squares of all the layer's gradients
            for param in layer.parameters():
                if param.grad is not None:
                    g = param.grad.data.reshape(-1)
                    squares = g @ g if squares is None else squares + g @ g  # a BLAS dot: no temporary array
            if squares is not None:
                norm = squares ** 0.5
                self.norm_sums[name] = norm if name not in self.norm_sums else self.norm_sums[name] + norm

    def end_epoch(self, epoch=None):
        """Read the epoch's sums back (the one host sync) into rows; start the next epoch."""
        epoch = epoch if epoch is not None else (self.rows[-1][0] + 1 if self.rows else 1)
        for name, _ in self.linears:
            if name in self.norm_sums:
                self.rows.append((epoch, name, "grad_norm", _to_float(self.norm_sums[name]) / self.steps))
        for name, module in self.relus:
            key = id(module)
            if key in self.active_counts:
                counts = backend_of(self.active_counts[key]).to_numpy(self.active_counts[key])
                self.rows.append((epoch, name, "zero_fraction",
                                  1 - float(counts.sum()) / (self.output_counts[key] * counts.size)))
                self.rows.append((epoch, name, "dead_fraction", float((counts == 0).mean())))
        self._reset()

    def close(self):
        """Give the ReLU modules their own forward back."""
        for _, module in self.relus:
            module.__dict__.pop("forward", None)

    # ----- writing ------------------------------------------------------------------------------
    def write_csv(self, path):
        import csv

        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["epoch", "module", "stat", "value"])
            for epoch, name, stat, value in self.rows:
                writer.writerow([epoch, name, stat, repr(value)])

    def plot(self, path, title="gradient flow"):
        """Two panels: the layers' gradient norms (log scale) and the ReLUs' zero shares, per epoch."""
        plt = _pyplot("plotting gradient flow")
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.5, 6), sharex=True)
        for stat, ax in (("grad_norm", top), ("zero_fraction", bottom), ("dead_fraction", bottom)):
            series = {}
            for epoch, name, s, value in self.rows:
                if s == stat:
                    series.setdefault(name, ([], []))
                    series[name][0].append(epoch)
                    series[name][1].append(value)
            for name, (epochs, values) in series.items():
                if stat == "grad_norm":
                    ax.plot(epochs, values, marker="o", label=f"Linear {name}")
                elif stat == "zero_fraction":
                    ax.plot(epochs, values, marker="o", label=f"ReLU {name}: outputs = 0")
                else:
                    ax.plot(epochs, values, marker="x", linestyle="--", label=f"ReLU {name}: dead units")
        top.set_yscale("log")
        top.set_ylabel("gradient norm (mean per step)")
        top.set_title(title)
        bottom.set_ylabel("fraction")
        bottom.set_ylim(0, 1)
        bottom.set_xlabel("epoch")
        for ax in (top, bottom):
            ax.grid(True, alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)

    def write(self, path, title="gradient flow"):
        """CSV or PNG, chosen by the suffix of ``path``."""
        if Path(path).suffix.lower() == ".csv":
            self.write_csv(path)
        else:
            self.plot(path, title)


def _pyplot(purpose):
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError(f"{purpose} needs matplotlib, which is not installed: pip install 'minitorch_relu[plot]' "
                           "(or write .dot / .csv, which need nothing)") from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    return plt


def _to_float(value):
    """A float from a Python or NumPy scalar, or a 0-d array on any backend (read back to the host)."""
    if isinstance(value, (int, float, np.generic)):
        return float(value)
    return float(backend_of(value).to_numpy(value))
