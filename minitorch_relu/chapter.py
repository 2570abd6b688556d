"""The chapter's next programs after the lesson: xavier, deep, dropout, batchnorm and the CNN.

Each is `minitorch-relu train --model NAME`, on the same MNIST data and loop as the lesson (seed 777,
Adam, shuffle, drop_last, CrossEntropyLoss), with its own defaults:

    name       model                                                              lr     batch  epochs
    xavier     784-256-256-10 ReLU, xavier_uniform_ on the three weights          1e-3   100    15
    deep       784-512-512-512-512-10 ReLU, xavier_uniform_ on the five weights   1e-3   100    15
    dropout    deep with Dropout(p=0.3) after each ReLU (train() to train, eval() to test)  1e-3  100  15
    batchnorm  784-32-32-10, Linear -> BatchNorm1d(32) -> ReLU twice (default init), trained side by
               side with the same net without BatchNorm; both evaluated every epoch    1e-2   32     10
    cnn        [Conv2d(1,32,3,1,1) ReLU MaxPool2d(2)] [Conv2d(32,64,3,1,1) ReLU MaxPool2d(2)]
               flatten, Linear(3136, 10) with xavier_uniform_                   1e-3   100    15

Model builders and the batchnorm comparison loop live here; training.build_model and the
`train` command (train_cli.py) dispatch to them.
"""

import sys

import numpy as np

from . import nn
from . import random as mt_random
from .autograd import no_grad
from .backend import get_backend
from .data import DataLoader, image_rows
from .nn import functional as F
from .tensor import Tensor

# name -> (lr, batch size, epochs); the lesson's own two programs keep the lesson's settings
DEFAULTS = {
    "softmax": (1e-3, 100, 15), "mlp": (1e-3, 100, 15),
    "xavier": (1e-3, 100, 15), "deep": (1e-3, 100, 15), "dropout": (1e-3, 100, 15),
    "batchnorm": (1e-2, 32, 10), "cnn": (1e-3, 100, 15),
}
CHAPTER_MODELS = ("xavier", "deep", "dropout", "batchnorm", "cnn")
DROPOUT_P = 0.3


def fill_defaults(args):
    """Give --lr, --batch-size and --epochs the chosen model's defaults where they were not given."""
    lr, batch, epochs = DEFAULTS.get(args.model, DEFAULTS["softmax"])
    if args.lr is None:
        args.lr = lr
    if args.batch_size is None:
        args.batch_size = batch
    if args.epochs is None:
        args.epochs = epochs
    return args


# ----- models -------------------------------------------------------------------------------------
def _xavier_mlp(widths, dtype, backend, dropout=None):
    """Linear -> ReLU (-> Dropout) ... -> Linear, each weight redrawn with xavier_uniform_ (biases keep
    nn.Linear's default), in the order the chapter's programs do it: all layers made, then initialized."""
    linears = [nn.Linear(a, b, dtype=dtype, backend=backend) for a, b in zip(widths[:-1], widths[1:])]
    for layer in linears:
        nn.init.xavier_uniform_(layer.weight)
    modules = []
    for layer in linears[:-1]:
        modules += [layer, nn.ReLU()] + ([nn.Dropout(p=dropout)] if dropout else [])
    return nn.Sequential(*modules, linears[-1])


def batchnorm_pair(dtype="float32", backend=None):
    """(with BatchNorm, without): 784-32-32-10, nn.Linear's default init, as the chapter builds them."""
    linears = [nn.Linear(784, 32, dtype=dtype, backend=backend), nn.Linear(32, 32, dtype=dtype, backend=backend),
               nn.Linear(32, 10, dtype=dtype, backend=backend)]
    norms = [nn.BatchNorm1d(32, dtype=dtype, backend=backend) for _ in range(2)]
    with_bn = nn.Sequential(linears[0], norms[0], nn.ReLU(), linears[1], norms[1], nn.ReLU(), linears[2])
    plain = [nn.Linear(784, 32, dtype=dtype, backend=backend), nn.Linear(32, 32, dtype=dtype, backend=backend),
             nn.Linear(32, 10, dtype=dtype, backend=backend)]
    without_bn = nn.Sequential(plain[0], nn.ReLU(), plain[1], nn.ReLU(), plain[2])
    return with_bn, without_bn


class CNN(nn.Module):
    """Two conv blocks and a classifier, named as the chapter's torch program names them
    (layer1.0.weight, layer2.0.weight, fc.weight) so torch's state_dict loads as it is."""

    def __init__(self, dtype="float32", backend=None):
        super().__init__()
        self.layer1 = nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1, dtype=dtype, backend=backend), nn.ReLU(),
                                    nn.MaxPool2d(2, 2))
        self.layer2 = nn.Sequential(nn.Conv2d(32, 64, 3, 1, 1, dtype=dtype, backend=backend), nn.ReLU(),
                                    nn.MaxPool2d(2, 2))
        self.fc = nn.Linear(7 * 7 * 64, 10, dtype=dtype, backend=backend)
        nn.init.xavier_uniform_(self.fc.weight)

    def forward(self, x):
        if x.ndim == 2:  # rows of 784 pixels (the DataLoader's batches) seen as 1x28x28 images
            x = x.reshape(x.shape[0], 1, 28, 28)
        out = self.layer2(self.layer1(x))
        return self.fc(out.reshape(out.shape[0], -1))


def build(name, dtype="float32", backend=None):
    """The chapter's model ``name`` (see the table above); batchnorm gives the model with BatchNorm."""
    dtype = np.dtype(dtype)
    if name == "xavier":
        return _xavier_mlp([784, 256, 256, 10], dtype, backend)
    if name == "deep":
        return _xavier_mlp([784, 512, 512, 512, 512, 10], dtype, backend)
    if name == "dropout":
        return _xavier_mlp([784, 512, 512, 512, 512, 10], dtype, backend, dropout=DROPOUT_P)
    if name == "batchnorm":
        return batchnorm_pair(dtype, backend)[0]
    if name == "cnn":
        return CNN(dtype, backend)
    raise ValueError(f"unknown chapter model {name!r}; choose one of {', '.join(CHAPTER_MODELS)}")


# ----- the batchnorm program: two nets trained side by side -----------------------------------------
def loss_and_accuracy(model, images, labels, dtype="float32", backend=None, raw_pixels=False, chunk=10000):
    """(mean cross-entropy, accuracy) over a whole split, in eval mode, without a graph."""
    backend = get_backend(backend)
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    with no_grad():
        for start in range(0, len(images), chunk):
            x = Tensor._wrap(image_rows(images[start:start + chunk], dtype, backend, raw_pixels))
            y = Tensor._wrap(backend.asarray(np.asarray(labels[start:start + chunk], dtype=np.int64)))
            logits = model(x)
            total += float(F.cross_entropy(logits, y, reduction="sum").item())
            correct += int((logits.data.argmax(axis=1) == y.data).sum().item())
    model.train(was_training)
    return total / len(images), correct / len(images)


def train_side_by_side(models, loader, optimizers, epochs, on_epoch=None, evaluate=None):
    """Train each model on the same batches (one step of each per batch), in train() mode; after each
    epoch, ``evaluate(model)`` for every model (in eval() mode), passed to ``on_epoch(epoch, results)``."""
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for epoch in range(1, epochs + 1):
        for model in models:
            model.train()
        for x, y in loader:
            for model, optimizer in zip(models, optimizers):
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
        results = [evaluate(model) for model in models] if evaluate is not None else []
        history.append(results)
        if on_epoch is not None:
            on_epoch(epoch, results)
    return history


def comparison_lines(epoch, split, bn, plain):
    """The chapter's per-epoch line: loss and accuracy with and without BatchNorm."""
    return (f"[Epoch {epoch}-{split}] Batchnorm Loss(Acc): bn_loss:{bn[0]:.5f}(bn_acc:{bn[1]:.2f}) "
            f"vs No Batchnorm Loss(Acc): nn_loss:{plain[0]:.5f}(nn_acc:{plain[1]:.2f})")


def run_batchnorm(args, setup, data, make_optimizer, plot_path=None):
    """`train --model batchnorm`: both nets from the same seed, the same batches, and their table."""
    train_set, test_set = data
    backend = setup["backend"]
    mt_random.manual_seed(args.seed)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=True,
                        backend=backend, dtype=args.dtype)
    models = batchnorm_pair(args.dtype, backend)
    optimizers = [make_optimizer(args.optimizer, m.parameters(), lr=args.lr, **setup["optim_options"]) for m in models]
    raw = args.raw_test_pixels

    def evaluate(model):
        return (loss_and_accuracy(model, train_set.images, train_set.labels, args.dtype, backend, raw),
                loss_and_accuracy(model, test_set.images, test_set.labels, args.dtype, backend, raw))

    def report(epoch, results):
        (bn_train, bn_test), (nn_train, nn_test) = results
        print(comparison_lines(epoch, "TRAIN", bn_train, nn_train))
        print(comparison_lines(epoch, "VALID", bn_test, nn_test), flush=True)

    history = train_side_by_side(models, loader, optimizers, args.epochs, on_epoch=report, evaluate=evaluate)
    print("Learning finished")
    if plot_path:
        plot_batchnorm(plot_path, history)
    return history


def plot_batchnorm(path, history):
    """Four panels (train/test loss, train/test accuracy), with and without BatchNorm, per epoch."""
    from matplotlib.figure import Figure

    epochs = range(1, len(history) + 1)
    fig = Figure(figsize=(10, 7), layout="constrained")
    axes = fig.subplots(2, 2)
    for col, (split, index) in enumerate((("train", 0), ("test", 1))):
        for row, (what, k) in enumerate((("loss", 0), ("accuracy", 1))):
            ax = axes[row][col]
            ax.plot(epochs, [h[0][index][k] for h in history], "o-", label="with BatchNorm")
            ax.plot(epochs, [h[1][index][k] for h in history], "s--", label="without BatchNorm")
            ax.set_title(f"{split} {what}")
            ax.set_xlabel("epoch")
            ax.legend()
    fig.suptitle("784-32-32-10 on MNIST: BatchNorm against none (Adam, same batches)")
    fig.savefig(path, dpi=80)
    print(f"wrote {path}", file=sys.stderr)
