"""prod: the product of the elements, over all of them or along one dimension.

d(x_1 x_2 ... x_n)/dx_i is the product of every *other* element. Written as prod / x_i it breaks
at x_i = 0, so it is computed as (product of the elements before i) * (product of those after i),
two running products: exact with zeros too. That is torch's convention: with one zero, only the
zero's position gets a gradient (the product of the others); with two or more, every gradient is 0.
"""

from ..autograd import Function
from .reduce import normalize_dims


def _along(axis, index):
    return (slice(None),) * axis + (index,)


def product_of_others(x, axis, xp):
    """out[..., i, ...] = product of x[..., j, ...] over every j != i along ``axis``."""
    ones_shape = list(x.shape)
    ones_shape[axis] = 1
    ones = xp.ones(ones_shape, dtype=x.dtype)
    # before[i] = x[0] * ... * x[i-1] (1 for i = 0); after[i] = x[i+1] * ... * x[n-1] (1 for the last)
    before = xp.cumprod(xp.concatenate([ones, x[_along(axis, slice(None, -1))]], axis=axis), axis=axis)
    reversed_tail = xp.flip(xp.concatenate([x[_along(axis, slice(1, None))], ones], axis=axis), axis=axis)
    after = xp.flip(xp.cumprod(reversed_tail, axis=axis), axis=axis)
    return before * after


class Prod(Function):
    def forward(self, x, dim=None, keepdim=False):
        self.x_shape, self.dim, self.keepdim = x.shape, dim, keepdim
        if dim is None:  # every element: a product along the flattened tensor
            self.x = x.reshape(-1)
            self.axis = 0
            return x.prod(keepdims=keepdim) if x.ndim else x.copy()
        axes = normalize_dims(dim, x.ndim)
        self.axis = axes[0] if axes else None  # () for a 0-d x: nothing to multiply
        self.x = x
        if self.axis is None:
            return x.copy()
        return x.prod(axis=self.axis, keepdims=keepdim)

    def backward(self, grad):
        if self.axis is None:  # 0-d input along dim 0: the product is x itself
            return (grad,)
        others = product_of_others(self.x, self.axis, self.xp)
        if self.dim is None:
            return ((grad.reshape(()) * others).reshape(self.x_shape),)
        if not self.keepdim:
            grad = self.xp.expand_dims(grad, self.axis)
        return (grad * others,)
