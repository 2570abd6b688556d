"""Dropout: in training, zero each value with probability p and scale the survivors by 1 / (1 - p);
in evaluation, the identity. ``model.train()`` / ``model.eval()`` switch it."""

from .. import functions
from .. import random as _random
from ..backend import get_backend
from .module import Module


def _check_p(p):
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout as torch.nn.functional.dropout. The mask is drawn with random.bernoulli
    (keep with probability 1 - p) on the host, then moved to the input's backend."""
    _check_p(p)
    if inplace:
        raise NotImplementedError("dropout: inplace=True is not supported; use inplace=False")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:  # everything dropped (torch multiplies by zero rather than divide by 1 - p = 0)
        return input * 0
    keep = _random.bernoulli(input.shape, 1 - p, input.dtype)
    noise = keep / input.dtype.type(1 - p)  # torch divides the mask first, then multiplies
    return functions.Dropout.apply(input, noise=get_backend(input.backend).asarray(noise))


class Dropout(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p(p)
        if inplace:
            raise NotImplementedError("Dropout: inplace=True is not supported; use inplace=False")
        self.p, self.inplace = p, inplace

    def forward(self, x):
        return dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
