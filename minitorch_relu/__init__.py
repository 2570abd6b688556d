"""minitorch_relu: a small tensor/autograd engine that teaches backprop and matches PyTorch."""

from . import data, nn, optim  # mt.data: MNIST and the DataLoader
from . import viz  # mt.viz: the graph drawn, gradient flow plotted (mt.autograd.trace: the backward pass)
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import get_backend
from .creation import arange, empty, empty_like, eye, full, full_like, linspace, ones, ones_like, zeros, zeros_like
from .gradcheck import gradcheck
from .ops import abs, cat, clamp, clip, concat, flatten, logsumexp, maximum, minimum, sign, squeeze, stack, unsqueeze, where
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, rand, randint,
                     randn, randperm, seed, set_rng_state)
from .serialization import load_state, save_state
from .tensor import Tensor, bool_, float16, float32, float64, int32, int64, promote_types, result_type, tensor, uint8

__version__ = "0.1.0"
