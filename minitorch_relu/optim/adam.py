"""Adam (and AMSGrad), in the order of torch.optim.Adam's single-tensor path.

The bias corrections sit where torch puts them: divide sqrt(v) by sqrt(1 - beta2^t), add eps, and
scale the step by lr / (1 - beta1^t). The folded "alpha_t = lr * sqrt(1-beta2^t)/(1-beta1^t)" form
of other engines moves eps and does not match torch.
"""

from ..backend import backend_of, is_cupy
from ._cupy_kernels import fused_adam_update
from ._inplace import add_, addcdiv_, addcmul_, div_, in_cache_blocks, lerp_, mul_
from .optimizer import Optimizer, check_range, start_step


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1, beta2, eps, weight_decay,
                amsgrad, maximize, decoupled_weight_decay=False):
    """One Adam step (the ``step``-th) for one parameter array, in place.

        g = -grad if maximize else grad
        g = g + weight_decay * param        (AdamW instead: param = param * (1 - lr * weight_decay))
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                (amsgrad only; then v_max replaces v below)
        denom = sqrt(v) / sqrt(1 - beta2^step) + eps
        param = param - lr / (1 - beta1^step) * m / denom
    """
    xp = backend_of(param).xp
    grad = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            mul_(param, 1 - lr * weight_decay)
        else:
            grad = grad + weight_decay * param
    lerp_(exp_avg, grad, 1 - beta1)
    addcmul_(mul_(exp_avg_sq, beta2), grad, grad, value=1 - beta2)
    if amsgrad:
        exp_avg_sq = xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    denom = add_(div_(xp.sqrt(exp_avg_sq), (1 - beta2**step) ** 0.5), eps)
    addcdiv_(param, exp_avg, denom, value=-lr / (1 - beta1**step))


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        check_range("lr", lr, label="learning rate")
        check_range("eps", eps, label="epsilon value")
        check_range("beta1", betas[0], high=1.0, label="beta parameter at index 0")
        check_range("beta2", betas[1], high=1.0, label="beta parameter at index 1")
        check_range("weight_decay", weight_decay, label="weight_decay value")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        xp = backend_of(p.data).xp
        state = {"step": 0, "exp_avg": xp.zeros_like(p.data), "exp_avg_sq": xp.zeros_like(p.data)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        return state

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        start_step(self.param_groups, "Adam")
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            hyper = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                         weight_decay=group["weight_decay"], maximize=group["maximize"],
                         decoupled_weight_decay=group["decoupled_weight_decay"])
            for p, state in self._params_to_step(group):
                if is_cupy(p.data) and not group["amsgrad"]:
                    _step_cupy(p, state, hyper)
                else:
                    in_cache_blocks(adam_update, p.data, p.grad.data, state["exp_avg"], state["exp_avg_sq"],
                                    state.get("max_exp_avg_sq"), step=state["step"], amsgrad=group["amsgrad"], **hyper)
        return loss


def _step_cupy(p, state, hyper):
    """adam_update as one fused GPU kernel (see _cupy_kernels.py): on a GPU each in-place pass is a
    kernel launch, and at small batches the launches cost more than the arithmetic."""
    fused_adam_update(p.data, p.grad.data, state["exp_avg"], state["exp_avg_sq"], state["step"], **hyper)
