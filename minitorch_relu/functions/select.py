"""Elementwise choices between two tensors: maximum, minimum and where.

Each element of the output is one of the inputs' elements, so the gradient goes to whichever input
was chosen. maximum/minimum split it in half on a tie (torch's convention: the subgradient in the
middle); where sends it by the condition. Inputs broadcast; gradients are summed back to each shape.
"""

from ..autograd import Function, unbroadcast


def _broadcast_error(op, *arrays):
    shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
    return RuntimeError(f"{op}: shapes {shapes} cannot be broadcast together")


class Maximum(Function):
    """max(a, b) per element: d/da = 1 where a > b, 1/2 where a == b, 0 where a < b."""

    saved_inputs = (0, 1)

    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            return self.xp.maximum(a, b)
        except ValueError:
            raise _broadcast_error("maximum", a, b) from None

    def backward(self, grad):
        xp, a, b = self.xp, self.a, self.b
        shared = xp.where(a == b, grad / 2, grad)  # a tie shares the gradient
        zero = xp.zeros((), dtype=grad.dtype)
        grad_a = unbroadcast(xp.where(a < b, zero, shared), a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(xp.where(a > b, zero, shared), b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Minimum(Function):
    """min(a, b) per element: d/da = 1 where a < b, 1/2 where a == b, 0 where a > b."""

    saved_inputs = (0, 1)

    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            return self.xp.minimum(a, b)
        except ValueError:
            raise _broadcast_error("minimum", a, b) from None

    def backward(self, grad):
        xp, a, b = self.xp, self.a, self.b
        shared = xp.where(a == b, grad / 2, grad)
        zero = xp.zeros((), dtype=grad.dtype)
        grad_a = unbroadcast(xp.where(a > b, zero, shared), a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(xp.where(a < b, zero, shared), b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Where(Function):
    """condition ? x : y per element: the gradient goes to x where the condition holds, to y elsewhere."""

    def forward(self, x, y, condition):
        self.condition, self.shapes = condition, (x.shape, y.shape)
        try:
            return self.xp.where(condition, x, y)
        except ValueError:
            raise _broadcast_error("where", condition, x, y) from None

    def backward(self, grad):
        xp, condition = self.xp, self.condition
        zero = xp.zeros((), dtype=grad.dtype)
        x_shape, y_shape = self.shapes
        grad_x = unbroadcast(xp.where(condition, grad, zero), x_shape) if self.needs_input_grad[0] else None
        grad_y = unbroadcast(xp.where(condition, zero, grad), y_shape) if self.needs_input_grad[1] else None
        return grad_x, grad_y
