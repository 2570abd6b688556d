"""In-place initializers, as torch.nn.init, drawing torch's numbers from the engine's generator.

After ``mt.manual_seed(s)`` each initializer fills a tensor with the values torch's fills it with
after ``torch.manual_seed(s)`` (minitorch_relu.random reproduces torch's CPU generator). The bounds
are computed with torch's own float arithmetic (e.g. ``sqrt(3) * (gain / sqrt(fan))``, not the
algebraically equal ``gain * sqrt(3 / fan)``), so they round the same way. Values are drawn on the
host, then moved to the tensor's backend.
"""

import math

import numpy as np

from .. import random as _random
from ..autograd import no_grad
from ..backend import get_backend

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def _fill(tensor, values):
    with no_grad():
        tensor.data[...] = get_backend(tensor.backend).asarray(np.asarray(values).astype(tensor.dtype, copy=False))
    tensor._bump_version()  # an in-place change: a graph that saved this tensor must not use it now
    return tensor


def _float_dtype(tensor, where):
    dtype = np.dtype(tensor.dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{where}: the tensor must be float32 or float64 (torch's generator is reproduced for "
                        f"those), got {dtype}")
    return dtype


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


_fans = _calculate_fan_in_and_fan_out


def _fan(tensor, mode, where):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def calculate_gain(nonlinearity, param=None):
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b): torch's tensor.uniform_(a, b)."""
    dtype = _float_dtype(tensor, "uniform_")
    if a > b:
        raise ValueError(f"uniform_: the lower bound a={a} exceeds the upper bound b={b}")
    return _fill(tensor, _random.uniform(tensor.shape, a, b, dtype, generator))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std**2): torch's tensor.normal_(mean, std)."""
    dtype = _float_dtype(tensor, "normal_")
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, _random.normal(tensor.shape, mean, std, dtype, generator))


def zeros_(tensor):
    return _fill(tensor, np.zeros(tensor.shape))


def ones_(tensor):
    return _fill(tensor, np.ones(tensor.shape))


def constant_(tensor, value):
    return _fill(tensor, np.full(tensor.shape, value))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound), bound = sqrt(3) * gain / sqrt(fan). With a=sqrt(5): nn.Linear's weight init."""
    fan = _fan(tensor, mode, "kaiming_uniform_")
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan = _fan(tensor, mode, "kaiming_normal_")
    return normal_(tensor, 0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)
