"""MNIST from its four IDX files, plain or .gz, in torchvision's layout or a flat folder.

Where the files are looked for, in order (the first folder holding a file wins, per file):

    <root>/MNIST/raw/<name>  or  <name>.gz      torchvision's layout (root='MNIST_data/' in the lesson)
    <root>/<name>            or  <name>.gz      a flat folder

The root is the ``root`` argument, else the environment variable MINITORCH_RELU_DATA, else
"MNIST_data/" as in the lesson.

Integrity: besides the IDX header checks (magic, counts, 28x28, file length), the md5 of the
*decompressed* bytes is compared with the original files' known md5, so any faithful copy passes
whatever gzip level made the .gz.
"""

import hashlib
import os
from pathlib import Path

import numpy as np

from .errors import CorruptDataError, MissingDataError
from .idx import parse_idx, read_bytes

DEFAULT_ROOT = "MNIST_data/"
ENV_VAR = "MINITORCH_RELU_DATA"

# name -> (md5 of the uncompressed file, number of items)
FILES = {
    "train-images-idx3-ubyte": ("6bbc9ace898e44ae57da46a324031adb", 60000),
    "train-labels-idx1-ubyte": ("a25bea736e30d166cdddb491f175f624", 60000),
    "t10k-images-idx3-ubyte": ("2646ac647ad5339dbf082846283269ea", 10000),
    "t10k-labels-idx1-ubyte": ("27ae3e4e09519cfbb04c329615203637", 10000),
}
SPLITS = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_SHAPE = (28, 28)


def resolve_root(root=None):
    """The data root: the argument, else $MINITORCH_RELU_DATA, else the lesson's "MNIST_data/"."""
    if root is None or root == "":
        root = os.environ.get(ENV_VAR) or DEFAULT_ROOT
    return Path(root).expanduser()


def candidate_folders(root):
    """The folders searched for the files, torchvision's layout first."""
    root = Path(root)
    return [root / "MNIST" / "raw", root]


def find_file(root, name):
    """The path of ``name`` or ``name``.gz under ``root`` (see the module docstring), or None."""
    for folder in candidate_folders(root):
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    return None


def missing_files_message(root, names, download_hint=None, reason=""):
    """One message saying which files are missing, where they were expected, and how to place them.

    ``download_hint`` (e.g. "--download") is offered as the other way to get them; None when a
    download was already tried or the caller has no such option.
    """
    root = Path(root)
    raw = root / "MNIST" / "raw"
    lines = []
    if reason:
        lines.append(reason)
    if not root.is_dir():
        lines.append(f"MNIST data folder {str(root)!r} does not exist.")
    lines.append(f"missing MNIST file(s): {', '.join(names)}")
    lines.append(f"expected in {str(raw)!r} (torchvision's layout) or directly in {str(root)!r}, "
                 "each plain or gzip-compressed (.gz)")
    lines.append(
        "to place them by hand: get the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (for example from "
        "https://ossci-datasets.s3.amazonaws.com/mnist/ or a copy torchvision downloaded), "
        f"then: mkdir -p {raw} && cp <those files> {raw}/"
    )
    other = "or pick another folder with --data-dir / the MINITORCH_RELU_DATA environment variable"
    lines.append(other + (f", or allow a download with {download_hint}" if download_hint else ""))
    return "\n".join(lines)


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def check_file(path, name, data=None, check_md5=True):
    """The array in ``path`` (the MNIST file ``name``), after every integrity check."""
    if data is None:
        data = read_bytes(path)
    expected_md5, count = FILES[name]
    array = parse_idx(data, name=str(path))
    is_images = "images" in name
    expected_shape = (count, *IMAGE_SHAPE) if is_images else (count,)
    if array.dtype != np.uint8:
        raise CorruptDataError(f"{path}: MNIST {name} must hold unsigned bytes, got {array.dtype}")
    if array.shape != expected_shape:
        what = f"{count} images of 28x28" if is_images else f"{count} labels"
        raise CorruptDataError(f"{path}: expected {what} (shape {expected_shape}), the header says {array.shape}")
    if check_md5:
        actual = md5_hex(data)
        if actual != expected_md5:
            raise CorruptDataError(
                f"{path}: md5 of the decompressed bytes is {actual}, expected {expected_md5} "
                "(the file is corrupt or not the original MNIST file); delete it and place a good copy"
            )
    if not is_images and int(array.max()) > 9:
        raise CorruptDataError(f"{path}: labels must lie in 0..9, found {int(array.max())}")
    return array


def load_split(root=None, train=True, download=False, check_md5=True):
    """(images uint8 (N, 28, 28), labels int64 (N,)) of one split, checked; see MNIST."""
    root = resolve_root(root)
    names = SPLITS[bool(train)]
    paths = {name: find_file(root, name) for name in names}
    missing = [name for name, path in paths.items() if path is None]
    if missing and download:
        from .download import download_mnist  # network code only when asked for

        download_mnist(root, names=missing)
        paths = {name: find_file(root, name) for name in names}
        missing = [name for name, path in paths.items() if path is None]
    if missing:
        raise MissingDataError(missing_files_message(root, missing, None if download else "download=True"))
    images = check_file(paths[names[0]], names[0], check_md5=check_md5)
    labels = check_file(paths[names[1]], names[1], check_md5=check_md5).astype(np.int64)
    return images, labels


class MNIST:
    """One split of MNIST held in memory as NumPy arrays.

    ``images`` is uint8 (N, 28, 28), ``labels`` int64 (N,); ``data``/``targets`` are torchvision's
    names for the same arrays. Pixels stay raw 0..255 here; the DataLoader scales them to [0, 1].
    """

    def __init__(self, root=None, train=True, download=False, check_md5=True):
        self.root = resolve_root(root)
        self.train = bool(train)
        self.images, self.labels = load_split(self.root, self.train, download=download, check_md5=check_md5)

    @property
    def data(self):
        return self.images

    @property
    def targets(self):
        return self.labels

    def __len__(self):
        return len(self.labels)

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"MNIST(split={split!r}, root={str(self.root)!r}, n={len(self)})"


def load_train_and_test(root=None, download=False, download_hint="--download"):
    """(train MNIST, test MNIST) for a command: every missing file of both splits named in one
    message, or all fetched at once with ``download``. ``download_hint``: how the command asks for
    a download (offered only when none was asked for)."""
    root = resolve_root(root)
    if download:
        from .download import download_mnist  # network code only when asked for

        download_mnist(root, names=[name for name in FILES if find_file(root, name) is None])
    missing = [name for name in FILES if find_file(root, name) is None]
    if missing:
        raise MissingDataError(missing_files_message(root, missing, None if download else download_hint))
    return MNIST(root, train=True), MNIST(root, train=False)
