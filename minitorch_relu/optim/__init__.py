"""Optimizers with torch.optim's names, arguments, defaults and update rules."""

from .adam import Adam
from .optimizer import Optimizer
from .sgd import SGD
