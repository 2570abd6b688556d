"""Stateless versions of the layers: each checks its input, then applies one op from functions/."""

import numpy as np

from .. import functions as F
from ..backend import backend_of, on_host
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


def cross_entropy(input, target, reduction="mean", ignore_index=-100, label_smoothing=0.0):
    """Mean over N of -log softmax(input)[n, target[n]], for (N, C) logits and int64 targets (N,).

    ``ignore_index``: rows with that target count for nothing (and 'mean' divides by the rest).
    ``label_smoothing`` eps: the target puts 1 - eps on its class and eps / C on every class. The
    default case runs the fused CrossEntropy op (one kernel each way on a GPU); the options run
    SmoothedCrossEntropy, its readable generalization (functions/cross_entropy.py).
    """
    _check_reduction(reduction)
    _check_class_targets("cross_entropy", input, target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    ignored = _check_target_range("cross_entropy", input, target, ignore_index)
    # On a device the targets are not read back (that would stall the GPU), so there the fused path
    # runs unless an option is asked for; a target equal to the default ignore_index (-100) then
    # gives NaN, like any target outside [0, C) (see README's GPU section).
    if label_smoothing == 0 and not ignored and (ignore_index == -100 or on_host(target.data)):
        return F.CrossEntropy.apply(input, target, reduction=reduction)
    return F.SmoothedCrossEntropy.apply(input, target, reduction=reduction, ignore_index=ignore_index,
                                        label_smoothing=float(label_smoothing))


def _check_class_targets(what, input, target, scores="logits"):
    """(N, C) input and (N,) integer class indices, named in the error if not."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{what}: target must be a Tensor of class indices, got {type(target).__name__}")
    if input.dtype.kind != "f":  # torch has no integer log_softmax either
        raise RuntimeError(f"{what}: logits must be floating point, got dtype {input.dtype.name}")
    if input.ndim != 2:
        raise ValueError(f"{what}: input must be (N, C) {scores}, got shape {input.shape}")
    n = input.shape[0]
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(
            f"{what}: target must hold integer class indices (int64), got dtype {target.dtype.name}; "
            "class probabilities are not supported"
        )
    if target.shape != (n,):
        raise ValueError(f"{what}: target must have shape ({n},) for input of shape {input.shape}, got {target.shape}")


def _check_target_range(what, input, target, ignore_index):
    """On the host: raise for a target outside [0, C) that is not ignore_index; say whether any is ignored.

    Checked on the host only: on a device (cupy, strict) reading the targets back would stall the
    GPU every step; there an out-of-range target makes its loss NaN instead (see CrossEntropy).
    """
    n, classes = input.shape
    if not n or not on_host(target.data):
        return False
    # the default case (every target in range, ignore_index -100 outside it) costs one check
    out_of_range = (target.data < 0) | (target.data >= classes)
    if out_of_range.any():
        bad = out_of_range & (target.data != ignore_index)
        if bad.any():
            raise IndexError(f"{what}: target values must lie in [0, {classes}), found {target.data[bad][:5].tolist()}")
        return True
    return 0 <= ignore_index < classes and bool((target.data == ignore_index).any())


def mse_loss(input, target, reduction="mean"):
    _check_reduction(reduction)
    if input.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {target.shape} differ")
    return F.MSELoss.apply(input, target, reduction=reduction)


# ----- more activations and losses -----------------------------------------------------------------


def gelu(input, approximate="none"):
    """x * Phi(x) (Phi: the normal CDF); approximate='tanh' uses torch's tanh formula instead."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return F.GELU.apply(input, approximate=approximate)


def silu(input):
    return F.SiLU.apply(input)


def elu(input, alpha=1.0):
    return F.ELU.apply(input, alpha=alpha)


def softplus(input, beta=1.0, threshold=20.0):
    return F.Softplus.apply(input, beta=beta, threshold=threshold)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Mean over the kept rows of -input[n, target[n]], for (N, C) log-probabilities (log_softmax's output)."""
    if weight is not None:
        raise NotImplementedError("nll_loss: class weights are not supported; pass weight=None")
    _check_reduction(reduction)
    _check_class_targets("nll_loss", input, target, scores="log-probabilities")
    _check_target_range("nll_loss", input, target, ignore_index)
    return F.NLLLoss.apply(input, target, reduction=reduction, ignore_index=ignore_index)


def _check_binary_target(what, input, target, weight, pos_weight=None):
    if not isinstance(target, Tensor):
        raise TypeError(f"{what}: target must be a Tensor, got {type(target).__name__}")
    if target.shape != input.shape:
        raise ValueError(f"{what}: target size {target.shape} must be the same as input size {input.shape}")
    for name, extra in (("weight", weight), ("pos_weight", pos_weight)):
        if extra is not None:
            if not isinstance(extra, Tensor):
                raise TypeError(f"{what}: {name} must be a Tensor, got {type(extra).__name__}")
            if np.broadcast_shapes(extra.shape, input.shape) != input.shape:
                raise ValueError(f"{what}: {name} of shape {extra.shape} does not broadcast to the input's {input.shape}")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t log x + (1 - t) log(1 - x)) per element, for probabilities x in [0, 1] (logs clamped at -100)."""
    _check_reduction(reduction)
    _check_binary_target("binary_cross_entropy", input, target, weight)
    for name, values in (("input", input.data), ("target", target.data)):  # NaN is outside too, as in torch
        outside = ~((values >= 0) & (values <= 1)) if on_host(values) and values.size else None
        if outside is not None and outside.any():
            raise RuntimeError(f"binary_cross_entropy: all elements of {name} should be between 0 and 1, "
                               f"found {values[outside][:5].tolist()}")
    return F.BinaryCrossEntropy.apply(input, target, weight=None if weight is None else weight.data,
                                      reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(input), computed from the logits so it stays finite for any logit."""
    _check_reduction(reduction)
    _check_binary_target("binary_cross_entropy_with_logits", input, target, weight, pos_weight)
    return F.BinaryCrossEntropyWithLogits.apply(input, target, weight=None if weight is None else weight.data,
                                                pos_weight=None if pos_weight is None else pos_weight.data,
                                                reduction=reduction)


def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape (*tensor.shape, num_classes) with a 1 at each index; -1: max index + 1."""
    if not isinstance(tensor, Tensor) or not np.issubdtype(tensor.dtype, np.integer):
        got = tensor.dtype.name if isinstance(tensor, Tensor) else type(tensor).__name__
        raise RuntimeError(f"one_hot is only applicable to index tensor (int64), got {got}")
    values = tensor.data
    low, high = (int(values.min()), int(values.max())) if values.size else (0, -1)  # read back, as torch does
    if low < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, found {low}")
    if num_classes == -1:
        num_classes = high + 1
    elif high >= num_classes:
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes={num_classes}, found {high}")
    xp = backend_of(values).xp
    return Tensor._wrap((values[..., None] == xp.arange(num_classes)).astype(np.int64))


# ----- the chapter's layers: each functional form lives beside its layer (nn/conv.py, ...) ---------
from .batchnorm import batch_norm  # noqa: E402
from .conv import conv2d  # noqa: E402
from .dropout import dropout  # noqa: E402
from .pooling import max_pool2d  # noqa: E402
