"""Elementwise arithmetic: + - * / unary minus and x ** number.

Binary ops broadcast like NumPy; each input's gradient is summed back to that input's shape.
"""

from ..autograd import Function, saved_for_each_other, unbroadcast
from ..errors import ShapeError


def _broadcast_error(op, a, b):
    return ShapeError(f"{op}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together")


class Add(Function):
    def forward(self, a, b):
        if a.shape != b.shape:
            self.shapes = (a.shape, b.shape)
        try:
            return a + b
        except ValueError:
            raise _broadcast_error("add", a, b) from None

    def backward(self, grad):
        a_shape, b_shape = getattr(self, "shapes", (grad.shape, grad.shape))
        return unbroadcast(grad, a_shape), unbroadcast(grad, b_shape)


class Sub(Function):
    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        try:
            return a - b
        except ValueError:
            raise _broadcast_error("sub", a, b) from None

    def backward(self, grad):
        a_shape, b_shape = self.shapes
        grad_b = -unbroadcast(grad, b_shape) if self.needs_input_grad[1] else None
        return unbroadcast(grad, a_shape), grad_b


class Mul(Function):
    @property
    def saved_inputs(self):
        return saved_for_each_other(self.needs_input_grad)

    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            return a * b
        except ValueError:
            raise _broadcast_error("mul", a, b) from None

    def backward(self, grad):
        a, b = self.a, self.b
        grad_a = unbroadcast(grad * b, a.shape) if self.needs_input_grad[0] else None
        grad_b = unbroadcast(grad * a, b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    @property
    def saved_inputs(self):  # b for either gradient, a only for b's
        return (0, 1) if self.needs_input_grad[1] else (1,)

    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            return a / b
        except ValueError:
            raise _broadcast_error("div", a, b) from None

    def backward(self, grad):
        a, b = self.a, self.b
        grad_over_b = grad / b
        grad_a = unbroadcast(grad_over_b, a.shape) if self.needs_input_grad[0] else None
        # d(a/b)/db = -a / b^2, written as -(grad / b) * (a / b) to stay in range
        grad_b = unbroadcast(-grad_over_b * (a / b), b.shape) if self.needs_input_grad[1] else None
        return grad_a, grad_b


class Reciprocal(Function):
    """1 / x, with d/dx = -1 / x^2 = -out^2, read from the saved output."""

    saves_output = True

    def forward(self, a):
        self.out = 1 / a
        return self.out

    def backward(self, grad):
        return (-grad * (self.out * self.out),)


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, grad):
        return (-grad,)


def torch_power(xp, a, p):
    """a ** p for a number p as torch's CPU kernel computes it: these exponents by cheaper operations,
    with their roundings and their edge values (x ** -0.5 is 1 / sqrt(x): NaN at -inf, -inf at -0.0,
    where pow gives 0 and inf)."""
    if a.dtype.kind != "f":
        return a**p
    if p == 2:
        return a * a
    if p == 3:
        return a * a * a
    if p == 0.5:
        return xp.sqrt(a)
    if p == -0.5:
        return 1 / xp.sqrt(a)
    if p == -1:
        return 1 / a
    if p == -2:
        return 1 / (a * a)
    return a**p


class PowScalar(Function):
    """x ** p for a number p: d/dx = p * x ** (p - 1) (both powers as torch computes them)."""

    saved_inputs = (0,)

    def forward(self, a, exponent):
        self.a, self.exponent = a, exponent
        return torch_power(self.xp, a, exponent)

    def backward(self, grad):
        a, p = self.a, self.exponent
        if p == 0:  # torch's zeros: not grad * 0, which is NaN where grad is
            return (self.xp.zeros(a.shape, dtype=grad.dtype),)
        return (grad * (p * torch_power(self.xp, a, p - 1)),)
