"""The fused affine map of nn.Linear: y = x @ W.T + b, one matmul and one in-place add."""

from ..autograd import Function, saved_for_each_other
from ..errors import ShapeError


class Linear(Function):
    @property
    def saved_inputs(self):
        return saved_for_each_other(self.needs_input_grad)

    def forward(self, x, weight, bias=None):
        if x.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
            # torch does not promote here: a float32 layer fed float64 (or int64) input raises
            got = f"{x.dtype.name} != {weight.dtype.name}" if x.dtype != weight.dtype else \
                f"bias {bias.dtype.name} != weight {weight.dtype.name}"
            raise RuntimeError(f"linear: expected m1 and m2 to have the same dtype, but got: {got}")
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ShapeError(
                f"linear: input of shape {tuple(x.shape)} needs its last dimension to be in_features="
                f"{weight.shape[1]} (weight shape {tuple(weight.shape)})"
            )
        self.x, self.weight = x, weight
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def backward(self, grad):
        x, weight = self.x, self.weight
        needs = self.needs_input_grad
        # Flatten leading dims so every product is one 2-D BLAS call.
        g2 = grad.reshape(-1, grad.shape[-1])
        x2 = x.reshape(-1, x.shape[-1])
        grad_x = (g2 @ weight).reshape(x.shape) if needs[0] else None  # skipped for a network's input
        grad_w = g2.T @ x2 if needs[1] else None
        grad_b = g2.sum(axis=0) if len(needs) > 2 and needs[2] else None
        return grad_x, grad_w, grad_b
