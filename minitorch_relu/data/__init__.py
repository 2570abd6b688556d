"""MNIST: the IDX reader, integrity checks, a safe download, and a vectorized DataLoader.

    from minitorch_relu.data import MNIST, DataLoader
    train = MNIST("../shared/data", train=True)       # or $MINITORCH_RELU_DATA, or MNIST_data/
    loader = DataLoader(train, batch_size=100, shuffle=True, drop_last=True, seed=777)

The download code (urllib) is imported only when a download is asked for.
"""

from .errors import CorruptDataError, DataError, DownloadError, MissingDataError
from .files import FILES, find_file, missing_names, resolve_root
from .idx import parse_idx, read_bytes, write_idx
from .loader import DataLoader, ReplaySampler, image_rows
from .mnist import MNIST, download_missing, load_split, load_train_and_test

load_mnist = load_split  # (images uint8 (N, 28, 28), labels int64) of one split: load_mnist(root, train=True)
download_mnist = download_missing  # the MNIST files missing under a root, fetched from the mirrors
