"""The fused affine map of nn.Linear: y = x @ W.T + b, one matmul and one in-place add."""

from ..autograd import Function


class Linear(Function):
    def forward(self, x, weight, bias=None):
        if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ValueError(
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
