"""Ops that move elements without changing them: reshape, permute (transpose) and indexing."""

from ..autograd import Function
from ..errors import ShapeError


class Reshape(Function):
    def forward(self, x, shape):
        self.in_shape = x.shape
        try:
            out = x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} into {tuple(shape)}") from None
        # a copy when the layout does not allow a view (as in torch); a copy may still have a .base.
        # An empty tensor's reshape is a view in torch, and shares no memory to test.
        self.is_view = out.base is not None and (out.size == 0 or self.xp.may_share_memory(out, x))
        return out

    def backward(self, grad):
        return (grad.reshape(self.in_shape),)


class Permute(Function):
    is_view = True

    def forward(self, x, axes):
        if sorted(axes) != list(range(x.ndim)):
            raise ShapeError(f"permute: dims {tuple(axes)} are not a permutation of the {x.ndim} dimensions of a "
                             f"tensor of shape {tuple(x.shape)}")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, grad):
        inverse = [0] * len(self.axes)
        for i, ax in enumerate(self.axes):
            inverse[ax] = i
        return (grad.transpose(inverse),)


def _is_basic_index(index):
    """Slices, ints, None and Ellipsis only: every element is picked at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class Index(Function):
    def forward(self, x, index):
        self.is_view = _is_basic_index(index)  # slices and ints give a view, index arrays a copy
        if self.is_view:
            parts = index if isinstance(index, tuple) else (index,)
            if Ellipsis not in parts:  # x[2] of a 1-D NumPy array is a scalar copy; x[2, ...] a 0-d view, as in torch
                index = parts + (Ellipsis,)
        else:  # torch saves index tensors: a second backward without retain_graph raises
            self.saves_arrays = True
        self.in_shape, self.dtype, self.index = x.shape, x.dtype, index
        # torch's gathered result is contiguous (so a later reshape is a view); NumPy's may not be
        return x[index] if self.is_view else self.xp.ascontiguousarray(x[index])

    def backward(self, grad):
        out = self.xp.zeros(self.in_shape, dtype=self.dtype)
        if _is_basic_index(self.index):
            out[self.index] = grad
        else:  # advanced indexing may pick an element twice: scatter-add
            self.xp.add.at(out, self.index, grad)
        return (out,)


class Cast(Function):
    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return (grad.astype(self.in_dtype),)
