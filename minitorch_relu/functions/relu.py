"""ReLU: f(x) = max(0, x). Gradient 1 where x > 0, and 0 elsewhere — also at exactly 0, as in torch.

A unit whose input stays negative gets gradient 0 forever: the "dying ReLU".
"""

from ..autograd import Function


class ReLU(Function):
    saves_output = True

    def forward(self, x):
        self.out = self.xp.maximum(x, 0)
        return self.out

    def backward(self, grad):
        # The output alone says where the unit was active (out > 0 exactly when x > 0). where, not
        # grad * mask: a NaN gradient reaching an inactive unit stays 0 there, as in torch.
        return (self.xp.where(self.out > 0, grad, 0),)
