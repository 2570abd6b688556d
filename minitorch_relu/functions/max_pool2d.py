"""2-D max pooling: each output is the largest value of its kernel-sized window.

The windows are read offset by offset: for each (di, dj) of the kernel, the strided view
x[n, c, i*sh + di, j*sw + dj] holds that offset of every window at once (a view, no copy), and the
output is the running maximum over the kh*kw views.

The gradient flows only to the position that won. torch's rule picks the winner: a later value
replaces the current maximum only if it is strictly larger, so on ties the first maximum in the
window's row-major order wins; backward walks the offsets in that order and routes each window's
gradient to the first offset equal to the maximum. A NaN always replaces the maximum in torch's
loop (``val > maxval || isnan(val)``), so a window holding NaN outputs NaN and sends its gradient to
its last NaN: backward does that too, in a second walk only when some window is NaN.

Memory order: the views are channels-last, the order the convolutions here leave their outputs in
(see conv2d.py), so every pass reads runs of contiguous channels.
"""

from ..autograd import Function
from .relu import zero_where_not


def _offset_view(x_nhwc, di, dj, stride, out_hw):
    """x_nhwc[n, i*sh + di, j*sw + dj, c] for every output (i, j): offset (di, dj) of every window."""
    (sh, sw), (ho, wo) = stride, out_hw
    return x_nhwc[:, di:di + sh * (ho - 1) + 1:sh, dj:dj + sw * (wo - 1) + 1:sw]


def _first_wins(masks):
    """The window masks (one per offset, in row-major window order), each without the windows an
    earlier one already holds: on ties the first maximum wins, as in torch. Changes them in place."""
    found = masks[0].copy()
    for mask in masks[1:]:
        mask &= ~found
        found |= mask
    return masks


class MaxPool2d(Function):
    saved_inputs = (0,)

    def forward(self, x, kernel_size=(2, 2), stride=(2, 2), padding=(0, 0)):
        xp = self.xp
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
        x_nhwc = x.transpose(0, 2, 3, 1)  # a view; (N, C, H, W) is still what the caller sees
        if ph or pw:  # padding never wins: it is -inf, as in torch
            x_nhwc = xp.pad(x_nhwc, ((0, 0), (ph, ph), (pw, pw), (0, 0)), constant_values=-xp.inf)
        out_hw = ((x_nhwc.shape[1] - kh) // sh + 1, (x_nhwc.shape[2] - kw) // sw + 1)
        offsets = [(di, dj) for di in range(kh) for dj in range(kw)]  # row-major window order
        out = _offset_view(x_nhwc, 0, 0, stride, out_hw).copy()  # (N, Ho, Wo, C)
        for di, dj in offsets[1:]:
            xp.maximum(out, _offset_view(x_nhwc, di, dj, stride, out_hw), out=out)  # NaN stays NaN
        self.x_nhwc, self.out, self.offsets = x_nhwc, out, offsets  # x_nhwc: the input itself, or padded
        self.stride, self.padding, self.out_hw = stride, padding, out_hw
        # (N, C, Ho, Wo). A copy: backward reads self.out, and torch lets the caller change the output
        # in place (it keeps argmax indices, not the maxima)
        return out.copy().transpose(0, 3, 1, 2)

    def backward(self, grad):
        xp = self.xp
        (ph, pw) = self.padding
        grad_nhwc = grad.transpose(0, 2, 3, 1)
        kh, kw = self.offsets[-1][0] + 1, self.offsets[-1][1] + 1
        (ho, wo), (sh, sw) = self.out_hw, self.stride
        if (sh, sw) == (kh, kw) and self.x_nhwc.shape[1:3] == (ho * kh, wo * kw):
            grad_x = self._tiles_backward(grad_nhwc, kh, kw)
        else:
            grad_x = self._offsets_backward(grad_nhwc)
        nan_windows = xp.isnan(self.out)
        if nan_windows.any():
            self._to_last_nan(nan_windows, grad_nhwc, grad_x)
        h, w = grad_x.shape[1] - 2 * ph, grad_x.shape[2] - 2 * pw
        return (grad_x[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2),)

    def _offsets_backward(self, grad_nhwc):
        """Any windows: walk the offsets in row-major window order, the first maximum wins; pixels
        shared by windows (or in none) start at zero and add up."""
        grad_x = self.xp.zeros(self.x_nhwc.shape, dtype=grad_nhwc.dtype)
        maxima = [_offset_view(self.x_nhwc, di, dj, self.stride, self.out_hw) == self.out for di, dj in self.offsets]
        for (di, dj), won in zip(self.offsets, _first_wins(maxima)):
            # only the winner gets the gradient, even a NaN one (as torch's scatter by index): not grad * won
            _offset_view(grad_x, di, dj, self.stride, self.out_hw)[...] += zero_where_not(won, grad_nhwc)
        return grad_x

    def _tiles_backward(self, grad_nhwc, kh, kw):
        """Windows that tile the input (stride = kernel, nothing left over), as the chapter's 2x2 pools:
        the input seen as (N, Ho, kh, Wo, kw, C) holds every window in place, so one full-size compare
        finds the winners, ties go to the first on the small per-offset views, and one select writes
        every pixel (its window's gradient, or 0)."""
        n, h, w, c = self.x_nhwc.shape
        (ho, wo) = self.out_hw
        won = self.x_nhwc.reshape(n, ho, kh, wo, kw, c) == self.out[:, :, None, :, None, :]
        _first_wins([won[:, :, di, :, dj] for di, dj in self.offsets])  # views: the changes land in won
        return zero_where_not(won, grad_nhwc[:, :, None, :, None, :]).reshape(n, h, w, c)

    def _to_last_nan(self, pending, grad_nhwc, grad_x):
        """Each NaN window's gradient to its last NaN in row-major order (the first walk gave it to no one:
        NaN equals nothing)."""
        xp = self.xp
        for di, dj in reversed(self.offsets):
            won = xp.isnan(_offset_view(self.x_nhwc, di, dj, self.stride, self.out_hw)) & pending
            pending &= ~won
            _offset_view(grad_x, di, dj, self.stride, self.out_hw)[...] += zero_where_not(won, grad_nhwc)
