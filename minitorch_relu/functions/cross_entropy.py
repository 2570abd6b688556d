"""Cross-entropy of (N, C) logits against N class indices: log-softmax and NLL fused in one op.

Fusing gives the famous one-step backward, dL/dlogits = (softmax - onehot) / N, and stays finite for
huge logits because the log-sum-exp is shifted by each row's max.
"""

import numpy as np

from ..autograd import Function


class CrossEntropy(Function):
    def forward(self, logits, target, reduction="mean"):
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
        losses = xp.log(sum_exp[:, 0]) - picked  # -log softmax at the target
        if self.onehot is not None:
            # A target outside [0, C) matches no class: its loss is NaN, never a plausible wrong number.
            # (nn.functional.cross_entropy raises for it on the host; on a device that check would
            # stall the GPU every step.)
            losses = xp.where(self.onehot.any(axis=1), losses, losses.dtype.type("nan"))
        probs /= sum_exp
        self.probs, self.reduction = probs, reduction
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
        # (softmax - onehot) * scale, rounded as torch rounds it: p*s - s at the target, p*s elsewhere.
        grad_logits = self.probs * scale
        if self.onehot is None:
            grad_logits[self.at_target] -= grad if self.reduction == "none" else scale
        else:
            grad_logits -= self.onehot * scale
        return grad_logits, None
