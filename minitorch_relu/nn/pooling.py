"""MaxPool2d: the largest value of each kernel-sized window (see functions/max_pool2d.py)."""

from .. import functions
from .conv import _pair
from .module import Module


def max_pool2d(input, kernel_size, stride=None, padding=0):
    """torch.nn.functional.max_pool2d on (N, C, H, W) input; stride defaults to kernel_size."""
    kernel = _pair(kernel_size, "max_pool2d: kernel_size", 1)
    stride = kernel if stride is None or stride == [] else _pair(stride, "max_pool2d: stride", 1)
    padding = _pair(padding, "max_pool2d: padding", 0)
    if input.ndim != 4:
        raise ValueError(f"max_pool2d: expected 4-D input (N, C, H, W), got shape {input.shape}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"max_pool2d: padding should be at most half of the kernel size, got padding {padding} "
                         f"and kernel_size {kernel}")
    if input.shape[2] + 2 * padding[0] < kernel[0] or input.shape[3] + 2 * padding[1] < kernel[1]:
        raise ValueError(f"max_pool2d: kernel_size {kernel} is larger than the padded input of shape {input.shape}")
    return functions.MaxPool2d.apply(input, kernel_size=kernel, stride=stride, padding=padding)


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding

    def forward(self, x):
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, dilation=1, ceil_mode=False"
