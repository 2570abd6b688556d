"""SiLU (swish): x * sigmoid(x).

    silu'(x) = s + x * s * (1 - s) = s * (1 + x * (1 - s)),   s = sigmoid(x)
"""

from ..autograd import Function


class SiLU(Function):
    saved_inputs = (0,)

    def forward(self, x):
        xp = self.xp
        self.x = x
        z = xp.exp(-xp.abs(x))  # as in sigmoid.py: exp(-|x|) never overflows
        self.s = xp.where(x >= 0, 1 / (1 + z), z / (1 + z))
        return x * self.s

    def backward(self, grad):
        s = self.s
        return (grad * (s * (1 + self.x * (1 - s))),)
