"""Loss layers, with torch.nn's names and arguments; each calls its nn.functional form."""

from . import functional
from .module import Module


class CrossEntropyLoss(Module):
    """softmax + negative log-likelihood of (N, C) logits at class indices (see functional.cross_entropy)."""

    def __init__(self, reduction="mean", *, ignore_index=-100, label_smoothing=0.0):
        super().__init__()
        functional._check_reduction(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
        self.reduction, self.ignore_index, self.label_smoothing = reduction, ignore_index, label_smoothing

    def forward(self, input, target):
        return functional.cross_entropy(input, target, reduction=self.reduction, ignore_index=self.ignore_index,
                                        label_smoothing=self.label_smoothing)


class MSELoss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        functional._check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input, target):
        return functional.mse_loss(input, target, reduction=self.reduction)


class NLLLoss(Module):
    """Negative log-likelihood of (N, C) log-probabilities (put LogSoftmax before it)."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__()
        if weight is not None:
            raise NotImplementedError("NLLLoss: class weights are not supported; pass weight=None")
        functional._check_reduction(reduction)
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input, target):
        return functional.nll_loss(input, target, ignore_index=self.ignore_index, reduction=self.reduction)


class BCELoss(Module):
    """Binary cross-entropy of probabilities in [0, 1] (put Sigmoid before it, or use BCEWithLogitsLoss)."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__()
        functional._check_reduction(reduction)
        self.weight, self.reduction = weight, reduction

    def forward(self, input, target):
        return functional.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(Module):
    """Sigmoid and binary cross-entropy in one, finite for any logit."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__()
        functional._check_reduction(reduction)
        self.weight, self.reduction, self.pos_weight = weight, reduction, pos_weight

    def forward(self, input, target):
        return functional.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                           pos_weight=self.pos_weight)
