"""2-D max pooling: each output is the largest value of its kernel-sized window.

The gradient flows only to the position that won. On ties torch picks the first maximum in the
window's row-major order (a later value wins only if strictly larger); ``argmax`` picks the same.
"""

from ..autograd import Function
from .conv2d import _windows


class MaxPool2d(Function):
    def forward(self, x, kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)):
        xp = self.xp
        (kh, kw), (ph, pw) = kernel_size, padding
        if ph or pw:  # padding never wins: it is -inf, as in torch
            x = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-xp.inf)
        windows = _windows(xp, x, kernel_size, stride)
        n, c, ho, wo = windows.shape[:4]
        flat = windows.reshape(n, c, ho, wo, kh * kw)  # one copy: each window as a row
        self.winner = flat.argmax(axis=-1)  # index of the max in row-major window order (first on ties)
        self.kernel_size, self.stride, self.padding, self.padded_shape = kernel_size, stride, padding, x.shape
        return flat.max(axis=-1)

    def backward(self, grad):
        xp = self.xp
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        ho, wo = grad.shape[2], grad.shape[3]
        grad_padded = xp.zeros(self.padded_shape, dtype=grad.dtype)
        for di in range(kh):
            for dj in range(kw):
                # windows whose winner sat at offset (di, dj) send their gradient to that pixel
                won = self.winner == di * kw + dj
                grad_padded[:, :, di:di + sh * ho:sh, dj:dj + sw * wo:sw] += grad * won
        h, w = self.padded_shape[2] - 2 * ph, self.padded_shape[3] - 2 * pw
        return (grad_padded[:, :, ph:ph + h, pw:pw + w],)
