"""Saving and loading in the ecosystem's format: safetensors files.

    mt.save_state(model.state_dict(), "model.safetensors")
    model.load_state_dict(mt.load_state("model.safetensors"))

A safetensors file is a JSON header (names, dtypes, shapes, and free-form string metadata) followed
by the raw bytes of each tensor. Loading one only reads numbers: unlike a pickle (what ``torch.save``
writes by default), it can never run code hidden in the file. The same file opens in torch with
``safetensors.torch.load_file``, and a file torch saved that way loads here.

The ``safetensors`` package is imported only inside these functions, so ``import minitorch_relu``
stays NumPy-only.

For state that is not a flat name -> array mapping (an optimizer's ``state_dict``: nested dicts,
tuples, Python numbers), ``pack_tree`` splits it into tensors plus a JSON description of the rest,
and ``unpack_tree`` puts it back together; no pickle anywhere.
"""

import json
import os
import tempfile

import numpy as np


def _host_array(value, name):
    """``value`` (numpy array, backend array, Tensor, or anything NumPy reads) as a contiguous numpy array."""
    from .backend import backend_of
    from .tensor import Tensor

    if isinstance(value, Tensor):
        value = value.numpy()
    else:
        try:
            value = backend_of(value).to_numpy(value)
        except TypeError:  # not a backend array: a list, a torch CPU tensor, a number
            value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        raise TypeError(f"save_state: {name!r} has dtype {value.dtype}; safetensors holds numbers and booleans only")
    return value if value.flags.c_contiguous else value.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)


def write_atomically(path, data):
    """Write ``data`` (bytes) to ``path`` so that ``path`` is always either the old file or the whole new one.

    The bytes go to a temporary file in the same folder, are flushed to disk, and the temporary file
    is renamed over ``path`` (os.replace is atomic on one file system). A crash or Ctrl-C at any point
    leaves no half-written file under ``path``.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(path))  # mkstemp makes it private (0600); give it an ordinary file's mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _file_mode(path):
    """The mode ``path`` has, or that a new file gets (0666 less the umask)."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def save_state(state_dict, path, metadata=None):
    """Write ``state_dict`` (name -> array or Tensor) to the safetensors file ``path``, atomically.

    ``metadata``: optional str -> str pairs stored in the header. Arrays on a device are copied to
    the host first. Returns ``path``.
    """
    from safetensors.numpy import save

    tensors = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save_state: keys must be strings, got {name!r}")
        tensors[name] = _host_array(value, name)
    if metadata is not None:
        bad = [k for k, v in metadata.items() if not (isinstance(k, str) and isinstance(v, str))]
        if bad:
            raise TypeError(f"save_state: metadata keys and values must be strings; not so for {bad}")
    write_atomically(path, save(tensors, metadata=metadata))
    return path


class CheckpointError(Exception):
    """A file that is missing, not safetensors, or does not hold what it should."""


def _open_error(path, exc):
    return CheckpointError(f"{os.fspath(path)}: not a readable safetensors file ({exc})")


def load_state(path):
    """name -> numpy array, read from the safetensors file ``path`` (no code is ever run)."""
    from safetensors.numpy import load_file

    if not os.path.isfile(path):
        raise CheckpointError(f"{os.fspath(path)}: no such file")
    try:
        return dict(load_file(os.fspath(path)))
    except Exception as exc:  # safetensors raises its own SafetensorError (or OSError) for a bad file
        raise _open_error(path, exc) from None


def load_metadata(path):
    """The str -> str metadata in the header of the safetensors file ``path`` ({} when it has none)."""
    from safetensors import safe_open

    if not os.path.isfile(path):
        raise CheckpointError(f"{os.fspath(path)}: no such file")
    try:
        with safe_open(os.fspath(path), framework="np") as f:
            return dict(f.metadata() or {})
    except Exception as exc:
        raise _open_error(path, exc) from None


# ----- nested state (an optimizer's state_dict) as tensors + JSON ---------------------------------
def pack_tree(value, prefix, tensors):
    """A JSON-able description of ``value``; every array in it goes into ``tensors`` under a name
    starting with ``prefix``.

    Plain JSON holds bool, int, float (repr round-trips every float exactly; nan and inf too),
    str, None and lists. The rest is tagged: {"tensor": name} for an array, {"scalar": name} for a
    NumPy scalar (kept as a 0-d tensor, so its dtype survives), {"tuple": [...]} and
    {"dict": [[key, value], ...]} (keys may be ints, as optimizer state indices are).
    """
    from .backend import backend_of
    from .tensor import Tensor

    if isinstance(value, Tensor):
        value = value.data
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        tensors[prefix] = np.asarray(value)
        return {"scalar": prefix}
    if isinstance(value, dict):
        for key in value:
            if isinstance(key, bool) or not isinstance(key, (int, str)):
                raise TypeError(f"cannot store the key {key!r} of {prefix!r}: only str and int keys are kept")
        return {"dict": [[key, pack_tree(item, f"{prefix}.{key}", tensors)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        items = [pack_tree(item, f"{prefix}.{i}", tensors) for i, item in enumerate(value)]
        return {"tuple": items} if isinstance(value, tuple) else items
    try:
        backend_of(value)
    except TypeError:
        raise TypeError(f"cannot store {prefix!r} of type {type(value).__name__} in a safetensors file") from None
    tensors[prefix] = _host_array(value, prefix)
    return {"tensor": prefix}


def unpack_tree(description, tensors):
    """The value ``pack_tree`` described, with its arrays taken from ``tensors`` (numpy arrays)."""
    if isinstance(description, list):
        return [unpack_tree(item, tensors) for item in description]
    if not isinstance(description, dict):
        return description
    (tag, content), = description.items()
    if tag == "tensor":
        return tensors[content]
    if tag == "scalar":
        return tensors[content][()]
    if tag == "tuple":
        return tuple(unpack_tree(item, tensors) for item in content)
    if tag == "dict":
        return {key: unpack_tree(item, tensors) for key, item in content}
    raise ValueError(f"unknown entry {tag!r} in a packed description")


def dumps(description):
    """JSON text of a pack_tree description (nan and inf written as NaN and Infinity, as Python's json reads them)."""
    return json.dumps(description, allow_nan=True, separators=(",", ":"))
