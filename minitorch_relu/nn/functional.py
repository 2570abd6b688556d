"""Stateless versions of the layers: each checks its input, then applies one op from functions/."""

import numpy as np

from .. import functions as F
from ..tensor import Tensor


def linear(input, weight, bias=None):
    """input @ weight.T + bias, with weight of shape (out_features, in_features) as in torch."""
    if bias is None:
        return F.Linear.apply(input, weight)
    return F.Linear.apply(input, weight, bias)


def relu(input):
    return F.ReLU.apply(input)


def leaky_relu(input, negative_slope=0.01):
    return F.LeakyReLU.apply(input, negative_slope=negative_slope)


def sigmoid(input):
    return F.Sigmoid.apply(input)


def tanh(input):
    return F.Tanh.apply(input)


def softmax(input, dim):
    return F.Softmax.apply(input, dim=dim)


def log_softmax(input, dim):
    return F.LogSoftmax.apply(input, dim=dim)


_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def cross_entropy(input, target, reduction="mean"):
    """Mean over N of -log softmax(input)[n, target[n]], for (N, C) logits and int64 targets (N,)."""
    _check_reduction(reduction)
    if not isinstance(target, Tensor):
        raise TypeError(f"cross_entropy: target must be a Tensor of class indices, got {type(target).__name__}")
    if input.dtype.kind != "f":  # torch has no integer log_softmax either
        raise RuntimeError(f"cross_entropy: logits must be floating point, got dtype {input.dtype.name}")
    if input.ndim != 2:
        raise ValueError(f"cross_entropy: input must be (N, C) logits, got shape {input.shape}")
    n, classes = input.shape
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(
            f"cross_entropy: target must hold integer class indices (int64), got dtype {target.dtype.name}; "
            "class probabilities are not supported"
        )
    if target.shape != (n,):
        raise ValueError(f"cross_entropy: target must have shape ({n},) for input of shape {input.shape}, got {target.shape}")
    # Checked on the host only: on a device (cupy, strict) reading the targets back would stall the
    # GPU every step; there an out-of-range target makes its loss NaN instead (see CrossEntropy).
    if n and target.backend == "numpy":
        out_of_range = (target.data < 0) | (target.data >= classes)
        if out_of_range.any():
            bad = target.data[out_of_range][:5]
            raise IndexError(f"cross_entropy: target values must lie in [0, {classes}), found {bad.tolist()}")
    return F.CrossEntropy.apply(input, target, reduction=reduction)


def mse_loss(input, target, reduction="mean"):
    _check_reduction(reduction)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {target.shape} differ")
    return F.MSELoss.apply(input, target, reduction=reduction)
