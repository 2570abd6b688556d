"""gradcheck: compare backward() with central finite differences, in float64.

For a function ``fn`` of some tensors, the numerical gradient of L = sum(fn(*inputs) * v) with
respect to one element is (L(x + eps) - L(x - eps)) / (2 eps); backward(gradient=v) must give the same
numbers. ``v`` is a fixed random weight, so every output element's gradient is tested, not just
their sum.

Everything is read back to the host with ``.numpy()`` and put again on the inputs' backend, so the
check runs unchanged on NumPy, CuPy or the tests' strict stand-in.
"""

import numpy as np

from .autograd import no_grad
from .tensor import Tensor, float64, tensor


def _as_float64(inputs):
    """float64 copies of the floating inputs (same backend, same requires_grad); others untouched."""
    out = []
    for x in inputs:
        if isinstance(x, Tensor) and np.issubdtype(x.dtype, np.floating):
            x = tensor(x.numpy(), dtype=float64, backend=x.backend, requires_grad=x.requires_grad)
        out.append(x)
    return out


def _weighted_output(fn, inputs, weight):
    """L = sum(fn(*inputs) * weight), computed on the host in float64."""
    with no_grad():
        out = fn(*inputs)
    return float(np.sum(out.numpy() * weight))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """True if backward() matches central differences for every input that requires grad.

    ``fn`` takes ``*inputs`` and returns one Tensor. Inputs that require grad are checked; other
    inputs (integer targets, constants) are passed through. Raises AssertionError naming the input
    index, the worst element and both values when |analytic - numeric| > atol + rtol * |numeric|.
    """
    inputs = _as_float64(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")

    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if not out.requires_grad:
        raise AssertionError("gradcheck: the output does not require grad; fn is cut from the graph")
    weight = np.random.default_rng(seed).uniform(0.5, 1.5, size=out.shape)
    out.backward(tensor(weight, dtype=out.dtype, backend=out.backend))

    for i in checked:
        x = inputs[i]
        if x.grad is None:
            analytic = np.zeros(x.shape)  # backward never reached it: fine only if fn ignores x
        else:
            analytic = x.grad.numpy().astype(np.float64)
        numeric = _numerical_grad(fn, inputs, i, weight, eps)
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if error.size and error.max() > 0:
            worst = np.unravel_index(int(np.argmax(error)), error.shape)
            raise AssertionError(
                f"gradcheck: input {i} (shape {x.shape}), element {tuple(int(k) for k in worst)}: "
                f"analytic {float(analytic[worst])!r} vs numeric {float(numeric[worst])!r} "
                f"(|diff| {abs(analytic[worst] - numeric[worst]):.3g} > atol {atol} + rtol {rtol} * |numeric|)"
            )
    return True


def _numerical_grad(fn, inputs, index, weight, eps):
    """Central differences of L with respect to every element of inputs[index], one at a time."""
    x = inputs[index]
    base = x.numpy().copy()
    grad = np.zeros(base.shape)
    for pos in np.ndindex(*base.shape):
        values = []
        for step in (eps, -eps):
            moved = base.copy()
            moved[pos] += step
            trial = list(inputs)
            trial[index] = tensor(moved, dtype=float64, backend=x.backend)
            values.append(_weighted_output(fn, trial, weight))
        grad[pos] = (values[0] - values[1]) / (2 * eps)
    return grad
