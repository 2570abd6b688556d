"""The benchmark's plain-NumPy floor is a fast path: it must compute what the readable engine computes.

One batch through the lesson's MLP: the loss, every parameter's gradient, and the parameters after
two Adam steps must match minitorch_relu's Sequential + CrossEntropyLoss + optim.Adam.
"""

import numpy as np
import pytest

import minitorch_relu as mt
from benchmarks.floor import NumpyMLP

# float64: the two sides run the same formulas in (almost) the same order, so they agree to rounding.
# float32: BLAS may block the sums differently for the two call shapes, so allow float32 rounding.
TOLERANCE = {np.float64: 1e-10, np.float32: 2e-5}


def _engine_mlp(dtype, sizes=(784, 256, 256, 10)):
    mt.manual_seed(777)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(mt.nn.ReLU())
        layers.append(mt.nn.Linear(n_in, n_out, dtype=dtype))
    return mt.nn.Sequential(*layers)


@pytest.mark.parametrize("inplace_relu", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_floor_matches_engine(dtype, inplace_relu):
    rtol = TOLERANCE[dtype]
    rng = np.random.default_rng(0)
    x = rng.random((32, 784)).astype(dtype)
    y = rng.integers(0, 10, 32)

    model = _engine_mlp(dtype)
    params = list(model.parameters())
    floor = NumpyMLP([p.data.copy() for p in params], inplace_relu=inplace_relu)
    optimizer = mt.optim.Adam(params, lr=1e-3)

    for _ in range(2):  # the second step exercises the running averages and the bias corrections
        optimizer.zero_grad()
        loss = mt.nn.functional.cross_entropy(model(mt.tensor(x)), mt.tensor(y))
        loss.backward()
        floor_loss, floor_grads = floor.loss_and_grads(x, y)

        np.testing.assert_allclose(floor_loss, loss.item(), rtol=rtol)
        for p, g in zip(params, floor_grads):
            assert g.dtype == dtype and g.shape == p.shape
            np.testing.assert_allclose(g, p.grad.data, rtol=rtol, atol=rtol * np.abs(p.grad.data).max())

        optimizer.step()
        floor.adam_step(floor_grads)
        for p, q in zip(params, floor.params):
            assert q.dtype == dtype
            np.testing.assert_allclose(q, p.data, rtol=rtol, atol=1e-7)


def test_paired_measurement_alternates_engine_and_floor_blocks():
    from benchmarks.worker import task_paired

    result = task_paired({"batch": 8, "block": 3, "pairs": 4, "warmup": 2})
    engine, floor = result["times"]["engine"], result["times"]["floor"]
    assert len(engine) == len(floor) == 4 and min(engine + floor) > 0
    assert result["ratios"] == [e / f for e, f in zip(engine, floor)]
    assert result["median_ratio"] == pytest.approx(np.median(result["ratios"]))
