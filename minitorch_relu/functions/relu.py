"""ReLU: f(x) = max(0, x). Gradient 1 where x > 0, and 0 elsewhere — also at exactly 0, as in torch.

A unit whose input stays negative gets gradient 0 forever: the "dying ReLU".
"""

from ..autograd import Function
from ..backend import backend_of


class ReLU(Function):
    saves_output = True

    def forward(self, x):
        self.out = self.xp.maximum(x, 0)
        return self.out

    def backward(self, grad):
        # The output alone says where the unit was active (out > 0 exactly when x > 0). The gradient
        # passes there and is 0 elsewhere, even where it is NaN, as in torch: so not grad * mask.
        return (zero_where_not(self.out > 0, grad),)


def zero_where_not(mask, values, out=None):
    """``where(mask, values, 0)``, exactly (NaN included), without a branch per element: each value's
    bits ANDed with all ones (mask True) or all zeros. NumPy's where branches on every element, and a
    ReLU's mask is close to random: 5-10x slower (benchmarks/README.md, "Changes to the core").
    ``out``: an array (or view) of values' dtype and shape to write into instead of a new one."""
    unsigned = f"uint{8 * values.dtype.itemsize}"
    keep = mask.astype(unsigned)
    keep *= keep.dtype.type(2 ** (8 * values.dtype.itemsize) - 1)  # True -> all ones, False -> 0
    if out is None:
        return (values.view(unsigned) & keep).view(values.dtype)
    backend_of(out).xp.bitwise_and(values.view(unsigned), keep, out=out.view(unsigned))
    return out
