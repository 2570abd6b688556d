"""Reductions: sum, mean, max and min over all elements or some dimensions."""

from ..autograd import Function


def normalize_dims(dim, ndim):
    """``dim`` (None, int or tuple) as a tuple of non-negative axes; None (or (), as in torch) means all."""
    dims = () if dim is None else (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return tuple(range(ndim))
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dimension {d} is out of range for a tensor with {ndim} dimensions")
        out.append(d % max(ndim, 1))
    return tuple(sorted(set(out))) if ndim else ()


def _expand_back(grad, in_shape, axes, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input again."""
    if not keepdim:
        shape = list(in_shape)
        for ax in axes:
            shape[ax] = 1
        grad = grad.reshape(shape)
    return grad


class Sum(Function):
    def forward(self, x, dim=None, keepdim=False):
        self.in_shape = x.shape
        self.axes = normalize_dims(dim, x.ndim)
        self.keepdim = keepdim
        return x.sum(axis=self.axes, keepdims=keepdim)

    def backward(self, grad):
        grad = _expand_back(grad, self.in_shape, self.axes, self.keepdim)
        return (self.xp.broadcast_to(grad, self.in_shape),)


class Mean(Function):
    def forward(self, x, dim=None, keepdim=False):
        self.in_shape = x.shape
        self.axes = normalize_dims(dim, x.ndim)
        self.keepdim = keepdim
        self.count = 1
        for ax in self.axes:
            self.count *= x.shape[ax]
        return x.mean(axis=self.axes, keepdims=keepdim)

    def backward(self, grad):
        grad = _expand_back(grad, self.in_shape, self.axes, self.keepdim) / self.count
        return (self.xp.broadcast_to(grad, self.in_shape),)


class _ExtremeAll(Function):
    """max or min over every element; like torch, the gradient is split evenly among the tied extremes
    (among the NaNs, when a NaN is the result)."""

    saved_inputs = (0,)
    saves_output = True

    def forward(self, x):
        if x.size == 0:
            raise RuntimeError(f"{self.name_in_errors}(): cannot reduce an empty tensor; pass dim= to reduce one dimension")
        self.x = x
        self.out = self.extreme(x)
        return self.out

    def backward(self, grad):
        mask = self.xp.isnan(self.x) if self.xp.isnan(self.out) else self.x == self.out
        share = (grad / mask.sum()).astype(self.x.dtype)
        return (self.xp.where(mask, share, self.xp.zeros((), dtype=share.dtype)),)  # not mask * share: 0 * nan


class MaxAll(_ExtremeAll):
    name_in_errors = "max"

    def extreme(self, x):
        return x.max()


class MinAll(_ExtremeAll):
    name_in_errors = "min"

    def extreme(self, x):
        return x.min()


class _ExtremeDim(Function):
    """max or min along one dimension; the gradient goes to the one position argmax (argmin) reports,
    the first extreme, as in torch."""

    saves_arrays = True  # the indices, as torch

    def forward(self, x, dim, keepdim=False):
        axes = normalize_dims(dim, x.ndim)
        if not axes:  # a 0-d x, with dim 0 or -1 as torch allows: its max (min) is itself
            self.axis = None
            return x.copy()
        (axis,) = axes
        if x.shape[axis] == 0:
            raise IndexError(f"{self.name_in_errors}(): cannot reduce dimension {dim} of size 0 "
                             f"(input shape {tuple(x.shape)})")
        self.x_shape, self.axis, self.keepdim = x.shape, axis, keepdim
        self.indices = self.xp.expand_dims(self.position(x, axis), axis)
        values = self.xp.take_along_axis(x, self.indices, axis=axis)
        return values if keepdim else values.squeeze(axis)

    def backward(self, grad):
        xp, axis = self.xp, self.axis
        if axis is None:  # 0-d input
            return (grad,)
        if not self.keepdim:
            grad = xp.expand_dims(grad, axis)
        positions_shape = [1] * len(self.x_shape)
        positions_shape[axis] = self.x_shape[axis]
        positions = xp.arange(self.x_shape[axis]).reshape(positions_shape)
        return (xp.where(positions == self.indices, grad, xp.zeros((), dtype=grad.dtype)),)


class MaxDim(_ExtremeDim):
    name_in_errors = "max"

    def position(self, x, axis):
        return x.argmax(axis=axis)


class MinDim(_ExtremeDim):
    name_in_errors = "min"

    def position(self, x, axis):
        return x.argmin(axis=axis)
