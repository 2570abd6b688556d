"""Adadelta: steps scaled by the ratio of running RMS of past updates to that of gradients (torch.optim.Adadelta)."""

from ..backend import backend_of
from ._inplace import add_, addcmul_, mul_
from .optimizer import Optimizer, check_range, start_step


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    """One Adadelta step for one parameter array, in place.

        g = -grad if maximize else grad
        g = g + weight_decay * param
        square_avg = rho * square_avg + (1 - rho) * g * g
        delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta * delta
        param = param - lr * delta
    """
    xp = backend_of(param).xp
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    addcmul_(mul_(square_avg, rho), grad, grad, value=1 - rho)
    delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * grad
    addcmul_(mul_(acc_delta, rho), delta, delta, value=1 - rho)
    add_(param, delta, alpha=-lr)


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        check_range("lr", lr, label="learning rate")
        check_range("rho", rho, high=1.0, high_inclusive=True, label="rho value")
        check_range("eps", eps, label="epsilon value")
        check_range("weight_decay", weight_decay, label="weight_decay value")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        xp = backend_of(p.data).xp
        return {"step": 0, "square_avg": xp.zeros_like(p.data), "acc_delta": xp.zeros_like(p.data)}

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        start_step(self.param_groups, "Adadelta")
        for group in self.param_groups:
            hyper = {k: group[k] for k in ("lr", "rho", "eps", "weight_decay", "maximize")}
            for p, state in self._params_to_step(group):
                adadelta_update(p.data, p.grad.data, state["square_avg"], state["acc_delta"], **hyper)
        return loss
