"""The GPU versions of the ops a training step runs most: one fused CuPy kernel where the readable
code makes several launches.

On a GPU every array expression (``probs * scale``, ``out > 0``) is one kernel launch costing a few
microseconds of host time, and at the lesson's sizes a step is bound by those launches, not by the
arithmetic. Each op here is a subclass of the readable op, registered with ``cupy_version_of`` so
that Function.apply runs it for CuPy arrays; its kernels do the readable arithmetic in the same order
per element. The readable op stays the spec, and GPU tests check every kernel against it
(tests/test_kernels.py). CuPy is imported only when a kernel is first built, which happens only for
arrays already on CuPy.
"""

import numpy as np

from ..autograd.graph import cupy_version_of
from . import cross_entropy, relu
from .reduction import reduce_losses

MAX_FUSED_CLASSES = 1024  # cross-entropy runs one thread per row: right for a classifier's few classes

# (input params, output params, body) of each cupy.ElementwiseKernel; ``i`` is the element's index.
_SOURCES = {
    # ReLU's backward: 0 where out <= 0, else grad (NaN included), as relu.py writes it.
    "relu_backward": ("T out, T grad", "T grad_in", "grad_in = out <= (T)0 ? (T)0 : grad;"),
    # One thread per row i of (N, C) logits: the row's max, exp of the shifted row and its sum, then
    # probs = exp / sum and -log softmax at the target; NaN for a target outside [0, C), as the
    # readable device path gives.
    "cross_entropy_forward": (
        "raw T logits, int64 target, int32 classes",
        "T loss, raw T probs",
        """
        const ptrdiff_t row = i * classes;
        T row_max = logits[row];
        for (int c = 1; c < classes; ++c) {
            const T v = logits[row + c];
            if (v > row_max || isnan(v)) row_max = v;  // NaN wins, as in max()
        }
        T sum_exp = 0;
        for (int c = 0; c < classes; ++c) {
            const T e = exp(logits[row + c] - row_max);
            probs[row + c] = e;
            sum_exp += e;
        }
        for (int c = 0; c < classes; ++c) probs[row + c] /= sum_exp;
        loss = (0 <= target && target < classes) ? log(sum_exp) - (logits[row + target] - row_max) : (T)nan("");
        """,
    ),
    # (softmax - onehot) * scale with scale = grad / divisor (one grad for the batch, or one per
    # row): p*s - s at the target, p*s elsewhere, as cross_entropy.py rounds it.
    "cross_entropy_backward": (
        "T probs, raw int64 target, raw T grad, T divisor, int32 per_row, int32 classes",
        "T grad_logits",
        """
        const ptrdiff_t row = i / classes;
        const T scale = grad[per_row ? row : 0] / divisor;
        const T g = probs * scale;
        grad_logits = (i - row * classes == target[row]) ? g - scale : g;
        """,
    ),
}
_kernels = {}


def _kernel(name):
    kernel = _kernels.get(name)
    if kernel is None:
        import cupy

        kernel = _kernels[name] = cupy.ElementwiseKernel(*_SOURCES[name], f"minitorch_relu_{name}")
    return kernel


def relu_backward(out, grad):
    return _kernel("relu_backward")(out, grad)


def fuses_cross_entropy(logits):
    """float32/float64 logits with at most MAX_FUSED_CLASSES classes (others take the readable path)."""
    return logits.dtype in (np.float32, np.float64) and logits.shape[1] <= MAX_FUSED_CLASSES


def cross_entropy_forward(logits, target):
    """(probs, losses) of (N, C) logits against N int64 targets: softmax rows, -log softmax at targets."""
    import cupy

    n, classes = logits.shape
    losses = cupy.empty(n, dtype=logits.dtype)
    probs = cupy.empty_like(logits)
    _kernel("cross_entropy_forward")(logits, target.astype(np.int64, copy=False), classes, losses, probs)
    return probs, losses


def cross_entropy_backward(probs, target, grad, divisor):
    """dL/dlogits for incoming ``grad`` (0-d: one for the batch; (N,): reduction 'none') / divisor."""
    per_row = int(grad.ndim == 1)
    return _kernel("cross_entropy_backward")(probs, target.astype(np.int64, copy=False), grad.reshape(-1), divisor,
                                             per_row, probs.shape[1])


@cupy_version_of(relu.ReLU)
class ReLU(relu.ReLU):
    def backward(self, grad):
        return (relu_backward(self.out, grad),)  # the select as one launch, not three


@cupy_version_of(cross_entropy.CrossEntropy)
class CrossEntropy(cross_entropy.CrossEntropy):
    """Softmax, losses and gradient each as one kernel, for float logits with a classifier's few
    classes (others take the readable path)."""

    def forward(self, logits, target, reduction="mean"):
        self.fused = fuses_cross_entropy(logits)
        if not self.fused:
            return super().forward(logits, target, reduction)
        self.target, self.reduction = target, reduction
        self.probs, losses = cross_entropy_forward(logits, target)
        return reduce_losses(losses, reduction)

    def backward(self, grad):
        if not self.fused:
            return super().backward(grad)
        divisor = self.probs.shape[0] if self.reduction == "mean" else 1
        return cross_entropy_backward(self.probs, self.target, grad, divisor), None
