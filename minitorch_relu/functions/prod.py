"""prod: the product of the elements, over all of them or along one dimension.

d(x_1 x_2 ... x_n)/dx_i is the product of every *other* element. torch computes it as prod / x_i
when no element is 0 (so with an infinity the gradient is inf / inf = NaN, as in torch); with zeros,
that breaks, and it takes (product of the elements before i) * (product of those after i), two
running products, exact with zeros. Over every element, two zeros or more make every gradient 0
(torch's shortcut); along a dimension, torch takes the running products for the whole tensor once
any element is 0.
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
    saved_inputs = (0,)
    saves_output = True

    def forward(self, x, dim=None, keepdim=False):
        self.x_shape, self.dim, self.keepdim = x.shape, dim, keepdim
        if dim is None:  # every element: a product along the flattened tensor
            self.x = x.reshape(-1)
            self.axis = 0
            self.out = x.prod(keepdims=keepdim) if x.ndim else x.copy()
            return self.out
        axes = normalize_dims(dim, x.ndim)
        self.axis = axes[0] if axes else None  # () for a 0-d x: nothing to multiply
        self.x = x
        if self.axis is None:
            return x.copy()
        self.out = x.prod(axis=self.axis, keepdims=keepdim)
        return self.out

    def backward(self, grad):
        if self.axis is None or not self.x_shape:  # a 0-d input: the product is x itself
            return (grad,)
        xp, x = self.xp, self.x
        zeros = int(xp.count_nonzero(x == 0))
        if self.dim is None:
            grad = grad.reshape(())
        elif not self.keepdim:
            grad = xp.expand_dims(grad, self.axis)
        if zeros == 0:
            out = self.out if self.dim is None or self.keepdim else xp.expand_dims(self.out, self.axis)
            others = out / x
        elif zeros > 1 and self.dim is None:
            return (xp.zeros(self.x_shape, dtype=grad.dtype),)  # not grad * 0: a NaN gradient gives 0 too
        else:
            others = product_of_others(x, self.axis, xp)
        return ((grad * others).reshape(self.x_shape),)
