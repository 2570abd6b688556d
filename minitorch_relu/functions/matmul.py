"""Matrix product a @ b with NumPy's rules (1-D operands, broadcast batch dimensions)."""

from ..autograd import Function, saved_for_each_other, unbroadcast
from ..errors import ShapeError


def check_matmul_shapes(a_shape, b_shape):
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ShapeError(f"matmul: both operands need at least 1 dimension, got shapes {a_shape} and {b_shape}")
    inner_a = a_shape[-1]
    inner_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if inner_a != inner_b:
        raise ShapeError(
            f"matmul: shapes {a_shape} and {b_shape} are incompatible (inner dimensions {inner_a} != {inner_b})"
        )


class MatMul(Function):
    @property
    def saved_inputs(self):
        return saved_for_each_other(self.needs_input_grad)

    def forward(self, a, b):
        check_matmul_shapes(tuple(a.shape), tuple(b.shape))
        self.a, self.b = a, b
        try:
            return self.xp.matmul(a, b)
        except ValueError:
            raise ShapeError(f"matmul: batch dimensions of {tuple(a.shape)} and {tuple(b.shape)} do not broadcast") from None

    def backward(self, grad):
        a, b = self.a, self.b
        # Treat 1-D operands as a row (a) or column (b) matrix, as matmul itself does.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if b.ndim == 1:  # restore b's column first, so a 0-d grad (1-D @ 1-D) becomes (1, 1)
            g2 = g2[..., None]
        if a.ndim == 1:
            g2 = g2[..., None, :]
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(self.xp.matmul(g2, b2.swapaxes(-1, -2)), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            grad_b = unbroadcast(self.xp.matmul(a2.swapaxes(-1, -2), g2), b2.shape).reshape(b.shape)
        return grad_a, grad_b
