"""The array namespace ("xp") each tensor computes with: NumPy or CuPy (tests add a strict stand-in).

Every op is written once against ``xp`` (``xp.exp``, ``xp.matmul``, ...). Which namespace is used is
derived from the array a tensor holds, never from a global switch, so one program can hold tensors on
both devices and mixing them is caught (see ``common_backend``).

CuPy is imported only when a user asks for ``backend="cupy"``.
"""

import numpy as np


class Backend:
    """A named array namespace plus the two conversions the engine needs."""

    def __init__(self, name, xp, array_type, to_numpy):
        self.name = name
        self.xp = xp
        self.array_type = array_type
        self._to_numpy = to_numpy
        # The two questions code asks about the device, always through these two attributes:
        # may values be read without waiting for a device (the host checks of bad input)?
        self.on_host = name == "numpy"
        # do the fused GPU versions of ops apply (autograd's Function.apply, the optimizers)?
        self.is_cupy = name == "cupy"

    def asarray(self, data, dtype=None):
        """Put ``data`` (list, scalar, numpy array) on this backend."""
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array):
        """A numpy.ndarray with the array's values (copied to the host where needed)."""
        return self._to_numpy(array)

    def __repr__(self):
        return f"Backend({self.name!r})"


NUMPY = Backend("numpy", np, np.ndarray, lambda a: a)

_by_name = {"numpy": NUMPY}
_by_array_type = {np.ndarray: NUMPY}


def register(backend):
    """Make a backend known by name and by its array type."""
    _by_name[backend.name] = backend
    _by_array_type[backend.array_type] = backend
    return backend


def _load_cupy():
    install = "install it with: pip install 'minitorch_relu[gpu]' (or the cupy-cudaXXx wheel for your CUDA)"
    try:
        import cupy
    except ImportError as exc:
        raise RuntimeError(f"backend 'cupy' needs CuPy, which is not installed ({exc}); {install}") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise RuntimeError(f"backend 'cupy' needs a CUDA device, but CUDA is not usable here: {exc}") from None
    if count == 0:
        raise RuntimeError("backend 'cupy' needs a CUDA device, and none was found")
    return Backend("cupy", cupy, cupy.ndarray, cupy.asnumpy)


_loaders = {"cupy": _load_cupy}


def register_loader(name, load):
    """Make backend ``name`` available on first use: ``load()`` returns its Backend (tests register
    the strict stand-in device this way)."""
    _loaders[name] = load


def get_backend(name=None):
    """The backend called ``name`` ("numpy" or "cupy"); None means NumPy."""
    if name is None:
        return NUMPY
    if isinstance(name, Backend):
        return name
    if name in _by_name:
        return _by_name[name]
    if name in _loaders:
        return register(_loaders[name]())
    known = ", ".join(repr(n) for n in dict.fromkeys([*_by_name, *_loaders]))
    raise ValueError(f"unknown backend {name!r}; choose one of {known}")


def backend_of(array):
    """The backend that owns ``array``."""
    backend = _by_array_type.get(type(array))
    if backend is None:
        raise TypeError(f"no backend holds arrays of type {type(array).__name__}")
    return backend


def is_cupy(array):
    """Whether ``array`` lives on CuPy (the GPU), where the fused kernels apply."""
    return backend_of(array).is_cupy


def on_host(array):
    """Whether ``array`` is a NumPy array, whose values can be read without a device round trip."""
    return backend_of(array).on_host


def common_backend(arrays, op_name):
    """The one backend all ``arrays`` live on; mixing devices is an error, never a silent copy."""
    first = backend_of(arrays[0])
    for other in arrays[1:]:
        backend = backend_of(other)
        if backend is not first:
            raise RuntimeError(
                f"{op_name}: inputs live on different backends ({first.name!r} and {backend.name!r}); "
                f"move them to one with .to(backend) first"
            )
    return first
