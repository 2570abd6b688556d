"""2-D convolution (cross-correlation, as in torch) by im2col: every kernel-sized window of the input
becomes one row of a matrix, so the whole layer is ONE matrix product with the flattened weights.

Shapes: x (N, C, H, W), weight (O, C, kh, kw), out (N, O, Ho, Wo) with Ho = (H + 2*ph - kh) // sh + 1.

    cols[(n, i, j), (di, dj, c)] = x_padded[n, c, i*sh + di, j*sw + dj]      (N*Ho*Wo, kh*kw*C)
    out[(n, i, j), o]            = cols @ weight_rows.T + bias                (N*Ho*Wo, O)
    where weight_rows[o, (di, dj, c)] = weight[o, c, di, dj]

Backward is the same product read the other way round:
    dweight_rows = dout.T @ cols       dbias = dout summed over (n, i, j)
    dcols        = dout @ weight_rows  and "col2im" adds every row of dcols back onto the window it
                                       was cut from (windows overlap, so the contributions add up).

Memory order: the tensors are (N, C, H, W) as in torch, but the arrays behind them are laid out
channels-last (N, H, W, C), the order im2col reads and the GEMM writes. So the output is a transposed
view of the GEMM's result (no copy), the channel runs are contiguous when the windows are gathered,
and the gradient arrives in the order the backward GEMM wants.
"""

from ..autograd import Function


def channels_last(xp, x):
    """(N, C, H, W) seen as (N, H, W, C): a free view when x is laid out channels-last."""
    return x.transpose(0, 2, 3, 1)


class Conv2d(Function):
    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0)):
        xp = self.xp
        n, c, h, w = x.shape
        out_channels, _, kh, kw = weight.shape
        (sh, sw), (ph, pw) = stride, padding
        x_nhwc = channels_last(xp, x)
        if ph or pw:
            x_nhwc = xp.pad(x_nhwc, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
        # Every window as a strided view (N, Ho, Wo, C, kh, kw): no copy yet.
        windows = xp.lib.stride_tricks.sliding_window_view(x_nhwc, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
        ho, wo = windows.shape[1], windows.shape[2]
        # The one copy of the forward pass: windows laid out as rows, (di, dj, c) along each row.
        cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * ho * wo, kh * kw * c)
        weight_rows = weight.transpose(0, 2, 3, 1).reshape(out_channels, kh * kw * c)
        out = cols @ weight_rows.T  # the one GEMM: (N*Ho*Wo, O)
        if bias is not None:
            out += bias
        self.cols, self.weight_rows, self.weight_shape = cols, weight_rows, weight.shape
        self.stride, self.padding = stride, padding
        self.padded_shape, self.in_shape, self.out_hw = x_nhwc.shape, x.shape, (ho, wo)
        return out.reshape(n, ho, wo, out_channels).transpose(0, 3, 1, 2)  # (N, O, Ho, Wo), a view

    def backward(self, grad):
        xp, needs = self.xp, self.needs_input_grad
        out_channels, c, kh, kw = self.weight_shape
        grad_rows = channels_last(xp, grad).reshape(-1, out_channels)  # (N*Ho*Wo, O)
        grad_w = grad_b = grad_x = None
        if needs[1]:
            grad_w = (grad_rows.T @ self.cols).reshape(out_channels, kh, kw, c).transpose(0, 3, 1, 2)
        if len(needs) > 2 and needs[2]:
            # the sum over rows as a product with a row of ones: a GEMV, several times faster than
            # sum(axis=0) over rows only O values long
            grad_b = xp.ones(grad_rows.shape[0], dtype=grad_rows.dtype) @ grad_rows
        if needs[0]:  # skipped for a network's input layer
            grad_cols = grad_rows @ self.weight_rows  # (N*Ho*Wo, kh*kw*C)
            grad_x = self._col2im(xp, grad_cols.reshape(-1, self.out_hw[0], self.out_hw[1], kh, kw, c))
        return grad_x, grad_w, grad_b

    def _col2im(self, xp, grad_cols):
        """Add each window's gradient back where the window was cut: one strided add per kernel offset."""
        (sh, sw), (ph, pw) = self.stride, self.padding
        ho, wo = self.out_hw
        kh, kw = grad_cols.shape[3], grad_cols.shape[4]
        grad_padded = xp.zeros(self.padded_shape, dtype=grad_cols.dtype)  # (N, Hp, Wp, C)
        for di in range(kh):
            for dj in range(kw):
                # offset (di, dj) of window (i, j) is pixel (i*sh + di, j*sw + dj) of the padded input
                grad_padded[:, di:di + sh * ho:sh, dj:dj + sw * wo:sw] += grad_cols[:, :, :, di, dj]
        h, w = self.in_shape[2], self.in_shape[3]
        return grad_padded[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)  # back to (N, C, H, W)
