"""min over all elements or along one dimension: max's mirror image (see reduce.py).

Over all elements a tie shares the gradient evenly among the tied minima; along a dimension the
gradient goes to the one position argmin reports (the first minimum), as in torch.
"""

from ..autograd import Function
from .reduce import normalize_dims


class MinAll(Function):
    def forward(self, x):
        if x.size == 0:
            raise RuntimeError("min(): cannot reduce an empty tensor; pass dim= to reduce one dimension")
        self.x = x
        self.out = x.min()
        return self.out

    def backward(self, grad):
        mask = self.x == self.out
        return (mask * (grad / mask.sum()).astype(self.x.dtype),)


class MinDim(Function):
    def forward(self, x, dim, keepdim=False):
        axes = normalize_dims(dim, x.ndim)
        if not axes:  # a 0-d x, with dim 0 or -1 as torch allows: its min is itself
            self.axis = None
            return x.copy()
        (axis,) = axes
        if x.shape[axis] == 0:
            raise IndexError(f"min(): cannot reduce dimension {dim} of size 0 (input shape {tuple(x.shape)})")
        self.x_shape, self.axis, self.keepdim = x.shape, axis, keepdim
        self.indices = self.xp.expand_dims(x.argmin(axis=axis), axis)
        values = self.xp.take_along_axis(x, self.indices, axis=axis)
        return values if keepdim else values.squeeze(axis)

    def backward(self, grad):
        xp, axis = self.xp, self.axis
        if axis is None:
            return (grad,)
        if not self.keepdim:
            grad = xp.expand_dims(grad, axis)
        positions_shape = [1] * len(self.x_shape)
        positions_shape[axis] = self.x_shape[axis]
        positions = xp.arange(self.x_shape[axis]).reshape(positions_shape)
        return (xp.where(positions == self.indices, grad, xp.zeros((), dtype=grad.dtype)),)
