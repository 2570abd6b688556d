"""Training examples for the demos: MNIST when it is found, else a synthetic stand-in (with a note)."""

import numpy as np

from .. import data


def add_data_arguments(parser):
    parser.add_argument("--data-dir", default=None,
                        help=f"MNIST root, as for `train` (default ${data.files.ENV_VAR} or {data.files.DEFAULT_ROOT})")
    parser.add_argument("--synthetic", action="store_true",
                        help="use synthetic data even when MNIST is there (fast, for tests)")


def synthetic(n, seed=0, n_features=784, n_classes=10):
    """Pixels uniform in [0, 1]; the label is the argmax of a fixed random linear map (a learnable task)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, n_features), dtype=np.float32)
    teacher = rng.standard_normal((n_features, n_classes)).astype(np.float32)
    y = np.argmax((x - 0.5) @ teacher, axis=1).astype(np.int64)
    return x, y


def training_sample(args, n):
    """The first ``n`` MNIST training examples (pixels scaled to [0, 1]), or ``n`` synthetic ones;
    plus a line saying which."""
    root = data.resolve_root(args.data_dir)
    if not args.synthetic:
        try:
            images, labels = data.load_split(root, train=True)
            x = images[:n].reshape(n, -1).astype(np.float32) / 255.0
            return x, labels[:n], f"MNIST from {root} (first {n} training images)"
        except data.DataError as exc:
            first_line = str(exc).splitlines()[0]
            note = f"note: MNIST not usable under {str(root)!r} ({first_line}); using a "
    else:
        note = ""
    x, y = synthetic(n)
    return x, y, note + f"synthetic stand-in: {n} random 784-pixel inputs, labels from a random linear map"
