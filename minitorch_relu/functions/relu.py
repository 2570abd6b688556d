"""ReLU: f(x) = max(0, x). Gradient 1 where x > 0, and 0 elsewhere — also at exactly 0, as in torch.

A unit whose input stays negative gets gradient 0 forever: the "dying ReLU".

torch's backward is ``threshold_backward``: ``0 if out <= 0 else grad``. Where x is NaN the output
is NaN, ``out <= 0`` is false, and the gradient passes; where the unit is off, a NaN gradient
becomes 0.
"""

from ..autograd import Function
from ..backend import backend_of


class ReLU(Function):
    saves_output = True

    def forward(self, x):
        self.out = self.xp.maximum(x, 0)
        return self.out

    def backward(self, grad):
        # The output alone says where the unit was off (out <= 0 exactly when x <= 0).
        return (zero_where(self.out <= 0, grad),)


# Both selects below are exact (NaN included) and have no branch per element: each value's bits are
# ANDed with all ones (kept) or all zeros. NumPy's where branches on every element, and a ReLU's mask
# is close to random: 5-10x slower (benchmarks/README.md, "Changes to the core").
# ``out``: an array (or view) of values' dtype and shape to write into instead of a new one.

def zero_where(mask, values, out=None):
    """``where(mask, 0, values)``."""
    xp = backend_of(values).xp
    return _and_bits(values, xp.subtract(mask, 1, dtype=_signed(values)), out)  # True -> 0, False -> -1


def zero_where_not(mask, values, out=None):
    """``where(mask, values, 0)``."""
    xp = backend_of(values).xp
    return _and_bits(values, xp.negative(mask, dtype=_signed(values)), out)  # True -> -1 (all ones), False -> 0


def _signed(values):
    return f"int{8 * values.dtype.itemsize}"


def _and_bits(values, bits, out):
    signed = bits.dtype
    if out is None:
        bits &= values.view(signed)
        return bits.view(values.dtype)
    backend_of(out).xp.bitwise_and(values.view(signed), bits, out=out.view(signed))
    return out
