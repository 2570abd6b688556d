"""abs, sign and clamp: elementwise ops whose derivative is 0 or 1 (or the sign) at each element.

At the points where they have a kink the derivative is a convention; these follow torch's:
abs'(0) = 0, sign' = 0 everywhere, and clamp passes the gradient only strictly inside its bounds,
min < x < max (0 at a bound, as ReLU = clamp(min=0) has gradient 0 at 0).
"""

from ..autograd import Function


def torch_sign(x):
    """torch's sign: (x > 0) - (x < 0), so 0 at NaN (NumPy's sign gives NaN there)."""
    return (x > 0).astype(x.dtype) - (x < 0)


class Abs(Function):
    """|x|, with d|x|/dx = sign(x) (0 at x = 0, and at NaN as in torch)."""

    saved_inputs = (0,)  # as torch: changing x in place before backward is refused

    def forward(self, x):
        self.x = x
        return self.xp.abs(x)

    def backward(self, grad):
        return (grad * torch_sign(self.x),)


class Sign(Function):
    """sign(x) in {-1, 0, 1} (0 at NaN, as in torch): flat between its jumps, so its gradient is 0
    everywhere (as in torch)."""

    def forward(self, x):
        self.shape, self.dtype = x.shape, x.dtype
        return torch_sign(x) if x.dtype.kind == "f" else self.xp.sign(x)

    def backward(self, grad):
        return (self.xp.zeros(self.shape, dtype=self.dtype),)


class Clamp(Function):
    """min(max(x, low), high); the gradient passes where low < x < high, and is 0 elsewhere.

    With low > high every element becomes ``high`` (as in torch) and no gradient passes.
    """

    saved_inputs = (0,)  # torch saves x (the mask here comes from it)

    def forward(self, x, min=None, max=None):
        xp = self.xp
        out = x
        inside = None
        if min is not None:
            out = xp.maximum(out, min)
            inside = x > min
        if max is not None:
            out = xp.minimum(out, max)
            inside = (x < max) if inside is None else inside & (x < max)
        self.inside = inside
        return out

    def backward(self, grad):
        return (grad * self.inside,)
