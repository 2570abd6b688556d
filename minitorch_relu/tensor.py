"""Tensor: an array plus what autograd needs (requires_grad, .grad, the op that made it)."""

from collections import namedtuple

import numpy as np

from . import functions as F
from .autograd.graph import (_HookHandle, accumulate_into_leaf, register_tensor_class, run_backward,
                             saves_tensors_of_options)
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
    if isinstance(flat, (float, np.floating)):
        return default_dtype
    raise TypeError(f"tensor(): unsupported data of type {type(flat).__name__}; tensors hold bool, int or float")


def _check_grad_dtype(dtype):
    if not np.issubdtype(dtype, np.floating):
        raise RuntimeError(f"only floating point tensors can require gradients, got dtype {np.dtype(dtype).name}")


def _check_supported_dtype(dtype):
    """Tensors hold bool, integers or floats (torch's real dtypes); complex, object, strings are refused."""
    if np.dtype(dtype).kind not in "biuf":
        raise TypeError(f"unsupported dtype {np.dtype(dtype).name}: a tensor holds bool, int or float values")


# ----- type promotion: torch.result_type, the one rule every binary op uses -----------------------
_NUMBER_TYPES = (bool, int, float, np.bool_, np.integer, np.floating)


def _category(dtype):
    """0 bool, 1 integer, 2 floating: promotion never goes down a category."""
    kind = dtype.kind
    return 2 if kind == "f" else 0 if kind == "b" else 1


def promote_types(a, b):
    """torch.promote_types: across categories the higher one wins (int64 with float32 is float32, not
    NumPy's float64); within one, the wider type."""
    if a is None or a == b:
        return b
    if b is None:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _number_dtype(value):
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(bool_)
    return np.dtype(int64) if isinstance(value, (int, np.integer)) else np.dtype(default_dtype)


def result_type(*operands):
    """torch.result_type of Tensors and Python numbers.

    Operands come in three ranks: tensors with dimensions, 0-d tensors, then numbers. A lower rank
    decides the dtype only when it is of a higher category (bool < int < float): float32 * 0-d float64
    is float32, int64 * 0-d float64 is float64, int64 * 2.5 is the default float (float32).
    """
    dims = zeros = numbers = None
    for op in operands:
        if isinstance(op, Tensor):
            if op.data.ndim:
                dims = promote_types(dims, op.data.dtype)
            else:
                zeros = promote_types(zeros, op.data.dtype)
        else:
            numbers = promote_types(numbers, _number_dtype(op))
    return _combine_ranks(dims, _combine_ranks(zeros, numbers))


def _combine_ranks(higher, lower):
    if higher is None:
        return lower
    if lower is None or _category(higher) >= _category(lower):
        return higher
    return lower


def _float_result(dtype):
    """True division, exp, sqrt... of integers (or bools) give the default float, as in torch."""
    return dtype if dtype.kind == "f" else np.dtype(default_dtype)


class Tensor:
    __slots__ = ("data", "_grad", "requires_grad", "grad_fn", "_version_counter", "_base", "_base_history", "_hooks",
                 "__weakref__")
    __hash__ = object.__hash__  # == builds a tensor, so identity hashing must be asked for

    def __init__(self, data, requires_grad=False):
        backend_of(data)  # raises for anything that is not a backend array
        _check_supported_dtype(data.dtype)
        if requires_grad:
            _check_grad_dtype(data.dtype)
        self.data = data
        self._grad = None
        self.requires_grad = requires_grad
        self.grad_fn = None  # the Function that made this tensor (None for a leaf): the graph's way back
        self._version_counter = [0]  # in-place changes so far; one list shared with views (see _version)
        self._base = None  # the tensor this one is a view of
        self._base_history = None  # for a view: its base's grad_fn when the view was taken
        self._hooks = None  # a leaf's gradient hooks (a non-leaf's live on its Function)

    @classmethod
    def _wrap(cls, array):
        t = cls.__new__(cls)
        t.data, t._grad, t.requires_grad, t.grad_fn = array, None, False, None
        t._version_counter, t._base, t._base_history, t._hooks = [0], None, None, None
        return t

    @classmethod
    def _from_op(cls, array, fn):
        t = cls.__new__(cls)
        t.data, t._grad, t.requires_grad, t.grad_fn = array, None, True, fn
        t._version_counter, t._base, t._base_history, t._hooks = [0], None, None, None
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
        return self.grad_fn is None

    @property
    def _version(self):
        """How many in-place changes this tensor's memory has seen (shared with its views and detach())."""
        return self._version_counter[0]

    def _bump_version(self):
        self._version_counter[0] += 1

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        """Checked as torch checks it: a Tensor (or None) of this tensor's shape, dtype and backend."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: grad shape {value.shape}, "
                                   f"tensor shape {self.shape}")
            if value.dtype != self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: grad dtype {value.dtype.name}, "
                                   f"tensor dtype {self.dtype.name}")
            values = getattr(value.data, "values", value.data) if getattr(value.data, "is_sparse", False) \
                else value.data
            if backend_of(values) is not backend_of(self.data):
                raise RuntimeError(f"assigned grad has data located on a different device: grad on "
                                   f"{backend_of(values).name!r}, tensor on {self.backend!r}")
        self._grad = value

    def dim(self):
        return self.ndim

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
        if self.grad_fn is not None:
            extras += f", grad_fn=<{self.grad_fn.name()}>"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    # ----- autograd -----------------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("requires_grad can only be turned off on a leaf tensor; use detach()")
        if requires_grad:
            _check_grad_dtype(self.dtype)
        self.requires_grad = requires_grad
        return self

    def detach(self):
        """The same values (shared memory and version counter), cut from the graph."""
        out = Tensor._wrap(self.data)
        out._version_counter = self._version_counter
        return out

    def clone(self):
        """A copy with its own memory that stays in the graph (gradient flows back to self)."""
        return F.Clone.apply(self)

    def retain_grad(self):
        """Keep this non-leaf's gradient in ``.grad`` at the next backward (a no-op on a leaf)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None:
            self.grad_fn._retained = self

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:  # as in torch, a non-leaf's hooks belong to the node that made it
            return self.grad_fn.register_hook(hook)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    def backward(self, gradient=None, retain_graph=None):
        """Accumulate d(self)/d(leaf) * gradient into every leaf's .grad that requires grad.

        The graph's saved values are freed on the way, as in torch; pass ``retain_graph=True`` to
        backward through it again.
        """
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
        if self.grad_fn is None:  # a leaf: the gradient is the answer
            accumulate_into_leaf(self, grad.copy())
            return
        run_backward(self, grad, retain_graph=bool(retain_graph))

    def to(self, backend):
        """A copy of this tensor on another backend ("numpy" or "cupy"); self if already there."""
        target = get_backend(backend)
        if target is backend_of(self.data):
            return self
        array = target.asarray(self.numpy())
        out = Tensor(array, requires_grad=self.requires_grad and self.grad_fn is None)
        if self._grad is not None:
            out._grad = Tensor._wrap(target.asarray(self._grad.numpy()))
        return out

    # ----- arithmetic ---------------------------------------------------------------------------
    def _operand(self, other):
        """``other`` as a Tensor on self's backend; a Python number takes the dtype torch gives it
        next to self (self's dtype within its category, else the number's default dtype)."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, _NUMBER_TYPES):
            dtype = result_type(self, other)
            return Tensor._wrap(backend_of(self.data).asarray(other, dtype=dtype))
        raise TypeError(f"unsupported operand of type {type(other).__name__}; use a Tensor or a Python number")

    def _binary(self, fn, a, b, true_division=False):
        """Apply the binary op ``fn`` to ``a`` and ``b`` (self and the other operand, in op order), both
        first cast to torch's result dtype (integer true division: the default float)."""
        if not isinstance(a, Tensor) and not isinstance(a, _NUMBER_TYPES):
            raise TypeError(f"unsupported operand of type {type(a).__name__}; use a Tensor or a Python number")
        if not isinstance(b, Tensor) and not isinstance(b, _NUMBER_TYPES):
            raise TypeError(f"unsupported operand of type {type(b).__name__}; use a Tensor or a Python number")
        dtype = result_type(a, b)
        if fn is F.Sub and (_is_bool(a) or _is_bool(b)):
            raise TypeError("subtraction, the `-` operator, with a bool tensor is not supported; use ^ or ~ instead")
        if true_division:
            dtype = _float_result(dtype)
        return fn.apply(self._cast_operand(a, dtype), self._cast_operand(b, dtype))

    def _cast_operand(self, x, dtype):
        if not isinstance(x, Tensor):
            return Tensor._wrap(backend_of(self.data).asarray(x, dtype=dtype))
        if x.data.dtype == dtype:
            return x
        # in the graph if x requires grad (its gradient is cast back to x's dtype); the copy keeps x's
        # version counter, so an op that saves it still notices an in-place change of x (as torch does)
        cast = F.Cast.apply(x, dtype=dtype) if x.requires_grad else Tensor._wrap(x.data.astype(dtype))
        cast._version_counter = x._version_counter
        return cast

    def __add__(self, other):
        return self._binary(F.Add, self, other)

    def __radd__(self, other):
        return self._binary(F.Add, other, self)

    def __sub__(self, other):
        return self._binary(F.Sub, self, other)

    def __rsub__(self, other):
        return self._binary(F.Sub, other, self)

    def __mul__(self, other):
        return self._binary(F.Mul, self, other)

    def __rmul__(self, other):
        return self._binary(F.Mul, other, self)

    def __truediv__(self, other):
        return self._binary(F.Div, self, other, true_division=True)

    def __rtruediv__(self, other):
        if not isinstance(other, Tensor):  # torch: number / x is x.reciprocal() * number (saves 1/x, not x)
            return self._binary(F.Mul, self.reciprocal(), other)
        return self._binary(F.Div, other, self, true_division=True)

    def reciprocal(self):
        return F.Reciprocal.apply(self._as_float())

    def __neg__(self):
        if self.dtype == bool_:
            raise TypeError("negation, the `-` operator, on a bool tensor is not supported; use ~ (logical not)")
        return F.Neg.apply(self)

    def __pow__(self, exponent):
        if isinstance(exponent, Tensor):  # a tensor exponent: both sides get a gradient
            return self._binary(F.Pow, self, exponent)
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float)):
            raise TypeError(f"** takes a number or Tensor exponent, got {type(exponent).__name__}")
        dtype = result_type(self, exponent)
        if dtype.kind != "f" and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return F.PowScalar.apply(self._cast_operand(self, dtype), exponent=exponent)

    def __matmul__(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"@ needs a Tensor on both sides, got {type(other).__name__}")
        if self.dtype == bool_ or other.dtype == bool_:
            raise NotImplementedError("matmul is not implemented for bool tensors (as in torch)")
        if self.dtype != other.dtype:  # torch does not promote in matmul
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {self.dtype.name} != "
                               f"{other.dtype.name}")
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
        for d in dims:
            if not -max(self.ndim, 1) <= d < max(self.ndim, 1):
                raise IndexError(f"permute: dimension {d} is out of range for a tensor with {self.ndim} dimensions")
        return F.Permute.apply(self, axes=tuple(d % max(self.ndim, 1) for d in dims))

    def transpose(self, dim0, dim1):
        axes = list(range(self.ndim))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return F.Permute.apply(self, axes=tuple(axes))

    @property
    def T(self):
        return F.Permute.apply(self, axes=tuple(reversed(range(self.ndim))))

    def __getitem__(self, index):
        tensors = [i for i in (index if isinstance(index, tuple) else (index,)) if isinstance(i, Tensor)]
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
            if _mixes_ints_and_arrays(index):
                # torch applies integer indices first (they select), then the index arrays: for x of
                # shape (2, 3, 4), x[0, :, idx] is (3, len(idx)); NumPy would give (len(idx), 3).
                selected = F.Index.apply(self, index=_only_ints(index))
                return saves_tensors_of_options(F.Index.apply(selected, index=_without_ints(index)), tensors)
        return saves_tensors_of_options(F.Index.apply(self, index=index), tensors)

    # ----- elementwise functions ----------------------------------------------------------------
    def _as_float(self):
        """Integers and bools enter exp, log, sqrt, sigmoid, tanh as the default float, as in torch."""
        return self if self.dtype.kind == "f" else Tensor._wrap(self.data.astype(default_dtype))

    def exp(self):
        return F.Exp.apply(self._as_float())

    def log(self):
        return F.Log.apply(self._as_float())

    def sqrt(self):
        return F.Sqrt.apply(self._as_float())

    def relu(self):
        if self.dtype == bool_:
            raise NotImplementedError("Boolean inputs not supported for relu")
        return F.ReLU.apply(self)

    def sigmoid(self):
        return F.Sigmoid.apply(self._as_float())

    def tanh(self):
        return F.Tanh.apply(self._as_float())

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

    # ----- shapes, joins, elementwise ops and reductions past the lesson ---------------------------
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
        return self._binary(F.Maximum, self, other)

    def minimum(self, other):
        return self._binary(F.Minimum, self, other)

    def where(self, condition, other):
        """self where ``condition`` holds, ``other`` elsewhere (torch's x.where(condition, y))."""
        if not isinstance(condition, Tensor) or condition.dtype != bool_:
            raise TypeError(f"where: condition must be a bool Tensor, got "
                            f"{condition.dtype.name if isinstance(condition, Tensor) else type(condition).__name__}")
        if condition.backend != self.backend:
            raise RuntimeError(f"where: the condition lives on backend {condition.backend!r}, the tensor on {self.backend!r}")
        dtype = result_type(self, other)
        return F.Where.apply(self._cast_operand(self, dtype), self._cast_operand(other, dtype), condition=condition.data)

    def __rpow__(self, base):
        return self._binary(F.Pow, base, self)

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

    # ----- in-place ops: torch's rules live in functions/inplace.py -------------------------------
    def add_(self, other, *, alpha=1):
        return inplace.apply_(self, "add_", lambda t: t + (other if alpha == 1 else other * alpha), other)

    def sub_(self, other, *, alpha=1):
        return inplace.apply_(self, "sub_", lambda t: t - (other if alpha == 1 else other * alpha), other)

    def mul_(self, other):
        return inplace.apply_(self, "mul_", lambda t: t * other, other)

    def div_(self, other):
        return inplace.apply_(self, "div_", lambda t: t / other, other)

    def pow_(self, exponent):
        return inplace.apply_(self, "pow_", lambda t: t**exponent)

    def clamp_(self, min=None, max=None):
        def clamp(t):
            dtype = result_type(t, *[b for b in (min, max) if b is not None])
            return F.Clamp.apply(t._cast_operand(t, dtype), min=min, max=max)

        return inplace.apply_(self, "clamp_", clamp)

    def fill_(self, value):
        return inplace.apply_(self, "fill_", lambda t: F.Fill.apply(t, value=inplace.fill_value(value)))

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        if not isinstance(src, Tensor):
            raise TypeError(f"copy_: src must be a Tensor, got {type(src).__name__}")
        if src.backend != self.backend:  # torch's copy_ moves between devices too
            src = src.to(self.backend)
        return inplace.apply_(self, "copy_", lambda t: F.Copy.apply(t, src), src)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_


register_tensor_class(Tensor)  # Function.apply makes its results with it (see autograd/graph.py)


def tensor(data, requires_grad=False, dtype=None, backend=None):
    """A new leaf tensor from a list, scalar, numpy/cupy array or Tensor (the data is copied)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.generic):  # a NumPy scalar keeps its dtype, as in torch.tensor
        data = np.asarray(data)
    if dtype is not None:
        _check_supported_dtype(dtype)
    source = None
    try:
        source = backend_of(data)
    except TypeError:
        pass
    target = get_backend(backend) if backend is not None else (source or get_backend(None))
    if source is not None:
        if dtype is None:
            dtype = data.dtype
            _check_supported_dtype(dtype)
        array = target.asarray(source.to_numpy(data) if source is not target else data, dtype=dtype).copy()
    else:
        if dtype is None:
            dtype = _default_dtype_for(data)
        if isinstance(data, np.generic):
            data = data.item()
        array = target.asarray(np.asarray(data, dtype=dtype))
    return Tensor(array, requires_grad=requires_grad)


def _is_bool(x):
    return x.dtype == bool_ if isinstance(x, Tensor) else isinstance(x, (bool, np.bool_))


def _mixes_ints_and_arrays(index):
    has_int = has_array = False
    for i in index:
        if isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            has_int = True
        elif not (i is None or i is Ellipsis or isinstance(i, slice)):
            has_array = True
    return has_int and has_array


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, bool)


def _only_ints(index):
    """The index with every non-integer entry made a full slice (a mask spans its ndim dimensions)."""
    out = []
    for i in index:
        if _is_int(i) or i is None or i is Ellipsis:
            out.append(i)
        elif isinstance(i, slice):
            out.append(slice(None))
        else:
            out.extend([slice(None)] * (i.ndim if i.dtype == bool_ else 1))
    return tuple(out)


def _without_ints(index):
    """What is left of the index once _only_ints has been applied (a None's new axis is kept as :)."""
    return tuple(slice(None) if i is None else i for i in index if not _is_int(i))


from .functions import inplace  # noqa: E402  (it builds Tensors, so it comes after the class)
