"""The lesson's two MNIST programs, this engine against torch: per-epoch costs on one plot.

    softmax   Linear(784, 10)
    mlp       Linear(784, 256) -> ReLU -> Linear(256, 256) -> ReLU -> Linear(256, 10)

Both as in the lesson: seed 777, weights redrawn with normal_ (std 1), Adam lr 0.001, batch 100,
shuffle, drop_last, CrossEntropyLoss, 15 epochs, the cost of an epoch accumulated as
``avg_cost += cost / total_batch``, and the test accuracy measured on raw 0..255 pixels (the lesson's
quirk; the accuracy on pixels scaled like the training data is printed beside it).

When torch is installed, torch runs the lesson's program (minitorch_relu/torch_lesson.py, the one
torch reference, which the parity tests and benchmarks run too), and this engine starts from torch's
initial weights and replays torch's batch order, so the two curves differ only by the arithmetic.
Without torch, the engine runs alone from the same seed; its generator is torch's
(minitorch_relu/random.py), so it starts from the same weights and shuffles the same way. The full
run takes a few minutes; --epochs and --subset make it short.
"""

import sys
from dataclasses import dataclass

import numpy as np

from . import _args, _plot

LESSON = {  # what the lesson printed (MLP on a GPU; torch on a CPU gives 0.9463 for the MLP)
    "softmax": {"first": 5.728, "last": 0.395, "accuracy": 0.8917},
    "mlp": {"first": 128.86, "last": 0.87, "accuracy": 0.944},
}
BATCH, LR = 100, 0.001


def progress(name, who, epoch, cost):
    """A line per epoch on stderr, so a long run shows it is alive; the table goes to stdout at the end."""
    print(f"  {name} {who}: epoch {epoch} cost {cost:.6f}", file=sys.stderr, flush=True)


def add_arguments(parser):
    parser.add_argument("--epochs", type=_args.positive_int, default=15, help="default 15, the lesson's")
    parser.add_argument("--subset", type=_args.at_least(BATCH), default=None, metavar="N",
                        help=f"train on the first N training images only, N >= {BATCH} (default: all 60000)")
    parser.add_argument("--models", default="softmax,mlp", type=_args.choices_list(list(LESSON), "model"),
                        help="comma-separated: softmax, mlp (default both)")
    parser.add_argument("--seed", type=_args.seed, default=777)
    parser.add_argument("--data-dir", default=None,
                        help="MNIST root, as for `train` (default $MINITORCH_RELU_DATA or MNIST_data/)")
    parser.add_argument("--download", action="store_true", help="download missing MNIST files, as for `train`")
    parser.add_argument("--no-torch", action="store_true", help="run this engine only, even if torch is installed")


def import_torch_lesson():
    """minitorch_relu.torch_lesson, or None when torch is not installed (the package never needs it).
    Imported here, when the demo runs, so that importing the package never imports torch."""
    try:
        from minitorch_relu import torch_lesson
    except ImportError:
        return None
    return torch_lesson


# ----- torch: the lesson's program ------------------------------------------------------------------------
def run_torch(torch_lesson, name, train_images, train_labels, test_images, test_labels, epochs, seed):
    """The lesson's program in torch, on one thread (its matrices are small; on a busy machine extra
    threads only spin). Returns a torch_lesson.Run: costs, accuracies, initial weights, each epoch's order."""
    torch = torch_lesson.torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return torch_lesson.in_memory((train_images, train_labels), (test_images, test_labels), name, epochs,
                                      seed_value=seed, on_epoch=lambda e, c: progress(name, "torch", e, c))
    finally:
        torch.set_num_threads(threads)


# ----- this engine ----------------------------------------------------------------------------------------
@dataclass
class EngineRun:
    """What the demo shows of a run (torch's runs are torch_lesson.Run, with the same fields)."""

    costs: list
    accuracy_raw: float
    accuracy_scaled: float


def run_engine(name, train_images, train_labels, test_images, test_labels, epochs, seed, start=None):
    """The same loop on this engine, through minitorch_relu.training. ``start``: torch's Run, whose initial
    weights and orders the engine replays."""
    import minitorch_relu as mt
    from minitorch_relu.data import DataLoader, ReplaySampler
    from minitorch_relu.training import build_model, evaluate, train

    mt.manual_seed(seed)
    model = build_model(name)
    if start is not None:
        model.load_state_dict(start.initial_state)
        loader = DataLoader((train_images, train_labels), batch_size=BATCH, drop_last=True,
                            sampler=ReplaySampler(start.orders))
    else:
        loader = DataLoader((train_images, train_labels), batch_size=BATCH, shuffle=True, drop_last=True)
    optimizer = mt.optim.Adam(model.parameters(), lr=LR)
    costs = train(model, loader, optimizer, epochs, on_epoch=lambda e, c: progress(name, "engine", e, c))
    return EngineRun(costs, evaluate(model, test_images, test_labels, raw_pixels=True),
                     evaluate(model, test_images, test_labels))


# ----- the demo -------------------------------------------------------------------------------------------
def print_results(results, epochs):
    names = list(results)
    header = "epoch " + "".join(f"{n + ' ' + who:>22}" for n in names for who in results[n])
    print(header)
    for e in range(epochs):
        row = f"{e + 1:>5} " + "".join(f"{results[n][who].costs[e]:>22.6f}" for n in names for who in results[n])
        print(row)
    for n in names:
        for who, res in results[n].items():
            print(f"{n} {who}: test accuracy {res.accuracy_raw:.4f} on raw 0..255 pixels (the lesson's way), "
                  f"{res.accuracy_scaled:.4f} on pixels scaled to [0, 1]")
        lesson = LESSON[n]
        print(f"{n} in the lesson (15 epochs, all 60000 images): cost {lesson['first']} -> {lesson['last']}, "
              f"accuracy {lesson['accuracy']}")


def plot_results(results, out_dir):
    made = _plot.new_figure(width=7.0, height=4.5)
    if made is None:
        return None
    fig, axes = made
    ax = axes[0, 0]
    for name, runs in results.items():
        for who, res in runs.items():
            epochs = np.arange(1, len(res.costs) + 1)
            style = dict(marker="o", ls="-") if who == "engine" else dict(marker="x", ls="--")
            ax.semilogy(epochs, res.costs, label=f"{name}, {who}", **style)
    ax.set_xlabel("epoch")
    ax.set_ylabel("average cost (cross-entropy), log scale")
    ax.set_title("the lesson's MNIST programs: minitorch_relu against torch")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _plot.save_png(fig, out_dir, "compare_loss_curves.png")


def run(args):
    from minitorch_relu.data import DataError
    from minitorch_relu.data.mnist import load_train_and_test

    names = args.models.split(",")  # checked by argparse
    try:
        train_set, test_set = load_train_and_test(args.data_dir, download=args.download)
    except DataError as exc:
        print(f"compare needs MNIST: {exc}")
        return 1
    images, labels = train_set.images, train_set.labels
    if args.subset is not None:
        images, labels = images[: args.subset], labels[: args.subset]
    print(f"training on {len(labels)} images, {args.epochs} epoch(s), batch {BATCH}, Adam lr {LR}, seed {args.seed}")

    torch_lesson = None if args.no_torch else import_torch_lesson()
    if torch_lesson is None and not args.no_torch:
        print("torch is not installed: showing this engine alone (pip install torch to compare)")
    results = {}
    for name in names:
        results[name] = {}
        start = None
        if torch_lesson is not None:
            start = run_torch(torch_lesson, name, images, labels, test_set.images, test_set.labels, args.epochs, args.seed)
        results[name]["engine"] = run_engine(name, images, labels, test_set.images, test_set.labels, args.epochs,
                                             args.seed, start)
        if start is not None:
            results[name]["torch"] = start
    print_results(results, args.epochs)
    if _plot.load_matplotlib() is None:
        _plot.say_no_plot()
    else:
        plot_results(results, args.out)
    return 0
