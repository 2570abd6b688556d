"""Cross-entropy of (N, C) logits against N class indices: log-softmax and NLL fused in one op.

Fusing gives the famous one-step backward, dL/dlogits = (softmax - onehot) / N, and stays finite for
huge logits because the log-sum-exp is shifted by each row's max.
"""

import numpy as np

from ..autograd import Function
from . import _cupy_kernels


class CrossEntropy(Function):
    saved_inputs = (1,)  # the targets (torch's nll_loss saves them)

    def forward(self, logits, target, reduction="mean"):
        self.target, self.reduction = target, reduction
        # On CuPy the arithmetic of _softmax_and_losses runs as one kernel launch instead of about twelve.
        self.fused = _cupy_kernels.handles(self.xp) and _cupy_kernels.fuses_cross_entropy(logits)
        if self.fused:
            self.probs, losses = _cupy_kernels.cross_entropy_forward(logits, target)
        else:
            losses = self._softmax_and_losses(logits, target)
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    def _softmax_and_losses(self, logits, target):
        """Keep softmax(logits) in self.probs; return each row's -log softmax at its target."""
        xp = self.xp
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = xp.exp(shifted)
        sum_exp = probs.sum(axis=1, keepdims=True)
        if xp is np:
            # On the host, index each row's target entry directly (nn.functional checked the range).
            self.at_target = (np.arange(len(target)), target)
            picked = shifted[self.at_target]
            self.onehot = None
        else:
            # On a device, one broadcast compare (onehot[i, c]: is c row i's class?) replaces indexing
            # by (rows, target) here and in backward, at a fraction of fancy indexing's cost.
            self.onehot = target[:, None] == xp.arange(logits.shape[1])
            picked = xp.where(self.onehot, shifted, 0).sum(axis=1)  # where, not *: a -inf logit times 0 is NaN
        losses = xp.log(sum_exp[:, 0]) - picked
        if self.onehot is not None:
            # A target outside [0, C) matches no class: its loss is NaN, never a plausible wrong number.
            # (nn.functional.cross_entropy raises for it on the host; on a device that check would
            # stall the GPU every step.)
            losses = xp.where(self.onehot.any(axis=1), losses, losses.dtype.type("nan"))
        probs /= sum_exp
        self.probs = probs
        return losses

    def backward(self, grad):
        n = self.probs.shape[0]
        if self.fused:
            divisor = n if self.reduction == "mean" else 1
            return _cupy_kernels.cross_entropy_backward(self.probs, self.target, grad, divisor), None
        if self.reduction == "mean":
            scale = grad / n
        elif self.reduction == "sum":
            scale = grad
        else:
            scale = grad[:, None]
        # (softmax - onehot) * scale, rounded as torch rounds it: p*s - s at the target, p*s elsewhere.
        grad_logits = self.probs * scale
        if self.onehot is None:
            grad_logits[self.at_target] -= grad if self.reduction == "none" else scale
        else:
            grad_logits -= self.onehot * scale
        return grad_logits, None


class SmoothedCrossEntropy(Function):
    """Cross-entropy with torch's two options, ``label_smoothing`` (eps) and ``ignore_index``.

    The target becomes a distribution q over the C classes: (1 - eps) on the true class plus eps / C
    on every class. Then, with p = softmax(logits) per row,

        loss_n = -sum_c q_c log p_c          dloss_n/dlogits_n = p - q

    (eps = 0 gives q = onehot: the plain cross-entropy's softmax - onehot). Rows whose target is
    ``ignore_index`` give loss 0 and gradient 0, and 'mean' divides by the number of rows kept. The
    default case (no smoothing, nothing ignored) runs CrossEntropy above, fused on a GPU.
    """

    def forward(self, logits, target, reduction="mean", ignore_index=-100, label_smoothing=0.0):
        xp = self.xp
        self.reduction = reduction
        classes = logits.shape[1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        self.probs = xp.exp(log_probs)
        self.kept = (target != ignore_index)[:, None]
        onehot = target[:, None] == xp.arange(classes)
        self.q = (1 - label_smoothing) * onehot.astype(logits.dtype) + label_smoothing / classes
        zero = xp.zeros((), dtype=logits.dtype)
        losses = -xp.where(self.q == 0, zero, self.q * log_probs).sum(axis=1)  # 0 * -inf counts 0
        losses = xp.where(self.kept[:, 0], losses, zero)
        # a kept target outside [0, C): nan, as CrossEntropy gives on a device
        losses = xp.where(self.kept[:, 0] & ~onehot.any(axis=1), losses.dtype.type("nan"), losses)
        if reduction == "mean":
            self.count = self.kept.sum().astype(logits.dtype)
            return losses.sum() / self.count
        return losses.sum() if reduction == "sum" else losses

    def backward(self, grad):
        if self.reduction == "mean":
            scale = grad / self.count
        elif self.reduction == "sum":
            scale = grad
        else:
            scale = grad[:, None]
        zero = self.xp.zeros((), dtype=self.probs.dtype)
        return self.xp.where(self.kept, (self.probs - self.q) * scale, zero), None  # ignored rows: 0
