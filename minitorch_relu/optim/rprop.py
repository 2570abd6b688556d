"""Rprop: per-coordinate step sizes that grow while the gradient keeps its sign and shrink when it flips.

Only the gradient's sign is used, never its size (torch.optim.Rprop).
"""

from ..backend import backend_of
from ._inplace import addcmul_, mul_
from .optimizer import Optimizer, check_range, start_step


def rprop_update(param, grad, prev, step_size, *, etaminus, etaplus, step_size_min, step_size_max, maximize):
    """One Rprop step for one parameter array, in place.

        g = -grad if maximize else grad
        factor = etaplus where g * prev > 0, etaminus where < 0, 1 where = 0
        step_size = clamp(step_size * factor, step_size_min, step_size_max)
        g = 0 where the sign flipped (g * prev < 0): no move there, and no flip seen next step
        param = param - sign(g) * step_size
        prev = g
    """
    xp = backend_of(param).xp
    grad = -grad if maximize else grad
    agreement = grad * prev  # > 0: the sign held since the last step, < 0: it flipped
    factor = xp.ones_like(step_size)
    factor[agreement > 0] = etaplus
    factor[agreement < 0] = etaminus
    xp.clip(mul_(step_size, factor), step_size_min, step_size_max, out=step_size)
    prev[...] = grad
    prev[agreement < 0] = 0
    addcmul_(param, xp.sign(prev), step_size, value=-1)


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False):
        check_range("lr", lr, label="learning rate")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        xp = backend_of(p.data).xp
        return {"step": 0, "prev": xp.zeros_like(p.data), "step_size": xp.full_like(p.data, group["lr"])}

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        start_step(self.param_groups, "Rprop")
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, state in self._params_to_step(group):
                rprop_update(p.data, p.grad.data, state["prev"], state["step_size"], etaminus=etaminus,
                             etaplus=etaplus, step_size_min=step_size_min, step_size_max=step_size_max,
                             maximize=group["maximize"])
        return loss
