"""torch-level functions over tensors: mt.cat, mt.stack, mt.where, mt.maximum, mt.minimum, and the
functional spellings of a few Tensor methods (mt.abs, mt.clamp, ...).

Each checks its arguments, naming the shapes or dims at fault, and applies one op of functions/.
"""

import numpy as np

from . import functions as F
from .tensor import Tensor, tensor


def _tensors(what, tensors):
    tensors = list(tensors) if isinstance(tensors, (list, tuple)) else None
    if not tensors:
        raise RuntimeError(f"{what}(): expected a non-empty list or tuple of Tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{what}(): expected Tensors, got {type(t).__name__} at position {i}")
    return tensors


def cat(tensors, dim=0):
    """Join tensors end to end along an existing dimension; the other sizes must match."""
    tensors = _tensors("cat", tensors)
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat(): zero-dimensional tensor (at position {i}) cannot be concatenated")
        if t.ndim != first.ndim:
            raise RuntimeError(f"cat(): tensors must have the same number of dimensions: got {first.ndim} "
                               f"(shape {first.shape}) and {t.ndim} (shape {t.shape}) at position {i}")
    axis = first._dim(dim)
    for i, t in enumerate(tensors):
        for d in range(first.ndim):
            if d != axis and t.shape[d] != first.shape[d]:
                raise RuntimeError(f"cat(): sizes of tensors must match except in dimension {dim}. Expected size "
                                   f"{first.shape[d]} but got size {t.shape[d]} for tensor number {i} in the list "
                                   f"(shapes {first.shape} and {t.shape})")
    return F.Cat.apply(*tensors, dim=axis)


def concat(tensors, dim=0):
    return cat(tensors, dim)


def stack(tensors, dim=0):
    """Join equal-shaped tensors along a new dimension ``dim``."""
    tensors = _tensors("stack", tensors)
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack(): expects each tensor to be equal size, but got {tensors[0].shape} at entry 0 "
                               f"and {t.shape} at entry {i}")
    axis = tensors[0]._dim(dim, extra=1)
    return F.Stack.apply(*tensors, dim=axis)


def where(condition, input, other):
    """``input`` where ``condition`` holds, ``other`` elsewhere; either may be a Python number."""
    if not isinstance(input, Tensor):
        if not isinstance(other, Tensor):  # two numbers: torch makes a tensor of the default dtype
            floating = isinstance(input, float) or isinstance(other, float)
            input = tensor(input, dtype=np.float32 if floating else np.int64, backend=condition.backend)
        else:
            input = other._operand(input)
    return input.where(condition, other)


def maximum(input, other):
    return input.maximum(other)


def minimum(input, other):
    return input.minimum(other)


def abs(input):  # noqa: A001 (torch's name)
    return input.abs()


def sign(input):
    return input.sign()


def clamp(input, min=None, max=None):  # noqa: A002
    return input.clamp(min=min, max=max)


clip = clamp


def logsumexp(input, dim, keepdim=False):
    return input.logsumexp(dim, keepdim=keepdim)


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


def unsqueeze(input, dim):
    return input.unsqueeze(dim)


def squeeze(input, dim=None):
    return input.squeeze(dim)


__all__ = ["cat", "concat", "stack", "where", "maximum", "minimum", "abs", "sign", "clamp", "clip", "logsumexp",
           "flatten", "unsqueeze", "squeeze"]
