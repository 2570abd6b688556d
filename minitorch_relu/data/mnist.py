"""MNIST from its four IDX files, plain or .gz, in torchvision's layout or a flat folder.

Where the files are looked for, and the root's default: see files.py.

Integrity: besides the IDX header checks (magic, counts, 28x28, file length), the md5 of the
*decompressed* bytes is compared with the original files' known md5, so any faithful copy passes
whatever gzip level made the .gz.
"""

import hashlib

import numpy as np

from .errors import CorruptDataError, MissingDataError
from .files import FILES, SPLITS, find_file, missing_files_message, missing_names, resolve_root
from .idx import parse_idx, read_bytes

IMAGE_SHAPE = (28, 28)


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
    if download:
        download_missing(root, names)
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
        download_missing(root)
    missing = missing_names(root)
    if missing:
        raise MissingDataError(missing_files_message(root, missing, None if download else download_hint))
    return MNIST(root, train=True), MNIST(root, train=False)


def download_missing(root=None, names=None, **options):
    """Download those of ``names`` (default: all four files) not under ``root``; returns the root.
    ``options``: data.download.download_mnist's (mirrors, retries, timeout, backoff, log)."""
    from . import download  # the network code (urllib, http) only when a download is asked for

    root = resolve_root(root)
    download.download_mnist(root, names=missing_names(root, names), **options)
    return root
