"""GELU: x * Phi(x), with Phi the standard normal CDF (torch's approximate='none').

    gelu(x) = x * Phi(x)                    gelu'(x) = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi)

approximate='tanh' replaces Phi(x) by (1 + tanh(u)) / 2 with u = sqrt(2/pi) * (x + 0.044715 x^3):

    gelu'(x) = (1 + tanh(u)) / 2 + x/2 * (1 - tanh(u)^2) * sqrt(2/pi) * (1 + 3 * 0.044715 x^2)

At x = +inf this gives inf, as torch's scalar loop and its float64 kernels do; torch's float32
vector loop (most elements of a tensor) gives NaN there.
"""

import math

from ..autograd import Function
from ._erf import normal_cdf

KAPPA = 0.044715
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


class GELU(Function):
    saved_inputs = (0,)

    def forward(self, x, approximate="none"):
        xp = self.xp
        self.x, self.approximate = x, approximate
        if approximate == "tanh":
            self.tanh_u = xp.tanh(SQRT_2_OVER_PI * (x + KAPPA * x * x * x))
            return 0.5 * x * (1 + self.tanh_u)
        self.cdf = normal_cdf(x, xp)
        return x * self.cdf

    def backward(self, grad):
        xp, x = self.xp, self.x
        if self.approximate == "tanh":
            t = self.tanh_u
            du_dx = SQRT_2_OVER_PI * (1 + 3 * KAPPA * x * x)
            return (grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du_dx),)
        pdf = xp.exp(-0.5 * x * x) * (1 / math.sqrt(2 * math.pi))
        return (grad * (self.cdf + x * pdf),)
