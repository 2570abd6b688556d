"""Layers, losses and initializers, with torch.nn's names."""

from . import functional, init
from .activation import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .container import Sequential
from .linear import Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Module
from .parameter import Parameter
from .sparse import Embedding
