"""Autograd: the graph every op records, and the backward pass that walks it (``graph.py``); a tool
that watches backward step by step (``trace.py``, ``mt.autograd.trace()``)."""

from .graph import (AccumulateGrad, Function, enable_grad, is_grad_enabled, no_grad, saved_for_each_other,
                    saves_tensors_of_options, set_grad_enabled, unbroadcast)
from .trace import trace

__all__ = ["AccumulateGrad", "Function", "enable_grad", "is_grad_enabled", "no_grad", "saved_for_each_other",
           "saves_tensors_of_options", "set_grad_enabled", "trace", "unbroadcast"]
