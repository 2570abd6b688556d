"""Torch and this engine trained on MNIST from the same start, on the same batches.

Three runners, each returning a Run (per-epoch costs, test accuracies, the initial weights, and the
sample order of every epoch):

- ``lesson_program``: the lesson's program as written: torchvision's MNIST class with ToTensor,
  torch's DataLoader (shuffle, drop_last), seeded with random.seed(777); torch.manual_seed(777)
  before anything else. A recording wrapper around the data set notes which samples each batch
  took; it draws no random numbers, so the order is the lesson's own.
- ``torch_fast``: the same program without the per-sample PIL work: batches are cut from one tensor
  with the index batches of a DataLoader over range(60000). That DataLoader draws exactly the same
  random numbers from torch's global generator as the lesson's (one base seed and one sampler seed
  per epoch; nothing else in the loop draws), so the order is the same; the tests check both this
  and that the costs agree bit for bit.
- ``engine_run``: this engine; in float32 from its own seeded start, which is torch's (its generator
  is torch's); in float64 loaded with torch's initial state_dict, replaying torch's orders.

Costs are accumulated as the lesson does (``avg_cost += cost / total_batch`` in the model's dtype).
"""

import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import minitorch_relu as mt
from minitorch_relu.data import DataLoader, ReplaySampler, load_mnist
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

SEED = 777
BATCH = 100
LR = 0.001
REPO = Path(__file__).resolve().parent.parent


def data_root():
    """../shared/data from the repository root, unless MINITORCH_RELU_DATA names another root."""
    return Path(os.environ.get("MINITORCH_RELU_DATA") or REPO.parent / "shared" / "data")


def data_available(root=None):
    raw = Path(root or data_root()) / "MNIST" / "raw"
    return all(any((raw / (name + ext)).is_file() for ext in ("", ".gz")) for name in
               ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))


@dataclass
class Run:
    costs: list
    accuracy_raw: float  # the lesson's evaluation: raw 0..255 test pixels
    accuracy_scaled: float  # test pixels scaled to [0, 1] like the training pixels
    initial_state: dict = field(default_factory=dict)  # name -> numpy array
    orders: list = field(default_factory=list)  # one int64 array of sample indices per epoch
    final_state: dict = field(default_factory=dict)
    # (model state_dict, optimizer state) at the start of each epoch, when asked for (torch_fast)
    epoch_starts: list = field(default_factory=list)


@dataclass
class Arrays:
    """MNIST as read by this engine's reader: uint8 images (N, 28, 28), int64 labels."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_arrays(root=None):
    root = root or data_root()
    train_images, train_labels = load_mnist(root, train=True)
    test_images, test_labels = load_mnist(root, train=False)
    return Arrays(train_images, train_labels, test_images, test_labels)


def _torch_dtype(dtype):
    return {"float32": torch.float32, "float64": torch.float64}[np.dtype(dtype).name]


def lesson_seed():
    random.seed(SEED)
    torch.manual_seed(SEED)


def torch_model(name):
    """The lesson's model, built as the lesson builds it (caller seeds first). Always float32, as in torch."""
    if name == "softmax":
        linear = torch.nn.Linear(784, 10, bias=True)
        torch.nn.init.normal_(linear.weight)
        return linear
    linear1 = torch.nn.Linear(784, 256, bias=True)
    linear2 = torch.nn.Linear(256, 256, bias=True)
    linear3 = torch.nn.Linear(256, 10, bias=True)
    relu = torch.nn.ReLU()
    for layer in (linear1, linear2, linear3):
        torch.nn.init.normal_(layer.weight)
    return torch.nn.Sequential(linear1, relu, linear2, relu, linear3)


def _state(model):
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def _torch_accuracy(model, test_images, test_labels, dtype, raw):
    """The lesson's evaluation: float test pixels (raw, or scaled to [0, 1]), argmax, mean in dtype."""
    x = torch.from_numpy(np.array(test_images)).view(-1, 28 * 28).to(dtype)
    if not raw:
        x = x / 255
    with torch.no_grad():
        correct = torch.argmax(model(x), 1) == torch.from_numpy(np.asarray(test_labels))
        return correct.to(dtype).mean().item()


class _Recording(torch.utils.data.Dataset):
    """Passes samples through unchanged and notes each index asked for (draws no random numbers)."""

    def __init__(self, base):
        self.base, self.seen = base, []

    def __len__(self):
        return len(self.base)

    def __getitem__(self, index):
        self.seen.append(index)
        return self.base[index]


def lesson_program(root=None, epochs=15, model_name="softmax"):
    """The lesson's program, literally: torchvision MNIST + ToTensor + torch DataLoader."""
    import torchvision.datasets as dsets
    import torchvision.transforms as transforms

    root = str(root or data_root())
    lesson_seed()
    mnist_train = dsets.MNIST(root=root, train=True, transform=transforms.ToTensor(), download=False)
    mnist_test = dsets.MNIST(root=root, train=False, transform=transforms.ToTensor(), download=False)
    recording = _Recording(mnist_train)
    data_loader = torch.utils.data.DataLoader(dataset=recording, batch_size=BATCH, shuffle=True, drop_last=True)
    model = torch_model(model_name)
    initial = _state(model)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    total_batch = len(data_loader)
    costs, orders = [], []
    for _ in range(epochs):
        avg_cost = 0
        recording.seen = []
        for X, Y in data_loader:
            X = X.view(-1, 28 * 28)
            optimizer.zero_grad()
            hypothesis = model(X)
            cost = criterion(hypothesis, Y)
            cost.backward()
            optimizer.step()
            avg_cost += cost / total_batch
        costs.append(avg_cost.item())
        orders.append(np.asarray(recording.seen, dtype=np.int64))
    # The lesson evaluates on mnist_test.test_data (an old alias of .data): raw 0..255 pixels.
    raw = _torch_accuracy(model, mnist_test.data.numpy(), mnist_test.targets.numpy(), torch.float32, raw=True)
    scaled = _torch_accuracy(model, mnist_test.data.numpy(), mnist_test.targets.numpy(), torch.float32, raw=False)
    return Run(costs, raw, scaled, initial, orders, _state(model))


def torch_fast(arrays, model_name="softmax", epochs=15, dtype="float32", keep_epoch_starts=False):
    """The lesson's program on in-memory tensors, with the lesson's random numbers (see module doc).

    With ``keep_epoch_starts`` the Run also holds the weights and Adam's state at every epoch's start
    (for engine_from_each_epoch)."""
    tdtype = _torch_dtype(dtype)
    lesson_seed()
    model = torch_model(model_name).to(tdtype)
    initial = _state(model)
    n = len(arrays.train_labels)
    index_loader = torch.utils.data.DataLoader(torch.arange(n), batch_size=BATCH, shuffle=True, drop_last=True)
    # ToTensor's scaling, done once: uint8 -> float, divided by 255 in that dtype.
    x_all = torch.from_numpy(arrays.train_images.reshape(n, -1).copy()).to(tdtype) / 255
    y_all = torch.from_numpy(np.array(arrays.train_labels))
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    total_batch = len(index_loader)
    costs, orders, starts = [], [], []
    for _ in range(epochs):
        if keep_epoch_starts:
            starts.append((_state(model), torch_optimizer_state(optimizer)))
        avg_cost = 0
        taken = []
        for idx in index_loader:
            taken.append(idx)
            optimizer.zero_grad()
            cost = criterion(model(x_all[idx]), y_all[idx])
            cost.backward()
            optimizer.step()
            avg_cost += cost / total_batch
        costs.append(avg_cost.item())
        orders.append(torch.cat(taken).numpy().astype(np.int64))
    raw = _torch_accuracy(model, arrays.test_images, arrays.test_labels, tdtype, raw=True)
    scaled = _torch_accuracy(model, arrays.test_images, arrays.test_labels, tdtype, raw=False)
    return Run(costs, raw, scaled, initial, orders, _state(model), starts)


def torch_replay(arrays, reference, model_name="mlp", epochs=15, dtype="float32", initial_state=None):
    """Torch from ``initial_state`` (default: ``reference``'s) on ``reference``'s orders: torch against
    itself, to measure how far a tiny change of the start carries (the MLP's chaos)."""
    tdtype = _torch_dtype(dtype)
    model = torch_model(model_name).to(tdtype)
    state = initial_state if initial_state is not None else reference.initial_state
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in state.items()})
    n = len(arrays.train_labels)
    x_all = torch.from_numpy(arrays.train_images.reshape(n, -1).copy()).to(tdtype) / 255
    y_all = torch.from_numpy(np.array(arrays.train_labels))
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    costs = []
    for order in reference.orders[:epochs]:
        batches = len(order) // BATCH
        avg_cost = 0
        for b in range(batches):
            idx = torch.from_numpy(order[b * BATCH:(b + 1) * BATCH])
            optimizer.zero_grad()
            cost = criterion(model(x_all[idx]), y_all[idx])
            cost.backward()
            optimizer.step()
            avg_cost += cost / batches
        costs.append(avg_cost.item())
    raw = _torch_accuracy(model, arrays.test_images, arrays.test_labels, tdtype, raw=True)
    scaled = _torch_accuracy(model, arrays.test_images, arrays.test_labels, tdtype, raw=False)
    return Run(costs, raw, scaled, state, reference.orders[:epochs], _state(model))


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
