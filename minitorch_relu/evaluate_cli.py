"""`minitorch-relu evaluate DIR|FILE.safetensors`: the test accuracy of a saved model.

DIR is a folder written by `train --save`; FILE any safetensors file holding one of the CLI's
models under torch's key names (one torch saved with safetensors.torch.save_file works too). The
model is recognised by the name `train --save` recorded, else by its tensors' names and shapes.
"""

import sys

from .backend import get_backend
from .checkpoint import CheckpointError, load_model
from .data import MNIST, DataError
from .train_cli import BACKENDS
from .training import evaluate


def add_arguments(parser):
    parser.add_argument("path", metavar="DIR|FILE.safetensors", help="a folder written by train --save, or a file")
    add_shared_arguments(parser)


def add_shared_arguments(parser):
    parser.add_argument("--data-dir", default=None, help="MNIST folder, as for train")
    parser.add_argument("--backend", default="numpy", type=str.lower, choices=BACKENDS, help="default: numpy")
    parser.add_argument("--raw-test-pixels", action="store_true",
                        help="raw 0..255 test pixels, the lesson's quirk (default: scaled to [0, 1] as in training)")


def load(args, command):
    """(model, dtype, backend, test set) for ``args``, or an exit code after a one-line message."""
    try:
        backend = get_backend(args.backend)
    except RuntimeError as exc:
        return fail(command, str(exc), 2)
    try:
        model, _, dtype = load_model(args.path, backend)
    except CheckpointError as exc:
        return fail(command, str(exc), 2)
    try:
        test_set = MNIST(args.data_dir, train=False)
    except DataError as exc:
        return fail(command, str(exc), 1)
    return model, dtype, backend, test_set


def fail(command, message, code):
    print(f"minitorch-relu {command}: error: {message}", file=sys.stderr)
    return code


def run(args):
    loaded = load(args, "evaluate")
    if isinstance(loaded, int):
        return loaded
    model, dtype, backend, test_set = loaded
    print("Accuracy:", evaluate(model, test_set.images, test_set.labels, dtype, backend, args.raw_test_pixels))
    return 0
