"""The MNIST reader (IDX, plain or .gz, both layouts), its integrity checks, and the DataLoader."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu_testing import strict
from minitorch_relu.data import (MNIST, CorruptDataError, DataLoader, MissingDataError, load_mnist, parse_idx,
                                 resolve_root, write_idx)
from minitorch_relu.data.files import DEFAULT_ROOT, ENV_VAR, FILES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
RAW = SHARED / "MNIST" / "raw"
needs_mnist = pytest.mark.skipif(not (RAW / "t10k-labels-idx1-ubyte").is_file(),
                                 reason=f"MNIST not found in {RAW} (the shared data folder)")


# ----- IDX ----------------------------------------------------------------------------------------
def test_idx_round_trip_plain_and_gz(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    for name in ("a-idx3-ubyte", "a-idx3-ubyte.gz"):
        write_idx(images, tmp_path / name)
        got = parse_idx(mt.data.read_bytes(tmp_path / name), name)
        assert got.dtype == np.uint8 and got.shape == (2, 3, 4)
        np.testing.assert_array_equal(got, images)
    wide = np.array([[1.5, -2.0], [3.25, 1e30]], dtype=np.float32)
    write_idx(wide, tmp_path / "w")
    np.testing.assert_array_equal(parse_idx((tmp_path / "w").read_bytes()), wide)


def test_idx_header_bytes_are_big_endian():
    blob = bytes([0, 0, 0x08, 1]) + (3).to_bytes(4, "big") + bytes([7, 8, 9])
    np.testing.assert_array_equal(parse_idx(blob), [7, 8, 9])


@pytest.mark.parametrize("blob, words", [
    (b"\x00\x00", ["too short"]),
    (bytes([1, 0, 8, 1]) + (1).to_bytes(4, "big") + b"x", ["bad magic", "0x01000801"]),
    (bytes([0, 0, 0x42, 1]) + (1).to_bytes(4, "big") + b"x", ["unknown type code 0x42"]),
    (bytes([0, 0, 8, 3]) + (1).to_bytes(4, "big"), ["too short", "3-dimension"]),
    (bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"abc", ["file length 11", "need 13", "truncated"]),
    (bytes([0, 0, 8, 1]) + (2).to_bytes(4, "big") + b"abc", ["file length 11", "trailing bytes"]),
])
def test_idx_errors_name_the_file_and_the_fault(blob, words):
    with pytest.raises(CorruptDataError) as info:
        parse_idx(blob, name="some/file-idx1-ubyte")
    message = str(info.value)
    assert message.startswith("some/file-idx1-ubyte: ")
    for word in words:
        assert word in message


# ----- MNIST on the real files --------------------------------------------------------------------
@pytest.fixture(scope="module")
def test_split():
    if not (RAW / "t10k-labels-idx1-ubyte").is_file():
        pytest.skip(f"MNIST not found in {RAW}")
    return MNIST(SHARED, train=False)


@needs_mnist
def test_reads_torchvision_layout(test_split):
    assert len(test_split) == 10000
    assert test_split.images.shape == (10000, 28, 28) and test_split.images.dtype == np.uint8
    assert test_split.labels.dtype == np.int64
    # Well-known facts about the test set: its first labels, and how many of each digit.
    assert test_split.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(test_split.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert test_split.images.max() == 255 and test_split.images.min() == 0
    assert test_split.data is test_split.images and test_split.targets is test_split.labels


@needs_mnist
def test_train_split_first_labels():
    images, labels = load_mnist(SHARED, train=True)
    assert images.shape == (60000, 28, 28)
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def _flat_copy(tmp_path, gz, names=("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")):
    """A flat folder holding the test split's files (plain or .gz)."""
    for name in names:
        name = name + (".gz" if gz else "")
        shutil.copyfile(RAW / name, tmp_path / name)
    return tmp_path


@needs_mnist
@pytest.mark.parametrize("gz", [False, True])
def test_flat_folder_plain_or_gz_gives_the_same_arrays(tmp_path, gz, test_split):
    flat = MNIST(_flat_copy(tmp_path, gz), train=False)
    np.testing.assert_array_equal(flat.images, test_split.images)
    np.testing.assert_array_equal(flat.labels, test_split.labels)


def test_root_resolution(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_root() == Path(DEFAULT_ROOT) == Path("MNIST_data")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "env"))
    assert resolve_root() == tmp_path / "env"
    assert resolve_root(tmp_path / "arg") == tmp_path / "arg"  # the argument wins over the variable


@needs_mnist
def test_environment_variable_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(_flat_copy(tmp_path, gz=True)))
    assert MNIST(train=False).labels[0] == 7


def test_missing_folder_says_which_files_and_where(tmp_path):
    root = tmp_path / "nowhere"
    with pytest.raises(MissingDataError) as info:
        MNIST(root, train=True)
    message = str(info.value)
    assert f"MNIST data folder {str(root)!r} does not exist" in message
    assert "train-images-idx3-ubyte, train-labels-idx1-ubyte" in message
    assert str(root / "MNIST" / "raw") in message and "mkdir -p" in message
    assert isinstance(info.value, FileNotFoundError)


@needs_mnist
def test_one_missing_file_is_named_alone(tmp_path):
    _flat_copy(tmp_path, gz=True, names=("t10k-images-idx3-ubyte",))
    with pytest.raises(MissingDataError) as info:
        MNIST(tmp_path, train=False)
    message = str(info.value)
    assert "missing MNIST file(s): t10k-labels-idx1-ubyte\n" in message
    assert "does not exist" not in message  # the folder is there


@needs_mnist
def test_truncated_plain_file(tmp_path):
    data = (RAW / "t10k-labels-idx1-ubyte").read_bytes()
    _flat_copy(tmp_path, gz=False, names=("t10k-images-idx3-ubyte",))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(data[:5000])
    with pytest.raises(CorruptDataError) as info:
        MNIST(tmp_path, train=False)
    message = str(info.value)
    assert str(tmp_path / "t10k-labels-idx1-ubyte") in message
    assert "file length 5000 bytes" in message and "truncated" in message


@needs_mnist
def test_truncated_gz_file(tmp_path):
    data = (RAW / "t10k-labels-idx1-ubyte.gz").read_bytes()
    _flat_copy(tmp_path, gz=True, names=("t10k-images-idx3-ubyte",))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDataError, match=r"t10k-labels-idx1-ubyte\.gz: the gzip stream ends early"):
        MNIST(tmp_path, train=False)


@needs_mnist
def test_not_a_gzip_file(tmp_path):
    _flat_copy(tmp_path, gz=True, names=("t10k-images-idx3-ubyte",))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"this is not gzip data at all")
    with pytest.raises(CorruptDataError, match=r"t10k-labels-idx1-ubyte\.gz: not a valid gzip file"):
        MNIST(tmp_path, train=False)


@needs_mnist
def test_corrupt_byte_fails_the_md5(tmp_path):
    data = bytearray((RAW / "t10k-labels-idx1-ubyte").read_bytes())
    data[100] = (data[100] + 1) % 10  # still a valid label, so only the checksum can tell
    _flat_copy(tmp_path, gz=False, names=("t10k-images-idx3-ubyte",))
    with gzip.open(tmp_path / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes(data))
    with pytest.raises(CorruptDataError) as info:
        MNIST(tmp_path, train=False)
    message = str(info.value)
    assert str(tmp_path / "t10k-labels-idx1-ubyte.gz") in message
    assert "md5 of the decompressed bytes is" in message and FILES["t10k-labels-idx1-ubyte"][0] in message
    # The check can be switched off, and then the altered label is read as written.
    labels = MNIST(tmp_path, train=False, check_md5=False).labels
    assert labels[92] == data[100]


@needs_mnist
def test_wrong_count_and_image_size_are_reported(tmp_path):
    _flat_copy(tmp_path, gz=False, names=("t10k-labels-idx1-ubyte",))
    write_idx(np.zeros((10000, 28, 27), dtype=np.uint8), tmp_path / "t10k-images-idx3-ubyte")
    with pytest.raises(CorruptDataError, match=r"expected 10000 images of 28x28 .* the header says \(10000, 28, 27\)"):
        MNIST(tmp_path, train=False)
    write_idx(np.zeros((9999, 28, 28), dtype=np.uint8), tmp_path / "t10k-images-idx3-ubyte")
    with pytest.raises(CorruptDataError, match=r"the header says \(9999, 28, 28\)"):
        MNIST(tmp_path, train=False)


@needs_mnist
def test_plain_file_is_preferred_to_a_broken_flat_copy(tmp_path):
    # torchvision's layout is searched first; a stray broken file in the flat folder is not read.
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    _flat_copy(raw, gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(b"junk")
    assert MNIST(tmp_path, train=False).labels[0] == 7


# ----- DataLoader ---------------------------------------------------------------------------------
def _toy(n=10):
    images = (np.arange(n * 4, dtype=np.int64) * 7 % 256).astype(np.uint8).reshape(n, 2, 2)
    labels = np.arange(n, dtype=np.int64)
    return images, labels


def test_len_and_batch_sizes_follow_drop_last():
    data = _toy(10)
    assert len(DataLoader(data, batch_size=3)) == 4
    assert [len(y) for _, y in DataLoader(data, batch_size=3)] == [3, 3, 3, 1]
    assert len(DataLoader(data, batch_size=3, drop_last=True)) == 3
    assert [len(y) for _, y in DataLoader(data, batch_size=3, drop_last=True)] == [3, 3, 3]
    assert len(DataLoader(data, batch_size=10, drop_last=True)) == 1


def test_no_shuffle_keeps_order_and_scales_like_to_tensor():
    images, labels = _toy(10)
    batches = list(DataLoader((images, labels), batch_size=4))
    x, y = batches[0]
    assert x.shape == (4, 4) and x.dtype == np.float32 and y.dtype == np.int64
    assert not x.requires_grad
    np.testing.assert_array_equal(y.numpy(), [0, 1, 2, 3])
    expected = images[:4].reshape(4, 4).astype(np.float32) / np.float32(255)
    assert np.array_equal(x.numpy(), expected)  # bit for bit: cast, then divide in float32
    assert x.numpy().max() <= 1.0 and x.numpy().min() >= 0.0
    full = np.concatenate([xb.numpy() for xb, _ in batches])
    assert full[np.unravel_index(np.argmax(images.reshape(10, 4)), (10, 4))] == np.float32(images.max() / 255)


def test_pixel_255_becomes_one_and_float64_divides_in_float64():
    images = np.array([[[0, 1], [128, 255]]], dtype=np.uint8)
    x64, _ = next(iter(DataLoader((images, [3]), dtype=np.float64)))
    np.testing.assert_array_equal(x64.numpy(), [[0.0, 1 / 255, 128 / 255, 1.0]])
    assert x64.dtype == np.float64
    x, _ = next(iter(DataLoader((images, [3]), flatten=False)))
    assert x.shape == (1, 2, 2)


def test_float_images_are_not_rescaled():
    images = np.full((3, 2), 0.5, dtype=np.float32)
    x, _ = next(iter(DataLoader((images, [0, 1, 2]), batch_size=3)))
    np.testing.assert_array_equal(x.numpy(), np.full((3, 2), 0.5))


def test_shuffle_covers_each_sample_once_and_changes_each_epoch():
    images, labels = _toy(50)
    loader = DataLoader((images, labels), batch_size=7, shuffle=True, seed=3)
    first = np.concatenate([y.numpy() for _, y in loader])
    second = np.concatenate([y.numpy() for _, y in loader])
    assert sorted(first.tolist()) == list(range(50)) and sorted(second.tolist()) == list(range(50))
    assert not np.array_equal(first, second)
    assert not np.array_equal(first, np.arange(50))
    # images travel with their labels
    for x, y in loader:
        expected = images[y.numpy()].reshape(len(y), -1).astype(np.float32) / np.float32(255)
        np.testing.assert_array_equal(x.numpy(), expected)


def test_seed_generator_and_manual_seed_give_reproducible_orders():
    data = _toy(30)

    def order(loader):
        return np.concatenate([y.numpy() for _, y in loader])

    assert np.array_equal(order(DataLoader(data, 5, shuffle=True, seed=1)), order(DataLoader(data, 5, shuffle=True, seed=1)))
    assert not np.array_equal(order(DataLoader(data, 5, shuffle=True, seed=1)),
                              order(DataLoader(data, 5, shuffle=True, seed=2)))
    expected = np.random.default_rng(9).permutation(30)
    assert np.array_equal(order(DataLoader(data, 5, shuffle=True, generator=np.random.default_rng(9))), expected)
    # By default the engine's generator, as reseeded by manual_seed, draws the order as torch's
    # DataLoader does: the iterator's base seed, then a seed for a fresh generator, then randperm.
    from minitorch_relu import random as mt_random

    mt.manual_seed(9)
    mt_random.draw_seed()
    expected = mt_random.permutation(30, mt.Generator().manual_seed(mt_random.draw_seed()))
    mt.manual_seed(9)
    assert np.array_equal(order(DataLoader(data, 5, shuffle=True)), expected)


def test_sampler_replays_given_orders():
    data = _toy(6)
    orders = iter([[5, 4, 3, 2, 1, 0], [0, 2, 4, 1, 3, 5]])

    class Sampler:
        def __iter__(self):
            return iter(next(orders))

    loader = DataLoader(data, batch_size=4, sampler=Sampler())
    assert [y.tolist() for _, y in loader] == [[5, 4, 3, 2], [1, 0]]
    assert [y.tolist() for _, y in loader] == [[0, 2, 4, 1], [3, 5]]
    with pytest.raises(ValueError, match=r"indices in \[0, 6\)"):
        list(DataLoader(data, batch_size=4, sampler=[0, 9]))


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, "10"])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {batch_size!r}"):
        DataLoader(_toy(10), batch_size=batch_size)


def test_batch_larger_than_the_data_set_with_drop_last():
    with pytest.raises(ValueError, match=r"batch_size=11 is larger than the data set \(10 samples\) with drop_last"):
        DataLoader(_toy(10), batch_size=11, drop_last=True)
    assert [len(y) for _, y in DataLoader(_toy(10), batch_size=11)] == [10]  # without drop_last: one short batch


def test_other_bad_arguments():
    data = _toy(10)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(data, shuffle=True, sampler=[0])
    with pytest.raises(ValueError, match="seed or generator, not both"):
        DataLoader(data, seed=1, generator=np.random.default_rng())
    with pytest.raises(TypeError, match="minitorch_relu Generator"):
        DataLoader(data, generator=7)
    with pytest.raises(TypeError, match="floating point"):
        DataLoader(data, dtype=np.int32)
    with pytest.raises(ValueError, match=r"same first dimension"):
        DataLoader((np.zeros((3, 2)), np.zeros(4)))
    with pytest.raises(TypeError, match="pair or have .images and .labels"):
        DataLoader(object())


def test_device_loader_uploads_once_and_moves_one_order_per_epoch(backend):
    images, labels = _toy(40)
    loader = DataLoader((images, labels), batch_size=8, shuffle=True, seed=0, backend=backend)
    x, y = next(iter(loader))
    assert x.backend == backend and y.backend == backend
    if backend != "strict":
        return
    strict.reset_transfers()
    batches = list(loader)
    assert len(batches) == 5
    # One host->device copy per epoch (the permutation); batches are cut on the device; nothing comes back.
    assert strict.transfers == {"to_device": 1, "to_host": 0}
    got = np.concatenate([b[1].numpy() for b in batches])
    assert sorted(got.tolist()) == list(range(40))


@pytest.mark.parametrize("labels", [np.array([0.0, 1.7, 2.0]), np.array([0.0, np.nan, 1.0]), np.array([True, False, True]),
                                    np.array(["1", "2", "3"])])
def test_the_loader_refuses_labels_that_are_not_integers(labels):
    # Cast to int64, 1.7 would become class 1 and nan the int64 minimum, silently.
    with pytest.raises(TypeError, match=rf"DataLoader: labels must be integer class indices, got dtype {labels.dtype}"):
        DataLoader((np.zeros((3, 4), np.float32), labels), batch_size=1)
    for ok in (np.array([0, 1, 2]), np.array([0, 1, 2], np.uint8)):  # integers of any width are fine
        _, y = next(iter(DataLoader((np.zeros((3, 4), np.float32), ok), batch_size=3)))
        assert y.dtype == np.int64 and y.numpy().tolist() == [0, 1, 2]


def test_mt_data_is_reachable_without_the_network_code_or_torch():
    import subprocess
    import sys

    code = ("import sys, minitorch_relu as mt\n"
            "assert mt.data.MNIST is mt.data.mnist.MNIST and mt.data.DataLoader is mt.data.loader.DataLoader\n"
            "print(sorted(m for m in ('torch', 'urllib.request', 'minitorch_relu.data.download') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"  # the download code (urllib) comes only with a download


def test_the_downloader_does_not_import_the_reader():
    # Both take the file list and the messages from files.py; only the reader starts a download.
    import ast

    import minitorch_relu.data as data_package

    tree = ast.parse((Path(data_package.__file__).parent / "download.py").read_text())
    imported = {(node.level, node.module) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert (1, "files") in imported
    assert (1, "mnist") not in imported and (0, "minitorch_relu.data.mnist") not in imported
