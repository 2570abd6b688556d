"""tanh, with d tanh(x) = 1 - tanh(x)^2 read from the saved output."""

from ..autograd import Function


class Tanh(Function):
    saves_output = True

    def forward(self, x):
        self.out = self.xp.tanh(x)
        return self.out

    def backward(self, grad):
        return (grad * (1 - self.out * self.out),)
