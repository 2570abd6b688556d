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
