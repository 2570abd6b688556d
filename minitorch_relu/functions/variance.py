"""var and std over some dimensions, with torch's ``correction`` (1: Bessel's, the default; 0: biased).

    var = sum((x - mean)^2) / (N - correction)      d var/dx_i = 2 (x_i - mean) / (N - correction)
    std = sqrt(var)                                 d std/dx_i = d var/dx_i / (2 std)

(The mean's own dependence on x_i drops out: the deviations sum to zero.) Where std is 0 (all
values equal) torch sets its gradient to 0 rather than 0/0, and so does Std here.
"""

from ..autograd import Function
from .reduce import _expand_back, normalize_dims


class Var(Function):
    saved_inputs = (0,)

    def forward(self, x, dim=None, correction=1, keepdim=False):
        return self.variance_in_float64(x, dim, correction, keepdim).astype(x.dtype)

    def variance_in_float64(self, x, dim, correction, keepdim):
        """The variance summed in float64 whatever x's dtype, as torch's CPU kernel (Welford's, in
        double): the squares of tiny float32 deviations, which float32 would flush to 0, still count."""
        self.in_shape, self.keepdim = x.shape, keepdim
        self.axes = normalize_dims(dim, x.ndim)
        self.every_dim = dim is None or x.ndim == 0
        count = 1
        for ax in self.axes:
            count *= x.shape[ax]
        self.dof = count - correction  # degrees of freedom: N - correction
        self.divisor = max(0, self.dof)  # 0 gives inf or nan, as torch does
        # backward reads the deviations in x's own dtype, as torch's backward computes them
        self.x, self.mean = x, x.mean(axis=self.axes, keepdims=True)
        self.deviation = x - self.mean
        wide = x.astype("float64", copy=False)
        if all(n == 1 for d, n in enumerate(x.shape) if d not in self.axes):
            # one result (every dim of size > 1 reduced): torch's all-reduce path, the mean in x's dtype,
            # then the squares summed in float64
            mean = self.mean.astype("float64")
        else:  # torch: Welford in float64, whose mean is exact for equal values; so is this corrected one
            mean = wide.mean(axis=self.axes, keepdims=True)
            mean += (wide - mean).mean(axis=self.axes, keepdims=True)
        deviation = wide - mean
        return (deviation * deviation).sum(axis=self.axes, keepdims=keepdim) / self.divisor

    def backward(self, grad):
        grad = _expand_back(grad, self.in_shape, self.axes, self.keepdim)
        if self.dof > 0:
            return (grad * (2 / self.dof) * self.deviation,)
        return (self._without_degrees_of_freedom(grad),)

    def _without_degrees_of_freedom(self, grad):
        """N <= correction: the variance was inf or nan. torch's gradient is then inf, or nan where x
        equals the mean (x == mean, not x - mean == 0: inf equals an inf mean), for a reduction over
        every dim (dim=None); along given dims it divides by N - correction as it stands (inf for 0,
        a finite number for a negative). Matched here."""
        xp = self.xp
        if self.every_dim:
            inf_or_nan = xp.where(self.x == self.mean, float("nan"), float("inf")).astype(grad.dtype)
            return grad * inf_or_nan
        return grad * (2 / self.dof if self.dof else float("inf")) * self.deviation


class Std(Var):
    saves_output = True  # and x, as Var

    def forward(self, x, dim=None, correction=1, keepdim=False):
        self.out = self.xp.sqrt(self.variance_in_float64(x, dim, correction, keepdim)).astype(x.dtype)
        return self.out

    def backward(self, grad):
        # chain rule through sqrt: d std = d var / (2 std), with 0 where std == 0 (torch's choice)
        zero = self.xp.zeros((), dtype=grad.dtype)
        safe_std = self.xp.where(self.out == 0, 1, self.out)
        grad_var = self.xp.where(self.out == 0, zero, grad / (2 * safe_std))
        return super().backward(grad_var)
