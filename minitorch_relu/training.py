"""The lesson's MNIST programs as a library: build the model, make the optimizer, train, evaluate.

    model = build_model("mlp")                       # seeded: call mt.manual_seed(777) first
    optimizer = make_optimizer("adam", model.parameters(), lr=0.001)
    costs = train(model, DataLoader(...), optimizer, epochs=15)
    accuracy = evaluate(model, test.images, test.labels)

NumPy is all it needs. It prints nothing: a caller that wants to see progress passes callbacks
(``on_epoch``) or a ``progress`` object (see TrainingProgress). The command `minitorch-relu train`
(train_cli.py) adds the options, messages, files and plots around these pieces.
"""

import math
import random
import signal
import threading

import numpy as np

from . import chapter, nn, optim
from .autograd import no_grad
from .backend import backend_of
from .data import image_rows
from .tensor import Tensor

MODELS = ("softmax", "mlp", *chapter.CHAPTER_MODELS)
DTYPES = ("float32", "float64")


class UsageError(ValueError):
    """A bad choice (model, optimizer, option value), found before any data is read or any state changes."""


class Interrupted(Exception):
    """Ctrl-C during training, acted on between two steps (so the model and optimizer are whole).

    ``epoch`` is the epoch it fell in and ``step`` the steps of it finished; ``costs`` the finished
    epochs' costs and ``partial`` the epoch's partial cost sum (a 0-d numpy array in the model's
    dtype; None when the epoch was finished).
    """

    def __init__(self, epoch, step, costs, partial):
        super().__init__(f"interrupted at epoch {epoch}, step {step}")
        self.epoch, self.step, self.costs, self.partial = epoch, step, costs, partial


class NonFiniteCost(Exception):
    """The cost became nan or inf: training diverged (most often a learning rate far too large)."""

    def __init__(self, epoch, step, cost, costs):
        super().__init__(f"the cost became {cost} at epoch {epoch}, step {step}")
        self.epoch, self.step, self.cost, self.costs = epoch, step, cost, costs


# ----- model and optimizer ----------------------------------------------------------------------
def build_model(name="softmax", dtype="float32", backend=None):
    """The lesson's model ``name`` ("softmax" or "mlp"), drawn from the engine's seeded generator.

    As in the lesson, each Linear is first built with torch's default init (which also sets its
    bias), then its weight is redrawn with normal_(mean 0, std 1). The chapter's models (xavier,
    deep, dropout, batchnorm, cnn) are built by minitorch_relu.chapter.
    """
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
    return {name.lower(): value for name, value in vars(optim).items()
            if isinstance(value, type) and issubclass(value, optim.Optimizer) and value is not optim.Optimizer}


def optimizer_class(name):
    """The optimizer class called ``name`` (case-insensitive); UsageError lists the choices."""
    classes = optimizer_classes()
    cls = classes.get(str(name).lower())
    if cls is None:
        choices = ", ".join(sorted(c.__name__ for c in classes.values()))
        raise UsageError(f"unknown optimizer {name!r}; choose one of {choices} (case does not matter)")
    return cls


def make_optimizer(name, params, lr=0.001, **options):
    """An optimizer of minitorch_relu.optim by case-insensitive name; bad options raise UsageError."""
    cls = optimizer_class(name)
    if lr is not None:
        options["lr"] = lr
    try:
        return cls(list(params), **options)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{cls.__name__} rejected its arguments {options}: {exc}") from None


# ----- training ---------------------------------------------------------------------------------
class TrainingProgress:
    """What train() tells a progress display. Each method does nothing here: override what you show.

    ``mean_cost()``, passed to ``step``, gives the epoch's mean loss over its steps so far; it reads
    the device (a synchronisation on a GPU), so call it only when the display is redrawn.
    """

    def start_epoch(self, epoch, epochs, batches, steps_done):
        """Epoch ``epoch`` of ``epochs`` begins, with ``batches`` steps, ``steps_done`` of them already
        done before a resume."""

    def step(self, step, mean_cost):
        """Step ``step`` (counted from 1) of the epoch is done."""

    def end_epoch(self):
        """The epoch ended (finished, interrupted or failed)."""


def train(model, loader, optimizer, epochs=15, loss_fn=None, on_epoch=None, progress=None, *,
          after_backward=None, resume=None, stop=None):
    """Train for ``epochs``; returns each epoch's average cost (floats), as the lesson computes it.

    The cost is accumulated on the device, ``avg += loss / batches`` in the model's dtype exactly as
    the lesson's ``avg_cost += cost / total_batch``, and read back once per epoch, so a step does
    the model's work and nothing more (no host synchronisation).
    ``on_epoch(epoch, cost)`` is called after each epoch (epoch counted from 1), ``after_backward()``
    after each step's backward, before the optimizer's step (viz.GradStats reads the gradients there).
    ``progress``: a TrainingProgress, told of every step.

    A cost that becomes nan or inf raises NonFiniteCost at the end of its epoch, naming the step
    where it first did (the running cost of each step is kept on the device and read only then).
    ``resume`` (a checkpoint.Position) continues a run: its finished epochs are not run again, and
    a partly done epoch continues from its step and partial sum; the loader must then give only
    that epoch's remaining batches (checkpoint.ReplayableEpochs does). ``stop``: an object whose
    ``requested`` turns true on Ctrl-C (StopOnCtrlC); the loop then raises Interrupted after the
    step in progress.
    """
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    progress = progress if progress is not None else TrainingProgress()
    batches = len(loader)
    costs = list(resume.costs) if resume is not None else []
    for epoch in range(len(costs) + 1, epochs + 1):
        total, first_step = None, 1
        if resume is not None and resume.step and epoch == resume.epochs_done + 1:
            total, first_step = resume.partial, resume.step + 1
        running = None  # the cost after each step, on the device
        progress.start_epoch(epoch, epochs, batches, first_step - 1)
        try:
            for step, (x, y) in enumerate(loader, first_step):
                loss = _step(model, optimizer, loss_fn, x, y, after_backward)
                share = loss.data / batches
                if running is None:  # the epoch's first step here: its buffers go where the loss is
                    device = backend_of(loss.data)
                    running = device.xp.zeros(batches, dtype=share.dtype)
                    total = None if total is None else device.asarray(total)  # a resumed partial sum
                total = share if total is None else total + share
                running[step - 1] = total
                progress.step(step, lambda total=total, step=step: float(total.item()) * batches / step)
                if stop is not None and stop.requested and step < batches:
                    raise Interrupted(epoch, step, costs, np.asarray(device.to_numpy(total)))
        finally:
            progress.end_epoch()
        cost = float(total.item()) if total is not None else float("nan")  # the epoch's one sync
        if running is not None and not math.isfinite(cost):
            bad = ~np.isfinite(backend_of(running).to_numpy(running)[first_step - 1:])
            raise NonFiniteCost(epoch, first_step + int(np.argmax(bad)), cost, costs)
        costs.append(cost)
        if on_epoch is not None:
            on_epoch(epoch, cost)
        if stop is not None and stop.requested:
            raise Interrupted(epoch, batches, costs, None)
    return costs


def _step(model, optimizer, loss_fn, x, y, after_backward=None):
    """One optimizer step on the batch (x, y); returns its loss (before the step, as torch's loop sees it).

    An optimizer that re-evaluates the loss (``requires_closure``, LBFGS) is given a closure that
    runs forward and backward; it may call it several times, and the first loss is the step's.
    """
    if not optimizer.requires_closure:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if after_backward is not None:
            after_backward()
        optimizer.step()
        return loss
    first = []

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if not first:
            first.append(loss)
            if after_backward is not None:  # the step's first gradient, the one plain steps record
                after_backward()
        return loss

    optimizer.step(closure)
    return first[0].detach()


class StopOnCtrlC:
    """While active (``with StopOnCtrlC() as stop:``), Ctrl-C only sets ``stop.requested``: the
    training loop stops after the step in progress, so nothing is left half-updated. A second
    Ctrl-C interrupts at once. Outside the main thread (where no signal handler can be set) it
    does nothing."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False


# ----- evaluation -------------------------------------------------------------------------------
def evaluate(model, images, labels, dtype="float32", backend=None, raw_pixels=False):
    """Test accuracy (a float): the share of argmax predictions equal to the labels.

    By default test pixels are scaled to [0, 1] as in training. ``raw_pixels=True`` reproduces the
    lesson's quirk (``test_data.float()``: raw 0..255). The mean is taken in ``dtype``, as the
    lesson's ``correct_prediction.float().mean()``, so the printed number matches torch's digit for digit.
    """
    x = Tensor._wrap(image_rows(images, dtype, backend, raw_pixels))
    y = backend_of(x.data).asarray(labels)
    with no_grad():
        predicted = model(x).data.argmax(axis=1)
    return float((predicted == y).astype(x.dtype).mean().item())


def predict_one(model, images, index, dtype="float32", backend=None, raw_pixels=False):
    """The predicted class of test image ``index`` (the lesson's single-sample check)."""
    x = Tensor._wrap(image_rows(images[index:index + 1], dtype, backend, raw_pixels))
    with no_grad():
        return int(model(x).data.argmax(axis=1)[0].item())


def lesson_sample_index(seed, n):
    """The lesson's ``random.seed(seed); random.randint(0, n - 1)``: nothing else draws from it between."""
    return random.Random(seed).randint(0, n - 1)
