"""ASGD: averaged stochastic gradient descent (torch.optim.ASGD), with its running parameter average.

The step size eta decays with the step count; after ``t0`` steps the optimizer also keeps a running
average ``ax`` of the iterates, which is the answer ASGD proposes (``averaged_parameters()``).
"""

import numpy as np

from ..backend import backend_of
from ..tensor import Tensor
from ._inplace import add_, mul_
from .optimizer import Optimizer, check_range, start_step


def _float32(x):
    # torch keeps eta and mu in float32 scalar tensors (its default dtype), so every value they take
    # is rounded to float32; rounding the same way here keeps float64 runs equal to torch's.
    return float(np.float32(x))


def asgd_update(param, grad, ax, *, eta, mu, lambd, weight_decay, maximize):
    """One ASGD step for one parameter array, in place.

        g = -grad if maximize else grad
        g = g + weight_decay * param
        param = param * (1 - lambd * eta) - eta * g
        ax = ax + mu * (param - ax)          (ax = param while mu == 1)
    """
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    add_(mul_(param, 1 - lambd * eta), grad, alpha=-eta)
    if mu != 1:
        add_(ax, param - ax, alpha=mu)
    else:
        ax[...] = param


def asgd_schedule(step, *, lr, lambd, alpha, t0):
    """eta and mu for the step after ``step``: eta = lr / (1 + lambd*lr*step)^alpha, mu = 1 / max(1, step - t0)."""
    eta = _float32(lr / ((1 + lambd * lr * step) ** alpha))
    mu = _float32(1 / max(1, step - t0))
    return eta, mu


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, *, maximize=False):
        check_range("lr", lr, label="learning rate")
        check_range("weight_decay", weight_decay, label="weight_decay value")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        return {"step": 0, "eta": _float32(group["lr"]), "mu": 1.0, "ax": backend_of(p.data).xp.zeros_like(p.data)}

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        start_step(self.param_groups, "ASGD")
        for group in self.param_groups:
            for p, state in self._params_to_step(group):
                asgd_update(p.data, p.grad.data, state["ax"], eta=state["eta"], mu=state["mu"],
                            lambd=group["lambd"], weight_decay=group["weight_decay"], maximize=group["maximize"])
                state["eta"], state["mu"] = asgd_schedule(state["step"], lr=group["lr"], lambd=group["lambd"],
                                                          alpha=group["alpha"], t0=group["t0"])
        return loss

    def averaged_parameters(self):
        """The averaged iterate of each parameter, as Tensors in the order of the param groups.

        A parameter that has not been stepped yet is its own average.
        """
        out = []
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state.get(p)
                out.append(Tensor._wrap(state["ax"] if state is not None else p.data.copy()))
        return out
