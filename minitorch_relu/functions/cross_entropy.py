"""Cross-entropy of (N, C) logits against N class indices: log-softmax and NLL fused in one op.

Fusing gives the famous one-step backward, dL/dlogits = (softmax - onehot) / N, and stays finite for
huge logits because the log-sum-exp is shifted by each row's max.
"""

from ..autograd import Function


class CrossEntropy(Function):
    def forward(self, logits, target, reduction="mean"):
        xp = self.xp
        n = logits.shape[0]
        rows = xp.arange(n)
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = xp.exp(shifted)
        sum_exp = probs.sum(axis=1)
        losses = xp.log(sum_exp) - shifted[rows, target]  # -log softmax at the target
        probs /= sum_exp[:, None]
        self.probs, self.target, self.rows, self.reduction = probs, target, rows, reduction
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    def backward(self, grad):
        n = self.probs.shape[0]
        if self.reduction == "mean":
            scale = grad / n
        elif self.reduction == "sum":
            scale = grad
        else:
            scale = grad[:, None]
        grad_logits = self.probs * scale
        grad_logits[self.rows, self.target] -= scale if scale.ndim == 0 else scale[:, 0]
        return grad_logits, None
