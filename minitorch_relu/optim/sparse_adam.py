"""SparseAdam: Adam on the rows a row-sparse gradient touches, and nowhere else (torch.optim.SparseAdam).

The gradient must be a ``RowSparseGrad`` (functions/embedding.py), as ``nn.Embedding(sparse=True)``
produces: rows not in the gradient keep their parameters and their moments unchanged, whereas Adam
would keep decaying the moments of every row. Repeated rows are summed first (coalesced), as torch
does, because the update is not linear in the gradient.
"""

import math

from ..backend import backend_of
from .optimizer import Optimizer, check_range, start_step


def sparse_adam_update(param, grad, exp_avg, exp_avg_sq, step, *, lr, beta1, beta2, eps, maximize):
    """One SparseAdam step for the rows of ``param`` that the RowSparseGrad ``grad`` lists, in place.

    With r the coalesced rows and g their summed gradient rows:
        m[r] = m[r] + (1 - beta1) * (g - m[r])
        v[r] = v[r] + (1 - beta2) * (g*g - v[r])
        param[r] = param[r] - lr * sqrt(1 - beta2^step) / (1 - beta1^step) * m[r] / (sqrt(v[r]) + eps)
    """
    xp = backend_of(param).xp
    grad = (-grad if maximize else grad).coalesce()
    rows, g = grad.indices, grad.values
    if rows.shape[0] == 0:
        return  # nothing looked up (torch skips the update too; the step count still advances)

    # The new moments of the rows are computed as old + update, the update added to the moments at
    # rows r (unique after coalesce, so += on the gathered rows is exact), as torch does.
    m_old, v_old = exp_avg[rows], exp_avg_sq[rows]
    m_update = (g - m_old) * (1 - beta1)
    v_update = (g * g - v_old) * (1 - beta2)
    exp_avg[rows] += m_update
    exp_avg_sq[rows] += v_update
    step_size = lr * math.sqrt(1 - beta2**step) / (1 - beta1**step)
    param[rows] += -step_size * ((m_old + m_update) / (xp.sqrt(v_old + v_update) + eps))


class SparseAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_range("beta1", betas[0], high=1.0, label="beta parameter at index 0")
        check_range("beta2", betas[1], high=1.0, label="beta parameter at index 1")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, maximize=maximize)
        super().__init__(params, defaults)

    def _init_state(self, p, group):
        xp = backend_of(p.data).xp
        return {"step": 0, "exp_avg": xp.zeros_like(p.data), "exp_avg_sq": xp.zeros_like(p.data)}

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:  # check every gradient before touching anything
            for p in group["params"]:
                if p.grad is not None and not getattr(p.grad.data, "is_sparse", False):
                    raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
        start_step(self.param_groups, "SparseAdam", sparse_ok=True)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p, state in self._params_to_step(group):
                sparse_adam_update(p.data, p.grad.data, state["exp_avg"], state["exp_avg_sq"], state["step"],
                                   lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                                   maximize=group["maximize"])
        return loss
