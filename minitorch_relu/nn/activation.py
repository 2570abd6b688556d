"""Activation layers: thin Modules over nn.functional."""

from . import functional
from .module import Module


class ReLU(Module):
    def forward(self, x):
        return functional.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return functional.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    def forward(self, x):
        return functional.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return functional.tanh(x)


class Softmax(Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return functional.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
