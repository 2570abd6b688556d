"""`minitorch-relu predict DIR --index N`: one test image, its label and the saved model's prediction.

The image is drawn in the terminal (darker characters for brighter pixels); then the lesson's two
lines, ``Label:`` and ``Prediction:``, and the model's probability for each class. Without
--index, the image is the lesson's (``random.seed(777); random.randint(0, 9999)``).
"""

import argparse

import numpy as np

from . import evaluate_cli
from .autograd import no_grad
from .data import image_rows
from .nn.functional import softmax
from .tensor import Tensor
from .training import lesson_sample_index

SHADES = " .:-=+*#%@"  # pixel 0 -> " ", pixel 255 -> "@"


def _index(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def add_arguments(parser):
    parser.add_argument("path", metavar="DIR|FILE.safetensors", help="a folder written by train --save, or a file")
    parser.add_argument("--index", type=_index, default=None,
                        help="which test image, 0..9999 (default: the lesson's, random.seed(777))")
    evaluate_cli.add_shared_arguments(parser)


def draw(image):
    """A 28x28 uint8 image as 28 lines of text, two characters per pixel (terminal cells are tall)."""
    levels = (image.astype(int) * len(SHADES)) // 256
    return "\n".join("".join(SHADES[v] * 2 for v in row).rstrip() for row in levels)


def run(args):
    loaded = evaluate_cli.load(args, "predict")
    if isinstance(loaded, int):
        return loaded
    model, dtype, backend, test_set = loaded
    n = len(test_set)
    index = lesson_sample_index(777, n) if args.index is None else args.index
    if index >= n:
        return evaluate_cli.fail("predict", f"--index {index}: the test set has {n} images (0..{n - 1})", 2)
    x = Tensor._wrap(image_rows(test_set.images[index:index + 1], dtype, backend, args.raw_test_pixels))
    with no_grad():
        probabilities = softmax(model(x), dim=1).numpy()[0]
    print(f"test image {index}:")
    print(draw(test_set.images[index]))
    print("Label: ", int(test_set.labels[index]))
    print("Prediction: ", int(np.argmax(probabilities)))
    print("probabilities: " + "  ".join(f"{c}: {p:.3f}" for c, p in enumerate(probabilities)))
    return 0
