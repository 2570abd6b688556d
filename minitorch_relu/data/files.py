"""Which files MNIST is, where they are looked for, and the message when some are not there.

Shared by the reader (mnist.py) and the downloader (download.py), so neither imports the other.

Where the files are looked for, in order (the first folder holding a file wins, per file):

    <root>/MNIST/raw/<name>  or  <name>.gz      torchvision's layout (root='MNIST_data/' in the lesson)
    <root>/<name>            or  <name>.gz      a flat folder

The root is the ``root`` argument, else the environment variable MINITORCH_RELU_DATA, else
"MNIST_data/" as in the lesson.
"""

import os
from pathlib import Path

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


def missing_names(root, names=None):
    """Those of ``names`` (default: all four files) not found under ``root``, in order."""
    return [name for name in (FILES if names is None else names) if find_file(root, name) is None]


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
