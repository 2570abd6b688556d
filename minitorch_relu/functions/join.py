"""cat and stack: many tensors joined into one. Backward cuts the gradient back into the pieces.

cat puts them end to end along an existing dimension, so each input's gradient is its slice of
the output's gradient; stack adds a new dimension, so each input's gradient is one index along it.
"""

from ..autograd import Function


def _along(axis, index):
    """An index tuple that picks ``index`` (an int or a slice) along ``axis``."""
    return (slice(None),) * axis + (index,)


class Cat(Function):
    def forward(self, *arrays, dim=0):
        self.axis = dim
        self.sizes = [a.shape[dim] for a in arrays]
        return self.xp.concatenate(arrays, axis=dim)

    def backward(self, grad):
        grads, start = [], 0
        for size, needed in zip(self.sizes, self.needs_input_grad):
            grads.append(grad[_along(self.axis, slice(start, start + size))] if needed else None)
            start += size
        return tuple(grads)


class Stack(Function):
    def forward(self, *arrays, dim=0):
        self.axis = dim
        return self.xp.stack(arrays, axis=dim)

    def backward(self, grad):
        return tuple(grad[_along(self.axis, i)] if needed else None for i, needed in enumerate(self.needs_input_grad))
