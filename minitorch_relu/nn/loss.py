"""Loss layers: CrossEntropyLoss (softmax inside, as in torch) and MSELoss."""

from . import functional
from .module import Module


class CrossEntropyLoss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        functional._check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input, target):
        return functional.cross_entropy(input, target, reduction=self.reduction)


class MSELoss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        functional._check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input, target):
        return functional.mse_loss(input, target, reduction=self.reduction)
