"""Invalid hyperparameters and misuse raise what torch.optim raises (type and message), before any change."""

import numpy as np
import pytest

import minitorch_relu as mt

torch = pytest.importorskip("torch")  # every test here compares with torch

INVALID = [
    ("SGD", {"lr": -1.0}), ("SGD", {"momentum": -0.1}), ("SGD", {"weight_decay": -1e-3}),
    ("SGD", {"nesterov": True}), ("SGD", {"momentum": 0.9, "dampening": 0.1, "nesterov": True}),
    ("Adam", {"lr": -1e-3}), ("Adam", {"eps": -1.0}), ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, 1.0)}), ("Adam", {"betas": (-0.1, 0.999)}), ("Adam", {"weight_decay": -0.5}),
    ("AdamW", {"lr": -1e-3}), ("AdamW", {"betas": (0.9, 1.5)}), ("AdamW", {"weight_decay": -1e-2}),
    ("Adagrad", {"lr": -0.1}), ("Adagrad", {"lr_decay": -0.1}), ("Adagrad", {"weight_decay": -0.1}),
    ("Adagrad", {"initial_accumulator_value": -0.5}), ("Adagrad", {"eps": -1e-10}),
    ("Adadelta", {"lr": -1.0}), ("Adadelta", {"rho": 1.5}), ("Adadelta", {"rho": -0.1}),
    ("Adadelta", {"eps": -1e-6}), ("Adadelta", {"weight_decay": -1.0}),
    ("RMSprop", {"lr": -0.01}), ("RMSprop", {"eps": -1e-8}), ("RMSprop", {"momentum": -0.9}),
    ("RMSprop", {"weight_decay": -0.1}), ("RMSprop", {"alpha": -0.99}),
    ("ASGD", {"lr": -0.01}), ("ASGD", {"weight_decay": -0.1}),
    ("Rprop", {"lr": -0.01}), ("Rprop", {"etas": (1.0, 1.2)}), ("Rprop", {"etas": (0.5, 1.0)}),
    ("Rprop", {"etas": (0.0, 1.2)}),
    ("LBFGS", {"lr": -1.0}),
    ("SparseAdam", {"lr": 0.0}), ("SparseAdam", {"lr": -1e-3}), ("SparseAdam", {"eps": 0.0}),
    ("SparseAdam", {"betas": (1.0, 0.999)}), ("SparseAdam", {"betas": (0.9, -0.1)}),
]


def _raised(make):
    with pytest.raises(Exception) as info:
        make()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("name, options", INVALID, ids=[f"{n}-{o}" for n, o in INVALID])
def test_invalid_hyperparameter_raises_like_torch(name, options, backend):
    ours = _raised(lambda: getattr(mt.optim, name)([mt.tensor([1.0, 2.0], requires_grad=True, backend=backend)],
                                                   **options))
    ref = _raised(lambda: getattr(torch.optim, name)([torch.tensor([1.0, 2.0], requires_grad=True)], **options))
    assert ours == ref


NAMES = ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop", "ASGD", "Rprop", "LBFGS", "SparseAdam"]


@pytest.mark.parametrize("name", NAMES)
def test_defaults_match_torch(name):
    """Constructor defaults (every hyperparameter torch stores in defaults) are torch's."""
    ours = getattr(mt.optim, name)([mt.tensor([1.0], requires_grad=True)]).defaults
    ref = getattr(torch.optim, name)([torch.tensor([1.0], requires_grad=True)]).defaults
    skip = {"foreach", "fused", "capturable", "differentiable"}
    ref = {k: v for k, v in ref.items() if k not in skip}
    if name in ("Adam", "AdamW"):
        assert ours.pop("decoupled_weight_decay") == ref.pop("decoupled_weight_decay")
    assert {k: (tuple(v) if isinstance(v, (tuple, list)) else v) for k, v in ours.items()} == \
           {k: (tuple(v) if isinstance(v, (tuple, list)) else v) for k, v in ref.items()}


@pytest.mark.parametrize("name", NAMES)
def test_empty_parameter_list(name):
    assert _raised(lambda: getattr(mt.optim, name)([])) == _raised(lambda: getattr(torch.optim, name)([]))


def test_lbfgs_refuses_parameter_groups():
    a, b = mt.tensor([1.0], requires_grad=True), mt.tensor([2.0], requires_grad=True)
    ta, tb = torch.tensor([1.0], requires_grad=True), torch.tensor([2.0], requires_grad=True)
    ours = _raised(lambda: mt.optim.LBFGS([{"params": [a]}, {"params": [b]}]))
    ref = _raised(lambda: torch.optim.LBFGS([{"params": [ta]}, {"params": [tb]}]))
    assert ours == ref == (ValueError, "LBFGS doesn't support per-parameter options (parameter groups)")


def test_lbfgs_unknown_line_search_raises_before_any_change(backend):
    p = mt.tensor([1.0, -2.0], dtype=mt.float64, requires_grad=True, backend=backend)
    opt = mt.optim.LBFGS([p], line_search_fn="backtracking")
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)
    np.testing.assert_array_equal(p.numpy(), [1.0, -2.0])
    assert opt.state == {} and calls == []


def test_lbfgs_needs_a_closure():
    opt = mt.optim.LBFGS([mt.tensor([1.0], requires_grad=True)])
    with pytest.raises(TypeError):
        opt.step()


def test_adamw_stays_decoupled_after_loading_an_adam_state():
    p = mt.tensor([1.0], requires_grad=True)
    adam_state = mt.optim.Adam([p], weight_decay=0.1).state_dict()
    opt = mt.optim.AdamW([p])
    opt.load_state_dict(adam_state)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True
    assert opt.param_groups[0]["weight_decay"] == 0.1
