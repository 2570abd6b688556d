"""Parameter: a leaf tensor that a Module owns and an optimizer updates."""

from ..backend import backend_of
from ..tensor import Tensor


class Parameter(Tensor):
    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            data = data.data
        backend_of(data)  # must be a backend array
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def zero_grads(params, set_to_none=True):
    """Clear the gradients of ``params`` (Module.zero_grad and Optimizer.zero_grad both use this).

    set_to_none=True (torch's default) drops them, so the next backward writes fresh arrays;
    False keeps each array and writes zeros into it (a row-sparse gradient is left with no rows).
    """
    for p in params:
        if set_to_none:
            p.grad = None
        elif p.grad is not None:
            p.grad.data[...] = 0
