"""Cross-entropy of (N, C) logits against N class indices: log-softmax and NLL fused in one op.

Fusing gives the famous one-step backward, dL/dlogits = (softmax - onehot) / N, and stays finite for
huge logits because the log-sum-exp is shifted by each row's max.
"""

from ..autograd import Function
from .reduction import loss_scale, reduce_losses


class CrossEntropy(Function):
    saved_inputs = (1,)  # the targets (torch's nll_loss saves them)

    def forward(self, logits, target, reduction="mean"):
        xp = self.xp
        self.reduction = reduction
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = xp.exp(shifted)
        sum_exp = probs.sum(axis=1, keepdims=True)
        # onehot[i, c]: is c row i's class? One broadcast compare, cheaper than indexing by
        # (rows, target) on a GPU and as cheap on the host.
        self.onehot = target[:, None] == xp.arange(logits.shape[1])
        picked = xp.where(self.onehot, shifted, 0).sum(axis=1)  # where, not *: a -inf logit times 0 is NaN
        losses = xp.log(sum_exp[:, 0]) - picked
        # A target outside [0, C) matches no class: its loss is NaN, never a plausible wrong number.
        # (nn.functional.cross_entropy raises for it on the host; on a device that check would stall
        # the GPU every step.)
        losses = xp.where(self.onehot.any(axis=1), losses, losses.dtype.type("nan"))
        probs /= sum_exp
        self.probs = probs
        return reduce_losses(losses, reduction)

    def backward(self, grad):
        scale = loss_scale(grad, self.reduction, self.probs.shape[0], per_row=True)
        # (softmax - onehot) * scale, rounded as torch rounds it: p*s - s at the target, p*s elsewhere.
        grad_logits = self.probs * scale
        return self.xp.where(self.onehot, grad_logits - scale, grad_logits), None


class SmoothedCrossEntropy(Function):
    """Cross-entropy with torch's two options, ``label_smoothing`` (eps) and ``ignore_index``.

    The target becomes a distribution q over the C classes: (1 - eps) on the true class plus eps / C
    on every class. Then, with p = softmax(logits) per row,

        loss_n = -sum_c q_c log p_c          dloss_n/dlogits_n = p - q

    (eps = 0 gives q = onehot: the plain cross-entropy's softmax - onehot). Rows whose target is
    ``ignore_index`` give loss 0 and gradient 0, and 'mean' divides by the number of rows kept. The
    default case (no smoothing, nothing ignored) runs CrossEntropy above, fused on a GPU.
    """

    saved_inputs = (1,)  # the targets, as CrossEntropy

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
        self.count = self.kept.sum().astype(logits.dtype)  # rows kept: what 'mean' divides by
        return reduce_losses(losses, reduction, self.count)

    def backward(self, grad):
        scale = loss_scale(grad, self.reduction, self.count, per_row=True)
        # ignored rows: 0, as torch's log-softmax backward gives them (p * 0: NaN where the row's softmax is)
        return self.xp.where(self.kept, (self.probs - self.q) * scale, self.probs * 0), None
