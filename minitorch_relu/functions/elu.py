"""ELU: x for x > 0, alpha * (exp(x) - 1) otherwise.

    elu'(x) = 1 for x > 0, alpha * exp(x) otherwise (alpha at exactly 0, as in torch)

At x = NaN torch's own kernels disagree: its vector loop gives the gradient NaN, its scalar loop
(a tensor's last few elements) gives 1. This gives NaN, as the vector loop does for most elements.
"""

from ..autograd import Function


class ELU(Function):
    saved_inputs = (0,)

    def forward(self, x, alpha=1.0):
        xp = self.xp
        self.x, self.alpha = x, alpha
        self.positive = x > 0
        # expm1: exp(x) - 1 without cancellation for x near 0
        return xp.where(self.positive, x, alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, grad):
        xp = self.xp
        negative_side = self.alpha * xp.exp(xp.minimum(self.x, 0))
        return (grad * xp.where(self.positive, xp.ones((), dtype=grad.dtype), negative_side),)
