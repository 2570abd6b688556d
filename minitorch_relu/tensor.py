"""Tensor: an array plus what autograd needs (requires_grad, .grad, the op that made it)."""

from collections import namedtuple

import numpy as np

from . import functions as F
from .autograd import run_backward
from .backend import backend_of, get_backend

float32, float64, float16 = np.float32, np.float64, np.float16
int64, int32, uint8, bool_ = np.int64, np.int32, np.uint8, np.bool_
default_dtype = float32

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _default_dtype_for(data):
    """torch.tensor's rule: Python floats become float32, ints int64, bools bool."""
    flat = data
    while isinstance(flat, (list, tuple)):
        if not flat:
            return default_dtype
        flat = flat[0]
    if isinstance(flat, (bool, np.bool_)):
        return bool_
    if isinstance(flat, (int, np.integer)):
        return int64
    return default_dtype


def _check_grad_dtype(dtype):
    if not np.issubdtype(dtype, np.floating):
        raise RuntimeError(f"only floating point tensors can require gradients, got dtype {np.dtype(dtype).name}")


class Tensor:
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "__weakref__")
    __hash__ = object.__hash__  # == builds a tensor, so identity hashing must be asked for

    def __init__(self, data, requires_grad=False):
        backend_of(data)  # raises for anything that is not a backend array
        if requires_grad:
            _check_grad_dtype(data.dtype)
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad
        self._ctx = None  # the Function that produced this tensor; None for a leaf

    @classmethod
    def _wrap(cls, array):
        t = cls.__new__(cls)
        t.data, t.grad, t.requires_grad, t._ctx = array, None, False, None
        return t

    @classmethod
    def _from_op(cls, array, fn):
        t = cls.__new__(cls)
        t.data, t.grad, t.requires_grad, t._ctx = array, None, True, fn
        return t

    # ----- facts about the tensor -------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def backend(self):
        return backend_of(self.data).name

    @property
    def is_leaf(self):
        return self._ctx is None

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.data.reshape(()).item()

    def numpy(self):
        """The values as a numpy.ndarray (shares memory on the NumPy backend, like torch)."""
        return backend_of(self.data).to_numpy(self.data)

    def tolist(self):
        return self.numpy().tolist()

    def __repr__(self):
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(")
        extras = ""
        if self.dtype != default_dtype and self.dtype != int64:
            extras += f", dtype={self.dtype.name}"
        if self.backend != "numpy":
            extras += f", backend={self.backend!r}"
        if self._ctx is not None:
            extras += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # ----- autograd -----------------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("requires_grad can only be turned off on a leaf tensor; use detach()")
        if requires_grad:
            _check_grad_dtype(self.dtype)
        self.requires_grad = requires_grad
        return self

    def detach(self):
        """The same values (shared memory), cut from the graph."""
        return Tensor._wrap(self.data)

    def backward(self, gradient=None):
        """Accumulate d(self)/d(leaf) * gradient into every leaf's .grad that requires grad."""
        if not self.requires_grad:
            raise RuntimeError("backward(): this tensor does not require grad and has no graph")
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward(): gradient can be omitted only for a one-element tensor; this one has shape "
                    f"{self.shape}, so pass gradient= of that shape"
                )
            # ones on this tensor's backend, same dtype (not data * 0 + 1, which is nan for an inf loss)
            grad = backend_of(self.data).xp.ones(self.data.shape, dtype=self.dtype)
        else:
            grad = gradient.data if isinstance(gradient, Tensor) else backend_of(self.data).asarray(gradient)
            if tuple(grad.shape) != self.shape:
                raise RuntimeError(
                    f"backward(): gradient has shape {tuple(grad.shape)} but the tensor has shape {self.shape}"
                )
            if backend_of(grad) is not backend_of(self.data):
                raise RuntimeError(
                    f"backward(): gradient lives on backend {backend_of(grad).name!r}, the tensor on {self.backend!r}"
                )
            grad = grad.astype(self.dtype, copy=False)
        if self._ctx is None:  # a leaf: the gradient is the answer
            if self.grad is None:
                self.grad = Tensor._wrap(grad.copy())
            else:
                self.grad.data += grad
            return
        run_backward(self, grad)

    def to(self, backend):
        """A copy of this tensor on another backend ("numpy", "cupy", "strict"); self if already there."""
        target = get_backend(backend)
        if target is backend_of(self.data):
            return self
        array = target.asarray(self.numpy())
        out = Tensor(array, requires_grad=self.requires_grad and self._ctx is None)
        if self.grad is not None:
            out.grad = Tensor._wrap(target.asarray(self.grad.numpy()))
        return out

    # ----- arithmetic ---------------------------------------------------------------------------
    def _operand(self, other):
        """``other`` as a Tensor on self's backend; Python numbers take self's dtype (as in torch)."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, np.number)) and not isinstance(other, (bool, np.bool_)):
            floating = np.issubdtype(self.dtype, np.floating)
            dtype = self.dtype if floating or not isinstance(other, (float, np.floating)) else default_dtype
            return Tensor._wrap(backend_of(self.data).asarray(other, dtype=dtype))
        raise TypeError(f"unsupported operand of type {type(other).__name__}; use a Tensor or a Python number")

    def __add__(self, other):
        return F.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        return F.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        return F.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        return F.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        return F.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        return F.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        return F.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        return F.Div.apply(self._operand(other), self)

    def __neg__(self):
        return F.Neg.apply(self)

    def __pow__(self, exponent):
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            raise TypeError(f"** takes a number exponent, got {type(exponent).__name__}")
        return F.PowScalar.apply(self, exponent=exponent)

    def __matmul__(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"@ needs a Tensor on both sides, got {type(other).__name__}")
        return F.MatMul.apply(self, other)

    def matmul(self, other):
        return self @ other

    # ----- comparisons: plain boolean tensors, outside the graph ---------------------------------
    def _compare(self, other, op):
        other = self._operand(other).data
        return Tensor._wrap(backend_of(self.data).xp.asarray(op(self.data, other)))  # 0-d: a scalar otherwise

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    # ----- reductions ---------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return F.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        if not np.issubdtype(self.dtype, np.floating):
            raise RuntimeError(f"mean() needs a floating point tensor, got dtype {self.dtype.name}")
        return F.Mean.apply(self, dim=dim, keepdim=keepdim)

    def max(self, dim=None, keepdim=False):
        """max() -> the largest element; max(dim) -> (values, indices), as in torch."""
        if dim is None:
            return F.MaxAll.apply(self)
        values = F.MaxDim.apply(self, dim=dim, keepdim=keepdim)
        return MaxResult(values, self.argmax(dim=dim, keepdim=keepdim))

    def argmax(self, dim=None, keepdim=False):
        data = self.data
        if dim is None:
            idx = backend_of(data).xp.asarray(data.argmax(), dtype=int64)
            return Tensor._wrap(idx.reshape((1,) * data.ndim) if keepdim else idx)  # torch keeps every dim as 1
        if data.ndim == 0 and dim in (0, -1):  # torch allows these on a 0-d tensor; CuPy has no axis there
            dim = None
        idx = backend_of(data).xp.asarray(data.argmax(axis=dim))  # NumPy gives a scalar, not an array, for 1-D
        if keepdim and data.ndim:  # a 0-d tensor has no dim to keep
            idx = backend_of(data).xp.expand_dims(idx, dim)
        return Tensor._wrap(idx.astype(int64, copy=False))

    # ----- shape --------------------------------------------------------------------------------
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return F.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0):
        return self.reshape(*self.shape[:start_dim], -1)

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return F.Permute.apply(self, axes=tuple(d % self.ndim for d in dims))

    def transpose(self, dim0, dim1):
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return F.Permute.apply(self, axes=tuple(axes))

    @property
    def T(self):
        return F.Permute.apply(self, axes=tuple(reversed(range(self.ndim))))

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return F.Index.apply(self, index=index)

    # ----- elementwise functions ----------------------------------------------------------------
    def exp(self):
        return F.Exp.apply(self)

    def log(self):
        return F.Log.apply(self)

    def sqrt(self):
        return F.Sqrt.apply(self)

    def relu(self):
        return F.ReLU.apply(self)

    def sigmoid(self):
        return F.Sigmoid.apply(self)

    def tanh(self):
        return F.Tanh.apply(self)

    # ----- dtype --------------------------------------------------------------------------------
    def type(self, dtype):
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return self
        if self.requires_grad and np.issubdtype(dtype, np.floating):
            return F.Cast.apply(self, dtype=dtype)
        return Tensor._wrap(self.data.astype(dtype))

    def float(self):
        return self.type(float32)

    def double(self):
        return self.type(float64)

    def long(self):
        return self.type(int64)


def tensor(data, requires_grad=False, dtype=None, backend=None):
    """A new leaf tensor from a list, scalar, numpy/cupy array or Tensor (the data is copied)."""
    if isinstance(data, Tensor):
        data = data.data
    source = None
    try:
        source = backend_of(data)
    except TypeError:
        pass
    target = get_backend(backend) if backend is not None else (source or get_backend(None))
    if source is not None:
        if dtype is None:
            dtype = data.dtype
        array = target.asarray(source.to_numpy(data) if source is not target else data, dtype=dtype).copy()
    else:
        if dtype is None:
            dtype = _default_dtype_for(data)
        if isinstance(data, np.generic):
            data = data.item()
        array = target.asarray(np.asarray(data, dtype=dtype))
    return Tensor(array, requires_grad=requires_grad)
