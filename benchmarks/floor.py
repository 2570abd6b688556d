"""The floor: the lesson's MLP in plain NumPy, backprop written by hand, Adam in place.

No graph, no Tensor objects, no Python per op beyond the arithmetic itself: whatever time this
takes is what NumPy and BLAS need for the lesson's training step. The engine's step is compared to
it to show how much the autograd machinery adds on top.

It does the array operations the engine's ops do (one matmul plus an in-place bias add per layer,
ReLU out of place, the fused cross-entropy gradient, no gradient for the network's input, torch's
Adam in torch's formula order, in place), so the gap between the two is the machinery alone.
``inplace_relu=True`` also overwrites each layer's output with its ReLU, a trick the engine cannot
play (its ops never modify their inputs); the benchmark reports it as a second, lower floor.
tests/test_bench_floor.py checks the floor against the readable engine on one batch.
"""

import numpy as np


class NumpyMLP:
    """Linear -> ReLU -> Linear -> ReLU -> ... -> Linear, cross-entropy loss, Adam.

    ``params`` is [W1, b1, W2, b2, ...] as float arrays with torch's shapes (W: (out, in)); they are
    updated in place by ``step``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, inplace_relu=False):
        self.params = list(params)
        self.inplace_relu = inplace_relu
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.exp_avg = [np.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [np.zeros_like(p) for p in self.params]
        self.buf = [np.empty_like(p) for p in self.params]  # Adam's scratch, reused every step
        self.t = 0

    def loss_and_grads(self, x, y):
        """Mean cross-entropy of the batch and the gradient of every parameter (same order as params)."""
        weights, biases = self.params[0::2], self.params[1::2]
        # Forward: keep each layer's input for the weight gradient.
        inputs, h = [], x
        for i, (w, b) in enumerate(zip(weights, biases)):
            inputs.append(h)
            h = h @ w.T
            h += b
            if i < len(weights) - 1:
                h = np.maximum(h, 0, out=h if self.inplace_relu else None)
        # Cross-entropy fused with softmax: dL/dlogits = (softmax - onehot) / n.
        n = len(y)
        rows = np.arange(n)
        h -= h.max(axis=1, keepdims=True)
        probs = np.exp(h)
        sums = probs.sum(axis=1)
        loss = (np.log(sums) - h[rows, y]).mean()
        probs /= sums[:, None]
        probs[rows, y] -= 1
        probs /= n
        # Backward, last layer first. The network's input needs no gradient.
        grads, g = [None] * len(self.params), probs
        for i in reversed(range(len(weights))):
            grads[2 * i] = g.T @ inputs[i]
            grads[2 * i + 1] = g.sum(axis=0)
            if i > 0:
                g = g @ weights[i]
                mask = inputs[i] > 0  # ReLU's gradient: its output is the next layer's input
                if self.inplace_relu:
                    g *= mask
                else:
                    g = g * mask
        return loss, grads

    def adam_step(self, grads):
        """torch.optim.Adam's single-tensor update, in place, one scratch buffer per parameter."""
        self.t += 1
        beta1, beta2 = self.beta1, self.beta2
        bias_correction1 = 1 - beta1**self.t
        bias_correction2_sqrt = (1 - beta2**self.t) ** 0.5
        step_size = self.lr / bias_correction1
        for p, g, m, v, buf in zip(self.params, grads, self.exp_avg, self.exp_avg_sq, self.buf):
            np.subtract(g, m, out=buf)  # m += (1 - beta1) * (g - m)
            buf *= 1 - beta1
            m += buf
            v *= beta2  # v = beta2 * v + (1 - beta2) * g * g
            np.multiply(g, g, out=buf)
            buf *= 1 - beta2
            v += buf
            np.sqrt(v, out=buf)  # p -= step_size * m / (sqrt(v) / sqrt(bc2) + eps)
            buf /= bias_correction2_sqrt
            buf += self.eps
            np.divide(m, buf, out=buf)
            buf *= -step_size
            p += buf

    def step(self, x, y):
        """One training step on a batch (x: (n, in) float, y: (n,) int); returns the loss."""
        loss, grads = self.loss_and_grads(x, y)
        self.adam_step(grads)
        return loss
