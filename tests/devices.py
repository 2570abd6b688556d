"""Helpers of the tests that move models and optimizers between backends (test_backend.py,
test_optim_backends.py) and of the GPU-only tests: a small MLP, a batch, a few training steps."""

import numpy as np
import pytest

import minitorch_relu as mt
from minitorch_relu.backend import get_backend


def other_backend(backend):
    """A backend different from the one under test, so every move really moves."""
    return "strict" if backend == "numpy" else "numpy"


def small_mlp(backend, seed=0):
    mt.manual_seed(seed)
    model = mt.nn.Sequential(mt.nn.Linear(6, 5), mt.nn.ReLU(), mt.nn.Linear(5, 3))
    return model.to(backend)


def batch(backend, seed=1):
    rng = np.random.default_rng(seed)
    x = mt.tensor(rng.normal(size=(4, 6)).astype(np.float32), backend=backend)
    y = mt.tensor(rng.integers(0, 3, size=4), backend=backend)
    return x, y


def train_steps(model, optimizer, x, y, steps):
    for _ in range(steps):
        loss = mt.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return loss



def cupy_or_skip():
    """CuPy's namespace, or skip the test with the reason CuPy cannot be used here."""
    try:
        return get_backend("cupy").xp
    except RuntimeError as exc:
        pytest.skip(str(exc))
