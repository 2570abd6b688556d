"""2-D max pooling: each output is the largest value of its kernel-sized window.

The windows are read offset by offset: for each (di, dj) of the kernel, the strided view
x[n, c, i*sh + di, j*sw + dj] holds that offset of every window at once (a view, no copy). The
output is the running maximum over the kh*kw views, and beside it the forward pass keeps ``winner``,
the offset each window's maximum came from: all backward needs (one byte per output).

torch's rule picks the winner: walking the window in row-major order, a value replaces the current
maximum if it is strictly larger, or if it is NaN. So on ties the first maximum wins, and a window
holding NaN outputs NaN and sends its gradient to its last NaN. Backward routes each output's gradient
to its winner: one strided store per offset, ``grad * (winner == k)``.

Memory order: the views are channels-last, the order the convolutions here leave their outputs in
(see conv2d.py), so every pass reads runs of contiguous channels.
"""

from ..autograd import Function


def _offset_view(x_nhwc, di, dj, stride, out_hw):
    """x_nhwc[n, i*sh + di, j*sw + dj, c] for every output (i, j): offset (di, dj) of every window."""
    (sh, sw), (ho, wo) = stride, out_hw
    return x_nhwc[:, di:di + sh * (ho - 1) + 1:sh, dj:dj + sw * (wo - 1) + 1:sw]


class MaxPool2d(Function):
    def forward(self, x, kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)):
        xp = self.xp
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
        x_nhwc = x.transpose(0, 2, 3, 1)  # a view; (N, C, H, W) is still what the caller sees
        if ph or pw:  # padding never wins: it is -inf, as in torch
            x_nhwc = xp.pad(x_nhwc, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=-xp.inf)
        out_hw = ((x_nhwc.shape[1] - kh) // sh + 1, (x_nhwc.shape[2] - kw) // sw + 1)
        offsets = [(di, dj) for di in range(kh) for dj in range(kw)]  # row-major window order
        index_type = xp.uint8 if len(offsets) <= 256 else xp.int32
        out = _offset_view(x_nhwc, 0, 0, stride, out_hw)
        winner = xp.zeros(out.shape, dtype=index_type)
        for k, (di, dj) in enumerate(offsets[1:], start=1):
            value = _offset_view(x_nhwc, di, dj, stride, out_hw)
            replaces = (value > out) | xp.isnan(value)  # strictly larger, or NaN
            out = xp.maximum(out, value)  # NaN stays NaN
            # offsets come in increasing k, so a replacing value always has the largest k so far
            winner = xp.maximum(winner, replaces * index_type(k))
        if len(offsets) == 1:
            out = out.copy()  # a 1x1 window: the output is the input itself, but an op returns new memory
        self.winner, self.offsets = winner, offsets
        self.padded_shape, self.stride, self.padding, self.out_hw = x_nhwc.shape, stride, padding, out_hw
        return out.transpose(0, 3, 1, 2)  # (N, C, Ho, Wo), a view

    def backward(self, grad):
        xp = self.xp
        (ph, pw) = self.padding
        grad_nhwc = grad.transpose(0, 2, 3, 1)
        # Windows that tile the input exactly (stride = kernel, nothing left over) write every pixel
        # once: plain stores into an uninitialized array. Otherwise pixels shared by windows (or in
        # none) start at zero and add up.
        kh, kw = self.offsets[-1][0] + 1, self.offsets[-1][1] + 1
        (ho, wo), (sh, sw) = self.out_hw, self.stride
        tiles = (sh, sw) == (kh, kw) and self.padded_shape[1:3] == (ho * kh, wo * kw)
        grad_x = (xp.empty if tiles else xp.zeros)(self.padded_shape, dtype=grad.dtype)
        for k, (di, dj) in enumerate(self.offsets):
            pixels = _offset_view(grad_x, di, dj, self.stride, self.out_hw)
            if tiles:
                xp.multiply(grad_nhwc, self.winner == k, out=pixels)
            else:
                pixels += grad_nhwc * (self.winner == k)
        h, w = grad_x.shape[1] - 2 * ph, grad_x.shape[2] - 2 * pw
        return (grad_x[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2),)
