"""`minitorch-relu graph`: draw the graph of the lesson's model for one batch, and trace its backward.

    minitorch-relu graph --model mlp --out mlp.svg           # .dot, .svg or .png
    minitorch-relu graph --model mlp --out mlp.dot --trace   # also print each backward step

The model is built as `train` builds it (seed 777, normal_ weights), run forward on one batch with
the lesson's CrossEntropyLoss, and backward once, so every parameter in the picture shows its
gradient's norm. The batch is the first of MNIST's training set when the data is found (--data-dir),
else random pixels in [0, 1) (the graph is the same; only the gradient norms differ).
"""

import sys
from pathlib import Path

import numpy as np

from . import random as mt_random
from .autograd import trace
from .data import MNIST, DataError
from .nn import CrossEntropyLoss, Sequential
from .tensor import tensor
from .train_cli import check_output_path
from .training import MODELS, UsageError, build_model
from .viz import GRAPH_SUFFIXES, graphviz_available, save_graph


def add_arguments(parser):
    parser.add_argument("--model", default="mlp", type=str.lower, choices=MODELS, help="default: mlp")
    parser.add_argument("--out", required=True, metavar="FILE",
                        help="FILE.dot (Graphviz text), FILE.svg or FILE.png (Graphviz's dot when installed, "
                             "else drawn with matplotlib)")
    parser.add_argument("--batch-size", type=int, default=100, help="default: 100")
    parser.add_argument("--seed", type=int, default=777, help="default: 777")
    parser.add_argument("--data-dir", default=None,
                        help="MNIST folder (as for train); without MNIST a batch of random pixels is used")
    parser.add_argument("--renderer", default="auto", choices=("auto", "dot", "matplotlib"),
                        help="how .svg/.png are drawn (default: auto, dot when installed)")
    parser.add_argument("--trace", action="store_true", help="print the backward pass step by step")


def _fail(message, code):
    print(f"minitorch-relu graph: error: {message}", file=sys.stderr)
    return code


def one_batch(batch_size, data_dir=None, seed=777):
    """(images (N, 784) float32 in [0, 1], labels (N,) int64, where they came from)."""
    try:
        train_set = MNIST(data_dir, train=True)
    except DataError:
        rng = np.random.default_rng(seed)
        x = rng.random((batch_size, 784), dtype=np.float32)
        return x, rng.integers(0, 10, batch_size).astype(np.int64), "random pixels (MNIST not found)"
    x = np.asarray(train_set.images[:batch_size]).reshape(batch_size, -1).astype(np.float32) / 255
    return x, np.asarray(train_set.labels[:batch_size]).astype(np.int64), "the first MNIST training batch"


def _run_layers(model, x):
    """The model's forward pass, layer by layer: {"0.out": ..., "1.out": ..., "logits": ...}."""
    outputs = {}
    if isinstance(model, Sequential):
        for name, layer in model.named_children():
            x = layer(x)
            outputs[f"{name}.out"] = x
        outputs.pop(f"{name}.out")  # the last layer's output is the logits
    else:
        x = model(x)
    outputs["logits"] = x
    return outputs


def run(args):
    """Exit codes: 0 done, 2 bad options, 1 a failed write."""
    if args.batch_size <= 0:
        return _fail(f"--batch-size must be > 0, got {args.batch_size}", 2)
    try:
        check_output_path(args.out, "--out", GRAPH_SUFFIXES)
    except UsageError as exc:
        return _fail(str(exc), 2)
    if args.renderer == "dot" and not graphviz_available():
        return _fail("--renderer dot needs Graphviz's `dot` program, which is not on PATH", 2)

    mt_random.manual_seed(args.seed)
    model = build_model(args.model)
    images, labels, source = one_batch(args.batch_size, args.data_dir, args.seed)
    x, y = tensor(images), tensor(labels)
    names = {**dict(model.named_parameters()), "images": x, "labels": y, **_run_layers(model, x)}
    loss = CrossEntropyLoss()(names["logits"], y)
    names["loss"] = loss
    with trace(params=names) as tr:
        loss.backward()
    try:
        used = save_graph(loss, args.out, params=names, renderer=args.renderer)
    except OSError as exc:
        return _fail(f"could not write {args.out}: {exc.strerror or exc}", 1)
    except RuntimeError as exc:  # no matplotlib to draw with, or dot failed
        return _fail(str(exc), 1)
    how = {"text": "Graphviz DOT text", "dot": "drawn by Graphviz", "matplotlib": "drawn with matplotlib"}[used]
    print(f"{args.model}: graph of one batch ({args.batch_size} images, {source}), loss {loss.item():.4f}")
    print(f"wrote {Path(args.out)} ({how})")
    if args.trace:
        print()
        print(tr)
    return 0
