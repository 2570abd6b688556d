"""Tensors made from a size or a range: zeros, ones, full, empty, the *_like forms, arange,
linspace and eye, with torch's signatures and dtype rules.

- The size is given as numbers or one tuple: ``zeros(2, 3)`` or ``zeros((2, 3))``.
- Default dtypes as in torch: float32 for zeros/ones/empty/eye/linspace; ``full`` and ``arange``
  take theirs from the numbers given (a bool fill gives bool, ints give int64, any float float32).
- ``backend`` is where the tensor lives ("numpy" or "cupy"); the *_like forms default to
  their input's backend and dtype. ``requires_grad=True`` needs a floating dtype.
"""

import math

import numpy as np

from ._fma import fma
from .backend import backend_of, get_backend
from .tensor import Tensor, bool_, default_dtype, float64, int64

__all__ = ["zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like", "arange",
           "linspace", "eye"]


def _size(what, size):
    """The shape from ``zeros(2, 3)`` or ``zeros((2, 3))``, checked: non-negative ints."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{what}(): size must be ints, got {tuple(size)!r}")
        if n < 0:
            raise RuntimeError(f"{what}(): sizes must be non-negative, got {tuple(size)}")
    return tuple(int(n) for n in size)


def _is_number(value):
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _dtype_of_numbers(*values):
    """torch's inference: any float -> the default float dtype, else int64."""
    return default_dtype if any(isinstance(v, (float, np.floating)) for v in values) else int64


def _tensor(array, requires_grad):
    return Tensor(array, requires_grad=requires_grad)


def _filled(what, size, value, dtype, backend, requires_grad):
    xp = get_backend(backend).xp
    return _tensor(xp.full(_size(what, size), value, dtype=dtype), requires_grad)


def zeros(*size, dtype=None, backend=None, requires_grad=False):
    return _filled("zeros", size, 0, dtype or default_dtype, backend, requires_grad)


def ones(*size, dtype=None, backend=None, requires_grad=False):
    return _filled("ones", size, 1, dtype or default_dtype, backend, requires_grad)


def empty(*size, dtype=None, backend=None, requires_grad=False):
    """Uninitialized values (whatever the memory held), as torch.empty: write before reading."""
    xp = get_backend(backend).xp
    return _tensor(xp.empty(_size("empty", size), dtype=dtype or default_dtype), requires_grad)


def full(size, fill_value, *, dtype=None, backend=None, requires_grad=False):
    if dtype is None:
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = bool_
        elif _is_number(fill_value):
            dtype = _dtype_of_numbers(fill_value)
        else:
            raise TypeError(f"full(): fill_value must be a number or bool, got {type(fill_value).__name__}")
    size = size if isinstance(size, (tuple, list)) else (size,)
    return _filled("full", size, fill_value, dtype, backend, requires_grad)


def _like(input, dtype, backend):
    if not isinstance(input, Tensor):
        raise TypeError(f"expected a Tensor, got {type(input).__name__}")
    return input.shape, dtype or input.dtype, backend or backend_of(input.data).name


def zeros_like(input, *, dtype=None, backend=None, requires_grad=False):
    shape, dtype, backend = _like(input, dtype, backend)
    return zeros(shape, dtype=dtype, backend=backend, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, backend=None, requires_grad=False):
    shape, dtype, backend = _like(input, dtype, backend)
    return ones(shape, dtype=dtype, backend=backend, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, backend=None, requires_grad=False):
    shape, dtype, backend = _like(input, dtype, backend)
    return empty(shape, dtype=dtype, backend=backend, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, backend=None, requires_grad=False):
    shape, dtype, backend = _like(input, dtype, backend)
    return full(shape, fill_value, dtype=dtype, backend=backend, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, dtype=None, backend=None, requires_grad=False):
    """start, start + step, ... up to but excluding end; arange(n) is 0, 1, ..., n - 1.

    Ints give int64, any float gives float32 (torch's rule). The count is ceil((end - start) / step)
    and element i is start + i * step, computed in float64 and then rounded to the dtype, as torch
    does on the CPU (so arange(0, 1, 0.1) holds float32(0.7), not 0.1f + 6 * 0.1f).
    """
    if end is None:
        start, end = 0, start
    for name, value in (("start", start), ("end", end), ("step", step)):
        if not _is_number(value):
            raise TypeError(f"arange(): {name} must be a number, got {value!r}")
    if step == 0:
        raise RuntimeError("arange(): step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange(): upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    dtype = np.dtype(dtype or _dtype_of_numbers(start, end, step))
    count = max(0, math.ceil((end - start) / step))
    xp = get_backend(backend).xp
    if np.issubdtype(dtype, np.integer) and all(isinstance(v, (int, np.integer)) for v in (start, end, step)):
        values = start + step * xp.arange(count, dtype=int64)  # exact in integers
    else:
        values = start + step * xp.arange(count, dtype=float64)
    return _tensor(values.astype(dtype, copy=False), requires_grad)


def linspace(start, end, steps, *, dtype=None, backend=None, requires_grad=False):
    """``steps`` evenly spaced values from start to end, both included.

    As torch computes it: step = (end - start) / (steps - 1) in the output's dtype (float64 for
    integers, whose ends are cut to ints first); the first half counts up from start (start + i *
    step), the second half down from end (end - (steps - 1 - i) * step), so both ends come out
    exact. torch's vectorized CPU kernels (AVX2, AVX-512) round each a + b * c once, a fused
    multiply-add, and so does this: float32, float64 and integer results are torch's bit for bit
    there. (torch's scalar kernel, on a CPU without AVX2, rounds twice and may differ in the last
    bit; float16, which torch computes through float32 in its own way, may differ in the last bits.)
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be a non-negative int, got {steps!r}")
    dtype = np.dtype(dtype or default_dtype)
    if np.issubdtype(dtype, np.floating):
        start, end = dtype.type(start), dtype.type(end)
    else:
        start, end = np.float64(int(start)), np.float64(int(end))
    step = (end - start) / start.dtype.type(max(steps - 1, 1))
    if dtype == np.float16:  # not torch's arithmetic (see above): the rest in float64, rounded at the end
        start, end, step = np.float64(start), np.float64(end), np.float64(step)
    i = np.arange(steps, dtype=start.dtype)  # torch multiplies step by i in the same dtype
    from_start, from_end = fma(step, i, start), fma(-step, i[::-1], end)
    values = np.where(i < max(steps // 2, 1), from_start, from_end).astype(dtype)  # one step: just start
    return _tensor(get_backend(backend).asarray(values), requires_grad)  # computed on the host: a few values


def eye(n, m=None, *, dtype=None, backend=None, requires_grad=False):
    """An n x m matrix (m = n by default) with ones on the diagonal."""
    m = n if m is None else m
    _size("eye", (n, m))
    xp = get_backend(backend).xp
    return _tensor(xp.eye(n, m, dtype=dtype or default_dtype), requires_grad)
