"""softmax and log_softmax along one dimension, shifted by the max so exp never overflows."""

from ..autograd import Function


class Softmax(Function):
    saves_output = True

    def forward(self, x, dim):
        shifted = x - x.max(axis=dim, keepdims=True)
        e = self.xp.exp(shifted)
        e /= e.sum(axis=dim, keepdims=True)
        self.out, self.dim = e, dim
        return e

    def backward(self, grad):
        y = self.out
        # Jacobian-vector product of softmax: y * (g - <g, y>)
        return (y * (grad - (grad * y).sum(axis=self.dim, keepdims=True)),)


class LogSoftmax(Function):
    saves_output = True

    def forward(self, x, dim):
        shifted = x - x.max(axis=dim, keepdims=True)
        shifted -= self.xp.log(self.xp.exp(shifted).sum(axis=dim, keepdims=True))
        self.out, self.dim = shifted, dim
        return shifted

    def backward(self, grad):
        # d log_softmax: g - softmax * sum(g)
        return (grad - self.xp.exp(self.out) * grad.sum(axis=self.dim, keepdims=True),)
