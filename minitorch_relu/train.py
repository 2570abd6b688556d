"""`minitorch-relu train`: the lesson's two MNIST programs on this engine.

    minitorch-relu train                      # softmax regression, the lesson's settings
    minitorch-relu train --model mlp          # the 784-256-256-10 ReLU MLP

Defaults are the lesson's: seed 777, Adam lr 0.001, 15 epochs, batch 100, shuffle, drop_last, every
weight drawn with normal_ (std 1), biases left at nn.Linear's default. It prints the lesson's lines
(``Epoch: 0001 cost = ...``, ``Learning finished``, ``Accuracy: ...``, ``Label: ...``,
``Prediction: ...``).

The pieces are also a small API for demos, benchmarks and the parity tests: build_model,
make_optimizer, train, evaluate.

Module-level imports stay light (the CLI imports this module just to build its --help).
"""

import random
import sys

MODELS = ("softmax", "mlp", "xavier", "deep", "dropout", "batchnorm", "cnn")  # the last five: chapter.py
DTYPES = ("float32", "float64")
BACKENDS = ("numpy", "cupy", "strict")
COST_FORMATS = (".json", ".csv")


class UsageError(Exception):
    """A bad option value, found before any data is read or any state changes."""


class OutputError(Exception):
    """A result file that could not be written."""


# ----- model and optimizer ----------------------------------------------------------------------
def build_model(name="softmax", dtype="float32", backend=None):
    """The lesson's model ``name`` ("softmax" or "mlp"), drawn from the engine's seeded generator.

    As in the lesson, each Linear is first built with torch's default init (which also sets its
    bias), then its weight is redrawn with normal_(mean 0, std 1). The chapter's models (xavier,
    deep, dropout, batchnorm, cnn) are built by minitorch_relu.chapter.
    """
    import numpy as np

    from . import chapter, nn

    key = str(name).lower()
    if key not in MODELS:
        raise UsageError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    if key in chapter.CHAPTER_MODELS:
        return chapter.build(key, dtype, backend)
    dtype = np.dtype(dtype)
    if key == "softmax":
        layers = [nn.Linear(784, 10, dtype=dtype, backend=backend)]
        model = layers[0]
    else:
        layers = [nn.Linear(784, 256, dtype=dtype, backend=backend),
                  nn.Linear(256, 256, dtype=dtype, backend=backend),
                  nn.Linear(256, 10, dtype=dtype, backend=backend)]
        model = nn.Sequential(layers[0], nn.ReLU(), layers[1], nn.ReLU(), layers[2])
    for layer in layers:
        nn.init.normal_(layer.weight)
    return model


def optimizer_classes():
    """lower-case name -> class, for every optimizer that minitorch_relu.optim exports."""
    from . import optim

    return {name.lower(): value for name, value in vars(optim).items()
            if isinstance(value, type) and issubclass(value, optim.Optimizer) and value is not optim.Optimizer}


def optimizer_class(name):
    classes = optimizer_classes()
    cls = classes.get(str(name).lower())
    if cls is None:
        choices = ", ".join(sorted(c.__name__ for c in classes.values()))
        raise UsageError(f"unknown optimizer {name!r}; choose one of {choices} (case does not matter)")
    return cls


def parse_optim_args(text):
    """'betas=(0.9, 0.99),eps=1e-6' -> {'betas': (0.9, 0.99), 'eps': 1e-06}; values are Python literals.

    The text is parsed as the keyword arguments of a call, so commas inside tuples are fine.
    """
    import ast

    if not text or not text.strip():
        return {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        raise UsageError(f"--optim-args {text!r}: expected key=value pairs separated by commas") from None
    if call.args or any(kw.arg is None for kw in call.keywords):
        raise UsageError(f"--optim-args {text!r}: every item must be key=value")
    values = {}
    for kw in call.keywords:
        try:
            values[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise UsageError(
                f"--optim-args: the value of {kw.arg!r} ({ast.unparse(kw.value)}) is not a Python literal "
                "(use numbers, True/False, None, quoted strings or tuples)"
            ) from None
    return values


def make_optimizer(name, params, lr=0.001, **options):
    """An optimizer of minitorch_relu.optim by case-insensitive name; bad options raise UsageError."""
    cls = optimizer_class(name)
    if lr is not None:
        options["lr"] = lr
    try:
        return cls(list(params), **options)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{cls.__name__} rejected its arguments {options}: {exc}") from None


# ----- training and evaluation ------------------------------------------------------------------
class Progress:
    """A one-line progress bar on a terminal: redrawn about 40 times an epoch, erased at the end."""

    def __init__(self, stream=None, enabled=True, width=30):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width

    def start(self, label, total):
        self.label, self.total, self.every = label, total, max(1, total // 40)

    def update(self, done):
        if not self.enabled or (done % self.every and done != self.total):
            return
        filled = self.width * done // max(1, self.total)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total}")
        self.stream.flush()

    def finish(self):
        if self.enabled:
            self.stream.write("\r" + " " * (len(self.label) + self.width + 24) + "\r")
            self.stream.flush()


def _uses_closure(optimizer):
    """LBFGS re-evaluates the loss inside step(), so it must be given a closure."""
    return type(optimizer).__name__ == "LBFGS"


def train(model, loader, optimizer, epochs=15, loss_fn=None, on_epoch=None, progress=None):
    """Train for ``epochs``; returns each epoch's average cost (floats), as the lesson computes it.

    The cost is accumulated on the device, ``avg += loss / batches`` in the model's dtype exactly as
    the lesson's ``avg_cost += cost / total_batch``, and read back once per epoch, so a step does
    the model's work and nothing more (no host synchronisation).
    ``on_epoch(epoch, cost)`` is called after each epoch (epoch counted from 1).
    """
    from .nn import CrossEntropyLoss

    loss_fn = loss_fn if loss_fn is not None else CrossEntropyLoss()
    batches = len(loader)
    closure_mode = _uses_closure(optimizer)
    costs = []
    for epoch in range(1, epochs + 1):
        total = None
        if progress is not None:
            progress.start(f"epoch {epoch}/{epochs}", batches)
        for step, (x, y) in enumerate(loader, 1):
            if closure_mode:
                loss = _closure_step(model, optimizer, loss_fn, x, y)
            else:
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
            share = loss.data / batches
            total = share if total is None else total + share
            if progress is not None:
                progress.update(step)
        if progress is not None:
            progress.finish()
        cost = float(total.item()) if total is not None else float("nan")  # the epoch's one sync
        costs.append(cost)
        if on_epoch is not None:
            on_epoch(epoch, cost)
    return costs


def _closure_step(model, optimizer, loss_fn, x, y):
    """One step for optimizers that re-evaluate the loss (LBFGS); returns the first loss, as torch does."""
    first = []

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if not first:
            first.append(loss)
        return loss

    optimizer.step(closure)
    return first[0].detach()


def _test_inputs(images, dtype, backend, raw_pixels):
    """Test images as (N, 784) rows on ``backend``: scaled to [0, 1] like training, or raw 0..255."""
    import numpy as np

    from .backend import get_backend

    dtype = np.dtype(dtype)
    x = np.asarray(images).reshape(len(images), -1).astype(dtype)
    if not raw_pixels and np.asarray(images).dtype == np.uint8:
        x /= dtype.type(255)
    return get_backend(backend).asarray(x)


def evaluate(model, images, labels, dtype="float32", backend=None, raw_pixels=False):
    """Test accuracy (a float): the share of argmax predictions equal to the labels.

    By default test pixels are scaled to [0, 1] as in training. ``raw_pixels=True`` reproduces the
    lesson's quirk (``test_data.float()``: raw 0..255). The mean is taken in ``dtype``, as the
    lesson's ``correct_prediction.float().mean()``, so the printed number matches torch's digit for digit.
    """
    from .autograd import no_grad
    from .backend import get_backend
    from .tensor import Tensor

    backend = get_backend(backend)
    x = Tensor._wrap(_test_inputs(images, dtype, backend, raw_pixels))
    y = backend.asarray(labels)
    with no_grad():
        predicted = model(x).data.argmax(axis=1)
    return float((predicted == y).astype(x.dtype).mean().item())


def predict_one(model, images, index, dtype="float32", backend=None, raw_pixels=False):
    """The predicted class of test image ``index`` (the lesson's single-sample check)."""
    from .autograd import no_grad
    from .tensor import Tensor

    x = Tensor._wrap(_test_inputs(images[index:index + 1], dtype, backend, raw_pixels))
    with no_grad():
        return int(model(x).data.argmax(axis=1)[0].item())


def lesson_sample_index(seed, n):
    """The lesson's ``random.seed(seed); random.randint(0, n - 1)``: nothing else draws from it between."""
    return random.Random(seed).randint(0, n - 1)


# ----- output files -----------------------------------------------------------------------------
def _check_output_path(path, option, suffixes):
    """Raise UsageError now, before training, if ``path`` has the wrong suffix or cannot be written."""
    import os
    from pathlib import Path

    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise UsageError(f"{option} {path!r}: the file name must end in {' or '.join(suffixes)}")
    if p.is_dir():
        raise UsageError(f"{option} {path!r} is a folder, not a file")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{option} {path!r}: the folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise UsageError(f"{option} {path!r}: no permission to write there")


def write_costs(path, costs, info=None):
    """Per-epoch costs as JSON ({..., "costs": [...]}) or CSV (epoch,cost), chosen by the suffix."""
    import csv
    import json
    from pathlib import Path

    path = Path(path)
    if path.suffix.lower() == ".json":
        record = dict(info or {})
        record["costs"] = list(costs)
        path.write_text(json.dumps(record, indent=2) + "\n")
    else:
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["epoch", "cost"])
            for epoch, cost in enumerate(costs, 1):
                writer.writerow([epoch, repr(cost)])


def _import_pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UsageError(
            "--plot needs matplotlib, which is not installed; install the plot extra: "
            "pip install 'minitorch_relu[plot]' (or pip install matplotlib)"
        ) from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    return plt


def plot_costs(path, costs, title):
    plt = _import_pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(1, len(costs) + 1), costs, marker="o")
    ax.set_xlabel("epoch")
    ax.set_ylabel("average cost (cross-entropy)")
    ax.set_yscale("log")  # the MLP falls from ~100 to ~1: a linear axis hides the later epochs
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ----- the command ------------------------------------------------------------------------------
def _positive_int(text):
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _positive_float(text):
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def add_arguments(parser):
    parser.add_argument("--model", default="softmax", type=str.lower, choices=MODELS,
                        help="softmax regression Linear(784,10), the 784-256-256-10 ReLU MLP, or one of the chapter's "
                             "programs: xavier, deep, dropout, batchnorm, cnn (default: softmax)")
    # None: the model's default (chapter.DEFAULTS), filled in by run()
    parser.add_argument("--epochs", type=_positive_int, default=None, help="default: 15 (batchnorm: 10)")
    parser.add_argument("--batch-size", type=_positive_int, default=None, help="default: 100 (batchnorm: 32)")
    parser.add_argument("--lr", type=_positive_float, default=None, help="learning rate (default: 0.001; batchnorm: 0.01)")
    parser.add_argument("--optimizer", default="Adam",
                        help="any optimizer of minitorch_relu.optim, by name, case-insensitive (default: Adam)")
    parser.add_argument("--optim-args", default="", metavar="KEY=VALUE,...",
                        help="more optimizer arguments as Python literals, e.g. 'betas=(0.9, 0.99),eps=1e-6'")
    parser.add_argument("--seed", type=int, default=777, help="seeds weights, shuffling and the sample shown (default: 777)")
    parser.add_argument("--backend", default="numpy", type=str.lower, choices=BACKENDS, help="default: numpy")
    parser.add_argument("--dtype", default="float32", type=str.lower, choices=DTYPES, help="default: float32")
    parser.add_argument("--data-dir", default=None,
                        help="MNIST folder: torchvision's <dir>/MNIST/raw/ or a flat folder of the IDX files, plain "
                             "or .gz (default: $MINITORCH_RELU_DATA, else MNIST_data/)")
    parser.add_argument("--download", action="store_true", help="download missing MNIST files from the standard mirrors")
    parser.add_argument("--raw-test-pixels", action="store_true",
                        help="evaluate on raw 0..255 test pixels, the lesson's quirk (default: scaled to [0, 1])")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--costs-out", metavar="FILE", help="write the per-epoch costs to FILE.json or FILE.csv")
    parser.add_argument("--plot", metavar="FILE.png", help="save the loss curve as a PNG (needs matplotlib)")


def _fail(message, code):
    print(f"minitorch-relu train: error: {message}", file=sys.stderr)
    return code


def run(args):
    """The lesson's program. Exit codes: 0 done, 2 bad options, 1 bad data or a failed write."""
    from .chapter import fill_defaults
    from .data import DataError

    fill_defaults(args)  # --lr, --batch-size, --epochs: the model's defaults where not given
    try:
        setup = _prepare(args)
    except UsageError as exc:
        return _fail(str(exc), 2)
    try:
        data = _load_data(args)
    except DataError as exc:
        return _fail(str(exc), 1)
    try:
        return _run_training(args, setup, data)
    except UsageError as exc:  # e.g. a batch size larger than the data set
        return _fail(str(exc), 2)
    except OutputError as exc:
        return _fail(str(exc), 1)
    except BrokenPipeError:  # stdout closed early (`... | head`): stop quietly, as command-line tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1


def _prepare(args):
    """Check every option before any data is read or any state changes."""
    from .backend import get_backend

    optim_options = parse_optim_args(args.optim_args)
    if optimizer_class(args.optimizer).__name__ == "SparseAdam":
        raise UsageError("SparseAdam updates only the rows a sparse gradient touches (nn.Embedding(sparse=True)); "
                         "the lesson's models are dense Linear layers, so use Adam (or another optimizer)")
    if args.costs_out:
        _check_output_path(args.costs_out, "--costs-out", COST_FORMATS)
    if args.plot:
        _check_output_path(args.plot, "--plot", (".png",))
        _import_pyplot()
    try:
        backend = get_backend(args.backend)
    except RuntimeError as exc:  # no CuPy, or no CUDA device
        raise UsageError(str(exc)) from None
    return {"optim_options": optim_options, "backend": backend}


def _load_data(args):
    from .data import MNIST, MissingDataError, download_mnist
    from .data.mnist import FILES, find_file, missing_files_message, resolve_root

    # Name every missing file at once (both splits), or fetch them all in one go with --download.
    root = resolve_root(args.data_dir)
    if args.download:
        download_mnist(root)
    missing = [name for name in FILES if find_file(root, name) is None]
    if missing:
        raise MissingDataError(missing_files_message(root, missing))
    train_set = MNIST(args.data_dir, train=True, download=args.download)
    test_set = MNIST(args.data_dir, train=False, download=args.download)
    return train_set, test_set


def _run_training(args, setup, data):
    from . import random as mt_random
    from .data import DataLoader

    if args.model == "batchnorm":  # two nets side by side and their own table (chapter.py)
        from .chapter import run_batchnorm

        history = run_batchnorm(args, setup, data, make_optimizer, plot_path=args.plot)
        if args.costs_out:  # "costs": the BN net's training loss per epoch; every number under "evaluations"
            write_costs(args.costs_out, [epoch[0][0][0] for epoch in history],
                        {"model": "batchnorm", "lr": args.lr, "epochs": args.epochs, "batch_size": args.batch_size,
                         "seed": args.seed, "dtype": args.dtype, "evaluations": [
                             {"with_batchnorm": {"train": list(bn[0]), "test": list(bn[1])},
                              "without_batchnorm": {"train": list(nn[0]), "test": list(nn[1])}} for bn, nn in history]})
        return 0
    train_set, test_set = data
    backend = setup["backend"]
    mt_random.manual_seed(args.seed)
    try:
        loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=True,
                            backend=backend, dtype=args.dtype)
    except ValueError as exc:
        raise UsageError(f"--batch-size {args.batch_size}: {exc}") from None
    model = build_model(args.model, args.dtype, backend)
    optimizer = make_optimizer(args.optimizer, model.parameters(), lr=args.lr, **setup["optim_options"])

    progress = Progress(sys.stderr, enabled=not args.quiet and sys.stderr.isatty())

    def report(epoch, cost):
        print("Epoch:", "%04d" % epoch, "cost =", "{:.9f}".format(cost), flush=True)

    model.train()  # dropout on while training, off to test (the chapter's model.train()/model.eval())
    costs = train(model, loader, optimizer, args.epochs, on_epoch=report, progress=progress)
    print("Learning finished")
    model.eval()

    accuracy = evaluate(model, test_set.images, test_set.labels, args.dtype, backend, args.raw_test_pixels)
    print("Accuracy:", accuracy)
    r = lesson_sample_index(args.seed, len(test_set))
    print("Label: ", int(test_set.labels[r]))
    print("Prediction: ", predict_one(model, test_set.images, r, args.dtype, backend, args.raw_test_pixels))

    try:
        _write_outputs(args, setup, costs, accuracy, optimizer, backend)
    except OSError as exc:  # checked before training, but a disk can fill or a folder vanish since
        path = exc.filename or args.costs_out or args.plot
        raise OutputError(f"could not write {path}: {exc.strerror or exc}") from None
    return 0


def _write_outputs(args, setup, costs, accuracy, optimizer, backend):
    if args.costs_out:
        info = {"model": args.model, "optimizer": type(optimizer).__name__, "lr": args.lr,
                "optim_args": setup["optim_options"], "epochs": args.epochs, "batch_size": args.batch_size,
                "seed": args.seed, "backend": backend.name, "dtype": args.dtype, "accuracy": accuracy,
                "raw_test_pixels": args.raw_test_pixels}
        write_costs(args.costs_out, costs, info)
    if args.plot:
        plot_costs(args.plot, costs, f"{args.model} on MNIST ({type(optimizer).__name__}, lr {args.lr})")
