"""Conv2d: a bank of out_channels learned (in_channels, kh, kw) filters slid over the image.
How it is computed (im2col and one matrix product) and how it backprops: functions/conv2d.py."""

import math

from .. import functions
from ..backend import get_backend
from ..tensor import default_dtype
from . import init
from .module import Module
from .parameter import Parameter


def _pair(value, name, minimum):
    """An int or a pair of ints, each >= minimum, as the (height, width) pair torch makes of it."""
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in pair):
        raise ValueError(f"{name} must be an int >= {minimum} or a pair of them, got {value!r}")
    return pair


def conv2d(input, weight, bias=None, stride=1, padding=0):
    """torch.nn.functional.conv2d for (N, C, H, W) input and (O, C, kh, kw) weight (no groups/dilation)."""
    stride, padding = _pair(stride, "conv2d: stride", 1), _pair(padding, "conv2d: padding", 0)
    if input.ndim != 4 or weight.ndim != 4:
        raise ValueError(f"conv2d: expected 4-D input (N, C, H, W) and 4-D weight (O, C, kh, kw), "
                         f"got input {input.shape} and weight {weight.shape}")
    if input.shape[1] != weight.shape[1]:
        raise ValueError(f"conv2d: input has {input.shape[1]} channels (shape {input.shape}) but weight "
                         f"{weight.shape} expects {weight.shape[1]}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"conv2d: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    padded = (input.shape[2] + 2 * padding[0], input.shape[3] + 2 * padding[1])
    if padded[0] < weight.shape[2] or padded[1] < weight.shape[3]:
        raise ValueError(f"conv2d: kernel size {weight.shape[2:]} is larger than the padded input {padded} "
                         f"(input {input.shape}, padding {padding})")
    args = (input, weight) if bias is None else (input, weight, bias)
    return functions.Conv2d.apply(*args, stride=stride, padding=padding)


class Conv2d(Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 dtype=None, backend=None):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {value!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "Conv2d: kernel_size", 1)
        self.stride, self.padding = _pair(stride, "Conv2d: stride", 1), _pair(padding, "Conv2d: padding", 0)
        xp = get_backend(backend).xp
        dtype = dtype or default_dtype
        self.weight = Parameter(xp.empty((out_channels, in_channels) + self.kernel_size, dtype=dtype))
        self.bias = Parameter(xp.empty((out_channels,), dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        # torch's default, as for Linear: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
        # fan_in = in_channels * kh * kw.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        return text + ("" if self.bias is not None else ", bias=False")
