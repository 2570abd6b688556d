"""2-D convolution (cross-correlation, as in torch) by im2col: every kernel-sized window of the input
becomes one row of a matrix, so the whole layer is ONE matrix product with the flattened weights.

Shapes: x (N, C, H, W), weight (O, C, kh, kw), out (N, O, Ho, Wo) with Ho = (H + 2*ph - kh) // sh + 1.

    cols[(n, i, j), (c, di, dj)] = x_padded[n, c, i*sh + di, j*sw + dj]      (N*Ho*Wo, C*kh*kw)
    out[(n, i, j), o]            = cols @ weight.reshape(O, C*kh*kw).T + bias

Backward is the same product read the other way round:
    dweight = dout.T @ cols          dbias = dout summed over (n, i, j)
    dcols   = dout @ weight          and "col2im" adds every row of dcols back onto the window it
                                     was cut from (windows overlap, so the contributions add up).
"""

from ..autograd import Function


def _windows(xp, x, kernel, stride):
    """(N, C, Ho, Wo, kh, kw): a strided view of every window; no copy is made here."""
    (kh, kw), (sh, sw) = kernel, stride
    return xp.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]


def _pad(xp, x, padding):
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


class Conv2d(Function):
    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0)):
        xp = self.xp
        n, c, h, w = x.shape
        out_channels, _, kh, kw = weight.shape
        x_padded = _pad(xp, x, padding)
        windows = _windows(xp, x_padded, (kh, kw), stride)
        ho, wo = windows.shape[2], windows.shape[3]
        # The one copy of the forward pass: windows laid out as rows, (c, di, dj) along each row.
        cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)
        out = cols @ weight.reshape(out_channels, -1).T  # the one GEMM: (N*Ho*Wo, O)
        if bias is not None:
            out += bias
        self.cols, self.weight = cols, weight
        self.stride, self.padding = stride, padding
        self.padded_shape, self.in_shape, self.out_hw = x_padded.shape, x.shape, (ho, wo)
        # (N, Ho, Wo, O) seen as (N, O, Ho, Wo): a transposed view, no copy. Elementwise ops that follow
        # keep this memory order, and the backward below reads its gradient in it for free.
        return out.reshape(n, ho, wo, out_channels).transpose(0, 3, 1, 2)

    def backward(self, grad):
        xp, weight, needs = self.xp, self.weight, self.needs_input_grad
        out_channels, c, kh, kw = weight.shape
        n = self.in_shape[0]
        ho, wo = self.out_hw
        grad_rows = grad.transpose(0, 2, 3, 1).reshape(n * ho * wo, out_channels)  # (N*Ho*Wo, O)
        grad_w = (grad_rows.T @ self.cols).reshape(weight.shape) if needs[1] else None
        grad_b = grad_rows.sum(axis=0) if len(needs) > 2 and needs[2] else None
        grad_x = None
        if needs[0]:  # skipped for a network's input layer
            grad_cols = (grad_rows @ weight.reshape(out_channels, -1)).reshape(n, ho, wo, c, kh, kw)
            grad_x = self._col2im(xp, grad_cols)
        return grad_x, grad_w, grad_b

    def _col2im(self, xp, grad_cols):
        """Add each window's gradient back where the window was cut: one strided add per kernel offset."""
        (sh, sw), (ph, pw) = self.stride, self.padding
        ho, wo = self.out_hw
        _, _, _, _, kh, kw = grad_cols.shape
        grad_padded = xp.zeros(self.padded_shape, dtype=grad_cols.dtype)
        grad_cols = grad_cols.transpose(0, 3, 4, 5, 1, 2)  # (N, C, kh, kw, Ho, Wo)
        for di in range(kh):
            for dj in range(kw):
                # offset (di, dj) of window (i, j) is pixel (i*sh + di, j*sw + dj) of the padded input
                grad_padded[:, :, di:di + sh * ho:sh, dj:dj + sw * wo:sw] += grad_cols[:, :, di, dj]
        h, w = self.in_shape[2], self.in_shape[3]
        return grad_padded[:, :, ph:ph + h, pw:pw + w]
