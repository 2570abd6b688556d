"""a ** b with a tensor exponent (x ** y, 2 ** x); a number exponent is PowScalar in arithmetic.py.

    d(a^b)/da = b * a^(b-1)        d(a^b)/db = a^b * log(a)

torch's conventions where a formula reads 0 * inf: where b == 0 the gradient for a is 0 (a^0 is
constant), and where a == 0 and b >= 0 the gradient for b is 0 (not 0 * log 0).
"""

from ..autograd import Function, unbroadcast


class Pow(Function):
    saved_inputs = (0, 1)
    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        try:
            self.out = a**b
        except ValueError:
            raise RuntimeError(f"pow: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be broadcast together") from None
        return self.out

    def backward(self, grad):
        xp, a, b = self.xp, self.a, self.b
        zero = xp.zeros((), dtype=grad.dtype)
        grad_a = grad_b = None
        if self.needs_input_grad[0]:
            grad_a = unbroadcast(grad * xp.where(b == 0, zero, b * a ** (b - 1)), a.shape)
        if self.needs_input_grad[1]:
            zero_base = (a == 0) & (b >= 0)
            grad_b = unbroadcast(grad * xp.where(zero_base, zero, self.out * xp.log(a)), b.shape)
        return grad_a, grad_b
