"""Negative log-likelihood of (N, C) log-probabilities at N class indices (log_softmax's partner).

    loss_n = -logp[n, target_n]        dloss_n / dlogp[n, c] = -1 if c == target_n else 0

Rows whose target is ``ignore_index`` count as nothing: loss 0, gradient 0, and 'mean' divides by
the number of rows kept (nan if none is kept, as in torch).
"""

from ..autograd import Function
from .reduction import loss_scale, reduce_losses


class NLLLoss(Function):
    saved_inputs = (0, 1)  # as torch's nll_loss (backward reads the targets only)

    def forward(self, log_probs, target, reduction="mean", ignore_index=-100):
        xp = self.xp
        self.reduction = reduction
        kept = target != ignore_index
        # onehot[n, c]: is c row n's class (and the row kept)? One compare, on any device.
        self.onehot = (target[:, None] == xp.arange(log_probs.shape[1])) & kept[:, None]
        zero = xp.zeros((), dtype=log_probs.dtype)
        losses = -xp.where(self.onehot, log_probs, zero).sum(axis=1)  # where, not *: -inf * 0 is nan
        # a kept target outside [0, C) matches no class: nan, never a plausible wrong number
        # (nn.functional raises for it on the host; on a device the check would stall the GPU)
        losses = xp.where(kept & ~self.onehot.any(axis=1), losses.dtype.type("nan"), losses)
        self.count = kept.sum().astype(log_probs.dtype)  # rows kept: what 'mean' divides by
        return reduce_losses(losses, reduction, self.count)

    def backward(self, grad):
        scale = loss_scale(grad, self.reduction, self.count, per_row=True)
        # where, not *: with every row ignored 'mean' has scale 0/0 = nan, and the gradient is still 0
        return self.xp.where(self.onehot, -scale, self.xp.zeros((), dtype=scale.dtype)), None
