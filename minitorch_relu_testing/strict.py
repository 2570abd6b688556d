"""A stand-in device for tests: NumPy underneath, CuPy's manners on top.

CI has no GPU, yet the bugs a GPU exposes are easy to write: ``np.asarray(x.data)``, a NumPy function
called on device data, a host array mixed into a device op. CuPy refuses all of them; so does this
module. ``StrictArray`` holds a numpy array but is not one:

- ``np.asarray(a)`` (implicit conversion) raises TypeError, as CuPy's ``__array__`` does;
- NumPy functions and ufuncs called on StrictArrays run here and return StrictArrays, as they do
  for CuPy arrays (``__array_function__`` / ``__array_ufunc__``);
- a StrictArray and a numpy.ndarray in one operation raise TypeError, as in CuPy (no silent copy);
- reductions return 0-d arrays, never NumPy scalars, as CuPy's do;
- ``.get()``, ``.item()``, ``.tolist()``, ``float()``, ``int()``, ``bool()`` move data to the host.

Moves between host and "device" are counted in ``transfers`` so a test can check that a training
loop moves nothing but the numbers it prints.

The module itself is the array namespace (the backend's ``xp``): ``strict.exp``, ``strict.zeros``,
``strict.add.at``... are NumPy's functions wrapped to take and return StrictArrays.
"""

import numpy as np

transfers = {"to_device": 0, "to_host": 0}


def reset_transfers():
    transfers["to_device"] = transfers["to_host"] = 0


def _mixing_error(value):
    return TypeError(
        f"Unsupported type {type(value)}: a numpy.ndarray cannot be mixed with device arrays "
        "(move it first with the backend's asarray; CuPy refuses this too)"
    )


def _unwrap(value):
    """The numpy array inside a StrictArray; lists and tuples are unwrapped item by item."""
    if type(value) is StrictArray:
        return value._array
    if isinstance(value, np.ndarray):
        raise _mixing_error(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _unwrap_index(index):
    """Like _unwrap, but host index arrays are accepted and uploaded, as CuPy does."""
    if isinstance(index, np.ndarray):
        transfers["to_device"] += 1
        return index
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) for i in index)
    return _unwrap(index)


def _wrap(value):
    """NumPy's results as device arrays; NumPy scalars become 0-d arrays, as CuPy returns them."""
    if isinstance(value, np.ndarray):
        return StrictArray(value)
    if isinstance(value, np.generic):
        return StrictArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _call(func, args, kwargs):
    """Run a NumPy callable on unwrapped arguments; an ``out=`` array is written and returned."""
    out = kwargs.get("out")
    if isinstance(out, tuple) and len(out) == 1:  # how __array_ufunc__ passes it
        out = out[0]
    result = func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
    return out if out is not None else _wrap(result)


def _to_host(array):
    transfers["to_host"] += 1
    return array._array.copy()


class StrictArray:
    """A device array whose values live on the "device" (a private numpy array)."""

    __slots__ = ("_array",)
    __hash__ = None  # == is elementwise, as for every array type

    def __init__(self, array):
        if not isinstance(array, np.ndarray):
            raise TypeError(f"StrictArray wraps a numpy.ndarray, got {type(array).__name__}")
        self._array = array

    # ----- the host boundary ------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
            "NumPy array explicitly (this is the strict stand-in device, which behaves like CuPy)."
        )

    def get(self):
        """A numpy copy of the values (the explicit device-to-host move)."""
        return _to_host(self)

    def item(self):
        return _to_host(self).item()

    def tolist(self):
        return _to_host(self).tolist()

    def _scalar(self, convert):
        if self._array.size != 1:
            raise TypeError(f"only arrays with one element can be converted to Python scalars, shape {self.shape}")
        return convert(_to_host(self).reshape(()))

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __bool__(self):
        if self._array.size != 1:
            raise ValueError(f"the truth value of an array with shape {self.shape} is ambiguous; use any() or all()")
        return self._scalar(bool)

    def __repr__(self):
        return "strict_" + repr(_to_host(self))

    # ----- NumPy's protocols: NumPy functions on device arrays stay on the device ----------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _call(getattr(ufunc, method), inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _call(func, args, kwargs)

    # ----- facts --------------------------------------------------------------------------------
    shape = property(lambda self: self._array.shape)
    dtype = property(lambda self: self._array.dtype)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)
    itemsize = property(lambda self: self._array.itemsize)
    nbytes = property(lambda self: self._array.nbytes)
    strides = property(lambda self: self._array.strides)
    T = property(lambda self: StrictArray(self._array.T))

    @property
    def base(self):
        """None for an array that owns its memory; otherwise the array it views, as in CuPy."""
        base = self._array.base
        return None if base is None else StrictArray(base)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (_wrap(row) for row in self._array)

    # ----- indexing -----------------------------------------------------------------------------
    def __getitem__(self, index):
        return _wrap(self._array[_unwrap_index(index)])

    def __setitem__(self, index, value):
        if isinstance(value, np.ndarray):  # CuPy uploads a host value here; count it
            transfers["to_device"] += 1
        else:
            value = _unwrap(value)
        self._array[_unwrap_index(index)] = value

    # ----- methods, forwarded to numpy.ndarray's ------------------------------------------------
    def reshape(self, *shape, **kwargs):
        return StrictArray(self._array.reshape(*shape, **kwargs))

    def transpose(self, *axes):
        return StrictArray(self._array.transpose(*axes))

    def astype(self, dtype, copy=True):
        return StrictArray(self._array.astype(dtype, copy=copy))

    def view(self, dtype):  # the same memory read as another dtype, as cupy.ndarray.view(dtype)
        return StrictArray(self._array.view(dtype))

    def copy(self):
        return StrictArray(self._array.copy())


_REDUCTIONS = {"sum", "mean", "max", "min", "argmax", "argmin", "prod", "var", "std", "cumsum", "any", "all"}


def _forward_method(name):
    method = getattr(np.ndarray, name)

    def forwarded(self, *args, **kwargs):
        axis = kwargs.get("axis", args[0] if args else None)
        if name in _REDUCTIONS and self.ndim == 0 and axis not in (None, ()):
            # NumPy lets axis 0 pass on a 0-d array; CuPy raises, so the stand-in does too.
            raise np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension 0")
        return _call(method, (self,) + args, kwargs)

    forwarded.__name__ = name
    return forwarded


for _name in sorted(_REDUCTIONS) + ["clip", "squeeze", "swapaxes", "ravel", "flatten", "fill", "dot", "nonzero",
                                    "round", "view"]:
    setattr(StrictArray, _name, _forward_method(_name))


def _forward_operator(ufunc, reflected=False, inplace=False):
    def operator(self, other):
        if isinstance(other, np.ndarray):
            raise _mixing_error(other)
        if not isinstance(other, (StrictArray, int, float, complex, np.generic)):
            return NotImplemented
        if inplace:
            ufunc(self._array, _unwrap(other), out=self._array)
            return self
        a, b = (other, self) if reflected else (self, other)
        return _wrap(ufunc(_unwrap(a), _unwrap(b)))

    return operator


_OPERATORS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
              "floordiv": np.floor_divide, "mod": np.remainder, "pow": np.power, "matmul": np.matmul,
              "and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}
for _name, _ufunc in _OPERATORS.items():
    setattr(StrictArray, f"__{_name}__", _forward_operator(_ufunc))
    setattr(StrictArray, f"__r{_name}__", _forward_operator(_ufunc, reflected=True))
    setattr(StrictArray, f"__i{_name}__", _forward_operator(_ufunc, inplace=True))
for _name, _ufunc in {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal,
                      "gt": np.greater, "ge": np.greater_equal}.items():
    setattr(StrictArray, f"__{_name}__", _forward_operator(_ufunc))
for _name, _ufunc in {"neg": np.negative, "pos": np.positive, "abs": np.absolute, "invert": np.invert}.items():
    setattr(StrictArray, f"__{_name}__", lambda self, _u=_ufunc: _wrap(_u(self._array)))


# ----- the namespace: strict.<name> is numpy.<name> taking and returning StrictArrays -----------------
def asarray(data, dtype=None):
    """Put ``data`` on the device. Host data (lists, numbers, numpy arrays) is copied, as CuPy does."""
    if type(data) is StrictArray:
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    transfers["to_device"] += 1
    return StrictArray(np.array(_unwrap(data) if isinstance(data, (list, tuple)) else data, dtype=dtype))


def array(data, dtype=None, copy=True):
    if type(data) is StrictArray:
        return data.astype(dtype or data.dtype, copy=copy)
    return asarray(data, dtype=dtype)


def to_numpy(array):
    """The explicit device-to-host copy (cupy.asnumpy)."""
    if type(array) is not StrictArray:
        raise TypeError(f"to_numpy expects a StrictArray, got {type(array).__name__}")
    return array.get()


asnumpy = to_numpy
ndarray = StrictArray


class _Ufunc:
    """A NumPy ufunc whose call and methods (at, reduce, outer...) take StrictArrays."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _call(self._ufunc, args, kwargs)

    def at(self, target, index, values=None):
        args = (_unwrap_index(index),) + (() if values is None else (_unwrap(values),))
        self._ufunc.at(_unwrap(target), *args)

    def __getattr__(self, method):
        attr = getattr(self._ufunc, method)
        return (lambda *args, **kwargs: _call(attr, args, kwargs)) if callable(attr) else attr


def _wrap_function(func):
    def wrapped(*args, **kwargs):
        return _call(func, args, kwargs)

    wrapped.__name__ = wrapped.__qualname__ = func.__name__
    wrapped.__doc__ = func.__doc__
    return wrapped


_namespace_cache = {}


def __getattr__(name):
    """strict.<name>: NumPy's function wrapped; dtypes, constants and submodules pass through."""
    if name in _namespace_cache:
        return _namespace_cache[name]
    try:
        attr = getattr(np, name)
    except AttributeError:
        raise AttributeError(f"module 'minitorch_relu.strict' has no attribute {name!r}") from None
    if isinstance(attr, np.ufunc):
        attr = _Ufunc(attr)
    elif callable(attr) and not isinstance(attr, type):
        attr = _wrap_function(attr)
    _namespace_cache[name] = attr
    return attr
