"""RMSprop, with torch.optim.RMSprop's momentum and centered options."""

from ..backend import backend_of
from .optimizer import Optimizer, check_range, start_step


def lerp_(start, end, weight, buf):
    """start += weight * (end - start) in place, rounded as torch.lerp_ rounds it.

    torch switches to end - (end - start) * (1 - weight) once weight >= 0.5; both forms are kept
    so a grad_avg matches torch's to the last bit.
    """
    xp = backend_of(start).xp
    xp.subtract(end, start, out=buf)
    if weight < 0.5:
        buf *= weight
        start += buf
    else:
        buf *= 1 - weight
        xp.subtract(end, buf, out=start)


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, avg, buf, *, lr, alpha, eps, weight_decay,
                   momentum, centered, maximize):
    """One RMSprop step for one parameter array, in place (``avg``, ``buf``: scratch arrays).

        g = -grad if maximize else grad
        g = g + weight_decay * param
        v = alpha * v + (1 - alpha) * g * g
        centered:  grad_avg = lerp(grad_avg, g, 1 - alpha);  avg = sqrt(v - grad_avg^2) + eps
        otherwise: avg = sqrt(v) + eps
        momentum > 0:  mom = momentum * mom + g / avg;  param = param - lr * mom
        otherwise:     param = param - lr * g / avg
    """
    xp = backend_of(param).xp
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param

    square_avg *= alpha  # torch's addcmul order: ((1 - alpha) * g) * g
    xp.multiply(grad, 1 - alpha, out=avg)
    avg *= grad
    square_avg += avg

    if centered:
        lerp_(grad_avg, grad, 1 - alpha, avg)
        xp.negative(grad_avg, out=avg)  # v + (-grad_avg) * grad_avg, as torch's addcmul(value=-1)
        avg *= grad_avg
        avg += square_avg
        xp.sqrt(avg, out=avg)
    else:
        xp.sqrt(square_avg, out=avg)
    avg += eps

    if momentum > 0:
        momentum_buffer *= momentum
        xp.divide(grad, avg, out=avg)
        momentum_buffer += avg
        xp.multiply(momentum_buffer, -lr, out=avg)
        param += avg
    else:
        xp.multiply(grad, -lr, out=buf)  # (-lr * g) / avg, in the order torch's addcdiv rounds it
        buf /= avg
        param += buf


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
                avg, buf = self._work_buffers(p, 2)
                rmsprop_update(p.data, p.grad.data, state["square_avg"], state.get("grad_avg"),
                               state.get("momentum_buffer"), avg, buf, **hyper)
        return loss
