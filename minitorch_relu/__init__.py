"""minitorch_relu: a small tensor/autograd engine that teaches backprop and matches PyTorch."""

from . import nn, optim
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import get_backend
from .gradcheck import gradcheck
from .random import manual_seed
from .tensor import Tensor, bool_, float16, float32, float64, int32, int64, promote_types, result_type, tensor, uint8

__version__ = "0.1.0"
