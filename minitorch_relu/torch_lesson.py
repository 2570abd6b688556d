"""The lesson's MNIST program in torch: the one reference this engine is compared with.

Used by the MNIST parity tests (parity/mnist_harness.py), the end-to-end benchmark
(benchmarks/lesson.py) and ``minitorch-relu demo compare``. This is the package's only module that
imports torch, and importing the package never imports it: the compare demo imports it when it runs
(and runs this engine alone when torch is missing). tests/test_import.py checks both.

The program, as the lesson writes it:

    random.seed(777); torch.manual_seed(777)
    model: Linear(784, 10), or Linear(784, 256) -> ReLU -> Linear(256, 256) -> ReLU -> Linear(256, 10),
           each weight redrawn with normal_ (std 1)
    Adam(lr=0.001), CrossEntropyLoss, batches of 100 from a shuffling DataLoader with drop_last
    each epoch: avg_cost += cost / total_batch
    test accuracy on raw 0..255 pixels (the lesson's quirk; ``accuracy_scaled`` measures it on
    pixels scaled to [0, 1] like the training pixels)

Three ways to feed it the same batches:

- ``lesson_program``: literally: torchvision's MNIST with ToTensor and torch's DataLoader over it;
- ``in_memory``: batches cut from one tensor by the index batches of a DataLoader over
  range(60000). That DataLoader draws the same random numbers from torch's generator as the
  lesson's (one base seed and one sampler seed per epoch; nothing else in the loop draws), so the
  order is the lesson's, without the per-sample PIL work (parity/test_mnist_training.py checks the
  costs agree bit for bit);
- ``replay``: given orders, from given weights (torch against itself).
"""

import random
from dataclasses import dataclass, field

import numpy as np
import torch

SEED = 777
BATCH = 100
LR = 0.001
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass
class Run:
    costs: list  # the average cost of each epoch
    accuracy_raw: float  # the lesson's evaluation: raw 0..255 test pixels
    accuracy_scaled: float  # test pixels scaled to [0, 1] like the training pixels
    initial_state: dict = field(default_factory=dict)  # name -> numpy array
    orders: list = field(default_factory=list)  # one int64 array of sample indices per epoch
    final_state: dict = field(default_factory=dict)
    epoch_starts: list = field(default_factory=list)  # whatever on_epoch_start noted (parity keeps states)


def seed(value=SEED):
    """The lesson's seeding: Python's generator (its random test sample) and torch's."""
    random.seed(value)
    torch.manual_seed(value)


def build_model(name):
    """The lesson's model, built as the lesson builds it (seed first). float32, as torch makes it."""
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


def state(model):
    """The model's state_dict as numpy arrays (copies)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def train(model, batches, epochs, optimizer=None, on_epoch=None, on_epoch_start=None):
    """The lesson's training loop; returns each epoch's average cost.

    ``batches``: re-iterable (X, Y) batches with a len(); ``on_epoch(epoch, cost)`` is called after
    each epoch (1-based), ``on_epoch_start(model, optimizer)`` before each."""
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=LR)
    total_batch = len(batches)
    costs = []
    for epoch in range(1, epochs + 1):
        if on_epoch_start is not None:
            on_epoch_start(model, optimizer)
        avg_cost = 0
        for X, Y in batches:
            X = X.view(-1, 28 * 28)
            optimizer.zero_grad()
            hypothesis = model(X)
            cost = criterion(hypothesis, Y)
            cost.backward()
            optimizer.step()
            avg_cost += cost / total_batch
        costs.append(avg_cost.item())
        if on_epoch is not None:
            on_epoch(epoch, costs[-1])
    return costs


def accuracy(model, images, labels, raw=True):
    """The lesson's evaluation: float test pixels (raw 0..255, or scaled to [0, 1]), argmax, mean,
    in the model's dtype."""
    dtype = next(model.parameters()).dtype
    x = torch.from_numpy(np.array(images)).reshape(-1, 28 * 28).to(dtype)
    if not raw:
        x = x / 255
    with torch.no_grad():
        correct = torch.argmax(model(x), 1) == torch.from_numpy(np.array(labels))
        return correct.to(dtype).mean().item()


def _finish(model, test, costs, initial, orders, starts=()):
    raw = accuracy(model, *test, raw=True)
    scaled = accuracy(model, *test, raw=False)
    return Run(costs, raw, scaled, initial, orders, state(model), list(starts))


# ----- the three ways to feed the batches ---------------------------------------------------------------
class _Recording(torch.utils.data.Dataset):
    """Passes samples through unchanged and notes each index asked for (draws no random numbers)."""

    def __init__(self, base):
        self.base, self.seen = base, []

    def __len__(self):
        return len(self.base)

    def __getitem__(self, index):
        self.seen.append(index)
        return self.base[index]


class _Orders:
    """Notes the sample order of every epoch a DataLoader of (X, Y) batches runs."""

    def __init__(self, loader, recording):
        self.loader, self.recording, self.orders = loader, recording, []

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        self.recording.seen = []
        yield from self.loader
        self.orders.append(np.asarray(self.recording.seen, dtype=np.int64))


class _IndexBatches:
    """(X, Y) batches cut from in-memory tensors by batches of indices; notes each epoch's order.

    ``index_batches`` is re-iterable (a DataLoader over the indices), or a list of one order per
    epoch to replay."""

    def __init__(self, images, labels, index_batches):
        self.images, self.labels = images, labels
        self.index_batches, self.orders = index_batches, []

    def __len__(self):
        if isinstance(self.index_batches, list):
            return len(self.index_batches[0]) // BATCH
        return len(self.index_batches)

    def _next_epoch(self):
        if isinstance(self.index_batches, list):
            order = self.index_batches[len(self.orders)]
            return [torch.from_numpy(order[b * BATCH:(b + 1) * BATCH]) for b in range(len(self))]
        return self.index_batches

    def __iter__(self):
        taken = []
        for index in self._next_epoch():
            taken.append(index)
            yield self.images[index], self.labels[index]
        self.orders.append(torch.cat(taken).numpy().astype(np.int64))


def _training_tensors(images, labels, dtype):
    """ToTensor's scaling, done once: uint8 -> float in ``dtype``, divided by 255; flat rows."""
    x = torch.from_numpy(np.array(images).reshape(len(images), -1)).to(TORCH_DTYPES[np.dtype(dtype).name]) / 255
    return x, torch.from_numpy(np.array(labels))


def lesson_program(root, model_name="softmax", epochs=15, on_epoch=None, record_orders=True):
    """The lesson's program, literally: torchvision's MNIST (files under ``root``, not downloaded),
    ToTensor, torch's DataLoader. ``record_orders`` notes each epoch's sample order (Run.orders)."""
    import torchvision.datasets as dsets
    import torchvision.transforms as transforms

    seed()
    mnist_train = dsets.MNIST(root=str(root), train=True, transform=transforms.ToTensor(), download=False)
    mnist_test = dsets.MNIST(root=str(root), train=False, transform=transforms.ToTensor(), download=False)
    dataset = _Recording(mnist_train) if record_orders else mnist_train
    data_loader = torch.utils.data.DataLoader(dataset=dataset, batch_size=BATCH, shuffle=True, drop_last=True)
    batches = _Orders(data_loader, dataset) if record_orders else data_loader
    model = build_model(model_name)
    initial = state(model)
    costs = train(model, batches, epochs, on_epoch=on_epoch)
    # The lesson evaluates on mnist_test.test_data (an old alias of .data): raw 0..255 pixels.
    return _finish(model, (mnist_test.data.numpy(), mnist_test.targets.numpy()), costs, initial,
                   batches.orders if record_orders else [])


def in_memory(train_set, test_set, model_name="softmax", epochs=15, dtype="float32", seed_value=SEED,
              on_epoch=None, on_epoch_start=None):
    """The lesson's program on in-memory tensors, with the lesson's random numbers (see the module's
    doc). ``train_set`` and ``test_set`` are (uint8 images (N, 28, 28), int64 labels) numpy pairs.
    ``on_epoch_start(model, optimizer)`` may return something to keep in Run.epoch_starts."""
    seed(seed_value)
    model = build_model(model_name).to(TORCH_DTYPES[np.dtype(dtype).name])
    initial = state(model)
    index_loader = torch.utils.data.DataLoader(torch.arange(len(train_set[1])), batch_size=BATCH, shuffle=True,
                                               drop_last=True)
    batches = _IndexBatches(*_training_tensors(*train_set, dtype), index_loader)
    starts = []
    note = None if on_epoch_start is None else lambda m, o: starts.append(on_epoch_start(m, o))
    costs = train(model, batches, epochs, on_epoch=on_epoch, on_epoch_start=note)
    return _finish(model, test_set, costs, initial, batches.orders, starts)


def replay(train_set, test_set, initial_state, orders, model_name="mlp", dtype="float32"):
    """Torch from ``initial_state`` on ``orders`` (one int64 array of sample indices per epoch)."""
    model = build_model(model_name).to(TORCH_DTYPES[np.dtype(dtype).name])
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in initial_state.items()})
    batches = _IndexBatches(*_training_tensors(*train_set, dtype), list(orders))
    costs = train(model, batches, len(orders))
    return _finish(model, test_set, costs, initial_state, batches.orders)
