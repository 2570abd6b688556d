"""AdamW: Adam with decoupled weight decay (torch.optim.AdamW, which in torch 2.x is this same subclass).

Instead of adding weight_decay * param to the gradient (where Adam's scaling would reshape it), the
parameter itself shrinks before the Adam step:

    param = param * (1 - lr * weight_decay)
    param = adam_step(param, grad)          (see adam.py)

The default weight_decay is 1e-2, as in torch.
"""

from .adam import Adam


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # whatever was saved, AdamW's decay stays decoupled (as in torch)
            group["decoupled_weight_decay"] = True
