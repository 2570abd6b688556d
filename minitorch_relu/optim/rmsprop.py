"""RMSprop, with torch.optim.RMSprop's momentum and centered options."""

from ..backend import backend_of
from ._inplace import add_, addcdiv_, addcmul_, lerp_, mul_
from .optimizer import Optimizer, check_range, start_step


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay, momentum,
                   centered, maximize):
    """One RMSprop step for one parameter array, in place.

        g = -grad if maximize else grad
        g = g + weight_decay * param
        v = alpha * v + (1 - alpha) * g * g
        centered:  grad_avg = lerp(grad_avg, g, 1 - alpha);  avg = sqrt(v - grad_avg^2) + eps
        otherwise: avg = sqrt(v) + eps
        momentum > 0:  mom = momentum * mom + g / avg;  param = param - lr * mom
        otherwise:     param = param - lr * g / avg
    """
    xp = backend_of(param).xp
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    addcmul_(mul_(square_avg, alpha), grad, grad, value=1 - alpha)
    if centered:
        lerp_(grad_avg, grad, 1 - alpha)
        avg = add_(xp.sqrt(square_avg - grad_avg * grad_avg), eps)
    else:
        avg = add_(xp.sqrt(square_avg), eps)
    if momentum > 0:
        addcdiv_(mul_(momentum_buffer, momentum), grad, avg)
        add_(param, momentum_buffer, alpha=-lr)
    else:
        addcdiv_(param, grad, avg, value=-lr)


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 *, maximize=False):
        check_range("lr", lr, label="learning rate")
        check_range("eps", eps, label="epsilon value")
        check_range("momentum", momentum, label="momentum value")
        check_range("weight_decay", weight_decay, label="weight_decay value")
        check_range("alpha", alpha, label="alpha value")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        xp = backend_of(p.data).xp
        state = {"step": 0, "square_avg": xp.zeros_like(p.data)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(p.data)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(p.data)
        return state

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        start_step(self.param_groups, "RMSprop")
        for group in self.param_groups:
            hyper = {k: group[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize")}
            for p, state in self._params_to_step(group):
                rmsprop_update(p.data, p.grad.data, state["square_avg"], state.get("grad_avg"),
                               state.get("momentum_buffer"), **hyper)
        return loss
