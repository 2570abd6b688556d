"""Torch and this engine trained on MNIST from the same start, on the same batches.

torch runs the lesson's program from the one torch reference, minitorch_relu/torch_lesson.py (also
used by benchmarks/lesson.py and ``minitorch-relu demo compare``); each runner returns its Run (per-epoch
costs, test accuracies, the initial weights, and the sample order of every epoch):

- ``lesson_program``: the lesson's program as written (torchvision's MNIST class with ToTensor,
  torch's DataLoader), noting which samples each batch took (without drawing a random number);
- ``torch_fast``: the same program on in-memory tensors, with the lesson's random numbers and so its
  order; the tests check both this and that the costs agree bit for bit;
- ``torch_replay``: torch from given weights on a reference's orders (torch against itself);
- ``engine_run``: this engine; in float32 from its own seeded start, which is torch's (its generator
  is torch's); in float64 loaded with torch's initial state_dict, replaying torch's orders.

Costs are accumulated as the lesson does (``avg_cost += cost / total_batch`` in the model's dtype).
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import minitorch_relu as mt
from minitorch_relu import torch_lesson
from minitorch_relu.data import DataLoader, ReplaySampler, load_mnist
from minitorch_relu.torch_lesson import BATCH, LR, SEED, Run  # noqa: F401  (the harness's names)
from minitorch_relu.training import build_model, evaluate, train
from diverge import torch_optimizer_state

try:
    from parity.ledger import bound, check
except ModuleNotFoundError:  # run as a script (python parity/mnist_harness.py): parity/ is on the path
    from ledger import bound, check

# One thread by default: on a shared 2-core machine torch's spinning OpenMP threads made these runs
# ~40x slower (995 s against 23 s for the softmax model). MINITORCH_RELU_PARITY_THREADS=2 runs both
# libraries on two threads instead, as a user's machine may (CI runs the MNIST tests both ways). The
# thread count changes float32 summation orders: the chaotic MLP then ends elsewhere, inside the
# spread the ledger records (parity/ledger.toml).
THREADS = int(os.environ.get("MINITORCH_RELU_PARITY_THREADS", "1"))
torch.set_num_threads(THREADS)
try:  # the same for NumPy's BLAS (threadpoolctl comes with the test extra; without it, BLAS's default)
    from threadpoolctl import threadpool_limits

    threadpool_limits(THREADS)
except ImportError:
    pass

REPO = Path(__file__).resolve().parent.parent
lesson_seed = torch_lesson.seed  # random.seed(777) and torch.manual_seed(777)
torch_model = torch_lesson.build_model  # the lesson's model in torch (seed first)


def data_root():
    """../shared/data from the repository root, unless MINITORCH_RELU_DATA names another root."""
    return Path(os.environ.get("MINITORCH_RELU_DATA") or REPO.parent / "shared" / "data")


def data_available(root=None):
    raw = Path(root or data_root()) / "MNIST" / "raw"
    return all(any((raw / (name + ext)).is_file() for ext in ("", ".gz")) for name in
               ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))


@dataclass
class Arrays:
    """MNIST as read by this engine's reader: uint8 images (N, 28, 28), int64 labels."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    @property
    def train(self):
        return self.train_images, self.train_labels

    @property
    def test(self):
        return self.test_images, self.test_labels


def load_arrays(root=None):
    root = root or data_root()
    train_images, train_labels = load_mnist(root, train=True)
    test_images, test_labels = load_mnist(root, train=False)
    return Arrays(train_images, train_labels, test_images, test_labels)


def lesson_program(root=None, epochs=15, model_name="softmax"):
    """The lesson's program, literally: torchvision MNIST + ToTensor + torch DataLoader."""
    return torch_lesson.lesson_program(root or data_root(), model_name, epochs)


def torch_fast(arrays, model_name="softmax", epochs=15, dtype="float32", keep_epoch_starts=False):
    """The lesson's program on in-memory tensors, with the lesson's random numbers.

    With ``keep_epoch_starts`` the Run also holds the weights and Adam's state (as this engine loads
    it) at every epoch's start (for engine_from_each_epoch)."""
    def start_of_epoch(model, optimizer):
        return torch_lesson.state(model), torch_optimizer_state(optimizer)

    return torch_lesson.in_memory(arrays.train, arrays.test, model_name, epochs, dtype,
                                  on_epoch_start=start_of_epoch if keep_epoch_starts else None)


def torch_replay(arrays, reference, model_name="mlp", epochs=15, dtype="float32", initial_state=None):
    """Torch from ``initial_state`` (default: ``reference``'s) on ``reference``'s orders: torch against
    itself, to measure how far a tiny change of the start carries (the MLP's chaos)."""
    state = initial_state if initial_state is not None else reference.initial_state
    return torch_lesson.replay(arrays.train, arrays.test, state, reference.orders[:epochs], model_name, dtype)


def one_ulp_up(state, name="0.weight", column=14 * 28 + 14):
    """A copy of ``state`` with one ulp added to ``name``[:, column] (by default the centre pixel's weights)."""
    state = {k: np.array(v, copy=True) for k, v in state.items()}
    w = state[name]
    w[:, column] = np.nextafter(w[:, column], w.dtype.type(np.inf))
    return state


def engine_run(arrays, reference, model_name="softmax", epochs=15, dtype="float32", backend="numpy"):
    """This engine on the lesson's program, compared with torch's run ``reference``.

    In float32 the engine draws its own start: after ``mt.manual_seed(777)`` its generator is torch's
    (minitorch_relu/random.py), so its weights are torch's bit for bit (checked here, so that a
    generator fault reads as one, not as drift) and its shuffled DataLoader gives torch's batch order
    (checked in test_generator_parity.py). torch is only the reference. In float64 the lesson's
    weights are float32 draws cast up, so the engine loads torch's and replays torch's orders.
    """
    mt.manual_seed(SEED)
    model = build_model(model_name, dtype, backend)
    if np.dtype(dtype) == np.float32:
        ours = model.state_dict()
        for name, value in reference.initial_state.items():
            if not np.array_equal(ours[name], value):
                raise AssertionError(f"the engine's seeded {name} differs from torch's: see test_generator_parity.py")
        loader = DataLoader((arrays.train_images, arrays.train_labels), batch_size=BATCH, shuffle=True,
                            drop_last=True, backend=backend, dtype=dtype)
    else:
        model.load_state_dict(reference.initial_state)
        loader = DataLoader((arrays.train_images, arrays.train_labels), batch_size=BATCH, drop_last=True,
                            sampler=ReplaySampler(reference.orders), backend=backend, dtype=dtype)
    optimizer = mt.optim.Adam(model.parameters(), lr=LR)
    costs = train(model, loader, optimizer, epochs)
    raw = evaluate(model, arrays.test_images, arrays.test_labels, dtype, backend, raw_pixels=True)
    scaled = evaluate(model, arrays.test_images, arrays.test_labels, dtype, backend, raw_pixels=False)
    return Run(costs, raw, scaled, reference.initial_state, reference.orders, model.state_dict())


def engine_from_each_epoch(arrays, reference, model_name="mlp", dtype="float64", backend="numpy"):
    """Each epoch of ``reference`` (a torch_fast run with keep_epoch_starts) trained again by this
    engine from torch's weights and Adam state at that epoch's start, on torch's batches.

    A free-running comparison of the MLP lets chaos grow even float64's rounding differences to
    percents within a few epochs (parity/README.md); restarting every epoch from torch's state keeps
    each epoch a test of the arithmetic. Returns a Run (per-epoch costs; accuracies after the last
    epoch) and, per epoch, the largest difference of a weight at the epoch's end from torch's,
    relative to the largest weight of its tensor."""
    costs, weight_errors, model = [], [], None
    for epoch, (state, optimizer_state) in enumerate(reference.epoch_starts):
        model = build_model(model_name, dtype, backend)
        model.load_state_dict(state)
        optimizer = mt.optim.Adam(model.parameters(), lr=LR)
        if optimizer_state:
            optimizer.load_state_dict(dict(optimizer.state_dict(), state=optimizer_state))
        loader = DataLoader((arrays.train_images, arrays.train_labels), batch_size=BATCH, drop_last=True,
                            sampler=ReplaySampler([reference.orders[epoch]]), backend=backend, dtype=dtype)
        costs += train(model, loader, optimizer, 1)
        expected = reference.epoch_starts[epoch + 1][0] if epoch + 1 < len(reference.epoch_starts) \
            else reference.final_state
        ours = model.state_dict()
        weight_errors.append(max(float(np.abs(np.asarray(ours[k]) - v).max() / np.abs(v).max())
                                 for k, v in expected.items()))
    raw = evaluate(model, arrays.test_images, arrays.test_labels, dtype, backend, raw_pixels=True)
    scaled = evaluate(model, arrays.test_images, arrays.test_labels, dtype, backend, raw_pixels=False)
    return Run(costs, raw, scaled, reference.initial_state, reference.orders, model.state_dict()), weight_errors


# ----- checks shared by the MNIST tests: each bound is the ledger's (parity/ledger.toml) -------------
def report(title, ours, theirs):
    rel = relative_differences(ours.costs, theirs.costs)
    print(f"\n{title} ({THREADS} thread(s)): max relative cost difference {rel.max():.2e} (epoch {rel.argmax() + 1})")
    for epoch, (a, b, r) in enumerate(zip(ours.costs, theirs.costs, rel), 1):
        print(f"  epoch {epoch:2d}  torch {b:.9f}  engine {a:.9f}  rel {r:.2e}")
    print(f"  accuracy raw: torch {theirs.accuracy_raw:.4f} engine {ours.accuracy_raw:.4f}; "
          f"scaled: torch {theirs.accuracy_scaled:.4f} engine {ours.accuracy_scaled:.4f}")
    return rel


def first_divergence(model_name, dtype, steps=20):
    """What the locator finds when a training comparison fails: a wrong op, or none (chaos)."""
    from diverge import lesson_start, locate

    found = locate(*lesson_start(model_name, steps, dtype), steps=steps, dtype=dtype)
    if found is None:
        return (f"The first-divergence locator found no op beyond rounding in {steps} steps "
                f"(python -m parity.diverge --model {model_name} --dtype {dtype}): the drift is not one wrong op.")
    return f"Locator: {found}."


def check_costs(key, rel, model_name, dtype, backend, epochs=slice(None)):
    """check() one per-epoch bound; on failure, name the first diverging op in the message."""
    measured = float(rel[epochs].max())
    if measured > bound(key):
        check(key, measured, backend, detail=first_divergence(model_name, dtype))
    check(key, measured, backend)


def check_accuracy(key, ours, theirs, backend):
    check(key, abs(ours.accuracy_raw - theirs.accuracy_raw), backend, detail="raw test pixels")
    check(key, abs(ours.accuracy_scaled - theirs.accuracy_scaled), backend, detail="scaled test pixels")


def relative_differences(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    return np.abs(ours - theirs) / np.abs(theirs)


def table(costs):
    """The lesson's cost lines."""
    return ["Epoch: %04d cost = %s" % (i, "{:.9f}".format(c)) for i, c in enumerate(costs, 1)]


if __name__ == "__main__":
    # A parity report: python parity/mnist_harness.py [softmax|mlp] [epochs] [float32|float64] [chaos|each-epoch]
    # chaos: the second run is torch again, from the same weights plus one ulp (see one_ulp_up);
    # each-epoch: the engine restarts every epoch from torch's weights and Adam state (engine_from_each_epoch).
    import sys
    import time

    name = sys.argv[1] if len(sys.argv) > 1 else "softmax"
    n_epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    dt = sys.argv[3] if len(sys.argv) > 3 else "float32"
    mode = sys.argv[4] if len(sys.argv) > 4 else ""
    arr = load_arrays()
    t0 = time.perf_counter()
    ref = torch_fast(arr, name, n_epochs, dt, keep_epoch_starts=mode == "each-epoch")
    t1 = time.perf_counter()
    if mode == "chaos":
        ours = torch_replay(arr, ref, name, n_epochs, dt, initial_state=one_ulp_up(ref.initial_state))
        print("engine = torch from the same weights with one ulp added to the centre pixel's weights")
    elif mode == "each-epoch":
        ours, weight_errors = engine_from_each_epoch(arr, ref, name, dt)
        print("engine restarted every epoch from torch's state; weights at each epoch's end, max relative "
              "difference: " + " ".join(f"{e:.1e}" for e in weight_errors))
    else:
        ours = engine_run(arr, ref, name, n_epochs, dt)
    t2 = time.perf_counter()
    for e, (a, b, r) in enumerate(zip(ours.costs, ref.costs, relative_differences(ours.costs, ref.costs)), 1):
        print(f"epoch {e:2d}  torch {b:.9f}  engine {a:.9f}  rel {r:.2e}")
    print(f"accuracy raw: torch {ref.accuracy_raw:.4f} engine {ours.accuracy_raw:.4f}; "
          f"scaled: torch {ref.accuracy_scaled:.4f} engine {ours.accuracy_scaled:.4f}")
    print(f"time: torch {t1 - t0:.1f}s engine {t2 - t1:.1f}s")
