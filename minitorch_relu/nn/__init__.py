"""Layers, losses and initializers, with torch.nn's names."""

from . import functional, init
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .batchnorm import BatchNorm1d
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .pooling import MaxPool2d
from .container import Sequential
from .linear import Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from .module import Module
from .parameter import Parameter
from .sparse import Embedding
