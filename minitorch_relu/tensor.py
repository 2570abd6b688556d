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
        if isinstance(exponent, Tensor):  # a tensor exponent: both sides get a gradient
            return F.Pow.apply(self, self._operand(exponent))
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            raise TypeError(f"** takes a number or Tensor exponent, got {type(exponent).__name__}")
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

    # ===== ops learners reach for next (issue 13, part 2) =========================================
    # Each method checks its arguments (errors name the values) and applies one op of functions/.
    MinResult = namedtuple("MinResult", ["values", "indices"])

    def _dim(self, dim, extra=0):
        """``dim`` as a non-negative axis of a tensor with ndim + extra dims (extra=1: a new dim)."""
        n = self.ndim + extra
        low, high = -max(n, 1), max(n, 1) - 1
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not low <= dim <= high:
            raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
        return int(dim) % max(n, 1)

    # shape
    def unsqueeze(self, dim):
        axis = self._dim(dim, extra=1)
        return F.Reshape.apply(self, shape=self.shape[:axis] + (1,) + self.shape[axis:])

    def squeeze(self, dim=None):
        """Drop size-1 dims (all of them, or those of ``dim``, an int or tuple); other sizes stay."""
        if dim is None:
            axes = [i for i, n in enumerate(self.shape) if n == 1]
        else:
            axes = [self._dim(d) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        shape = tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1))
        return F.Reshape.apply(self, shape=shape)

    def expand(self, *sizes):
        """A view repeating size-1 dims (and new leading dims) to ``sizes``; -1 keeps a size."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        if len(sizes) < self.ndim:
            raise RuntimeError(f"expand: the number of sizes {len(sizes)} in {tuple(sizes)} must be at least "
                               f"the number of dimensions {self.ndim} of shape {self.shape}")
        lead = len(sizes) - self.ndim
        shape = []
        for i, size in enumerate(sizes):
            own = self.shape[i - lead] if i >= lead else None
            if size == -1:
                if own is None:
                    raise RuntimeError(f"expand: -1 is not allowed for the new leading dimension {i} in {tuple(sizes)}")
                size = own
            if own is not None and own != 1 and own != size:
                raise RuntimeError(f"expand: the size {own} of dimension {i - lead} of shape {self.shape} must match "
                                   f"{size} in {tuple(sizes)} (only size-1 dimensions can be expanded)")
            if size < 0:
                raise RuntimeError(f"expand: sizes must be non-negative, got {size} in {tuple(sizes)}")
            shape.append(size)
        return F.Expand.apply(self, shape=tuple(shape))

    def expand_as(self, other):
        return self.expand(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dims start_dim..end_dim (inclusive) into one, as torch.flatten."""
        if self.ndim == 0:
            self._dim(start_dim), self._dim(end_dim)
            return self.reshape(1)
        start, end = self._dim(start_dim), self._dim(end_dim)
        if start > end:
            raise RuntimeError(f"flatten() has invalid args: start_dim {start_dim} cannot come after end_dim {end_dim}")
        return self.reshape(*self.shape[:start], -1, *self.shape[end + 1:])

    # elementwise
    def abs(self):
        return F.Abs.apply(self)

    def sign(self):
        return F.Sign.apply(self)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        for name, bound in (("min", min), ("max", max)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float, np.number))):
                raise TypeError(f"clamp: {name} must be a number, got {type(bound).__name__}")
        return F.Clamp.apply(self, min=min, max=max)

    clip = clamp

    def maximum(self, other):
        return F.Maximum.apply(self, self._operand(other))

    def minimum(self, other):
        return F.Minimum.apply(self, self._operand(other))

    def where(self, condition, other):
        """self where ``condition`` holds, ``other`` elsewhere (torch's x.where(condition, y))."""
        if not isinstance(condition, Tensor) or condition.dtype != bool_:
            raise TypeError(f"where: condition must be a bool Tensor, got "
                            f"{condition.dtype.name if isinstance(condition, Tensor) else type(condition).__name__}")
        if condition.backend != self.backend:
            raise RuntimeError(f"where: the condition lives on backend {condition.backend!r}, the tensor on {self.backend!r}")
        return F.Where.apply(self, self._operand(other), condition=condition.data)

    def __rpow__(self, base):
        return F.Pow.apply(self._operand(base), self)

    def add(self, other, alpha=1):
        return self + (other if alpha == 1 else self._operand(other) * alpha)

    def sub(self, other, alpha=1):
        return self - (other if alpha == 1 else self._operand(other) * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def neg(self):
        return -self

    def pow(self, exponent):
        return self**exponent

    def softmax(self, dim):
        return F.Softmax.apply(self, dim=self._dim(dim))

    def log_softmax(self, dim):
        return F.LogSoftmax.apply(self, dim=self._dim(dim))

    # reductions
    def min(self, dim=None, keepdim=False):
        """min() -> the smallest element; min(dim) -> (values, indices), as in torch."""
        if dim is None:
            return F.MinAll.apply(self)
        values = F.MinDim.apply(self, dim=dim, keepdim=keepdim)
        return Tensor.MinResult(values, self.argmin(dim=dim, keepdim=keepdim))

    def argmin(self, dim=None, keepdim=False):
        data, xp = self.data, backend_of(self.data).xp
        if dim is None:
            idx = xp.asarray(data.argmin(), dtype=int64)
            return Tensor._wrap(idx.reshape((1,) * data.ndim) if keepdim else idx)
        axis = self._dim(dim)
        if data.ndim == 0:
            return Tensor._wrap(xp.zeros((), dtype=int64))
        idx = xp.asarray(data.argmin(axis=axis))
        return Tensor._wrap((xp.expand_dims(idx, axis) if keepdim else idx).astype(int64, copy=False))

    def prod(self, dim=None, keepdim=False):
        if dim is not None:
            dim = self._dim(dim)
        return F.Prod.apply(self, dim=dim, keepdim=keepdim)

    def _correction(self, what, unbiased, correction):
        if unbiased is not None and correction is not None:
            raise RuntimeError(f"{what}: pass either unbiased or correction, not both")
        if not np.issubdtype(self.dtype, np.floating):
            raise RuntimeError(f"{what}: needs a floating point tensor, got dtype {self.dtype.name}")
        if unbiased is not None:
            return 1 if unbiased else 0
        return 1 if correction is None else correction

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        """Variance over ``dim``: sum((x - mean)^2) / (N - correction); correction=1 by default."""
        correction = self._correction("var", unbiased, correction)
        return F.Var.apply(self, dim=dim, correction=correction, keepdim=keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        correction = self._correction("std", unbiased, correction)
        return F.Std.apply(self, dim=dim, correction=correction, keepdim=keepdim)

    def logsumexp(self, dim, keepdim=False):
        x = self if np.issubdtype(self.dtype, np.floating) else self.type(default_dtype)  # ints: as torch
        return F.LogSumExp.apply(x, dim=dim, keepdim=keepdim)

    def _any_or_all(self, which, dim, keepdim):
        xp = backend_of(self.data).xp
        axes = F.reduce.normalize_dims(dim, self.ndim)
        if dim is None and keepdim:
            axes = tuple(range(self.ndim))
        result = getattr(self.data.astype(bool_, copy=False), which)(axis=axes, keepdims=keepdim)
        return Tensor._wrap(xp.asarray(result))

    def any(self, dim=None, keepdim=False):
        return self._any_or_all("any", dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return self._any_or_all("all", dim, keepdim)
    # ===== end of the issue 13 part 2 block =====================================================


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
