"""Sigmoid: s(x) = 1 / (1 + exp(-x)), with s'(x) = s(x) * (1 - s(x)) <= 0.25.

Chained layers multiply these factors, which is why deep sigmoid networks' gradients vanish.
"""

from ..autograd import Function


class Sigmoid(Function):
    saves_output = True

    def forward(self, x):
        xp = self.xp
        # exp(-|x|) never overflows, so huge inputs (|x| ~ 1e4) give exact 0/1 without warnings.
        z = xp.exp(-xp.abs(x))
        self.out = xp.where(x >= 0, 1 / (1 + z), z / (1 + z))
        return self.out

    def backward(self, grad):
        s = self.out  # only the output is needed
        return (grad * (s * (1 - s)),)
