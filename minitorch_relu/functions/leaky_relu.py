"""LeakyReLU: x for x > 0, slope * x otherwise (torch's default slope is 0.01).

The small slope keeps a gradient flowing for negative inputs, so units cannot die. At exactly 0 the
gradient is the slope, as in torch.
"""

from ..autograd import Function


class LeakyReLU(Function):
    saved_inputs = (0,)

    def forward(self, x, negative_slope=0.01):
        self.positive = x > 0
        self.slope = negative_slope
        return self.xp.where(self.positive, x, x * negative_slope)

    def backward(self, grad):
        return (self.xp.where(self.positive, grad, grad * self.slope),)
