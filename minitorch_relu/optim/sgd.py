"""SGD with momentum, dampening, Nesterov and weight decay, in torch.optim.SGD's exact order."""

from ._inplace import add_, mul_
from .optimizer import Optimizer, check_range, start_step


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One step for one parameter array, in place. Returns the (possibly new) momentum buffer.

        g = -grad if maximize else grad
        g = g + weight_decay * param
        buf = g                                   (first step)
        buf = momentum * buf + (1 - dampening) * g (later steps)
        g = g + momentum * buf if nesterov else buf
        param = param - lr * g
    """
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = grad.copy()
        else:
            add_(mul_(momentum_buffer, momentum), grad, alpha=1 - dampening)
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * grad
    return momentum_buffer


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        check_range("lr", lr, label="learning rate")
        check_range("momentum", momentum, label="momentum value")
        check_range("weight_decay", weight_decay, label="weight_decay value")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        start_step(self.param_groups, "SGD")
        for group in self.param_groups:
            hyper = {k: group[k] for k in ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")}
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(p, {})
                buf = sgd_update(p.data, p.grad.data, state.get("momentum_buffer"), **hyper)
                if group["momentum"] != 0:
                    state["momentum_buffer"] = buf
        return loss
