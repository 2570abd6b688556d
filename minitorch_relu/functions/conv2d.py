"""2-D convolution (cross-correlation, as in torch) by im2col: every kernel-sized window of the input
becomes one row of a matrix, so the layer is a matrix product with the flattened weights.

Shapes: x (N, C, H, W), weight (O, C, kh, kw), out (N, O, Ho, Wo) with Ho = (H + 2*ph - kh) // sh + 1.

    cols[(n, i, j), (di, dj, c)] = x_padded[n, c, i*sh + di, j*sw + dj]      (N*Ho*Wo, kh*kw*C)
    out[(n, i, j), o]            = cols @ weight_rows.T + bias                (N*Ho*Wo, O)
    where weight_rows[o, (di, dj, c)] = weight[o, c, di, dj]

Backward is the same product read the other way round:
    dweight_rows = dout.T @ cols       dbias = dout summed over (n, i, j)
    dcols        = dout @ weight_rows  and "col2im" adds every row of dcols back onto the window it
                                       was cut from (windows overlap, so the contributions add up).

Slices of the batch: the window matrix is kh*kw times the size of the input (23 MB for the chapter's
second layer), so on the CPU it is built a slice of images at a time, small enough to stay in the
cache while the product reads it, and it is built again in backward rather than kept: rows of
cols and of dout belong to one image each, so every formula above holds slice by slice (dweight
adds up over the slices). The GPU takes the whole batch in one slice.

Memory order: the tensors are (N, C, H, W) as in torch, but the arrays behind them are laid out
channels-last (N, H, W, C), the order im2col reads and the GEMM writes. So the output is a transposed
view of the GEMM's result (no copy), the channel runs are contiguous when the windows are gathered,
and the gradient arrives in the order the backward GEMM wants.
"""

from ..autograd import Function
from ..backend import is_cupy

SLICE_BYTES = 2 ** 21  # a slice's window matrix: 2 MiB, inside a CPU core's L2/L3 cache


def channels_last(xp, x):
    """(N, C, H, W) seen as (N, H, W, C): a free view when x is laid out channels-last."""
    return x.transpose(0, 2, 3, 1)


class Conv2d(Function):
    saved_inputs = (0, 1)

    def forward(self, x, weight, bias=None, stride=(1, 1), padding=(0, 0)):
        xp = self.xp
        n, c, h, w = x.shape
        out_channels, _, kh, kw = weight.shape
        (sh, sw), (ph, pw) = stride, padding
        x_nhwc = channels_last(xp, x)
        if ph or pw:
            x_nhwc = xp.pad(x_nhwc, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
        ho, wo = (x_nhwc.shape[1] - kh) // sh + 1, (x_nhwc.shape[2] - kw) // sw + 1
        self.x_padded, self.kernel_hw, self.stride, self.padding = x_nhwc, (kh, kw), stride, padding
        self.in_shape, self.out_hw = x.shape, (ho, wo)
        self.weight_rows = weight.transpose(0, 2, 3, 1).reshape(out_channels, kh * kw * c)
        image_bytes = ho * wo * kh * kw * c * x.dtype.itemsize
        self.images_per_slice = n if is_cupy(x) else max(1, SLICE_BYTES // image_bytes)

        out = xp.empty((n * ho * wo, out_channels), dtype=xp.result_type(x, weight))  # rows (n, i, j)
        for images, rows in self._slices():
            xp.matmul(self._im2col(images), self.weight_rows.T, out=out[rows])  # the GEMM, a slice of rows
        if bias is not None:
            out += bias
        return out.reshape(n, ho, wo, out_channels).transpose(0, 3, 1, 2)  # (N, O, Ho, Wo), a view

    def backward(self, grad):
        xp, needs = self.xp, self.needs_input_grad
        out_channels = self.weight_rows.shape[0]
        grad_rows = channels_last(xp, grad).reshape(-1, out_channels)  # (N*Ho*Wo, O)
        grad_w_rows = xp.zeros(self.weight_rows.shape, dtype=grad.dtype) if needs[1] else None
        grad_padded = xp.zeros(self.x_padded.shape, dtype=grad.dtype) if needs[0] else None
        for images, rows in self._slices():
            if needs[1]:
                grad_w_rows += grad_rows[rows].T @ self._im2col(images)
            if needs[0]:  # skipped for a network's input layer
                self._col2im(grad_rows[rows] @ self.weight_rows, grad_padded[images])
        grad_w = grad_b = grad_x = None
        if needs[1]:
            (kh, kw), c = self.kernel_hw, self.x_padded.shape[3]
            grad_w = grad_w_rows.reshape(out_channels, kh, kw, c).transpose(0, 3, 1, 2)
        if len(needs) > 2 and needs[2]:
            # the sum over rows as a product with a row of ones: a GEMV, several times faster than
            # sum(axis=0) over rows only O values long
            grad_b = xp.ones(grad_rows.shape[0], dtype=grad_rows.dtype) @ grad_rows
        if needs[0]:
            (ph, pw), (h, w) = self.padding, self.in_shape[2:]
            grad_x = grad_padded[:, ph:ph + h, pw:pw + w].transpose(0, 3, 1, 2)  # back to (N, C, H, W)
        return grad_x, grad_w, grad_b

    def _slices(self):
        """(images, rows) slice by slice: a slice of the batch and the rows of cols/out that are its windows."""
        n, (ho, wo), step = self.x_padded.shape[0], self.out_hw, self.images_per_slice
        for start in range(0, n, step):
            stop = min(start + step, n)
            yield slice(start, stop), slice(start * ho * wo, stop * ho * wo)

    def _im2col(self, images):
        """The rows of cols for a slice of images: every window as a strided view, then one copy."""
        (kh, kw), (sh, sw) = self.kernel_hw, self.stride
        x_nhwc = self.x_padded[images]
        # (n, Ho, Wo, C, kh, kw): every window, a view (no copy yet)
        windows = self.xp.lib.stride_tricks.sliding_window_view(x_nhwc, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
        # the copy: windows laid out as rows, (di, dj, c) along each row
        return windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, kh * kw * x_nhwc.shape[3])

    def _col2im(self, grad_cols, grad_padded):
        """Add each window's gradient back where the window was cut (into grad_padded, a slice of
        images of the padded input's gradient): one strided add per kernel offset."""
        (kh, kw), (sh, sw), (ho, wo) = self.kernel_hw, self.stride, self.out_hw
        grad_cols = grad_cols.reshape(-1, ho, wo, kh, kw, grad_padded.shape[3])
        for di in range(kh):
            for dj in range(kw):
                # offset (di, dj) of window (i, j) is pixel (i*sh + di, j*sw + dj) of the padded input
                grad_padded[:, di:di + sh * ho:sh, dj:dj + sw * wo:sw] += grad_cols[:, :, :, di, dj]
