"""Inverted dropout: out = x * mask / (1 - p), with mask[i] = 1 with probability 1 - p.

Dividing by 1 - p in training keeps each unit's expected value, so evaluation needs no rescaling
(it is the identity). ``noise`` = mask / (1 - p) is drawn outside (nn.functional.dropout) and passed
in, so the op itself is deterministic and its backward is the same product: dx = grad * noise.
"""

from ..autograd import Function


class Dropout(Function):
    saves_arrays = True  # the noise (torch saves the mask)

    def forward(self, x, noise):
        self.noise = noise
        return x * noise

    def backward(self, grad):
        return (grad * self.noise,)
