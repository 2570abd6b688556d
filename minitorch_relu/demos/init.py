"""Weight init: normal(std 1) against xavier_uniform_, seen in each layer's activations and gradients.

The lesson's MLP (784-256-256-10, ReLU) draws its weights with normal_(std 1): each unit sums 784
inputs with weights of size 1, so its output is ~sqrt(784 * mean(x^2)) large, and the next layer
multiplies that again by ~sqrt(256 / 2) — the logits reach the hundreds, softmax is saturated, and the
first cost is ~129. xavier_uniform_ scales each weight by sqrt(6 / (fan_in + fan_out)), which keeps
the size of the signal about the same from layer to layer: logits of order 1, a first cost near
log(10) = 2.3 that Adam brings to ~0.25 within the first epoch.

The demo builds the net both ways from one seed, runs one batch forward and backward, prints per layer
the spread (std) of the pre-activations and the norm of the weight gradient, and draws their
histograms (init_activations.png, init_gradients.png).
"""

import numpy as np

import minitorch_relu as mt

from . import _data, _plot

WIDTHS = (784, 256, 256, 10)


def add_arguments(parser):
    parser.add_argument("--batch-size", type=int, default=1000, help="examples in the batch (default 1000)")
    parser.add_argument("--seed", type=int, default=777)
    _data.add_data_arguments(parser)


def build(init, seed):
    """784-256-256-10 Linear layers with the weights drawn by ``init`` ("normal" or "xavier")."""
    mt.manual_seed(seed)
    layers = [mt.nn.Linear(a, b) for a, b in zip(WIDTHS[:-1], WIDTHS[1:])]
    for layer in layers:
        (mt.nn.init.normal_ if init == "normal" else mt.nn.init.xavier_uniform_)(layer.weight)
    return layers


def measure(layers, x, y):
    """Pre-activations of every layer, the loss, and every weight's gradient, for one batch."""
    h, pre = mt.tensor(x), []
    for k, layer in enumerate(layers):
        z = layer(h)
        pre.append(z.numpy().copy())
        h = z.relu() if k < len(layers) - 1 else z
    loss = mt.nn.functional.cross_entropy(h, mt.tensor(y))
    loss.backward()
    return {"pre_activations": pre, "loss": loss.item(), "weight_grads": [l.weight.grad.numpy().copy() for l in layers]}


def run(args):
    x, y, note = _data.training_sample(args, args.batch_size)
    print(f"data: {note}")
    results = {init: measure(build(init, args.seed), x, y) for init in ("normal", "xavier")}
    for init, r in results.items():
        print(f"{init:>6} init: cost of the batch {r['loss']:.4f}")
        for k, (z, g) in enumerate(zip(r["pre_activations"], r["weight_grads"]), 1):
            print(f"        layer {k}: pre-activation std {z.std():10.4f}  |dL/dW| {np.linalg.norm(g):10.4f}")
    draw(results, args.out)
    return 0


def draw(results, out_dir):
    for kind, key, name in (("pre-activations", "pre_activations", "init_activations.png"),
                            ("weight gradients", "weight_grads", "init_gradients.png")):
        made = _plot.new_figure(ncols=3, nrows=2, width=3.6, height=2.6)
        if made is None:
            _plot.say_no_plot()
            return
        fig, axes = made
        for row, init in enumerate(("normal", "xavier")):
            for k, values in enumerate(results[init][key]):
                ax = axes[row][k]
                ax.hist(values.ravel(), bins=60, color="C0" if init == "normal" else "C1")
                ax.set_title(f"{init}: layer {k + 1} (std {values.std():.3g})", fontsize=9)
                ax.tick_params(labelsize=7)
        fig.suptitle(f"{kind} at initialization: normal(std 1) vs xavier_uniform_ (784-256-256-10, ReLU)")
        _plot.save_png(fig, out_dir, name)
