"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients (torch.optim.Adagrad)."""

from ..backend import backend_of
from ._inplace import add_, addcdiv_, addcmul_
from .optimizer import Optimizer, check_range, start_step


def adagrad_update(param, grad, state_sum, step, *, lr, lr_decay, weight_decay, eps, maximize):
    """One Adagrad step (the ``step``-th) for one parameter array, in place.

        g = -grad if maximize else grad
        g = g + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        sum = sum + g * g
        param = param - clr * g / (sqrt(sum) + eps)
    """
    xp = backend_of(param).xp
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    clr = lr / (1 + (step - 1) * lr_decay)
    addcmul_(state_sum, grad, grad)
    addcdiv_(param, grad, add_(xp.sqrt(state_sum), eps), value=-clr)


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        check_range("lr", lr, label="learning rate")
        check_range("lr_decay", lr_decay, label="lr_decay value")
        check_range("weight_decay", weight_decay, label="weight_decay value")
        check_range("initial_accumulator_value", initial_accumulator_value,
                    label="initial_accumulator_value value")
        check_range("eps", eps, label="epsilon value")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)

    def add_param_group(self, group):
        super().add_param_group(group)
        # As in torch, the state exists from the start: the accumulator begins at initial_accumulator_value.
        group = self.param_groups[-1]
        for p in group["params"]:
            xp = backend_of(p.data).xp
            self.state[p] = {"step": 0, "sum": xp.full_like(p.data, group["initial_accumulator_value"])}

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        start_step(self.param_groups, "Adagrad")
        for group in self.param_groups:
            hyper = {k: group[k] for k in ("lr", "lr_decay", "weight_decay", "eps", "maximize")}
            for p, state in self._params_to_step(group):
                adagrad_update(p.data, p.grad.data, state["sum"], state["step"], **hyper)
        return loss
