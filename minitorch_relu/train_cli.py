"""`minitorch-relu train`: the lesson's two MNIST programs on this engine, as a command.

    minitorch-relu train                      # softmax regression, the lesson's settings
    minitorch-relu train --model mlp          # the 784-256-256-10 ReLU MLP

Defaults are the lesson's: seed 777, Adam lr 0.001, 15 epochs, batch 100, shuffle, drop_last, every
weight drawn with normal_ (std 1), biases left at nn.Linear's default. It prints the lesson's lines
(``Epoch: 0001 cost = ...``, ``Learning finished``, ``Accuracy: ...``, ``Label: ...``,
``Prediction: ...``).

This module is the command around the library in training.py: options, messages, exit codes, the
progress bar, checkpoints, the files and plots it writes.
"""

import argparse
import ast
import csv
import importlib.util
import io
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import checkpoint, optim
from . import random as mt_random
from .backend import get_backend
from .chapter import fill_defaults, run_batchnorm
from .data import DataError, DataLoader, load_train_and_test
from .demos import _args as checked  # argparse types that refuse bad values with one line
from .nn import Parameter
from .serialization import write_atomically
from .training import (DTYPES, MODELS, Interrupted, NonFiniteCost, StopOnCtrlC, TrainingProgress, UsageError,
                       build_model, evaluate, lesson_sample_index, make_optimizer, optimizer_class, predict_one,
                       train)
from .viz import GradStats

BACKENDS = ("numpy", "cupy")  # the strict stand-in device is a test double, not offered here
COST_FORMATS = (".json", ".csv")


class OutputError(Exception):
    """A result file that could not be written."""


def parse_optim_args(text):
    """'betas=(0.9, 0.99),eps=1e-6' -> {'betas': (0.9, 0.99), 'eps': 1e-06}; values are Python literals.

    The text is parsed as the keyword arguments of a call, so commas inside tuples are fine.
    """
    if not text or not text.strip():
        return {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        raise UsageError(f"--optim-args {text!r}: expected key=value pairs separated by commas") from None
    if call.args or any(kw.arg is None for kw in call.keywords):
        raise UsageError(f"--optim-args {text!r}: every item must be key=value")
    if any(kw.arg == "lr" for kw in call.keywords):
        raise UsageError(f"--optim-args {text!r}: give the learning rate with --lr, not in --optim-args")
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



class ProgressBar(TrainingProgress):
    """tqdm's bar on ``stream`` for each epoch: steps done, elapsed time, time left, and the epoch's
    mean cost so far. The bar is erased at the end of its epoch (the ``Epoch:`` line follows).

    It is redrawn at most every REDRAW_SECONDS (and at the epoch's last step), and only then is the
    cost read: reading it waits for the device, which a GPU run should do rarely. ``clock``: seconds,
    for tests.
    """

    REDRAW_SECONDS = 0.2

    def __init__(self, stream, clock=time.monotonic):
        self.stream, self.clock = stream, clock
        self.bar = None
        self.drawn_at = -math.inf

    def start_epoch(self, epoch, epochs, batches, steps_done):
        # miniters beyond the epoch: tqdm never redraws by itself, step() decides; smoothing 0: the time
        # left from the epoch's average speed
        self.bar = tqdm(total=batches, initial=steps_done, desc=f"epoch {epoch}/{epochs}", unit="step",
                        file=self.stream, leave=False, miniters=batches + 1, smoothing=0)
        self.drawn_at = -math.inf

    def step(self, step, mean_cost):
        self.bar.update(1)
        now = self.clock()
        if now - self.drawn_at >= self.REDRAW_SECONDS or step == self.bar.total:
            self.bar.set_postfix(cost=f"{mean_cost():.4f}", refresh=False)
            self.bar.refresh()
            self.drawn_at = now

    def end_epoch(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def check_output_path(path, option, suffixes):
    """Raise UsageError now, before training, if ``path`` has the wrong suffix or cannot be written."""
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
    """Per-epoch costs as JSON ({..., "costs": [...]}) or CSV (epoch,cost), chosen by the suffix.

    Written atomically (a temporary file renamed into place): never a half-written file."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        record = dict(info or {})
        record["costs"] = list(costs)
        text = json.dumps(record, indent=2) + "\n"
    else:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer)
        writer.writerow(["epoch", "cost"])
        for epoch, cost in enumerate(costs, 1):
            writer.writerow([epoch, repr(cost)])
        text = buffer.getvalue()
    write_atomically(path, text.encode())


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
def add_arguments(parser):
    parser.add_argument("--model", default="softmax", type=str.lower, choices=MODELS,
                        help="softmax regression Linear(784,10), the 784-256-256-10 ReLU MLP, or one of the chapter's "
                             "programs: xavier, deep, dropout, batchnorm, cnn (default: softmax)")
    # None: the model's default (chapter.DEFAULTS), filled in by run()
    parser.add_argument("--epochs", type=checked.positive_int, default=None, help="default: 15 (batchnorm: 10)")
    parser.add_argument("--batch-size", type=checked.positive_int, default=None, help="default: 100 (batchnorm: 32)")
    parser.add_argument("--lr", type=checked.positive_float, default=None, help="learning rate (default: 0.001; batchnorm: 0.01)")
    parser.add_argument("--optimizer", default="Adam",
                        help="any optimizer of minitorch_relu.optim, by name, case-insensitive (default: Adam)")
    parser.add_argument("--optim-args", default="", metavar="KEY=VALUE,...",
                        help="more optimizer arguments as Python literals, e.g. 'betas=(0.9, 0.99),eps=1e-6'")
    parser.add_argument("--seed", type=checked.seed, default=777,
                        help="seeds weights, shuffling and the sample shown, 0..2**64-1 (default: 777)")
    parser.add_argument("--backend", default="numpy", type=str.lower, choices=BACKENDS, help="default: numpy")
    parser.add_argument("--dtype", default="float32", type=str.lower, choices=DTYPES, help="default: float32")
    parser.add_argument("--data-dir", default=None,
                        help="MNIST folder: torchvision's <dir>/MNIST/raw/ or a flat folder of the IDX files, plain "
                             "or .gz (default: $MINITORCH_RELU_DATA, else MNIST_data/)")
    parser.add_argument("--download", action="store_true", help="download missing MNIST files from the standard mirrors")
    parser.add_argument("--subset", type=checked.positive_int, default=None, metavar="N",
                        help="train on the first N training images only (default: all 60000)")
    parser.add_argument("--raw-test-pixels", action="store_true",
                        help="evaluate on raw 0..255 test pixels, the lesson's quirk (default: scaled to [0, 1])")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--costs-out", metavar="FILE", help="write the per-epoch costs to FILE.json or FILE.csv")
    parser.add_argument("--plot", metavar="FILE.png", help="save the loss curve as a PNG (needs matplotlib)")
    parser.add_argument("--grad-stats", metavar="FILE.png|FILE.csv",
                        help="record each Linear layer's gradient norm and the share of ReLU outputs that were 0, "
                             "per epoch: plot them (.png, needs matplotlib) or write the numbers (.csv)")
    parser.add_argument("--save", metavar="DIR",
                        help="after every epoch (and at Ctrl-C) save DIR/model.safetensors and what resuming needs")
    parser.add_argument("--resume", metavar="DIR",
                        help="continue the run saved in DIR (its settings; --epochs may raise the total); "
                             "keeps saving there unless --save names another folder")


# Settings a resumed run takes from its checkpoint: a flag given with another value is refused.
RESUMED_SETTINGS = ("model", "dtype", "optimizer", "lr", "optim_args", "batch_size", "seed", "subset")


def _fail(message, code):
    print(f"minitorch-relu train: error: {message}", file=sys.stderr)
    return code


def run(args):
    """The lesson's program. Exit codes: 0 done, 2 bad options, 1 bad data, a failed write or a
    diverged run, 130 Ctrl-C."""
    try:
        try:
            setup = _prepare(args)
        except UsageError as exc:
            return _fail(str(exc), 2)
        except checkpoint.CheckpointError as exc:
            return _fail(f"--resume: {exc}", 2)
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
    except KeyboardInterrupt:  # Ctrl-C outside the training loop (reading data, evaluating)
        print("minitorch-relu train: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (`... | head`): stop quietly, as command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1


def _prepare(args):
    """Check every option before any data is read or any state changes."""
    saved = _resume_settings(args) if args.resume else None
    fill_defaults(args)  # --lr, --batch-size, --epochs: the model's defaults where not given (nor resumed)
    optim_options = parse_optim_args(args.optim_args)
    if issubclass(optimizer_class(args.optimizer), optim.SparseAdam):
        raise UsageError("SparseAdam updates only the rows a sparse gradient touches (nn.Embedding(sparse=True)); "
                         "the lesson's models are dense Linear layers, so use Adam (or another optimizer)")
    _check_optimizer_arguments(args, optim_options)
    if args.costs_out:
        check_output_path(args.costs_out, "--costs-out", COST_FORMATS)
    if args.plot:
        check_output_path(args.plot, "--plot", (".png",))
        _import_pyplot()
    if getattr(args, "grad_stats", None):
        check_output_path(args.grad_stats, "--grad-stats", (".png", ".csv"))
        if args.grad_stats.lower().endswith(".png"):
            if importlib.util.find_spec("matplotlib") is None:
                raise UsageError("--grad-stats FILE.png needs matplotlib, which is not installed: "
                                 "pip install 'minitorch_relu[plot]' (or write FILE.csv)")
    if args.save:
        _check_save_folder(args.save, resuming_from=args.resume)
    try:
        backend = get_backend(args.backend)
    except RuntimeError as exc:  # no CuPy, or no CUDA device
        raise UsageError(str(exc)) from None
    return {"optim_options": optim_options, "backend": backend, "checkpoint": saved}


def _check_optimizer_arguments(args, optim_options):
    """Make the optimizer once on a stand-in parameter: a bad name or value fails now, not after the data is read."""
    make_optimizer(args.optimizer, [Parameter(np.zeros(1, dtype=args.dtype))], lr=args.lr, **optim_options)


def _resume_settings(args):
    """Read the checkpoint in --resume; the run's settings come from it (flags that disagree are refused)."""
    saved = checkpoint.load(args.resume)
    absent = [name for name in (*RESUMED_SETTINGS, "epochs") if name not in saved.settings]
    if absent:
        raise checkpoint.CheckpointError(f"{args.resume}: the checkpoint does not record the run's "
                                         f"{', '.join(absent)} (it was not written by train --save)")
    defaults = vars(_default_args())
    for name in RESUMED_SETTINGS:
        given, kept = getattr(args, name), saved.settings[name]
        if given != defaults[name] and given != kept:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"--resume continues the saved run, whose {flag} is {kept!r}; {flag} {given!r} "
                             "would change it (leave the flag out, or start a new run)")
        setattr(args, name, kept)
    if args.epochs == defaults["epochs"]:
        args.epochs = saved.settings["epochs"]
    if args.epochs < saved.position.epochs_done:
        raise UsageError(f"--epochs {args.epochs}: the saved run has already finished "
                         f"{saved.position.epochs_done} epochs")
    if not args.save:
        args.save = args.resume  # keep saving where the run lives
    return saved


def _default_args():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args([])


def _check_save_folder(folder, resuming_from=None):
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--save {folder!r} is a file, not a folder")
    parent = path if path.is_dir() else path.parent
    if not parent.is_dir():
        raise UsageError(f"--save {folder!r}: the folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--save {folder!r}: no permission to write there")
    same_run = resuming_from is not None and path.resolve() == Path(resuming_from).resolve()
    if not same_run and ((path / checkpoint.STATE_FILE).exists() or (path / checkpoint.MODEL_FILE).exists()):
        raise UsageError(f"--save {folder!r} already holds a checkpoint; continue it with --resume {folder}, "
                         "or save into another folder")


def _load_data(args):
    return load_train_and_test(args.data_dir, download=args.download)


def _settings(args, optimizer):
    return {"model": args.model, "dtype": args.dtype, "optimizer": type(optimizer).__name__, "lr": args.lr,
            "optim_args": args.optim_args, "batch_size": args.batch_size, "seed": args.seed,
            "subset": args.subset, "epochs": args.epochs}


def _run_training(args, setup, data):
    if args.model == "batchnorm":  # two nets side by side and their own table (chapter.py)
        history = run_batchnorm(args, setup, data, make_optimizer, plot_path=args.plot)
        if args.costs_out:  # "costs": the BN net's training loss per epoch; every number under "evaluations"
            write_costs(args.costs_out, [epoch[0][0][0] for epoch in history],
                        {"model": "batchnorm", "lr": args.lr, "epochs": args.epochs, "batch_size": args.batch_size,
                         "seed": args.seed, "dtype": args.dtype, "evaluations": [
                             {"with_batchnorm": {"train": list(bn[0]), "test": list(bn[1])},
                              "without_batchnorm": {"train": list(nn[0]), "test": list(nn[1])}} for bn, nn in history]})
        return 0
    train_set, test_set = data
    images, labels = train_set.images, train_set.labels
    if args.subset is not None:
        if args.subset > len(labels):
            raise UsageError(f"--subset {args.subset}: the training set has {len(labels)} images")
        images, labels = images[:args.subset], labels[:args.subset]
    backend = setup["backend"]
    saved = setup["checkpoint"]
    position = saved.position if saved is not None else None

    mt_random.manual_seed(args.seed)
    try:
        loader = DataLoader((images, labels), batch_size=args.batch_size, shuffle=True, drop_last=True,
                            backend=backend, dtype=args.dtype)
    except ValueError as exc:
        raise UsageError(f"--batch-size {args.batch_size}: {exc}") from None
    model = build_model(args.model, args.dtype, backend)
    optimizer = make_optimizer(args.optimizer, model.parameters(), lr=args.lr, **setup["optim_options"])
    settings = _settings(args, optimizer)
    if saved is not None:
        saved.restore(model, optimizer)  # weights, optimizer state, and the generator where it was
        print(f"resuming the run saved in {args.resume} from {position.describe()}", file=sys.stderr)
    # Each epoch remembers the generator state its order was drawn from: a mid-epoch checkpoint
    # stores it, and a resumed run replays that epoch's order from it.
    epochs = checkpoint.ReplayableEpochs(loader, position, saved.rng_state if saved is not None else None)

    progress = ProgressBar(sys.stderr) if not args.quiet and sys.stderr.isatty() else None

    def report(epoch, cost):
        print("Epoch:", "%04d" % epoch, "cost =", "{:.9f}".format(cost), flush=True)

    model.train()  # dropout on while training, off to test (the chapter's model.train()/model.eval())
    grad_stats = None
    if getattr(args, "grad_stats", None):  # --grad-stats: gradient flow per epoch (viz.GradStats)
        grad_stats = GradStats(model)

    def report_and_save(epoch, cost):
        report(epoch, cost)
        finished.append(cost)
        if grad_stats is not None:
            grad_stats.end_epoch(epoch)
        if args.save:
            _save(args, model, optimizer, settings, checkpoint.Position(finished))

    finished = list(position.costs) if position is not None else []
    for epoch, cost in enumerate(finished, 1):  # a resumed run prints the lines printed before
        report(epoch, cost)
    try:
        # Overflow on the way to nan is reported once, by NonFiniteCost, not as NumPy warnings.
        with StopOnCtrlC() as stop, np.errstate(over="ignore", invalid="ignore"):
            costs = train(model, epochs, optimizer, args.epochs, on_epoch=report_and_save, progress=progress,
                          after_backward=grad_stats.after_backward if grad_stats is not None else None,
                          resume=position, stop=stop)
    except Interrupted as exc:
        return _interrupted(args, setup, exc, model, optimizer, settings, epochs)
    except NonFiniteCost as exc:
        _write_finished_costs(args, setup, exc.costs, optimizer, backend)
        return _fail(f"{exc}: training diverged; try a smaller --lr (it is {args.lr})", 1)
    finally:
        if grad_stats is not None:
            grad_stats.close()
    print("Learning finished")
    model.eval()

    accuracy = evaluate(model, test_set.images, test_set.labels, args.dtype, backend, args.raw_test_pixels)
    print("Accuracy:", accuracy)
    r = lesson_sample_index(args.seed, len(test_set))
    print("Label: ", int(test_set.labels[r]))
    print("Prediction: ", predict_one(model, test_set.images, r, args.dtype, backend, args.raw_test_pixels))

    try:
        _write_outputs(args, setup, costs, accuracy, optimizer, backend, grad_stats)
    except OSError as exc:  # checked before training, but a disk can fill or a folder vanish since
        path = exc.filename or args.costs_out or args.plot or getattr(args, "grad_stats", None)
        raise OutputError(f"could not write {path}: {exc.strerror or exc}") from None
    return 0


def _save(args, model, optimizer, settings, position):
    try:
        checkpoint.save(args.save, model, optimizer, settings, position)
    except OSError as exc:
        raise OutputError(f"could not save the checkpoint in {args.save}: {exc.strerror or exc}") from None


def _interrupted(args, setup, stop, model, optimizer, settings, epochs):
    """Ctrl-C: save at the last finished step (with --save), write the finished epochs' costs, say so; exit 130."""
    message = f"interrupted at epoch {stop.epoch}, step {stop.step}"
    try:
        if args.save and stop.partial is not None:  # mid-epoch (at an epoch's end, on_epoch has saved)
            _save(args, model, optimizer, settings,
                  checkpoint.Position(stop.costs, stop.step, stop.partial, epochs.epoch_rng_state))
        if args.save:
            message += f"; saved in {args.save}: continue with  minitorch-relu train --resume {args.save}"
        _write_finished_costs(args, setup, stop.costs, optimizer, setup["backend"])
    except OutputError as exc:
        print(f"minitorch-relu train: error: {exc}", file=sys.stderr)
    print(message, file=sys.stderr)
    return 130


def _write_finished_costs(args, setup, costs, optimizer, backend):
    if args.costs_out:
        try:
            write_costs(args.costs_out, costs, _costs_info(args, setup, optimizer, backend, None))
        except OSError as exc:
            raise OutputError(f"could not write {args.costs_out}: {exc.strerror or exc}") from None


def _costs_info(args, setup, optimizer, backend, accuracy):
    return {"model": args.model, "optimizer": type(optimizer).__name__, "lr": args.lr,
            "optim_args": setup["optim_options"], "epochs": args.epochs, "batch_size": args.batch_size,
            "seed": args.seed, "backend": backend.name, "dtype": args.dtype, "accuracy": accuracy,
            "raw_test_pixels": args.raw_test_pixels}


def _write_outputs(args, setup, costs, accuracy, optimizer, backend, grad_stats=None):
    if args.costs_out:
        write_costs(args.costs_out, costs, _costs_info(args, setup, optimizer, backend, accuracy))
    if args.plot:
        plot_costs(args.plot, costs, f"{args.model} on MNIST ({type(optimizer).__name__}, lr {args.lr})")
    if grad_stats is not None:
        title = f"gradient flow: {args.model} on MNIST ({type(optimizer).__name__}, lr {args.lr})"
        grad_stats.write(args.grad_stats, title)
