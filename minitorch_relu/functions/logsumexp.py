"""logsumexp: log(sum(exp(x))) over some dimensions, shifted by the max so exp never overflows.

    lse = m + log(sum(exp(x - m)))          d lse/dx_i = exp(x_i - lse) = softmax(x)_i

An infinite max is not subtracted (inf - inf would be nan); then lse is that infinity, as in torch.
"""

from ..autograd import Function
from .reduce import _expand_back, normalize_dims


class LogSumExp(Function):
    saved_inputs = (0,)
    saves_output = True

    def forward(self, x, dim, keepdim=False):
        xp = self.xp
        self.in_shape, self.keepdim = x.shape, keepdim
        self.axes = normalize_dims(dim, x.ndim)
        self.x = x
        shift = x.max(axis=self.axes, keepdims=True)
        shift = xp.where(xp.isinf(shift), xp.zeros((), dtype=x.dtype), shift)
        out = xp.log(xp.exp(x - shift).sum(axis=self.axes, keepdims=True)) + shift
        self.out_kept = out  # with the reduced dims kept, to broadcast in backward
        return out if keepdim else out.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, grad):
        grad = _expand_back(grad, self.in_shape, self.axes, self.keepdim)
        return (grad * self.xp.exp(self.x - self.out_kept),)
