"""Optimizers with torch.optim's names, arguments, defaults and update rules.

One file per algorithm: a pure in-place update function (the formula in its docstring) and a class
that does the bookkeeping (param_groups, state, state_dict) through Optimizer.
"""

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "SparseAdam", "ASGD", "LBFGS", "RMSprop", "Rprop",
           "Optimizer"]
