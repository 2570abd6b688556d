"""Binary cross-entropy, from probabilities (BCELoss) or from logits (BCEWithLogitsLoss).

From a probability x in [0, 1] and a target t (each log clamped at -100, as torch does, so x = 0 or
1 gives a large finite loss):

    loss = -(t log x + (1 - t) log(1 - x))
    dloss/dx = (x - t) / (x (1 - x))        (denominator kept >= float32(1e-12), as in torch)
    dloss/dt = log(1 - x) - log(x)

From a logit z, with x = sigmoid(z) folded in (finite for any z, e.g. +-100):

    loss = (1 - t) z - log sigmoid(z),      -log sigmoid(z) = max(-z, 0) + log(1 + exp(-|z|))
    dloss/dz = sigmoid(z) - t
    dloss/dt = -z

``pos_weight`` p weights the positive term: loss = (1 - t) z - (1 + (p - 1) t) log sigmoid(z), so
dloss/dz = (p t + 1 - t) sigmoid(z) - p t and dloss/dt = log sigmoid(-z) - p log sigmoid(z) (torch's
forms: the second is inf at z = -inf, where -z - (p - 1) log sigmoid(z) reads inf - inf).
``weight`` multiplies each element's loss (and so its gradients). Neither weight gets a gradient.
"""

import numpy as np

from ..autograd import Function, unbroadcast
from .reduction import loss_scale, reduce_losses


# torch's floor for x (1 - x), a float32 constant even for float64 inputs (so the gradient at x = 0
# or 1 is -t / 9.99999996e-13, not -t / 1e-12: the same number as torch's)
EPSILON = float(np.float32(1e-12))


class BinaryCrossEntropy(Function):
    saved_inputs = (0, 1)

    def forward(self, x, target, weight=None, reduction="mean"):
        xp = self.xp
        self.x, self.target, self.weight, self.reduction = x, target, weight, reduction
        log_x = xp.maximum(xp.log(x), -100)
        log_1mx = xp.maximum(xp.log1p(-x), -100)
        losses = (target - 1) * log_1mx - target * log_x
        if weight is not None:
            losses = losses * weight
        return reduce_losses(losses, reduction)

    def backward(self, grad):
        xp, x, t = self.xp, self.x, self.target
        scale = loss_scale(grad, self.reduction, x.size)
        if self.weight is not None:
            scale = scale * self.weight
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            grad_x = unbroadcast(scale * (x - t) / xp.maximum((1 - x) * x, EPSILON), x.shape)
        if self.needs_input_grad[1]:
            grad_t = unbroadcast(scale * (xp.log1p(-x) - xp.log(x)), t.shape)
        return grad_x, grad_t


class BinaryCrossEntropyWithLogits(Function):
    saved_inputs = (0, 1)

    def forward(self, z, target, weight=None, pos_weight=None, reduction="mean"):
        xp = self.xp
        self.z, self.target, self.weight, self.pos_weight, self.reduction = z, target, weight, pos_weight, reduction
        self.tail = xp.log1p(xp.exp(-xp.abs(z)))
        self.log_sigmoid = xp.minimum(z, 0) - self.tail
        positive_weight = 1 if pos_weight is None else (pos_weight - 1) * target + 1
        losses = (1 - target) * z - positive_weight * self.log_sigmoid
        if weight is not None:
            losses = losses * weight
        return reduce_losses(losses, reduction)

    def backward(self, grad):
        xp, z, t, p = self.xp, self.z, self.target, self.pos_weight
        scale = loss_scale(grad, self.reduction, z.size)
        if self.weight is not None:
            scale = scale * self.weight
        sigmoid = xp.exp(self.log_sigmoid)
        grad_z = grad_t = None
        if self.needs_input_grad[0]:
            d_z = sigmoid - t if p is None else (p * t + 1 - t) * sigmoid - p * t
            grad_z = unbroadcast(scale * d_z, z.shape)
        if self.needs_input_grad[1]:
            d_t = -z if p is None else (xp.minimum(-z, 0) - self.tail) - p * self.log_sigmoid
            grad_t = unbroadcast(scale * d_t, t.shape)
        return grad_z, grad_t
