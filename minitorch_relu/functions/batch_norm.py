"""Batch normalization over the batch (and length) axes of (N, C) or (N, C, L) input, per channel c.

Training (batch statistics, m values per channel: m = N, or N*L):
    mean = sum(x) / m          var = sum((x - mean)^2) / m         (biased, as torch normalizes)
    xhat = (x - mean) / sqrt(var + eps)          y = weight * xhat + bias
Backward, with g = dL/dy and dxhat = g * weight (sums over the same axes):
    dbias   = sum(g)           dweight = sum(g * xhat)
    dx      = (dxhat - sum(dxhat) / m - xhat * sum(dxhat * xhat) / m) / sqrt(var + eps)
    (the two subtracted terms are the gradient flowing through mean and through var.)
Evaluation (running statistics, constants here): xhat = (x - running_mean) / sqrt(running_var + eps),
so dx = g * weight / sqrt(running_var + eps) alone.

The running statistics are updated here in training, in place, as torch's kernel does:
    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var  = (1 - momentum) * running_var  + momentum * var * m / (m - 1)   (unbiased)
"""

from ..autograd import Function


def _channel_shape(x):
    """(1, C) or (1, C, 1): a per-channel vector shaped to broadcast against x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNorm(Function):
    saved_inputs = (0, 1)  # x and the scale, as torch (with the statistics it computes)

    def forward(self, x, weight, bias, running_mean=None, running_var=None, training=True, momentum=0.1, eps=1e-5):
        xp, shape = self.xp, _channel_shape(x)
        self.axes = (0,) + tuple(range(2, x.ndim))  # every axis but the channel
        if training:
            mean = x.mean(axis=self.axes, keepdims=True)
            centered = x - mean
            var = (centered * centered).mean(axis=self.axes, keepdims=True)
            if running_mean is not None:
                m = x.size // x.shape[1]
                running_mean *= 1 - momentum
                running_mean += momentum * mean.reshape(-1)
                running_var *= 1 - momentum
                running_var += (momentum * m / (m - 1)) * var.reshape(-1)
        else:
            centered = x - running_mean.reshape(shape)
            var = running_var.reshape(shape)
        self.training = training
        self.inv_std = 1 / xp.sqrt(var + eps)
        self.xhat = centered * self.inv_std
        self.weight = weight
        return self.xhat * weight.reshape(shape) + bias.reshape(shape)

    def backward(self, grad):
        xhat, axes = self.xhat, self.axes
        needs = self.needs_input_grad
        grad_bias = grad.sum(axis=axes) if needs[2] else None
        grad_weight = (grad * xhat).sum(axis=axes) if needs[1] else None
        grad_x = None
        if needs[0]:
            grad_xhat = grad * self.weight.reshape(_channel_shape(grad))
            if self.training:
                m = grad.size // grad.shape[1]
                mean_grad = grad_xhat.sum(axis=axes, keepdims=True) / m
                mean_grad_xhat = (grad_xhat * xhat).sum(axis=axes, keepdims=True) / m
                grad_x = (grad_xhat - mean_grad - xhat * mean_grad_xhat) * self.inv_std
            else:
                grad_x = grad_xhat * self.inv_std
        return grad_x, grad_weight, grad_bias
