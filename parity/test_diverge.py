"""The first-divergence locator names the op a planted bug breaks, and nothing when there is none."""

import numpy as np
import pytest
import torch

import minitorch_relu.optim.adam as adam_module
from diverge import locate, lesson_start
from minitorch_relu.functions.cross_entropy import CrossEntropy
from minitorch_relu.functions.relu import ReLU
from mnist_harness import data_available, data_root

pytestmark = pytest.mark.skipif(not data_available(), reason=f"MNIST not found under {data_root()}/MNIST/raw")

STEPS = 3


def mlp_with_a_dead_unit(dtype):
    """The lesson's MLP whose first hidden unit has zero weights and bias: its ReLU input is exactly 0
    for every image, so a wrong ReLU gradient at 0 shows (torch's is 0)."""
    t_model, engine, batches = lesson_start("mlp", STEPS, dtype)
    with torch.no_grad():
        t_model[0].weight[0].zero_()
        t_model[0].bias[0].zero_()
    return t_model, engine, batches


def adam_with_eps_inside_the_square_root(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1, beta2,
                                         eps, **_):
    exp_avg += (1 - beta1) * (grad - exp_avg)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    denom = np.sqrt(exp_avg_sq / (1 - beta2**step) + eps)  # the bug: torch adds eps after the root
    param -= lr / (1 - beta1**step) * exp_avg / denom


def relu_forward_keeping_x(self, x):
    self.x = x
    self.out = self.xp.maximum(x, 0)
    return self.out


def relu_backward_one_at_zero(self, grad):
    return (grad * (self.x >= 0),)  # the bug: torch's gradient at exactly 0 is 0


_cross_entropy_forward = CrossEntropy.forward


def cross_entropy_mean_over_classes(self, logits, target, reduction="mean"):
    # the bug: the summed loss divided by the number of classes, not of samples
    return _cross_entropy_forward(self, logits, target, "sum") / logits.shape[1]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_no_divergence_without_a_bug(dtype):
    assert locate(*mlp_with_a_dead_unit(dtype), steps=STEPS, dtype=dtype) is None


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_names_adam_with_eps_inside_the_square_root(monkeypatch, dtype):
    monkeypatch.setattr(adam_module, "adam_update", adam_with_eps_inside_the_square_root)
    found = locate(*mlp_with_a_dead_unit(dtype), steps=STEPS, dtype=dtype)
    assert (found.step, found.phase, found.where) == (1, "optimizer", "optimizer (Adam)"), str(found)
    assert found.tensor == "update of 0.weight"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_names_relu_with_gradient_one_at_zero(monkeypatch, dtype):
    monkeypatch.setattr(ReLU, "forward", relu_forward_keeping_x)
    monkeypatch.setattr(ReLU, "backward", relu_backward_one_at_zero)
    found = locate(*mlp_with_a_dead_unit(dtype), steps=STEPS, dtype=dtype)
    # Layer 3's ReLU (met first going backward) sees no exact zero; layer 1's sees the dead unit's.
    assert (found.step, found.phase, found.where, found.tensor) == (1, "backward", "layer 1 (ReLU)",
                                                                    "gradient of the input"), str(found)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_names_cross_entropy_with_the_mean_over_classes(monkeypatch, dtype):
    monkeypatch.setattr(CrossEntropy, "forward", cross_entropy_mean_over_classes)
    found = locate(*mlp_with_a_dead_unit(dtype), steps=STEPS, dtype=dtype)
    assert (found.step, found.phase, found.where, found.tensor) == (1, "forward", "loss (CrossEntropyLoss)", "output")


def test_command_line_reports_no_divergence(capsys):
    from diverge import main

    assert main(["--model", "softmax", "--steps", "2"]) == 0
    assert "no divergence" in capsys.readouterr().out
