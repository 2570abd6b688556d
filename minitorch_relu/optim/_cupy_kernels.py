"""A fused Adam step for CuPy: one GPU kernel per parameter instead of about a dozen.

On a GPU every NumPy-style in-place op (``buf *= c``) is one kernel launch of a few microseconds, so
at small batches the readable ``adam_update`` is bound by launches, not arithmetic. This kernel does
the same arithmetic, in the same order, per element. ``adam_update`` in adam.py stays the spec; a
GPU test checks this kernel against it. CuPy is imported only when the kernel is first built, which
happens only for parameters that already live on CuPy.
"""

_adam_kernel = None


def _kernel():
    global _adam_kernel
    if _adam_kernel is None:
        import cupy

        # Scalars are declared as T, so they are rounded to the parameter's dtype first, as NumPy
        # rounds a Python float operand to a float32 array's dtype in adam_update.
        # The arithmetic is adam_update's, line for line, in the order of its in-place helpers.
        _adam_kernel = cupy.ElementwiseKernel(
            "T grad, T one_minus_beta1, T beta1_for_lerp, T beta2, T one_minus_beta2, T bias_correction2_sqrt, "
            "T eps, T neg_step_size, T weight_decay, T decay_factor, int32 maximize, int32 decoupled",
            "T param, T exp_avg, T exp_avg_sq",
            """
            T g = maximize ? -grad : grad;
            if (weight_decay != (T)0) {
                if (decoupled) param = param * decay_factor;
                else g = g + weight_decay * param;
            }
            // lerp_; beta1_for_lerp is 1 - (1 - beta1), rounded as torch rounds 1 - weight
            if (one_minus_beta1 < (T)0.5) exp_avg = exp_avg + (g - exp_avg) * one_minus_beta1;
            else exp_avg = g - (g - exp_avg) * beta1_for_lerp;
            exp_avg_sq = exp_avg_sq * beta2 + (one_minus_beta2 * g) * g;                          // addcmul_
            T denom = sqrt(exp_avg_sq) / bias_correction2_sqrt + eps;
            param = param + (neg_step_size * exp_avg) / denom;                                   // addcdiv_
            """,
            "minitorch_relu_adam_step",
        )
    return _adam_kernel


def fused_adam_update(param, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, eps, weight_decay, maximize,
                      decoupled_weight_decay=False):
    """adam_update without amsgrad, as one kernel over CuPy arrays (updated in place)."""
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    _kernel()(grad, 1 - beta1, 1 - (1 - beta1), beta2, 1 - beta2, bias_correction2_sqrt, eps, -lr / bias_correction1,
              weight_decay, 1 - lr * weight_decay, int(maximize), int(decoupled_weight_decay),
              param, exp_avg, exp_avg_sq)
