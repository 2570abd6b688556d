"""The IDX file format of MNIST: a small header, then one flat block of big-endian numbers.

    bytes 0-1   zero
    byte  2     type code (0x08 = unsigned byte, ... see _TYPES)
    byte  3     number of dimensions d
    4*d bytes   each dimension as a big-endian uint32
    the rest    prod(dims) values of the type, big-endian, row-major

Every check names the file and what is wrong, so a truncated download or a swapped file is found at
once instead of surfacing later as a shape error deep in training.
"""

import gzip
import zlib
from contextlib import contextmanager

import numpy as np

from .errors import CorruptDataError

# type code -> big-endian numpy dtype
_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@contextmanager
def gzip_errors(name=None):
    """Report a broken gzip stream, read inside this block, as one CorruptDataError (naming ``name``)."""
    where = f"{name}: " if name else ""
    try:
        yield
    except EOFError:
        raise CorruptDataError(f"{where}the gzip stream ends early (truncated file)") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise CorruptDataError(f"{where}not a valid gzip file ({exc})") from None


def read_bytes(path):
    """The file's bytes, decompressed when its name ends in .gz (a broken .gz is reported by name)."""
    path = str(path)
    if not path.endswith(".gz"):
        with open(path, "rb") as f:
            return f.read()
    with gzip_errors(path), gzip.open(path, "rb") as f:
        return f.read()


def parse_idx(data, name="<bytes>"):
    """The array stored in IDX ``data`` (bytes). ``name`` appears in every error message.

    The result is a read-only view into ``data`` in native byte order for single bytes (no copy),
    and a native-endian copy for wider types.
    """
    if len(data) < 4:
        raise CorruptDataError(f"{name}: {len(data)} bytes is too short for an IDX header (needs at least 4)")
    if data[0] != 0 or data[1] != 0:
        raise CorruptDataError(
            f"{name}: bad magic number 0x{data[:4].hex()}: an IDX file starts with two zero bytes"
        )
    code, ndim = data[2], data[3]
    if code not in _TYPES:
        raise CorruptDataError(f"{name}: bad magic number 0x{data[:4].hex()}: unknown type code 0x{code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorruptDataError(f"{name}: {len(data)} bytes is too short for a {ndim}-dimension IDX header")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _TYPES[code]
    expected = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        state = "truncated" if len(data) < expected else "has trailing bytes"
        raise CorruptDataError(
            f"{name}: file length {len(data)} bytes does not match its header (dims {dims} of "
            f"{dtype.itemsize}-byte values need {expected} bytes); the file {state}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array if dtype.itemsize == 1 else array.astype(dtype.newbyteorder("="))


def write_idx(array, path):
    """Write ``array`` as an IDX file (plain, or gzip when ``path`` ends in .gz). Used by tests and tools."""
    array = np.asarray(array)
    for code, dtype in _TYPES.items():
        if dtype.kind == array.dtype.kind and dtype.itemsize == array.dtype.itemsize:
            break
    else:
        raise TypeError(f"write_idx: IDX has no type code for dtype {array.dtype}")
    blob = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    blob += array.astype(dtype, copy=False).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(blob)
