"""Softplus: log(1 + exp(beta * x)) / beta, a smooth ReLU.

    softplus'(x) = sigmoid(beta * x) = z / (1 + z),   z = exp(beta * x)

Where beta * x > threshold (20 by default) torch returns x itself (log(1 + e^t) = t to float
precision there) with gradient 1; so does this op.
"""

from ..autograd import Function


class Softplus(Function):
    saved_inputs = (0,)

    def forward(self, x, beta=1.0, threshold=20.0):
        xp = self.xp
        scaled = x * beta
        self.linear = scaled > threshold
        # exp of the linear branch's elements is never needed: cap them so it cannot overflow
        self.z = xp.exp(xp.where(self.linear, xp.zeros((), dtype=x.dtype), scaled))
        return xp.where(self.linear, x, xp.log1p(self.z) / beta)

    def backward(self, grad):
        z = self.z
        return (grad * self.xp.where(self.linear, self.xp.ones((), dtype=grad.dtype), z / (z + 1)),)
