"""BatchNorm1d: normalize each channel with the batch's statistics in training, with the running
statistics in evaluation, then scale and shift (weight, bias). The formulas, forward and backward,
are in functions/batch_norm.py."""

from .. import functions
from ..backend import get_backend
from ..tensor import Tensor, default_dtype, int64
from . import init
from .module import Module
from .parameter import Parameter


def _check_arguments(input, running_mean, running_var, weight, bias, training):
    if input.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected 2-D (N, C) or 3-D (N, C, L) input, got shape {input.shape}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for input of shape {input.shape}, got {t.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: evaluation (training=False) needs running_mean and running_var")
    if training and input.numel() // channels <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """torch.nn.functional.batch_norm: in training, batch statistics (and the running ones, when
    given, updated in place); otherwise the running statistics, which are then required."""
    _check_arguments(input, running_mean, running_var, weight, bias, training)
    channels = input.shape[1]
    xp = get_backend(input.backend).xp
    if weight is None:  # no affine part: scale 1, shift 0, constants without a gradient
        weight = Tensor._wrap(xp.ones(channels, dtype=input.dtype))
    if bias is None:
        bias = Tensor._wrap(xp.zeros(channels, dtype=input.dtype))
    stats = {}
    if running_mean is not None and running_var is not None:
        stats = {"running_mean": running_mean.data, "running_var": running_var.data}
    return functions.BatchNorm.apply(input, weight, bias, training=training, momentum=momentum, eps=eps, **stats)


class BatchNorm1d(Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype=None, backend=None, *, bias=True):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"BatchNorm1d: num_features must be a positive int, got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        xp = get_backend(backend).xp
        dtype = dtype or default_dtype
        self.weight = Parameter(xp.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(xp.zeros(num_features, dtype=dtype)) if affine and bias else None  # torch 2.14's bias=
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(xp.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(xp.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(xp.zeros((), dtype=int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_parameters(self):
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, x):
        use_batch_stats = self.training or not self.track_running_stats
        _check_arguments(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch_stats)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # torch: a cumulative average when momentum is None
                momentum = 1.0 / float(self.num_batches_tracked.item())
        # In training the running statistics are passed only to be updated; evaluation reads them.
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")
